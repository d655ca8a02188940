// Scenario loading and validation for poolgen (see poolgen_config.hpp).
#include "perf/poolgen/poolgen_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "cli/client/registrar_address.hpp"

namespace poolreg::poolgen {

const char* to_string(AddressMode m) noexcept {
  return m == AddressMode::kSpread ? "spread" : "association";
}

Expected<RegistrarTarget, std::string> parse_registrar(const std::string& text) {
  auto parsed = client::parse_registrar_address(text);
  if (!parsed) return unexpected(parsed.error());
  RegistrarTarget out;
  out.text = text;
  out.address = parsed->address;
  out.port = parsed->port;
  if (parsed->udp_port) out.udp_port = *parsed->udp_port;
  return out;
}

namespace {

std::string where(const std::string& path, const toml::node& n) {
  std::ostringstream s;
  s << path << ":" << n.source().begin.line << ":" << n.source().begin.column << ": ";
  return s.str();
}

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  template <typename T>
  bool number(const toml::table& t, const char* key, T& out, double lo, double hi) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    seen_.insert(key);
    double v = 0;
    if (auto i = n->value<std::int64_t>(); i && n->is_integer()) {
      v = static_cast<double>(*i);
    } else if (auto d = n->value<double>(); d && n->is_floating_point()) {
      v = *d;
    } else {
      return fail(*n, std::string(key) + ": expected a number");
    }
    if (!(v >= lo && v <= hi)) {
      std::ostringstream s;
      s << key << ": " << v << " out of range [" << lo << ", " << hi << "]";
      return fail(*n, s.str());
    }
    out = static_cast<T>(v);
    return true;
  }
  bool boolean(const toml::table& t, const char* key, bool& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    seen_.insert(key);
    if (!n->is_boolean()) return fail(*n, std::string(key) + ": expected true or false");
    out = *n->value<bool>();
    return true;
  }
  bool string(const toml::table& t, const char* key, std::string& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    seen_.insert(key);
    if (!n->is_string()) return fail(*n, std::string(key) + ": expected a string");
    out = *n->value<std::string>();
    return true;
  }
  bool strings(const toml::table& t, const char* key, std::vector<std::string>& out, bool* present) {
    const toml::node* n = t.get(key);
    *present = n != nullptr;
    if (n == nullptr) return true;
    seen_.insert(key);
    const toml::array* a = n->as_array();
    if (a == nullptr) return fail(*n, std::string(key) + ": expected an array of strings");
    out.clear();
    for (const toml::node& e : *a) {
      if (!e.is_string()) return fail(e, std::string(key) + ": expected strings");
      out.push_back(*e.value<std::string>());
    }
    return true;
  }
  bool unknown_keys(const toml::table& t, const std::string& section) {
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      if (v.is_table()) continue;
      if (!seen_.count(key)) return fail(v, "unknown key '" + section + key + "'");
    }
    return true;
  }
  // Records the problem ("file:line:col: reason"); false, for the || chains of load_scenario.
  bool fail(const toml::node& n, const std::string& reason) {
    error_ = where(path_, n) + reason;
    return false;
  }
  // The recorded problem, as load_scenario's result.
  Unexpected<std::string> error() const { return unexpected(error_); }
  Unexpected<std::string> reject(const toml::node& n, const std::string& reason) {
    fail(n, reason);
    return error();
  }
  void reset() { seen_.clear(); }

 private:
  std::string path_;
  std::string error_;
  std::set<std::string> seen_;
};

}  // namespace

