// Server Announce (ASAP 0x0a) builder for the daemon's multicast sender (ASAP-ANN-01,
// asap.md 4.8): PR ID + one SCTP Transport TLV with the registrar's ASAP addresses and port.
// Always RFC encoding: multicast receivers are not known to be next-gen (nextgen.md 0).
#pragma once

#include <cstdint>
#include <span>

#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/wire/tlv_writer.hpp"

namespace poolreg::asap {

// addresses: the ASAP SCTP endpoint's addresses (1..64; empty → no transport TLV, receivers
// then use the UDP source address — send from port 3863 in that case). tcp_port != 0 adds a
// TCP Transport TLV (first address) for next-gen PEs; RFC receivers only read the SCTP one.
wire::EncodeResult encode_server_announce(RegistrarId registrar_id, std::span<const IpAddress> addresses,
                                          std::uint16_t sctp_port, wire::ByteSink out,
                                          std::uint16_t tcp_port = 0);

}  // namespace poolreg::asap
