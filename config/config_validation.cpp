// validate_config(): the schema's ranges plus the rules that tie several keys together.
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "config/config_loader.hpp"
#include "config/config_schema.hpp"
#include "config/config_text.hpp"

namespace poolreg::config {
namespace {

// Re-checks the ranges of schema::visit_config on a config that may have been built by hand.
class RangeChecker {
 public:
  explicit RangeChecker(std::vector<ConfigError>& errors) : errors_(errors) {}

  void section(std::string_view name) { section_ = name; }
  void boolean(std::string_view, const bool&) {}
  template <typename T>
  void integer(std::string_view key, const T& field, std::uint64_t min, std::uint64_t max) {
    auto v = static_cast<std::uint64_t>(field);
    if (v < min || v > max) {
      fail(key, std::to_string(v) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
  }
  void number(std::string_view key, const double& field, double min, double max) {
    if (!(field >= min && field <= max)) {
      fail(key, format_double(field) + " is out of range " + format_double(min) + ".." + format_double(max));
    }
  }
  template <typename E, typename S>
  void choice(std::string_view, const E&, S) {}
  void text(std::string_view, const std::string&) {}
  void addresses(std::string_view key, const std::vector<IpAddress>& field, std::size_t min_count) {
    if (field.size() < min_count) fail(key, "needs at least " + std::to_string(min_count) + " address");
  }
  void socket_address(std::string_view key, const SocketAddress& field) {
    if (field.port == 0) fail(key, "port 0 is not allowed");
  }
  void strings(std::string_view, const std::vector<std::string>&) {}
  void ports(std::string_view, const std::vector<std::uint16_t>&) {}
  void file_mode(std::string_view key, const std::uint32_t& field) {
    if (field > 0777) fail(key, "permission mode above 0777");
  }
  void peers(std::string_view key, const std::vector<EnrpPeerConfig>& field) {
    for (const auto& p : field) {
      if (p.address.port == 0) fail(key, "peer " + to_string(p.address) + ": port 0 is not allowed");
    }
  }
  void registrar_id(std::string_view, const RegistrarId&) {}

 private:
  void fail(std::string_view key, const std::string& reason) {
    errors_.push_back(ConfigError{{}, 0, 0, section_ + "." + std::string(key) + ": " + reason});
  }
  std::vector<ConfigError>& errors_;
  std::string section_;
};

class RuleChecker {
 public:
  explicit RuleChecker(std::vector<ConfigError>& errors) : errors_(errors) {}
  void fail(const std::string& key, const std::string& reason) {
    errors_.push_back(ConfigError{{}, 0, 0, key + ": " + reason});
  }

 private:
  std::vector<ConfigError>& errors_;
};

std::string ip_list_key(const IpAddress& a) { return a.to_string(); }

bool is_wildcard(const IpAddress& a) {
  const std::uint8_t* b = a.data();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

void check_listen(RuleChecker& r, const std::string& key, const std::vector<IpAddress>& listen) {
  std::set<std::string> seen;
  for (const auto& a : listen) {
    if (a.is_multicast())
      r.fail(key, a.to_string() + " is a multicast address; listen needs a local unicast address");
    if (!seen.insert(ip_list_key(a)).second) r.fail(key, a.to_string() + " is listed twice");
  }
}

bool file_readable(const std::string& path) { return std::ifstream(path).good(); }

// [tls]: the files must be there at start (poolregd --check-config says which is missing); that
// they parse and match is TlsContext's check when poolregd starts.
void check_tls(const RegistrarConfig& c, RuleChecker& r) {
  const TlsSection& t = c.tls;
  if (!t.enabled()) {
    if (!t.private_key.empty() || !t.ca_file.empty())
      r.fail("tls.certificate", "tls.private_key / tls.ca_file are set but tls.certificate is empty (TLS is off)");
    return;
  }
  const std::pair<const char*, const std::string*> files[] = {
      {"tls.certificate", &t.certificate}, {"tls.private_key", &t.private_key}, {"tls.ca_file", &t.ca_file}};
  for (const auto& [key, path] : files) {
    if (path->empty())
      r.fail(key, "required with tls.certificate (TLS verifies peers against the CA)");
    else if (!file_readable(*path))
      r.fail(key, "cannot read " + *path);
  }
  if (t.asap_port == 0 && (t.enrp_port == 0 || !c.enrp.tcp))
    r.fail("tls.asap_port", "TLS is configured but opens no listener (asap_port 0, and ENRP over TLS needs enrp.tcp)");
  if (t.asap_port != 0 && c.asap.tcp && t.asap_port == c.asap.tcp_port)
    r.fail("tls.asap_port", "ASAP over TLS cannot share TCP port " + std::to_string(t.asap_port) + " with asap.tcp_port");
  if (t.asap_port != 0 && c.enrp.tcp && t.asap_port == t.enrp_port)
    r.fail("tls.enrp_port", "ENRP and ASAP over TLS cannot share port " + std::to_string(t.enrp_port));
}

void check_rules(const RegistrarConfig& c, RuleChecker& r) {
  const bool rfc = c.registrar.mode == WireMode::kRfc;
  if (rfc && c.registrar.id > 0xffffffffu) {
    r.fail("registrar.id",
           "RFC mode IDs are 32-bit (at most 4294967295); use mode = \"nextgen\" for 64-bit IDs");
  }
  if (!rfc && c.registrar.id != 0 && short_id(c.registrar.id) == 0) {
    r.fail("registrar.id", "next-gen IDs need non-zero low 32 bits (their RFC short form)");
  }

  const AsapSection& a = c.asap;
  if (!a.sctp && !a.tcp) r.fail("asap.sctp", "at least one ASAP transport (sctp or tcp) must be on");
  if (a.mptcp && !a.tcp) r.fail("asap.mptcp", "needs asap.tcp = true");
  if (a.handle_resolution_items > a.handle_resolution_max_items) {
    r.fail("asap.handle_resolution_items", std::to_string(a.handle_resolution_items) +
                                               " exceeds asap.handle_resolution_max_items (" +
                                               std::to_string(a.handle_resolution_max_items) + ")");
  }
  check_listen(r, "asap.listen", a.listen);
  if (!a.announce_address.address.is_multicast()) {
    r.fail("asap.announce_address", to_string(a.announce_address) + " is not a multicast address");
  }
  // Addresses of no usable scope (multicast, 0/8, 240/4) are check_listen's to report.
  bool any_usable = false, any_acceptable = false;
  for (const auto& l : a.listen) {
    const AddressScope scope = is_wildcard(l) ? AddressScope::kGlobal : address_scope(l);
    if (scope == AddressScope::kInvalid) continue;
    any_usable = true;
    if (scope >= a.min_address_scope) any_acceptable = true;
  }
  if (any_usable && !any_acceptable) {
    r.fail("asap.min_address_scope", std::string("\"") + to_string(a.min_address_scope) +
                                         "\" rejects the addresses of every PE that can reach asap.listen (" +
                                         a.listen.front().to_string() + ")");
  }

  const LimitsSection& l = c.limits;
  if (l.max_pes_per_pool > l.max_pes_total) {
    r.fail("limits.max_pes_per_pool",
           "exceeds limits.max_pes_total (" + std::to_string(l.max_pes_total) + ")");
  }

  const EnrpSection& e = c.enrp;
  if (e.tcp && rfc)
    r.fail("enrp.tcp", "ENRP over TCP is a next-gen extension: needs registrar.mode = \"nextgen\"");
  if (e.heartbeat_interval_ms >= e.max_time_last_heard_ms) {
    r.fail("enrp.heartbeat_interval_ms",
           std::to_string(e.heartbeat_interval_ms) + " must be below enrp.max_time_last_heard_ms (" +
               std::to_string(e.max_time_last_heard_ms) + "), or live peers look silent");
  }
  if (e.max_handle_table_response_bytes > a.max_message_bytes) {
    r.fail("enrp.max_handle_table_response_bytes",
           "exceeds asap.max_message_bytes (" + std::to_string(a.max_message_bytes) + ")");
  }
  if (e.enabled && a.sctp && e.sctp_port == a.sctp_port) {
    r.fail("enrp.sctp_port", "ENRP and ASAP cannot share SCTP port " + std::to_string(e.sctp_port));
  }
  if (e.enabled && e.tcp && a.tcp && e.tcp_port == a.tcp_port) {
    r.fail("enrp.tcp_port", "ENRP and ASAP cannot share TCP port " + std::to_string(e.tcp_port));
  }
  check_listen(r, "enrp.listen", e.listen);
  if (!e.multicast_address.address.is_multicast()) {
    r.fail("enrp.multicast_address", to_string(e.multicast_address) + " is not a multicast address");
  }
  std::set<std::string> peers;
  for (const auto& p : e.peers) {
    if (!peers.insert(to_string(p.address)).second)
      r.fail("enrp.peers", to_string(p.address) + " is listed twice");
    if (p.address.address.is_multicast())
      r.fail("enrp.peers", to_string(p.address) + " is a multicast address");
    if (rfc && p.id > 0xffffffffu)
      r.fail("enrp.peers", "peer id " + std::to_string(p.id) + " is not 32-bit (RFC mode)");
    if (p.id != 0 && p.id == c.registrar.id) r.fail("enrp.peers", "peer id equals registrar.id");
    if (p.sctp_native && p.udp_port != 0)
      r.fail("enrp.peers", to_string(p.address) + ": sctp_native and udp_port exclude each other");
    if (p.sctp_native && !e.sctp_native)
      r.fail("enrp.peers",
             to_string(p.address) + ": sctp_native needs enrp.sctp_native = true (the raw socket)");
  }

  check_tls(c, r);

  if (!c.control.socket_path.empty()) {
    if (c.control.socket_path.front() != '/') r.fail("control.socket_path", "must be an absolute path");
    if (c.control.socket_path.size() > 107)
      r.fail("control.socket_path", "longer than 107 bytes (sun_path limit)");
  }
}

}  // namespace

std::vector<ConfigError> validate_config(const RegistrarConfig& config) {
  std::vector<ConfigError> errors;
  RangeChecker ranges(errors);
  schema::visit_config(ranges, config);
  RuleChecker rules(errors);
  check_rules(config, rules);
  return errors;
}

}  // namespace poolreg::config