Expected<void, std::string> load_scenario(const std::string& path, PoolgenConfig& c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return unexpected(s.str());
  }
  Reader r(path);
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (!v.is_table()) return r.reject(v, "unknown top-level key '" + key + "' (expected a [section])");
    if (key != "run" && key != "pe" && key != "pu" && key != "probe")
      return r.reject(v, "unknown section [" + key + "] (run, pe, pu, probe)");
  }
  if (const toml::table* t = root["run"].as_table()) {
    r.reset();
    std::vector<std::string> regs;
    bool has_regs = false;
    std::string transport, progress, name;
    if (!r.string(*t, "name", c.scenario_name) || !r.strings(*t, "registrars", regs, &has_regs) ||
        !r.string(*t, "transport", transport) ||
        !r.number(*t, "pe_associations", c.pe_associations, 1, 1024) ||
        !r.number(*t, "pu_associations", c.pu_associations, 1, 1024) ||
        !r.number(*t, "threads", c.threads, 1, kMaxThreads) || !r.boolean(*t, "assoc_per_pe", c.assoc_per_pe) ||
        !r.number(*t, "duration_s", c.duration_s, 0.1, 86400) || !r.boolean(*t, "cleanup", c.cleanup) ||
        !r.number(*t, "cleanup_timeout_s", c.cleanup_timeout_s, 0, 3600) ||
        !r.number(*t, "request_timeout_ms", c.request_timeout_ms, 10, 600000) ||
        !r.number(*t, "connect_timeout_ms", c.connect_timeout_ms, 10, 600000) ||
        !r.number(*t, "silent_association_s", c.silent_association_s, -1, 86400) ||
        !r.string(*t, "report", c.report_path) || !r.string(*t, "pcap", c.pcap_path) ||
        !r.string(*t, "timeseries", c.timeseries_path) ||
        !r.number(*t, "min_rate_ratio", c.min_rate_ratio, 0, 10) ||
        !r.number(*t, "pcap_every", c.pcap_every, 1, 1e9) || !r.number(*t, "pcap_max", c.pcap_max, 1, 1e9) ||
        !r.string(*t, "progress", progress) || !r.number(*t, "seed", c.seed, 0, 1e18) ||
        !r.boolean(*t, "allow_remote", c.allow_remote) ||
        !r.unknown_keys(*t, "run."))
      return r.error();
    if (has_regs) {
      c.registrars.clear();
      for (const auto& s : regs) {
        auto target = parse_registrar(s);
        if (!target) return unexpected(path + ": run.registrars: " + target.error());
        c.registrars.push_back(*target);
      }
    }
    if (transport == "tcp") c.transport = client::ClientTransport::kTcp;
    else if (transport == "sctp") c.transport = client::ClientTransport::kSctp;
    else if (!transport.empty())
      return r.reject(*t->get("transport"), "transport: sctp or tcp");
    if (progress == "auto") c.progress = ProgressMode::kAuto;
    else if (progress == "ansi") c.progress = ProgressMode::kAnsi;
    else if (progress == "plain") c.progress = ProgressMode::kPlain;
    else if (progress == "off") c.progress = ProgressMode::kOff;
    else if (!progress.empty())
      return r.reject(*t->get("progress"), "progress: auto, ansi, plain or off");
  }
  if (const toml::table* t = root["pe"].as_table()) {
    r.reset();
    std::vector<std::string> policies;
    bool has_policies = false;
    std::string mode;
    if (!r.number(*t, "count", c.pes, 0, 1e8) || !r.number(*t, "pools", c.pools, 1, 1e6) ||
        !r.string(*t, "pool_prefix", c.pool_prefix) || !r.strings(*t, "policies", policies, &has_policies) ||
        !r.number(*t, "register_rate", c.register_rate, 1, 1e8) || !r.number(*t, "window", c.window, 1, 1e6) ||
        !r.number(*t, "life_ms", c.life_ms, 1000, 4294967295.0) ||
        !r.number(*t, "move_interval_s", c.move_interval_s, 0, 1e9) || !r.string(*t, "address_mode", mode) ||
        !r.number(*t, "dead_fraction", c.dead_fraction, 0, 1) || !r.number(*t, "die_at_s", c.die_at_s, -1, 1e9) ||
        !r.number(*t, "die_spread_s", c.die_spread_s, 0, 1e9) || !r.string(*t, "addresses", c.pe_addresses) ||
        !r.unknown_keys(*t, "pe."))
      return r.error();
    if (has_policies) {
      c.policies.clear();
      for (const auto& p : policies) {
        auto type = policy_from_name(p);
        if (!type || !policy_has_wire_codec(*type))
          return r.reject(*t->get("policies"), "unknown policy '" + p + "'");
        c.policies.push_back(*type);
      }
    }
    if (mode == "spread") c.address_mode = AddressMode::kSpread;
    else if (mode == "association") c.address_mode = AddressMode::kAssociation;
    else if (!mode.empty())
      return r.reject(*t->get("address_mode"), "address_mode: spread or association");
  }
  if (const toml::table* t = root["pu"].as_table()) {
    r.reset();
    if (!r.number(*t, "count", c.pus, 0, 1e9) || !r.number(*t, "resolve_rate", c.resolve_rate, 0, 1e8) ||
        !r.number(*t, "items", c.items, 0, 4294967295.0) ||
        !r.number(*t, "unreachable_fraction", c.unreachable_fraction, 0, 1) ||
        !r.number(*t, "window", c.pu_window, 1, 1e6) || !r.unknown_keys(*t, "pu."))
      return r.error();
  }
  if (const toml::table* t = root["probe"].as_table()) {
    r.reset();
    if (!r.number(*t, "count", c.probes, 0, 1000) || !r.number(*t, "move_every_s", c.probe_move_s, 0.01, 3600) ||
        !r.number(*t, "interval_ms", c.probe_interval_ms, 0.1, 10000) ||
        !r.number(*t, "give_up_s", c.probe_give_up_s, 0.01, 3600) || !r.unknown_keys(*t, "probe."))
      return r.error();
  }
  return {};
}

