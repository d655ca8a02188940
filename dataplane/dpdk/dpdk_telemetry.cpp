#include "dataplane/dpdk/dpdk_telemetry.hpp"

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace poolreg::dpdk {
namespace {

std::atomic<const TelemetrySource*> g_source{nullptr};
std::atomic<bool> g_registered{false};

int cmd_lcores(const char*, const char*, rte_tel_data* d) {
  rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
  if (const TelemetrySource* s = g_source.load(std::memory_order_acquire))
    for (unsigned l : s->poll_lcores) rte_tel_data_add_array_u64(d, l);
  return 0;
}

void add_counters(rte_tel_data* d, const LcoreCounters& c) {
  // Keys are string literals of the descriptor tables (NUL-terminated), drops as drop_<reason>.
  c.for_each_counter(
      [d](const CounterDescriptor& desc, std::uint64_t v) { rte_tel_data_add_dict_u64(d, desc.key.data(), v); });
  rte_tel_data_add_dict_u64(d, "dropped_total", c.dropped_total());
  for (std::size_t t = 0; t < runtime::kAsapTypeSlots; ++t) {
    rte_tel_data_add_dict_u64(d, (std::string("asap_in_") + runtime::asap_type_name(t)).c_str(),
                              c.asap_in_by_type[t].get());
    rte_tel_data_add_dict_u64(d, (std::string("asap_out_") + runtime::asap_type_name(t)).c_str(),
                              c.asap_out_by_type[t].get());
  }
}

// Starts the reply dict and picks the lcore a per-lcore command reports: the parameter (an
// lcore id) or the first poll lcore. 1 = report lcore `lcore` of `s`; 0 = nothing to report
// (empty dict); -1 = bad parameter.
int select_lcore(const char* params, rte_tel_data* d, const TelemetrySource*& s, unsigned& lcore) {
  s = g_source.load(std::memory_order_acquire);
  rte_tel_data_start_dict(d);
  if (s == nullptr || s->counters == nullptr || s->poll_lcores.empty()) return 0;
  lcore = s->poll_lcores.front();
  if (params != nullptr && *params != '\0') {
    char* end = nullptr;
    const unsigned long v = std::strtoul(params, &end, 10);
    if (end == params || *end != '\0' || v >= RTE_MAX_LCORE) return -1;
    lcore = static_cast<unsigned>(v);
  }
  return 1;
}

// The lane's histogram (registrar/common/latency_histogram.hpp) at its coarse bounds:
// "le_<2^k>us" counts resolutions answered in (2^(k-1), 2^k] us ("le_1us": up to 1 us),
// "gt_<2^20>us" the rest; then count, mean and the p50/p90/p99 quantiles (<= 1.6 % error).
int cmd_resolution_latency(const char*, const char* params, rte_tel_data* d) {
  const TelemetrySource* s = nullptr;
  unsigned lcore = 0;
  const int rc = select_lcore(params, d, s, lcore);
  if (rc <= 0) return rc;
  const LatencyHistogram& h = s->counters[lcore].resolution_latency;
  std::uint64_t below = 0;
  for (std::size_t k = 0; k < LatencyHistogram::kCoarseBounds; ++k) {
    const std::uint64_t upto = h.count_at_or_below(LatencyHistogram::coarse_bound(k));
    const std::string name = "le_" + std::to_string(std::uint64_t{1} << k) + "us";
    rte_tel_data_add_dict_u64(d, name.c_str(), upto - below);
    below = upto;
  }
  const std::uint64_t count = h.count();
  const std::string rest =
      "gt_" + std::to_string(std::uint64_t{1} << (LatencyHistogram::kCoarseBounds - 1)) + "us";
  rte_tel_data_add_dict_u64(d, rest.c_str(), count - below);
  rte_tel_data_add_dict_u64(d, "count", count);
  rte_tel_data_add_dict_u64(d, "mean_us", static_cast<std::uint64_t>(h.mean() / 1000));
  rte_tel_data_add_dict_u64(d, "p50_us", static_cast<std::uint64_t>(h.quantile(0.50) / 1000));
  rte_tel_data_add_dict_u64(d, "p90_us", static_cast<std::uint64_t>(h.quantile(0.90) / 1000));
  rte_tel_data_add_dict_u64(d, "p99_us", static_cast<std::uint64_t>(h.quantile(0.99) / 1000));
  return 0;
}

int cmd_lcore_stats(const char*, const char* params, rte_tel_data* d) {
  const TelemetrySource* s = nullptr;
  unsigned lcore = 0;
  const int rc = select_lcore(params, d, s, lcore);
  if (rc <= 0) return rc;
  rte_tel_data_add_dict_u64(d, "lcore", lcore);
  add_counters(d, s->counters[lcore]);
  return 0;
}

int cmd_drops(const char*, const char*, rte_tel_data* d) {
  const TelemetrySource* s = g_source.load(std::memory_order_acquire);
  rte_tel_data_start_dict(d);
  for (std::size_t r = 0; r < kDropReasonCount; ++r) {
    std::uint64_t sum = 0;
    if (s != nullptr && s->counters != nullptr)
      for (unsigned l : s->poll_lcores) sum += s->counters[l].drops[r].get();
    rte_tel_data_add_dict_u64(d, to_string(static_cast<DropReason>(r)), sum);
  }
  return 0;
}

}  // namespace

void set_telemetry_source(const TelemetrySource* source) {
  g_source.store(source, std::memory_order_release);
  if (source == nullptr || g_registered.exchange(true)) return;
  rte_telemetry_register_cmd("/poolreg/lcores", cmd_lcores,
                             "Poll-mode lcore ids of poolregd. Takes no parameters");
  rte_telemetry_register_cmd(
      "/poolreg/lcore_stats", cmd_lcore_stats,
      "Packet, SCTP and drop counters of one poll lcore. Parameter: lcore id (default first)");
  rte_telemetry_register_cmd("/poolreg/drops", cmd_drops,
                             "Drops by reason over all poll lcores. Takes no parameters");
  rte_telemetry_register_cmd("/poolreg/resolution_latency", cmd_resolution_latency,
                             "Handle Resolution latency histogram (le_<2^k>us buckets, p50/p90/p99) of one poll lcore. "
                             "Parameter: lcore id (default first)");
}

}  // namespace poolreg::dpdk
