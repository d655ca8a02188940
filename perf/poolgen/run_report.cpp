// Report and progress formatting for poolgen (see run_report.hpp).
#include "perf/poolgen/run_report.hpp"

#include <limits>
#include <string>
#include <vector>

namespace poolreg::poolgen {

namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

nlohmann::json histogram_json(const LatencyHistogram& h) {
  nlohmann::json j;
  j["count"] = h.count();
  j["min_ms"] = ms(h.min());
  j["mean_ms"] = h.mean() / 1e6;
  j["p50_ms"] = ms(h.quantile(0.50));
  j["p90_ms"] = ms(h.quantile(0.90));
  j["p99_ms"] = ms(h.quantile(0.99));
  j["p999_ms"] = ms(h.quantile(0.999));
  j["max_ms"] = ms(h.max());
  // The non-empty log-linear buckets (registrar/common/latency_histogram.hpp): [upper bound in ns,
  // count], ascending; the overflow bucket's bound is null. Enough to redraw any percentile or CDF.
  nlohmann::json buckets = nlohmann::json::array();
  h.for_each_bucket([&buckets](TimeNs le, std::uint64_t n) {
    buckets.push_back(le == std::numeric_limits<TimeNs>::max() ? nlohmann::json::array({nullptr, n})
                                                               : nlohmann::json::array({le, n}));
  });
  j["buckets"] = std::move(buckets);
  return j;
}

nlohmann::json verdict_json(const Verdict& v) {
  nlohmann::json rates = nlohmann::json::array();
  for (const RateCheck& r : v.rates) {
    rates.push_back({{"operation", r.operation},
                     {"target_per_s", r.target_per_s},
                     {"achieved_per_s", r.achieved_per_s},
                     {"ratio", r.ratio}});
  }
  nlohmann::json gates = nlohmann::json::array();
  for (const GateResult& g : v.gates) gates.push_back({{"gate", g.gate}, {"passed", g.passed}, {"detail", g.detail}});
  return {{"exit_code", v.exit_code}, {"warnings", v.warnings}, {"rates", rates}, {"gates", gates}};
}

std::string histogram_line(const char* name, const LatencyHistogram& h) {
  char b[256];
  if (h.count() == 0) {
    std::snprintf(b, sizeof b, "  %-20s (none)\n", name);
  } else {
    std::snprintf(b, sizeof b, "  %-20s n=%-9llu p50 %8.3f  p90 %8.3f  p99 %8.3f  p999 %8.3f  max %8.3f ms\n", name,
                  static_cast<unsigned long long>(h.count()), ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                  ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
  }
  return b;
}

double rate(std::uint64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; }

}  // namespace

nlohmann::json report_json(const PoolgenConfig& cfg, const RunStats& s, const Verdict& verdict) {
  const RunCounters& c = s.c;
  nlohmann::json j;
  j["scenario"] = cfg.scenario_name;
  nlohmann::json regs = nlohmann::json::array();
  for (const auto& r : cfg.registrars) regs.push_back(r.text);
  j["config"] = {{"registrars", regs},
                 {"transport", client::to_string(cfg.transport)},
                 {"pe_associations_per_registrar", cfg.pe_associations},
                 {"pu_associations_per_registrar", cfg.pu_associations},
                 {"threads", cfg.threads},
                 {"assoc_per_pe", cfg.assoc_per_pe},
                 {"pe_count", cfg.pes},
                 {"pool_count", cfg.pools},
                 {"register_rate", cfg.register_rate},
                 {"move_interval_s", cfg.move_interval_s},
                 {"address_mode", to_string(cfg.address_mode)},
                 {"dead_fraction", cfg.dead_fraction},
                 {"pu_count", cfg.pus},
                 {"resolve_rate", cfg.resolve_rate},
                 {"items", cfg.items},
                 {"unreachable_fraction", cfg.unreachable_fraction},
                 {"probes", cfg.probes},
                 {"duration_s", cfg.duration_s},
                 {"window", cfg.window},
                 {"silent_association_s", cfg.silent_association_s},
                 {"cleanup", cfg.cleanup},
                 {"allow_remote", cfg.allow_remote},
                 {"min_rate_ratio", cfg.min_rate_ratio},
                 {"pe_addresses", cfg.pe_addresses}};
  nlohmann::json gates = nlohmann::json::object();
  for (const LatencyGate& g : cfg.max_p99) gates[g.operation] = g.max_ms;
  j["config"]["max_p99_ms"] = gates;
  j["elapsed_s"] = s.elapsed_s;
  j["total_s"] = s.total_s;
  j["ramp_s"] = s.ramp_seconds;
  j["achieved"] = {
      {"registrations_per_s",
       s.ramp_seconds > 0 ? rate(c.registrations_ok, s.ramp_seconds) : rate(c.registrations_ok, s.elapsed_s)},
      {"reregistrations_per_s", rate(c.reregistrations_ok, s.elapsed_s)},
      {"resolutions_per_s", rate(c.resolutions_ok + c.resolutions_unknown_pool, s.elapsed_s)},
      {"keepalives_answered_per_s", rate(c.keepalives_answered, s.elapsed_s)}};
  j["counts"] = {{"registrations_sent", c.registrations_sent},
                 {"registrations_ok", c.registrations_ok},
                 {"registrations_failed", c.registrations_failed},
                 {"registrations_timeout", c.registrations_timeout},
                 {"registrations_lost", c.registrations_lost},
                 {"reregistrations_sent", c.reregistrations_sent},
                 {"reregistrations_ok", c.reregistrations_ok},
                 {"reregistrations_failed", c.reregistrations_failed},
                 {"reregistrations_timeout", c.reregistrations_timeout},
                 {"reregistrations_lost", c.reregistrations_lost},
                 {"deregistrations_sent", c.deregistrations_sent},
                 {"deregistrations_ok", c.deregistrations_ok},
                 {"deregistrations_failed", c.deregistrations_failed},
                 {"deregistrations_timeout", c.deregistrations_timeout},
                 {"moves_skipped", c.moves_skipped},
                 {"failovers", c.failovers},
                 {"pes_died", c.pes_died},
                 {"keepalives_received", c.keepalives_received},
                 {"keepalives_answered", c.keepalives_answered},
                 {"keepalives_ignored", c.keepalives_ignored},
                 {"keepalives_unknown", c.keepalives_unknown},
                 {"home_flag_keepalives", c.home_flag_keepalives},
                 {"resolutions_sent", c.resolutions_sent},
                 {"resolutions_ok", c.resolutions_ok},
                 {"resolutions_unknown_pool", c.resolutions_unknown_pool},
                 {"resolutions_rejected_other", c.resolutions_rejected_other},
                 {"resolutions_timeout", c.resolutions_timeout},
                 {"resolutions_failed_other", c.resolutions_failed_other},
                 {"resolutions_skipped", c.resolutions_skipped},
                 {"elements_received", c.elements_received},
                 {"unreachable_reports", c.unreachable_reports},
                 {"probe_moves", c.probe_moves},
                 {"probe_visible", c.probe_visible},
                 {"probe_gave_up", c.probe_gave_up},
                 {"probe_cut_by_end", c.probe_cut_by_end},
                 {"probe_resolutions", c.probe_resolutions},
                 {"connects", c.connects},
                 {"connect_failures", c.connect_failures},
                 {"connections_lost", c.connections_lost},
                 {"send_failures", c.send_failures},
                 {"asap_errors", c.asap_errors},
                 {"unexpected_messages", c.unexpected_messages},
                 {"pcap_messages", c.pcap_messages}};
  j["gauges"] = {{"pes_registered_at_end_of_load", s.load_end_registered},
                 {"pes_alive_at_end_of_load", s.load_end_alive},
                 {"peak_pes_registered", s.peak_pes_registered}};
  j["latency"] = {{"registration", histogram_json(s.registration)},
                  {"reregistration", histogram_json(s.reregistration)},
                  {"deregistration", histogram_json(s.deregistration)},
                  {"resolution", histogram_json(s.resolution)},
                  {"resolution_raw", histogram_json(s.resolution_raw)},
                  {"move_to_visible", histogram_json(s.move_to_visible)}};
  if (!cfg.pe_addresses.empty()) {
    auto kind = [](const RealMoveStats::Kind& k) {
      return nlohmann::json{{"started", k.started},
                            {"visible", k.visible},
                            {"move_to_visible", histogram_json(k.move_to_visible)}};
    };
    j["real_address_moves"] = {{"asconf", kind(s.real_moves.asconf)},
                               {"new_association", kind(s.real_moves.new_association)}};
  }
  j["errors"] = s.errors;
  j["verdict"] = verdict_json(verdict);
  const std::uint64_t n = cfg.pes + cfg.probes;
  const std::uint64_t loaded = s.rss_loaded_bytes != 0 ? s.rss_loaded_bytes : s.rss_peak_bytes;
  j["memory"] = {{"rss_start_bytes", s.rss_start_bytes},
                 {"rss_loaded_bytes", s.rss_loaded_bytes},
                 {"rss_peak_bytes", s.rss_peak_bytes},
                 {"pe_slot_bytes", s.pe_slot_bytes},
                 {"bytes_per_pe", n > 0 && s.peak_pes_registered > 0 && loaded > s.rss_start_bytes
                                      ? static_cast<double>(loaded - s.rss_start_bytes) / static_cast<double>(n)
                                      : 0.0},
                 {"vmrss_before_setup_bytes", s.vmrss_before_setup_bytes},
                 {"vmrss_after_setup_bytes", s.vmrss_after_setup_bytes},
                 {"vmrss_bytes_per_pe", bytes_per(s.vmrss_before_setup_bytes, s.vmrss_after_setup_bytes, n)},
                 {"vmrss_bytes_per_association",
                  bytes_per(s.vmrss_before_setup_bytes, s.vmrss_after_setup_bytes, s.pe_assocs.up)}};
  const AssociationStats& a = s.pe_assocs;
  j["pe_associations"] = {
      {"lanes", s.lanes},
      {"attempted", a.attempted},
      {"up", a.up},
      {"failed", a.failed},
      {"up_at_load_end", a.up_at_load_end},
      {"setup_s", a.last_up_ns > a.first_attempt_ns && a.first_attempt_ns != 0
                      ? static_cast<double>(a.last_up_ns - a.first_attempt_ns) / 1e9
                      : 0.0},
      {"setup_rate_per_s", a.setup_rate_per_s()}};
  return j;
}

std::string report_text(const PoolgenConfig& cfg, const RunStats& s, const Verdict& verdict) {
  const RunCounters& c = s.c;
  const AssociationStats& a = s.pe_assocs;
  const nlohmann::json j = report_json(cfg, s, verdict);
  std::string out;
  char b[512];
  std::snprintf(b, sizeof b, "poolgen report: scenario %s, %zu registrar(s), %s, load phase %.1f s (total %.1f s)\n",
                cfg.scenario_name.c_str(), cfg.registrars.size(), client::to_string(cfg.transport), s.elapsed_s,
                s.total_s);
  out += b;
  std::snprintf(b, sizeof b,
                "  PEs %llu (+%u probes) in %u pools, ramp-up %s; PUs %llu; peak registered %llu\n",
                static_cast<unsigned long long>(cfg.pes), cfg.probes, cfg.pools,
                s.ramp_seconds > 0 ? (std::to_string(s.ramp_seconds).substr(0, 6) + " s").c_str() : "not finished",
                static_cast<unsigned long long>(cfg.pus), static_cast<unsigned long long>(s.peak_pes_registered));
  out += b;
  std::snprintf(b, sizeof b,
                "rates achieved (target): registrations %.0f/s (%.0f/s), moves %.0f/s, resolutions %.0f/s (%.0f/s), "
                "keep-alive acks %.0f/s\n",
                j["achieved"]["registrations_per_s"].get<double>(), cfg.register_rate,
                j["achieved"]["reregistrations_per_s"].get<double>(), j["achieved"]["resolutions_per_s"].get<double>(),
                cfg.resolve_rate, j["achieved"]["keepalives_answered_per_s"].get<double>());
  out += b;
  out += "latency:\n";
  out += histogram_line("registration", s.registration);
  out += histogram_line("re-registration", s.reregistration);
  out += histogram_line("deregistration", s.deregistration);
  out += histogram_line("resolution", s.resolution);
  out += histogram_line("resolution (raw)", s.resolution_raw);
  out += histogram_line("move-to-visible", s.move_to_visible);
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::snprintf(b, sizeof b,
                "registrations: sent %llu ok %llu failed %llu timeout %llu lost %llu; re-registrations (moves): sent "
                "%llu ok %llu failed %llu timeout %llu (skipped %llu); failovers %llu\n",
                u(c.registrations_sent), u(c.registrations_ok), u(c.registrations_failed), u(c.registrations_timeout),
                u(c.registrations_lost), u(c.reregistrations_sent), u(c.reregistrations_ok),
                u(c.reregistrations_failed), u(c.reregistrations_timeout), u(c.moves_skipped), u(c.failovers));
  out += b;
  std::snprintf(b, sizeof b,
                "deregistrations: sent %llu ok %llu failed %llu timeout %llu; died %llu; keep-alives received %llu "
                "answered %llu ignored(dead) %llu\n",
                u(c.deregistrations_sent), u(c.deregistrations_ok), u(c.deregistrations_failed),
                u(c.deregistrations_timeout), u(c.pes_died), u(c.keepalives_received), u(c.keepalives_answered),
                u(c.keepalives_ignored));
  out += b;
  std::snprintf(b, sizeof b,
                "resolutions: sent %llu ok %llu unknown-pool %llu other-rejected %llu timeout %llu failed %llu "
                "skipped %llu; PEs returned %llu; unreachable reports %llu\n",
                u(c.resolutions_sent), u(c.resolutions_ok), u(c.resolutions_unknown_pool),
                u(c.resolutions_rejected_other), u(c.resolutions_timeout), u(c.resolutions_failed_other),
                u(c.resolutions_skipped), u(c.elements_received), u(c.unreachable_reports));
  out += b;
  std::snprintf(b, sizeof b,
                "probes: moves %llu visible %llu gave-up %llu cut-by-end %llu (resolutions %llu); associations: up %llu "
                "connect-failed %llu lost %llu\n",
                u(c.probe_moves), u(c.probe_visible), u(c.probe_gave_up), u(c.probe_cut_by_end), u(c.probe_resolutions), u(c.connects),
                u(c.connect_failures), u(c.connections_lost));
  out += b;
  std::snprintf(b, sizeof b,
                "memory: RSS start %.1f MB, loaded %.1f MB, peak %.1f MB; %.0f bytes per simulated PE (poolgen slot "
                "%zu B)\n",
                static_cast<double>(s.rss_start_bytes) / 1e6, static_cast<double>(s.rss_loaded_bytes) / 1e6,
                static_cast<double>(s.rss_peak_bytes) / 1e6, j["memory"]["bytes_per_pe"].get<double>(),
                s.pe_slot_bytes);
  out += b;
  std::snprintf(b, sizeof b,
                "PE associations (%u lane(s)%s): attempted %llu up %llu failed %llu (up at load end %llu), set-up "
                "%.0f/s over %.2f s; VmRSS %.1f -> %.1f MB: %.0f bytes per simulated PE, %.0f per association "
                "(usrsctp included)\n",
                s.lanes, cfg.assoc_per_pe ? ", one per PE" : "", u(a.attempted), u(a.up), u(a.failed),
                u(a.up_at_load_end), a.setup_rate_per_s(), j["pe_associations"]["setup_s"].get<double>(),
                static_cast<double>(s.vmrss_before_setup_bytes) / 1e6,
                static_cast<double>(s.vmrss_after_setup_bytes) / 1e6,
                j["memory"]["vmrss_bytes_per_pe"].get<double>(), j["memory"]["vmrss_bytes_per_association"].get<double>());
  out += b;
  if (!cfg.pe_addresses.empty()) {
    const auto& m = s.real_moves;
    auto ms = [](const LatencyHistogram& h, double q) { return static_cast<double>(h.quantile(q)) / 1e6; };
    std::snprintf(
        b, sizeof b,
        "real-address moves (%s): ASCONF (make-before-break) started %llu visible %llu, move-to-visible "
        "p50 %.3f p99 %.3f ms; new association (break-before-make) started %llu visible %llu, p50 %.3f "
        "p99 %.3f ms\n",
        cfg.pe_addresses.c_str(), u(m.asconf.started), u(m.asconf.visible), ms(m.asconf.move_to_visible, 0.5),
        ms(m.asconf.move_to_visible, 0.99), u(m.new_association.started), u(m.new_association.visible),
        ms(m.new_association.move_to_visible, 0.5), ms(m.new_association.move_to_visible, 0.99));
    out += b;
  }
  if (s.errors.empty()) {
    out += "errors: none\n";
  } else {
    out += "errors by cause:\n";
    for (const auto& [cause, n] : s.errors) {
      std::snprintf(b, sizeof b, "  %8llu  %s\n", u(n), cause.c_str());
      out += b;
    }
  }
  for (const std::string& w : verdict.warnings) out += "warning: " + w + "\n";
  for (const GateResult& g : verdict.gates) {
    out += std::string("gate ") + (g.passed ? "passed" : "FAILED") + ": " + g.gate + " (" + g.detail + ")\n";
  }
  out += "verdict: exit " + std::to_string(verdict.exit_code) + "\n";
  return out;
}

void ProgressDisplay::update(const RunStats& s, double elapsed, bool final) {
  const RunCounters& c = s.c;
  const double dt = elapsed - last_elapsed_;
  auto r = [&](std::uint64_t now, std::uint64_t before) {
    return dt > 0 ? static_cast<double>(now - before) / dt : 0.0;
  };
  const double reg = r(c.registrations_ok, last_.registrations_ok);
  const double mov = r(c.reregistrations_ok, last_.reregistrations_ok);
  const double res = r(c.resolutions_ok + c.resolutions_unknown_pool,
                       last_.resolutions_ok + last_.resolutions_unknown_pool);
  const double ka = r(c.keepalives_answered, last_.keepalives_answered);
  const std::uint64_t errors = s.error_count;
  const double p99_res = static_cast<double>(s.window.resolution.quantile(0.99)) / 1e6;
  const double p99_reg = static_cast<double>(s.window.registration.quantile(0.99)) / 1e6;
  const double p50_mtv = static_cast<double>(s.window.move_to_visible.quantile(0.5)) / 1e6;
  char b[512];
  if (!ansi_) {
    std::snprintf(b, sizeof b,
                  "[%6.1fs]%s registered %llu alive %llu | reg %.0f/s (target %.0f) p99 %.2fms | moves %.0f/s | "
                  "res %.0f/s (target %.0f) p99 %.2fms | ka %.0f/s | m2v p50 %.2fms | errors %llu\n",
                  elapsed, final ? " final" : "", static_cast<unsigned long long>(s.pes_registered),
                  static_cast<unsigned long long>(s.pes_alive), reg, config_.register_rate, p99_reg, mov, res,
                  config_.resolve_rate, p99_res, ka, p50_mtv, static_cast<unsigned long long>(errors));
    std::fputs(b, out_);
  } else {
    std::string block;
    if (lines_drawn_ > 0) block += "\x1b[" + std::to_string(lines_drawn_) + "A";
    auto line = [&](const char* text) {
      block += "\x1b[2K";
      block += text;
      block += "\n";
    };
    std::snprintf(b, sizeof b, "\x1b[1mpoolgen %s\x1b[0m  %.1f / %.1f s%s", config_.scenario_name.c_str(), elapsed,
                  config_.duration_s, final ? "  (done)" : "");
    line(b);
    std::snprintf(b, sizeof b, "  PEs registered %-10llu alive %-10llu died %-8llu failovers %llu",
                  static_cast<unsigned long long>(s.pes_registered), static_cast<unsigned long long>(s.pes_alive),
                  static_cast<unsigned long long>(c.pes_died), static_cast<unsigned long long>(c.failovers));
    line(b);
    std::snprintf(b, sizeof b, "  registrations %9.0f/s (target %.0f)  p50 %.2f  p99 %.2f ms", reg,
                  config_.register_rate, static_cast<double>(s.window.registration.quantile(0.5)) / 1e6, p99_reg);
    line(b);
    std::snprintf(b, sizeof b, "  moves         %9.0f/s  p99 %.2f ms   keep-alive acks %.0f/s", mov,
                  static_cast<double>(s.window.reregistration.quantile(0.99)) / 1e6, ka);
    line(b);
    std::snprintf(b, sizeof b, "  resolutions   %9.0f/s (target %.0f)  p50 %.2f  p99 %.2f ms  unknown-pool %llu", res,
                  config_.resolve_rate, static_cast<double>(s.window.resolution.quantile(0.5)) / 1e6, p99_res,
                  static_cast<unsigned long long>(c.resolutions_unknown_pool));
    line(b);
    std::snprintf(b, sizeof b, "  move-to-visible p50 %.2f  p99 %.2f ms  (%llu seen, %llu gave up)", p50_mtv,
                  static_cast<double>(s.window.move_to_visible.quantile(0.99)) / 1e6,
                  static_cast<unsigned long long>(c.probe_visible), static_cast<unsigned long long>(c.probe_gave_up));
    line(b);
    std::snprintf(b, sizeof b, "  %s%llu errors\x1b[0m  (timeouts reg %llu res %llu, lost associations %llu)",
                  errors > 0 ? "\x1b[31m" : "", static_cast<unsigned long long>(errors),
                  static_cast<unsigned long long>(c.registrations_timeout + c.reregistrations_timeout),
                  static_cast<unsigned long long>(c.resolutions_timeout),
                  static_cast<unsigned long long>(c.connections_lost));
    line(b);
    lines_drawn_ = 7;
    std::fputs(block.c_str(), out_);
  }
  std::fflush(out_);
  last_ = c;
  last_elapsed_ = elapsed;
}

}  // namespace poolreg::poolgen
