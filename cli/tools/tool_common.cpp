#include "cli/tools/tool_common.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "cli/client/registrar_address.hpp"
#include "dataplane/runtime/errno_text.hpp"
#include "dataplane/runtime/socket_address.hpp"

namespace poolreg::tools {

void add_connection_options(CLI::App& app, ConnectionArgs& args) {
  app.add_option("--registrar,-r", args.registrar,
                 std::string("Registrar ") + client::kRegistrarAddressSyntax +
                     ": ASAP port (default 3863, with --tls 3864) and SCTP UDP encapsulation port (default "
                     "--udp-encaps-port)")
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--transport", [&args](const std::string& t) { args.tcp = t == "tcp"; },
         "ASAP transport: sctp (usrsctp over UDP, default) or tcp (nextgen.md §6 framing); as poolgen")
      ->check(CLI::IsMember({"sctp", "tcp"}));
  app.add_flag("--tcp", args.tcp, "ASAP over TCP (= --transport tcp)");
  app.add_flag("--mptcp", args.mptcp, "With --tcp: try MPTCP first, fall back to TCP");
  app.add_flag("--tls", args.tls,
               "Talk ASAP over TLS (RFC 5355; TCP framing inside TLS 1.2+), port default 3864; needs --tls-ca");
  app.add_option("--tls-ca", args.tls_ca,
                 "With --tls: PEM CA file; the registrar's certificate must chain to it and name the --registrar "
                 "address (subjectAltName IP)");
  app.add_option("--tls-cert", args.tls_cert,
                 "With --tls: our PEM certificate, shown when the registrar asks for one (needs --tls-key)");
  app.add_option("--tls-key", args.tls_key, "With --tls: the PEM private key of --tls-cert");
  app.add_option("--udp-encaps-port", args.udp_encaps_port,
                 "SCTP only: the registrar's UDP encapsulation port (RFC 6951) when -r gives no /UDPPORT")
      ->capture_default_str();
  app.add_flag("--sctp-native", args.sctp_native,
               "SCTP only: native SCTP (IP protocol 132, raw IP socket: needs root or CAP_NET_RAW) "
               "instead of SCTP over UDP; the registrar needs asap.sctp_native");
  app.add_option("--local-udp-port", args.local_udp_port,
                 "SCTP only: our own UDP encapsulation port (0 = a random free port)")
      ->capture_default_str();
  app.add_option("--timeout-ms", args.timeout_ms, "Request timeout: no answer after this time is an error")
      ->capture_default_str();
  app.add_option("--connect-timeout-ms", args.connect_timeout_ms, "Give up connecting after this time")
      ->capture_default_str();
  app.add_flag("--next-gen", args.next_gen,
               "Next-gen mode: send NG-Capabilities (0x8040) and 64-bit ID extensions (nextgen.md)");
}

std::uint16_t registrar_udp_port(const ConnectionArgs& args) {
  auto endpoint = client::parse_registrar_address(args.registrar);
  return endpoint && endpoint->udp_port ? *endpoint->udp_port : args.udp_encaps_port;
}

const char* transport_name(const ConnectionArgs& args) noexcept {
  if (args.tls) return "tls";
  return args.tcp ? "tcp" : "sctp";
}

std::string connect_failure_text(const ConnectionArgs& args, int error, const std::string& tls_error) {
  if (!tls_error.empty()) return "TLS: " + tls_error;
  const bool stream = args.tcp || args.tls;
  if (!stream && args.sctp_native && (error == 0 || error == ETIMEDOUT)) {
    return "no answer within " + std::to_string(args.connect_timeout_ms) +
           " ms over native SCTP (IP protocol 132): does the registrar run with asap.sctp_native (and, "
           "on kernel sockets, CAP_NET_RAW), and is no kernel SCTP module answering in its place?";
  }
  if (!stream && (error == 0 || error == ETIMEDOUT)) {
    return "no answer within " + std::to_string(args.connect_timeout_ms) +
           " ms; SCTP travels in UDP to port " + std::to_string(registrar_udp_port(args)) +
           " (RFC 6951): is that the registrar's asap.udp_encapsulation_port? (-r ADDR:PORT/UDPPORT or "
           "--udp-encaps-port)";
  }
  if (error == 0) return "connect-failed";
  const char* name = ::strerrorname_np(error);
  std::string text = runtime::errno_text(error);
  if (name != nullptr) text += std::string(" (") + name + ")";
  if (error == ETIMEDOUT) text += " after " + std::to_string(args.connect_timeout_ms) + " ms";
  return text;
}

