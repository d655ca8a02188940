// Shared helpers of poolreg-pe and poolreg-pu: registrar address parsing, client options from the
// command line, the process's usrsctp stack, and human-readable formatting.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client/client_options.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/transport.hpp"

namespace CLI {
class App;
}

namespace poolreg::tools {

// Options every tool shares (filled by add_connection_options()).
struct ConnectionArgs {
  std::string registrar = "127.0.0.1";  // port: 3863, with --tls 3864
  bool tcp = false;
  bool mptcp = false;
  std::uint16_t udp_encaps_port = 9899;  // the registrar's
  std::uint16_t local_udp_port = 0;      // ours; 0 = random free
  bool sctp_native = false;              // native SCTP (IP protocol 132) instead of SCTP over UDP
  std::uint32_t timeout_ms = 3000;
  std::uint32_t connect_timeout_ms = 7500;
  bool next_gen = false;
  bool tls = false;  // ASAP over TLS (TCP); the port default becomes 3864
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

void add_connection_options(CLI::App& app, ConnectionArgs& args);
// "sctp", "tcp" or "tls": what the arguments talk to the registrar over.
const char* transport_name(const ConnectionArgs& args) noexcept;

// The registrar's UDP encapsulation port: the /UDPPORT of --registrar when given, else
// --udp-encaps-port.
std::uint16_t registrar_udp_port(const ConnectionArgs& args);

// Why a connection attempt failed, for the user: the errno's text and name ("connection refused
// (ECONNREFUSED)"), and for SCTP without an answer a hint at the UDP encapsulation port (the
// usual cause: SCTP travels in UDP and usrsctp never hears the ICMP port unreachable).
// error: client::AsapConnection::connect_error() (0 = unknown).
// tls_error: client::AsapConnection::tls_error(); when set it is the reason given.
std::string connect_failure_text(const ConnectionArgs& args, int error, const std::string& tls_error = {});

// ClientOptions from the shared arguments; the error (a message) when the registrar is malformed.
Expected<client::ClientOptions, std::string> client_options(const ConnectionArgs& args);

// The process's usrsctp stack on the given local UDP port (0 = random free); nullptr for TCP (no
// stack needed). The error (a message) when the stack cannot be started.
Expected<std::unique_ptr<kernel::SctpStack>, std::string> make_stack(const ConnectionArgs& args);

// Every IPv4/IPv6 address of this host's interfaces that are up, link-local ones excluded.
std::vector<IpAddress> local_addresses();

// "1.5%"-style text of a 0..0xFFFFFFFF load value and the reverse (percent 0..100).
std::string load_percent(std::uint32_t value);
std::uint32_t from_percent(double percent);

std::string format_policy(const PolicyParams& policy);
std::string format_addresses(const std::vector<IpAddress>& addresses, std::uint16_t port);
std::string transport_name(TransportProtocol protocol);
std::string hex_id(std::uint64_t id);
// Wall-clock "HH:MM:SS.mmm" for event lines.
std::string timestamp();
double to_ms(TimeNs ns);

}  // namespace poolreg::tools
