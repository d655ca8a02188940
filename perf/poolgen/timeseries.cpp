// One JSON line per second of a poolgen run (see timeseries.hpp).
#include "perf/poolgen/timeseries.hpp"

namespace poolreg::poolgen {

namespace {

double ms(TimeNs ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

Expected<std::unique_ptr<TimeseriesWriter>, std::string> TimeseriesWriter::open(const std::string& path,
                                                                               const PoolgenConfig& config) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  if (!out) return unexpected("cannot write timeseries file " + path);
  return std::unique_ptr<TimeseriesWriter>(new TimeseriesWriter(std::move(out), config));
}

nlohmann::json TimeseriesWriter::line(const RunStats& s, double t_s, std::string_view phase) const {
  const RunCounters& c = s.c;
  const double dt = t_s - last_t_s_;
  auto per_s = [dt](std::uint64_t now, std::uint64_t before) {
    return dt > 0 ? static_cast<double>(now - before) / dt : 0.0;
  };
  nlohmann::json j;
  j["t_s"] = t_s;
  j["interval_s"] = dt;
  j["phase"] = phase;
  j["rate_per_s"] = {
      {"registration", per_s(c.registrations_ok, last_.registrations_ok)},
      {"reregistration", per_s(c.reregistrations_ok, last_.reregistrations_ok)},
      {"deregistration", per_s(c.deregistrations_ok, last_.deregistrations_ok)},
      {"resolution", per_s(c.resolutions_ok + c.resolutions_unknown_pool,
                           last_.resolutions_ok + last_.resolutions_unknown_pool)},
      {"keepalive_ack", per_s(c.keepalives_answered, last_.keepalives_answered)}};
  const bool load = phase == "load";
  // The registration target applies while the ramp-up runs; resolutions are offered all load long.
  j["target_per_s"] = {
      {"registration", load && s.ramp_seconds == 0 && config_.pes > 0 ? config_.register_rate : 0.0},
      {"resolution", load && config_.pus > 0 ? config_.resolve_rate : 0.0}};
  nlohmann::json latency = nlohmann::json::object();
  for (const std::string_view name : LatencySet::kNames) {
    const LatencyHistogram& h = *s.window.find(name);
    if (h.count() == 0) continue;
    latency[std::string(name)] = {{"count", h.count()},
                                  {"p50", ms(h.quantile(0.50))},
                                  {"p99", ms(h.quantile(0.99))},
                                  {"p999", ms(h.quantile(0.999))},
                                  {"max", ms(h.max())}};
  }
  j["latency_ms"] = latency;
  j["errors"] = s.error_count - last_errors_;
  j["errors_total"] = s.error_count;
  j["timeouts"] = (c.registrations_timeout + c.reregistrations_timeout + c.deregistrations_timeout +
                   c.resolutions_timeout) -
                  (last_.registrations_timeout + last_.reregistrations_timeout + last_.deregistrations_timeout +
                   last_.resolutions_timeout);
  j["resolutions_skipped"] = c.resolutions_skipped - last_.resolutions_skipped;
  j["pes_registered"] = s.pes_registered;
  return j;
}

bool TimeseriesWriter::write_second(const RunStats& s, double t_s, std::string_view phase) {
  out_ << line(s, t_s, phase).dump() << '\n';
  out_.flush();
  last_ = s.c;
  last_errors_ = s.error_count;
  last_t_s_ = t_s;
  return static_cast<bool>(out_);
}

}  // namespace poolreg::poolgen