Expected<client::ClientOptions, std::string> client_options(const ConnectionArgs& args) {
  auto endpoint = client::parse_registrar_address(args.registrar, args.tls ? runtime::kAsapTlsPort : runtime::kAsapPort);
  if (!endpoint) return unexpected("--registrar: " + endpoint.error());
  if (args.tcp && args.sctp_native) return unexpected(std::string("--sctp-native and --tcp exclude each other"));
  if (args.tls && args.sctp_native) return unexpected(std::string("--sctp-native and --tls exclude each other"));
  if (args.tls && args.tls_ca.empty()) return unexpected(std::string("--tls needs --tls-ca (the CA that signs the registrar's certificate)"));
  if (!args.tls && (!args.tls_ca.empty() || !args.tls_cert.empty() || !args.tls_key.empty()))
    return unexpected(std::string("--tls-ca, --tls-cert and --tls-key need --tls"));
  if (args.tls_cert.empty() != args.tls_key.empty()) return unexpected(std::string("--tls-cert and --tls-key go together"));
  if (args.tls && args.mptcp) return unexpected(std::string("--tls runs over plain TCP: drop --mptcp"));
  client::ClientOptions o;
  o.registrar.address = endpoint->address;
  o.registrar.port = endpoint->port;
  const bool stream = args.tcp || args.tls;
  o.registrar.transport = stream ? client::ClientTransport::kTcp : client::ClientTransport::kSctp;
  o.registrar.tls = {args.tls, args.tls_ca, args.tls_cert, args.tls_key};
  o.registrar.remote_udp_port = args.sctp_native ? 0 : registrar_udp_port(args);  // 0: native
  o.registrar.mptcp = args.mptcp;
  o.request_timeout = TimeNs{args.timeout_ms} * kNsPerMs;
  o.connect_timeout = TimeNs{args.connect_timeout_ms} * kNsPerMs;
  o.next_gen = args.next_gen;
  if (args.next_gen) o.ng_capabilities = 0x01 | 0x08 | (stream ? 0x10 : 0) | (args.mptcp ? 0x20 : 0);
  return o;
}

Expected<std::unique_ptr<kernel::SctpStack>, std::string> make_stack(const ConnectionArgs& args) {
  if (args.tcp || args.tls) return std::unique_ptr<kernel::SctpStack>();
  kernel::SctpStackConfig config;
  config.udp_port = args.local_udp_port;
  config.native = args.sctp_native;
  std::string error;  // SctpStack::create (dataplane/kernel) still reports through a string
  auto stack = kernel::SctpStack::create(config, &error);
  if (!stack) return unexpected(std::move(error));
  return stack;
}

std::vector<IpAddress> local_addresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    auto ip = runtime::ip_of(i->ifa_addr);
    if (!ip || ip->is_link_local() || ip->is_multicast()) continue;
    if (std::find(out.begin(), out.end(), *ip) == out.end()) out.push_back(*ip);
    if (out.size() >= kMaxAddressesPerTransport) break;
  }
  ::freeifaddrs(list);
  return out;
}

std::string load_percent(std::uint32_t value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%",
                100.0 * static_cast<double>(value) / static_cast<double>(kPolicyValueMax));
  return buf;
}

std::uint32_t from_percent(double percent) {
  if (!(percent > 0)) return 0;
  if (percent >= 100) return kPolicyValueMax;
  return static_cast<std::uint32_t>(std::llround(percent / 100.0 * static_cast<double>(kPolicyValueMax)));
}

std::string format_policy(const PolicyParams& p) {
  std::string s(policy_short_name(p.type));
  if (p.weight != 0) s += " weight=" + std::to_string(p.weight);
  if (p.priority != 0) s += " priority=" + std::to_string(p.priority);
  if (p.load != 0) s += " load=" + load_percent(p.load);
  if (p.load_degradation != 0) s += " degradation=" + load_percent(p.load_degradation);
  if (p.weight_dpf != 0) s += " weight-dpf=" + load_percent(p.weight_dpf);
  if (p.load_dpf != 0) s += " load-dpf=" + load_percent(p.load_dpf);
  if (p.distance_ms != 0) s += " distance=" + std::to_string(p.distance_ms) + "ms";
  return s;
}

std::string format_addresses(const std::vector<IpAddress>& addresses, std::uint16_t port) {
  std::string s;
  for (const IpAddress& a : addresses) {
    if (!s.empty()) s += ",";
    s += a.is_v4() ? a.to_string() : "[" + a.to_string() + "]";
  }
  return s + ":" + std::to_string(port);
}

std::string transport_name(TransportProtocol protocol) {
  switch (protocol) {
    case TransportProtocol::kSctp:
      return "sctp";
    case TransportProtocol::kTcp:
      return "tcp";
    case TransportProtocol::kUdp:
      return "udp";
    case TransportProtocol::kUdpLite:
      return "udplite";
    case TransportProtocol::kDccp:
      return "dccp";
  }
  return "?";
}

std::string hex_id(std::uint64_t id) {
  char buf[24];
  if (id <= 0xffffffffu)
    std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(id));
  else
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms));
  return buf;
}

double to_ms(TimeNs ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace poolreg::tools
