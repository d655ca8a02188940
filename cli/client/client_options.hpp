// ClientOptions: where a PE/PU client finds its registrar and how it talks to it.
// Plain values; copied into the client at construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/runtime/message_transport.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::client {

// ASAP over SCTP (usrsctp with UDP encapsulation, RFC 6951) or over TCP (nextgen.md §6 framing).
enum class ClientTransport : std::uint8_t { kSctp, kTcp };
const char* to_string(ClientTransport t) noexcept;

// ASAP over TLS (RFC 5355; the registrar's tls.asap_port, IANA 3864): TCP framing inside TLS 1.2+.
// The registrar's certificate must chain to ca_file and name the address connected to in a
// subjectAltName IP entry; certificate/private_key: ours, shown when the registrar asks (it may
// require one: tls.require_client_certificate_asap).
struct ClientTls {
  bool enabled = false;
  std::string ca_file;      // required with enabled
  std::string certificate;  // optional; needs private_key
  std::string private_key;
};

struct RegistrarEndpoint {
  IpAddress address = IpAddress::v4(0x7f000001u);
  std::uint16_t port = runtime::kAsapPort;  // 3863 for SCTP and TCP
  ClientTransport transport = ClientTransport::kSctp;
  // SCTP only: the registrar's UDP encapsulation port (its usrsctp stack's port; default 9899);
  // 0: native SCTP (IP protocol 132; the SctpStack needs SctpStackConfig::native).
  std::uint16_t remote_udp_port = runtime::kSctpUdpEncapsulationPort;
  bool mptcp = false;  // TCP only: try IPPROTO_MPTCP first
  ClientTls tls;       // TCP only: TLS over the connection (no MPTCP then)
};

struct ClientOptions {
  RegistrarEndpoint registrar;
  // The association must come up within this time (RSPLIB PE/PU: 7.5 s), else it is aborted and
  // every pending request fails with kConnectFailed.
  TimeNs connect_timeout = 7'500 * kNsPerMs;
  // A request without answer after this time fails with kTimeout (RSPLIB: 3 s).
  TimeNs request_timeout = 3 * kNsPerSec;
  // PU only: after a resolution timed out, a Handle Resolution Response for the same pool that
  // arrives within this window is taken as the late answer to it and dropped (see
  // pool_user_client.hpp, "Matching"). 0 = request_timeout.
  TimeNs late_response_window = 0;
  // Next-gen mode (nextgen.md): encode with 64-bit ID extensions and send NG-Capabilities
  // (0x8040) with these flags in Registration / Handle Resolution. false = byte-exact RFC mode.
  bool next_gen = false;
  std::uint32_t ng_capabilities = 0;
  std::size_t max_pool_handle = kDefaultMaxPoolHandleBytes;
  // PE only, SCTP only: also listen for ASAP associations a takeover registrar opens to this PE
  // (asap.md §1: Keep-Alive with H=1 over a new association). nullopt = no listener; 0 = any free
  // port. With a listener the association to the registrar leaves from that port, so the
  // registrar records it as the PE's ASAP transport.
  std::optional<std::uint16_t> pe_listen_port;
};

}  // namespace poolreg::client
