// Start-up summary of the endpoints in a configuration.
#include "dataplane/daemon/listen_summary.hpp"

#include <cstdio>

namespace poolreg::daemon {
namespace {

std::string host_port(const IpAddress& a, std::uint16_t port) {
  return config::to_string(config::SocketAddress{a, port});
}

std::string join(const std::vector<IpAddress>& addresses, std::uint16_t port) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ",") + host_port(a, port);
  return out;
}

}  // namespace

std::string format_registrar_id(config::WireMode mode, RegistrarId id) {
  char buf[24];
  if (mode == config::WireMode::kRfc) {
    std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(id));
  } else {
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(id));
  }
  return buf;
}

std::string describe_listeners(const config::RegistrarConfig& c) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  const auto& a = c.asap;
  if (a.sctp) {
    if (a.udp_encapsulation_port != 0) {
      add("ASAP SCTP/UDP-encaps " + join(a.listen, a.sctp_port) + " (udp " +
          std::to_string(a.udp_encapsulation_port) + ")");
    } else {
      add("ASAP SCTP " + join(a.listen, a.sctp_port));
    }
    if (a.sctp_native) add("ASAP SCTP native " + join(a.listen, a.sctp_port));
  }
  if (a.tcp) add(std::string(a.mptcp ? "ASAP MPTCP " : "ASAP TCP ") + join(a.listen, a.tcp_port));
  const auto& t = c.tls;
  if (t.enabled() && t.asap_port != 0)
    add("ASAP TLS " + join(a.listen, t.asap_port) + (t.require_client_certificate_asap ? " (client certificates required)" : ""));
  if (a.server_announce) add("announce " + config::to_string(a.announce_address));
  const auto& e = c.enrp;
  if (e.enabled) {
    const auto& listen = e.listen.empty() ? a.listen : e.listen;
    add("ENRP SCTP " + join(listen, e.sctp_port));
    if (e.sctp_native) add("ENRP SCTP native " + join(listen, e.sctp_port));
    if (e.tcp && t.enabled() && t.enrp_port != 0) {
      add("ENRP TLS " + join(listen, t.enrp_port) + " (mutual)");  // replaces plain ENRP TCP
    } else if (e.tcp) {
      add("ENRP TCP " + join(listen, e.tcp_port));
    }
    if (e.multicast) add("ENRP multicast " + config::to_string(e.multicast_address));
    add(std::to_string(e.peers.size()) + " static peer" + (e.peers.size() == 1 ? "" : "s") + ", profile " +
        config::to_string(e.profile));
  } else {
    add("ENRP off");
  }
  add(c.control.enabled ? "control " + config::effective_control_socket_path(c.control) : "control off");
  add(c.metrics.enabled ? "metrics http://" + config::to_string(c.metrics.listen) + "/metrics"
                        : "metrics off");
  if (c.dpdk.enabled) add("DPDK backend");
  return out;
}

}  // namespace poolreg::daemon
