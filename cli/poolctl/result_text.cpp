#include "cli/poolctl/result_text.hpp"

#include <cstdio>

#include "cli/poolctl/text_table.hpp"

namespace poolreg::poolctl {
namespace {

const json& member(const json& obj, const char* name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

std::string percent(std::uint64_t value) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.1f%%", static_cast<double>(value) * 100.0 / 4294967295.0);
  return b;
}

std::string yes_no(const json& v) { return v.is_boolean() ? (v.get<bool>() ? "yes" : "no") : "-"; }

std::string pe_row_transport(const json& pe) { return transport_text(member(pe, "user_transport")); }

void counter_section(std::string& out, const char* title, const json& obj) {
  if (!obj.is_object()) return;
  out += title;
  out += ":\n";
  TextTable t({"COUNTER", "VALUE"});
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it->is_object()) {
      for (auto in = it->begin(); in != it->end(); ++in) t.add({it.key() + "." + in.key(), text_of(*in)});
    } else {
      t.add({it.key(), text_of(*it)});
    }
  }
  std::string table = t.render();
  // Indent the table under its title.
  std::size_t start = 0;
  while (start < table.size()) {
    const std::size_t nl = table.find('\n', start);
    out += "  " + table.substr(start, nl - start + 1);
    start = nl + 1;
  }
}

}  // namespace

std::string text_of(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.3g", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string format_duration_s(double seconds) {
  if (seconds < 0) seconds = 0;
  char b[48];
  if (seconds < 60) {
    std::snprintf(b, sizeof(b), "%.1fs", seconds);
    return b;
  }
  const auto total = static_cast<unsigned long long>(seconds);
  const unsigned long long d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, s = total % 60;
  if (d > 0) std::snprintf(b, sizeof(b), "%llud%02lluh%02llum", d, h, m);
  else if (h > 0) std::snprintf(b, sizeof(b), "%lluh%02llum%02llus", h, m, s);
  else std::snprintf(b, sizeof(b), "%llum%02llus", m, s);
  return b;
}

