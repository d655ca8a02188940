// Warnings, SLO gates and exit code of a poolgen run (see verdict.hpp).
#include "perf/poolgen/verdict.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace poolreg::poolgen {

namespace {

// Verbs accepted next to the report names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kAliases{{
    {"register", "registration"},
    {"reregister", "reregistration"},
    {"move", "reregistration"},
    {"deregister", "deregistration"},
    {"resolve", "resolution"},
    {"resolve_raw", "resolution_raw"},
    {"m2v", "move_to_visible"},
    {"move-to-visible", "move_to_visible"},
}};

std::string format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

double rate(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }

}  // namespace

Expected<LatencyGate, std::string> parse_latency_gate(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return unexpected("--max-p99-ms '" + std::string(text) + "': want OP=MS, e.g. resolution=2.5");
  }
  std::string_view op = text.substr(0, eq);
  for (const auto& [alias, name] : kAliases)
    if (op == alias) op = name;
  LatencyGate gate;
  for (const std::string_view name : LatencySet::kNames)
    if (op == name) gate.operation = std::string(name);
  if (gate.operation.empty()) {
    std::string names;
    for (const std::string_view name : LatencySet::kNames) names += (names.empty() ? "" : ", ") + std::string(name);
    return unexpected("--max-p99-ms: unknown operation '" + std::string(text.substr(0, eq)) + "' (" + names + ")");
  }
  const std::string ms(text.substr(eq + 1));
  char* end = nullptr;
  gate.max_ms = std::strtod(ms.c_str(), &end);
  if (ms.empty() || end != ms.c_str() + ms.size() || !(gate.max_ms > 0) || gate.max_ms > 1e9) {
    return unexpected("--max-p99-ms '" + std::string(text) + "': MS must be a number of milliseconds > 0");
  }
  return gate;
}

std::vector<RateCheck> rate_checks(const PoolgenConfig& cfg, const RunStats& s) {
  std::vector<RateCheck> out;
  const RunCounters& c = s.c;
  if (cfg.pus > 0 && cfg.resolve_rate > 0 && s.elapsed_s > 0) {
    RateCheck r{"resolution", cfg.resolve_rate, rate(c.resolutions_ok + c.resolutions_unknown_pool, s.elapsed_s), 0};
    r.ratio = r.achieved_per_s / r.target_per_s;
    out.push_back(r);
  }
  const auto planned_ramp_s = static_cast<double>(cfg.pes + cfg.probes) / cfg.register_rate;
  if (cfg.pes > 0 && planned_ramp_s >= 1.0 && s.elapsed_s > 0) {
    const double seconds = s.ramp_seconds > 0 ? s.ramp_seconds : s.elapsed_s;
    RateCheck r{"registration", cfg.register_rate, rate(c.registrations_ok, seconds), 0};
    r.ratio = r.achieved_per_s / r.target_per_s;
    out.push_back(r);
  }
  return out;
}

Verdict judge(const PoolgenConfig& cfg, const RunStats& s) {
  Verdict v;
  const RunCounters& c = s.c;
  if (c.resolutions_skipped > 0) {
    const double due = static_cast<double>(c.resolutions_sent + c.resolutions_skipped);
    v.warnings.push_back(std::to_string(c.resolutions_skipped) + " resolutions (" +
                         format("%.1f", 100.0 * static_cast<double>(c.resolutions_skipped) / due) +
                         " % of those due) were never sent: no PU association had room (pu window " +
                         std::to_string(cfg.pu_window) +
                         ") for a whole request timeout; the target rate was not offered, and their latency is in "
                         "no histogram");
  }
  v.rates = rate_checks(cfg, s);
  for (const RateCheck& r : v.rates) {
    if (r.ratio < kRateWarningRatio) {
      v.warnings.push_back("achieved " + r.operation + " rate " +
                           format("%.0f/s is %.1f %% of the target %.0f/s", r.achieved_per_s, 100.0 * r.ratio,
                                  r.target_per_s) +
                           " (below 95 %)");
    }
  }
  for (const LatencyGate& g : cfg.max_p99) {
    GateResult r;
    r.gate = "p99(" + g.operation + ") <= " + format("%g", g.max_ms) + " ms";
    const LatencyHistogram* h = s.find(g.operation);
    if (h == nullptr || h->count() == 0) {
      r.detail = "no samples";
    } else {
      const double p99 = static_cast<double>(h->quantile(0.99)) / 1e6;
      r.passed = p99 <= g.max_ms;
      r.detail = format("p99 %.3f ms", p99);
    }
    v.gates.push_back(r);
  }
  if (cfg.min_rate_ratio > 0) {
    if (v.rates.empty()) {
      v.gates.push_back({format("rate ratio >= %g", cfg.min_rate_ratio), false,
                         "no operation with a target rate in this run (resolutions, or a ramp of >= 1 s)"});
    }
    for (const RateCheck& r : v.rates) {
      v.gates.push_back({format("rate ratio >= %g", cfg.min_rate_ratio) + " (" + r.operation + ")",
                         r.ratio >= cfg.min_rate_ratio, format("%.3f", r.ratio)});
    }
  }
  bool gate_failed = false;
  for (const GateResult& g : v.gates) gate_failed = gate_failed || !g.passed;
  v.exit_code = s.error_count > 0 ? kExitErrors : gate_failed ? kExitGateFailed : kExitOk;
  return v;
}

}  // namespace poolreg::poolgen