namespace {

// The real-address mode's prefix and the choices that mode fixes (real_address_fleet.hpp).
Expected<void, std::string> validate_real_addresses(PoolgenConfig& c) {
  const std::size_t slash = c.pe_addresses.find('/');
  const auto ip = IpAddress::parse(c.pe_addresses.substr(0, slash));
  const int bits = slash == std::string::npos ? -1 : std::atoi(c.pe_addresses.c_str() + slash + 1);
  if (!ip || !ip->is_v4() || bits < 8 || bits > 30)
    return unexpected("--pe-addresses " + c.pe_addresses +
                      ": expected an IPv4 prefix A.B.C.D/N with N 8..30");
  const std::uint32_t value = (std::uint32_t{ip->data()[0]} << 24) | (std::uint32_t{ip->data()[1]} << 16) |
                              (std::uint32_t{ip->data()[2]} << 8) | ip->data()[3];
  const std::uint32_t mask = ~std::uint32_t{0} << (32 - bits);
  c.pe_address_base = value & mask;
  const std::uint64_t hosts = (std::uint64_t{1} << (32 - bits)) - 2;  // without network and broadcast
  if (2 + 3 * c.pes > hosts + 1)
    return unexpected("--pe-addresses " + c.pe_addresses + " holds " + std::to_string(hosts) + " hosts; " +
                      std::to_string(c.pes) + " PEs need " + std::to_string(1 + 3 * c.pes) +
                      " (prefix + 1, then three per PE)");
  if (c.registrars.size() != 1 || !c.registrars.front().address.is_v4())
    return unexpected("--pe-addresses drives one IPv4 registrar (give one -r)");
  if (c.transport != client::ClientTransport::kSctp || c.sctp_native)
    return unexpected("--pe-addresses moves SCTP associations (ASCONF): SCTP over UDP only");
  if (c.threads != 1 || !c.pcap_path.empty())
    return unexpected("--pe-addresses runs on one threaded usrsctp stack: no --threads, no --pcap");
  if (c.pes == 0) return unexpected("--pe-addresses needs PEs (-n)");
  if (c.dead_fraction > 0)
    return unexpected("--pe-addresses: silent deaths (--dead-fraction) are not simulated");
  // Fixed by the mode: one association per PE, each PE alone in its pool, the moved PEs resolved
  // by the mode itself (no load PUs, no probe PEs).
  c.assoc_per_pe = true;
  c.pools = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.pes, 0xFFFFFFFFu));
  c.pus = 0;
  c.resolve_rate = 0;
  c.probes = 0;
  return {};
}

}  // namespace

Expected<void, std::string> validate(PoolgenConfig& c) {
  if (c.registrars.empty()) {
    RegistrarTarget def;
    def.text = "127.0.0.1:3863/9899";
    c.registrars.push_back(def);
  }
  for (const RegistrarTarget& r : c.registrars) {
    // Safety: a load generator must not load someone else's server by a typo; anything but
    // loopback takes an explicit --allow-remote.
    if (!r.address.is_loopback() && !c.allow_remote) {
      return unexpected("refusing registrar " + r.text +
                        ": poolgen only targets loopback addresses (127.0.0.0/8 or ::1) unless --allow-remote "
                        "is given (run.allow_remote = true in a scenario); add it to load a registrar on "
                        "another machine or network namespace.");
    }
  }
  if (c.policies.empty()) c.policies.push_back(PolicyType::kRoundRobin);
  if (c.pools == 0) {
    return unexpected("pools must be >= 1");
  }
  if (c.pes + c.probes > 0xFFFFFFF0ull) {
    return unexpected("too many PEs (PE IDs are 32-bit)");
  }
  if (c.threads < 1 || c.threads > kMaxThreads) {
    return unexpected("threads must be 1.." + std::to_string(kMaxThreads) + " (one usrsctp copy per lane)");
  }
  if (c.threads > 1 && (!c.timeseries_path.empty() || !c.pcap_path.empty())) {
    return unexpected("--timeseries and --pcap are written by one lane: use them with --threads 1");
  }
  if (c.assoc_per_pe && c.registrars.size() > 1) {
    return unexpected("--assoc-per-pe drives one registrar (give one -r)");
  }
  if (c.assoc_per_pe && c.transport == client::ClientTransport::kSctp) {
    const std::uint64_t per_lane = (c.pes + c.probes + c.threads - 1) / c.threads + c.pu_associations;
    if (per_lane > kSctpAssociationsPerLane) {
      const std::uint64_t lanes =
          (c.pes + c.probes + kSctpAssociationsPerLane - c.pu_associations - 1) / (kSctpAssociationsPerLane - c.pu_associations);
      return unexpected("--assoc-per-pe: " + std::to_string(per_lane) + " SCTP associations per lane, but one lane's "
                        "usrsctp has " + std::to_string(kSctpAssociationsPerLane) +
                        " ephemeral ports (one per association): use --threads " + std::to_string(lanes) +
                        " or more");
    }
  }
  if (!c.assoc_per_pe && c.registrars.size() * c.pe_associations > 65535) {
    return unexpected("too many associations");
  }
  if (c.address_mode == AddressMode::kSpread) {
    for (const RegistrarTarget& r : c.registrars) {
      if (!r.address.is_v4()) {
        return unexpected(
            "address_mode spread uses 127.0.0.0/8 user addresses: IPv4 registrars only (use association)");
      }
    }
  }
  if (!c.pe_addresses.empty()) {
    if (auto real = validate_real_addresses(c); !real) return real;
  }
  if (c.silent_association_s < 0) c.silent_association_s = 3.0 * c.request_timeout_ms / 1000.0;
  if (!(c.duration_s > 0)) {
    return unexpected("duration must be > 0");
  }
  return {};
}

}  // namespace poolreg::poolgen