std::string format_ns(std::uint64_t ns) {
  char b[32];
  if (ns < 1000) std::snprintf(b, sizeof(b), "%lluns", static_cast<unsigned long long>(ns));
  else if (ns < 1000000) std::snprintf(b, sizeof(b), "%.1fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1000000000) std::snprintf(b, sizeof(b), "%.1fms", static_cast<double>(ns) / 1e6);
  else std::snprintf(b, sizeof(b), "%.2fs", static_cast<double>(ns) / 1e9);
  return b;
}

std::string transport_text(const json& t) {
  if (!t.is_object()) return "-";
  std::string addresses;
  const json& list = member(t, "addresses");
  if (list.is_array()) {
    for (const auto& a : list) {
      if (!addresses.empty()) addresses += ',';
      const std::string s = text_of(a);
      addresses += s.find(':') != std::string::npos ? "[" + s + "]" : s;
    }
  }
  std::string out = text_of(member(t, "protocol")) + " " + addresses + ":" + text_of(member(t, "port"));
  if (member(t, "use").is_string() && member(t, "use").get<std::string>() == "data+control") out += " (data+control)";
  return out;
}

std::string policy_text(const json& p) {
  if (!p.is_object()) return "-";
  std::string out = text_of(member(p, "short"));
  for (const char* name : {"weight", "priority", "weight_dpf", "distance_ms"})
    if (member(p, name).is_number()) out += std::string(" ") + name + "=" + text_of(member(p, name));
  for (const char* name : {"load", "load_degradation", "load_dpf"})
    if (member(p, name).is_number_unsigned()) out += std::string(" ") + name + "=" + percent(member(p, name).get<std::uint64_t>());
  return out;
}

std::string render_health(const json& r) {
  const bool healthy = member(r, "healthy").is_boolean() && member(r, "healthy").get<bool>();
  std::string out = healthy ? "healthy\n" : "NOT healthy\n";
  const json& checks = member(r, "checks");
  if (checks.is_array()) {
    for (const auto& c : checks) {
      const bool ok = member(c, "ok").is_boolean() && member(c, "ok").get<bool>();
      out += std::string(ok ? "  ok    " : "  FAIL  ") + text_of(member(c, "name")) + ": " + text_of(member(c, "detail")) +
             "\n";
    }
  }
  return out;
}

std::string render_status(const json& r) {
  std::string out;
  out += "poolregd " + text_of(member(r, "registrar_id")) + "  mode " + text_of(member(r, "mode")) + "  version " +
         text_of(member(r, "version")) + "  pid " + text_of(member(r, "pid")) + "  up " +
         (member(r, "uptime_s").is_number() ? format_duration_s(member(r, "uptime_s").get<double>()) : "-") + "\n";
  out += "listening: ";
  const json& listeners = member(r, "listeners");
  if (listeners.is_array() && !listeners.empty()) {
    // One per line; a daemon may send its whole "a, b, c" summary as one entry.
    bool first = true;
    for (const auto& l : listeners) {
      std::string text = text_of(l);
      for (std::size_t start = 0; start <= text.size();) {
        std::size_t comma = text.find(", ", start);
        if (comma == std::string::npos) comma = text.size();
        out += (first ? "" : "\n           ") + text.substr(start, comma - start);
        first = false;
        start = comma + 2;
      }
    }
  } else {
    out += "-";
  }
  out += "\n";
  out += "cores " + text_of(member(r, "cores")) + "  shards " + text_of(member(r, "shards")) + "  control " +
         text_of(member(r, "control_socket")) + "  metrics " +
         (member(r, "metrics").is_null() ? std::string("off") : text_of(member(r, "metrics"))) + "\n";
  const json& enrp = member(r, "enrp");
  if (member(enrp, "enabled").is_boolean() && member(enrp, "enabled").get<bool>()) {
    const json& peers = member(enrp, "peers");
    out += "ENRP on, start-up " + std::string(yes_no(member(enrp, "startup_complete")) == "yes" ? "complete" : "in progress") +
           "; peers alive " + text_of(member(peers, "alive")) + ", probing " + text_of(member(peers, "probing")) +
           ", dead " + text_of(member(peers, "dead")) + ", unknown " + text_of(member(peers, "unknown")) + "\n";
  } else {
    out += "ENRP off\n";
  }
  const json& s = member(r, "summary");
  out += "pools " + text_of(member(s, "pools")) + "  PEs " + text_of(member(s, "pes")) + " (owned " +
         text_of(member(s, "owned_pes")) + ")  associations " + text_of(member(s, "associations")) + "\n";
  out += "registrations " + text_of(member(s, "registrations")) + "  re-registrations " +
         text_of(member(s, "reregistrations")) + "  deregistrations " + text_of(member(s, "deregistrations")) +
         "  resolutions " + text_of(member(s, "resolutions")) + "  errors sent " + text_of(member(s, "errors_sent"));
  if (member(s, "takeovers_won").is_number()) out += "  takeovers won " + text_of(member(s, "takeovers_won"));
  out += "\n";
  return out;
}

std::string render_pools(const json& r) {
  TextTable t({"HANDLE", "POLICY", "TRANSPORT", "PES"});
  const json& pools = member(r, "pools");
  if (pools.is_array())
    for (const auto& p : pools)
      t.add({text_of(member(p, "handle")), text_of(member(p, "policy_short")), text_of(member(p, "transport")),
             text_of(member(p, "pe_count"))});
  std::string out = t.render();
  out += text_of(member(r, "pool_count")) + " pools, " + text_of(member(r, "pe_count")) + " PEs";
  if (member(r, "truncated").is_boolean() && member(r, "truncated").get<bool>()) out += " (list truncated: use --limit)";
  out += "\n";
  return out;
}

std::string render_pool(const json& r) {
  std::string out = "pool " + text_of(member(r, "handle")) + " (" + text_of(member(r, "handle_hex")) + ")  policy " +
                    text_of(member(r, "policy")) + "  transport " + text_of(member(r, "transport")) + "  PEs " +
                    text_of(member(r, "pe_count")) + " (owned " + text_of(member(r, "owned_pe_count")) +
                    (member(r, "held_pe_count").is_number() ? ", held " + text_of(member(r, "held_pe_count")) : "") +
                    ")\n";
  TextTable t({"PE ID", "HOME", "OWNED", "HELD", "TRANSPORT", "POLICY", "LIFE(ms)"});
  const json& pes = member(r, "pes");
  if (pes.is_array())
    for (const auto& pe : pes)
      t.add({text_of(member(pe, "id")), text_of(member(pe, "home")), yes_no(member(pe, "owned")),
             yes_no(member(pe, "held")), pe_row_transport(pe),
             policy_text(member(pe, "policy")), text_of(member(pe, "registration_life_ms"))});
  out += t.render();
  if (member(r, "truncated").is_boolean() && member(r, "truncated").get<bool>())
    out += "(PE list truncated: use --limit)\n";
  return out;
}

std::string render_pe(const json& r) {
  const json& pe = member(r, "pe");
  std::string out;
  auto row = [&out](const char* key, const std::string& value) {
    char b[32];
    std::snprintf(b, sizeof(b), "%-18s", key);
    out += b + value + "\n";
  };
  row("pool", text_of(member(r, "handle")) + " (" + text_of(member(r, "handle_hex")) + ")");
  row("PE ID", text_of(member(pe, "id")));
  row("home registrar", text_of(member(pe, "home")) + (yes_no(member(pe, "owned")) == "yes" ? " (this registrar)" : ""));
  row("policy", policy_text(member(pe, "policy")));
  row("user transport", transport_text(member(pe, "user_transport")));
  if (member(pe, "address_types").is_array()) {
    // RFC 8653 types, in the stored (stability) order: "10.0.0.1 fixed, 10.0.0.9 graceful
    // retiring 2950 ms left".
    std::string types;
    for (const auto& t : member(pe, "address_types")) {
      std::string item = text_of(member(t, "address")) + " " + text_of(member(t, "type"));
      if (member(t, "lifetime_ms").is_number()) item += " " + text_of(member(t, "lifetime_ms")) + " ms";
      if (member(t, "retiring").is_boolean() && member(t, "retiring").get<bool>()) {
        item += " retiring";
        if (member(t, "retire_in_ms").is_number()) item += " " + text_of(member(t, "retire_in_ms")) + " ms left";
      }
      types += (types.empty() ? "" : ", ") + item;
    }
    row("address types", types);
  }
  row("ASAP transport", transport_text(member(pe, "asap_transport")));
  row("registration life", text_of(member(pe, "registration_life_ms")) + " ms");
  row("registration seq", text_of(member(pe, "registration_seq")));
  row("association", text_of(member(pe, "association")));
  if (member(pe, "held").is_boolean())
    row("held", yes_no(member(pe, "held")) == "yes" ? "yes (association lost, waiting out the handover hold)" : "no");
  return out;
}

std::string render_peers(const json& r) {
  const json& peers = member(r, "peers");
  if (!peers.is_array() || peers.empty()) return "no ENRP peers\n";
  TextTable t({"PR ID", "STATE", "ADDRESS", "LAST HEARD", "PES", "CHECKSUM (OURS/THEIRS)", "SYNC", "FLAGS"});
  for (const auto& p : peers) {
    std::string address;
    for (const auto& a : member(p, "addresses")) address += (address.empty() ? "" : ",") + text_of(a);
    address = text_of(member(p, "transport")) + " " + (address.empty() ? "?" : address) + ":" + text_of(member(p, "port"));
    const json& heard = member(p, "last_heard_ms_ago");
    const json& ck = member(p, member(p, "nextgen").is_boolean() && member(p, "nextgen").get<bool>() &&
                                       !member(member(p, "checksum32"), "theirs").is_null()
                                   ? "checksum32"
                                   : "checksum16");
    std::string flags;
    if (member(p, "static").is_boolean() && member(p, "static").get<bool>()) flags += "static ";
    if (member(p, "mentor").is_boolean() && member(p, "mentor").get<bool>()) flags += "mentor ";
    if (member(p, "nextgen").is_boolean() && member(p, "nextgen").get<bool>()) flags += "nextgen ";
    if (!member(p, "taker").is_null()) flags += "taken-over-by=" + text_of(member(p, "taker"));
    while (!flags.empty() && flags.back() == ' ') flags.pop_back();
    const std::string sync = member(p, "sync_running").is_boolean() && member(p, "sync_running").get<bool>()
                                 ? "running"
                                 : (yes_no(member(p, "in_sync")) == "yes" ? "in sync" : "differs");
    // A dead static peer's entry is reset (ID 0, PEs taken over): show what it was.
    const bool dead = text_of(member(p, "state")) == "dead";
    const json& last_id = member(p, "last_id");
    const std::string id = dead && !last_id.is_null() ? text_of(last_id) : text_of(member(p, "id"));
    const std::string pes = dead ? text_of(member(p, "last_pe_count")) + " at death" : text_of(member(p, "pe_count"));
    t.add({id, text_of(member(p, "state")), address,
           heard.is_number() ? format_duration_s(heard.get<double>() / 1000.0) + " ago" : "never",
           pes, text_of(member(ck, "ours")) + "/" + text_of(member(ck, "theirs")), sync,
           flags.empty() ? "-" : flags});
  }
  return t.render();
}

std::string render_resolve(const json& r) {
  std::string out = "pool " + text_of(member(r, "handle")) + ": ";
  const json& pes = member(r, "pes");
  out += std::to_string(pes.is_array() ? pes.size() : 0) + " PE(s) selected\n";
  TextTable t({"PE ID", "HOME", "TRANSPORT", "POLICY"});
  if (pes.is_array())
    for (const auto& pe : pes)
      t.add({text_of(member(pe, "id")), text_of(member(pe, "home")), pe_row_transport(pe), policy_text(member(pe, "policy"))});
  out += t.render();
  return out;
}

std::string render_deregister(const json& r) {
  std::string out = "removed PE " + text_of(member(r, "id")) + " from pool " + text_of(member(r, "handle"));
  if (r.contains("reregistration_refused_ms"))
    out += "; its re-registration is refused for " + text_of(member(r, "reregistration_refused_ms")) + " ms";
  return out + "\n";
}

std::string render_audit(const json& r) {
  const json& verify = member(r, "verify");
  if (verify.is_object()) {
    const bool ok = member(verify, "ok").is_boolean() && member(verify, "ok").get<bool>();
    std::string out = std::string(ok ? "checksums verified" : "CHECKSUM MISMATCH") + ": " +
                      text_of(member(verify, "owners")) + " owner(s), " + text_of(member(verify, "pes")) +
                      " PEs in " + text_of(member(verify, "shards")) + " shards, " +
                      text_of(member(verify, "elapsed_ms")) + " ms\n";
    const json& list = member(verify, "mismatches");
    if (list.is_array() && !list.empty()) {
      TextTable t({"OWNER", "KEPT PES", "COUNTED PES", "KEPT CK32", "COUNTED CK32", "KEPT CK16", "COUNTED CK16"});
      for (const auto& m : list)
        t.add({text_of(member(m, "owner")), text_of(member(m, "kept_pes")), text_of(member(m, "counted_pes")),
               text_of(member(m, "kept_checksum32")), text_of(member(m, "counted_checksum32")),
               text_of(member(m, "kept_checksum16")), text_of(member(m, "counted_checksum16"))});
      out += t.render();
    }
    return out;
  }
  std::string out = "audit started: " + text_of(member(r, "peers")) + " peer(s) known";
  const json& syncing = member(r, "syncing");
  if (syncing.is_array() && !syncing.empty()) {
    out += ", syncing with";
    for (const auto& id : syncing) out += " " + text_of(id);
  } else {
    out += ", no live peer to sync with";
  }
  return out + "\n";
}

std::string render_takeovers(const json& r) {
  const json& list = member(r, "takeovers");
  if (!list.is_array() || list.empty()) return "no takeover in progress\n";
  TextTable t({"TARGET", "TAKER", "OURS", "WAITING FOR ACKS FROM", "EXPIRES IN"});
  for (const auto& e : list) {
    std::string waiting;
    for (const auto& id : member(e, "outstanding")) waiting += (waiting.empty() ? "" : ",") + text_of(id);
    const json& exp = member(e, "expires_in_ms");
    t.add({text_of(member(e, "target")), text_of(member(e, "taker")), yes_no(member(e, "ours")),
           waiting.empty() ? "-" : waiting, exp.is_number() ? text_of(exp) + " ms" : "-"});
  }
  return t.render();
}

std::string render_stats(const json& r) {
  std::string out;
  counter_section(out, "handlespace", member(r, "handlespace"));
  counter_section(out, "asap", member(r, "asap"));
  if (member(r, "enrp").is_object()) counter_section(out, "enrp", member(r, "enrp"));
  else out += "enrp: off\n";
  if (member(r, "transport").is_object()) counter_section(out, "transport", member(r, "transport"));
  // One section per SCTP lane, either backend (its resolutions are not in the asap section):
  // "lane 0 (kernel)", "lane 1 (dpdk lcore 2)".
  const json& lanes = member(r, "lanes");
  if (lanes.is_array()) {
    for (const json& lane : lanes) {
      if (!lane.is_object()) continue;
      std::string title = "lane " + text_of(member(lane, "lane")) + " (" + text_of(member(lane, "backend"));
      if (lane.contains("lcore")) title += " lcore " + text_of(member(lane, "lcore"));
      title += ")";
      json counters = lane;
      for (const char* key : {"lane", "backend", "lcore"}) counters.erase(key);
      counter_section(out, title.c_str(), counters);
    }
  }
  // One section per DPDK port: "port 0 (net_af_packet0)" with its NIC statistics and xstats.
  const json& ports = member(r, "ports");
  if (ports.is_array()) {
    for (const json& port : ports) {
      if (!port.is_object()) continue;
      const std::string title = "port " + text_of(member(port, "port")) + " (" + text_of(member(port, "name")) + ")";
      json counters = port;
      for (const char* key : {"port", "name"}) counters.erase(key);
      counter_section(out, title.c_str(), counters);
    }
  }
  const json& h = member(r, "resolution_latency");
  if (h.is_object()) {
    out += "resolution latency: " + text_of(member(h, "count")) + " samples";
    const json& count = member(h, "count");
    if (count.is_number_unsigned() && count.get<std::uint64_t>() > 0) {
      out += ", p50 " + format_ns(member(h, "p50_ns").get<std::uint64_t>()) + ", p90 " +
             format_ns(member(h, "p90_ns").get<std::uint64_t>()) + ", p99 " +
             format_ns(member(h, "p99_ns").get<std::uint64_t>()) + ", mean " +
             format_ns(member(h, "sum_ns").get<std::uint64_t>() / count.get<std::uint64_t>());
      out += "\n";
      TextTable t({"  <=", "COUNT"});
      std::uint64_t previous = 0;
      for (const auto& b : member(h, "buckets")) {
        const std::uint64_t cumulative = member(b, "count").get<std::uint64_t>();
        if (cumulative != previous)
          t.add({"  " + (member(b, "le_ns").is_null() ? std::string("+Inf") : format_ns(member(b, "le_ns").get<std::uint64_t>())),
                 std::to_string(cumulative - previous)});
        previous = cumulative;
      }
      out += t.render();
    } else {
      out += "\n";
    }
  } else {
    out += "resolution latency: not measured\n";
  }
  return out;
}

std::string render_log_level(const json& r) {
  const std::string level = text_of(member(r, "level")), previous = text_of(member(r, "previous"));
  if (level == previous) return "log level: " + level + "\n";
  return "log level: " + level + " (was " + previous + ")\n";
}

std::string render_reload(const json& r) {
  std::string out = "configuration " + text_of(member(r, "source")) + " reloaded\n";
  auto rows = [&out](const json& changes, const char* title) {
    if (!changes.is_array() || changes.empty()) return;
    out += title;
    TextTable t({"KEY", "BEFORE", "AFTER"});
    for (const auto& c : changes) t.add({text_of(member(c, "key")), text_of(member(c, "before")), text_of(member(c, "after"))});
    out += t.render();
  };
  const json& applied = member(r, "applied");
  const json& refused = member(r, "refused");
  if ((!applied.is_array() || applied.empty()) && (!refused.is_array() || refused.empty())) out += "no changes\n";
  rows(applied, "applied:\n");
  rows(refused, "refused (restart poolregd to change these; the running values stay):\n");
  const json& reopened = member(r, "log_file_reopened");
  if (reopened.is_boolean())
    out += reopened.get<bool>() ? "log file reopened\n" : "log file NOT reopened: " + text_of(member(r, "log_error")) + "\n";
  const json& tls = member(r, "tls_reloaded");
  if (tls.is_boolean())
    out += tls.get<bool>() ? "TLS certificate, key and CA reloaded (new connections)\n"
                           : "TLS files NOT reloaded, the running ones stay: " + text_of(member(r, "tls_error")) + "\n";
  return out;
}

std::string render_config(const json& r) {
  std::string out = "# " + text_of(member(r, "source")) + " as running\n";
  const json& keys = member(r, "keys");
  if (keys.is_object())
    for (const auto& [key, value] : keys.items()) out += key + " = " + text_of(value) + "\n";
  return out;
}

}  // namespace poolreg::poolctl
