// RegistrarAddress: the one parser of the registrar address every client tool takes with -r
// (poolreg-pe, poolreg-pu, poolgen): ADDR[:PORT[/UDPPORT]], IPv6 as [ADDR]:PORT/UDPPORT.
// PORT is the registrar's ASAP port (SCTP and TCP, default 3863); UDPPORT its SCTP UDP
// encapsulation port (RFC 6951, asap.udp_encapsulation_port) when given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::client {

struct RegistrarAddress {
  IpAddress address = IpAddress::v4(0x7f000001u);
  std::uint16_t port = 3863;
  std::optional<std::uint16_t> udp_port;  // nullopt: not in the text (the caller's default applies)
};

// The syntax, for --help texts and error messages.
inline constexpr const char* kRegistrarAddressSyntax = "ADDR[:PORT[/UDPPORT]] (IPv6: [ADDR]:PORT/UDPPORT)";

// "127.0.0.1", "127.0.0.1:3863", "127.0.0.1:3863/9899", "::1", "[::1]:3863/9899". Ports are
// 1..65535; without one, default_port (3863, ASAP over TLS 3864). The error names the text and
// what is wrong with it.
Expected<RegistrarAddress, std::string> parse_registrar_address(std::string_view text,
                                                                std::uint16_t default_port = 3863);

}  // namespace poolreg::client
