// RunStats merging over generator lanes and the process memory reading (see run_stats.hpp).
#include "perf/poolgen/run_stats.hpp"

#include <algorithm>
#include <bit>
#include <fstream>
#include <type_traits>

namespace poolreg::poolgen {

namespace {

// RunCounters is a flat list of uint64 counters: summed as one array, so a counter added later is
// merged without touching this file.
constexpr std::size_t kCounterCount = sizeof(RunCounters) / sizeof(std::uint64_t);
static_assert(sizeof(RunCounters) == kCounterCount * sizeof(std::uint64_t));
static_assert(std::is_trivially_copyable_v<RunCounters>);
using CounterArray = std::array<std::uint64_t, kCounterCount>;

void merge_latency(LatencySet& into, const LatencySet& from) {
  into.registration.merge(from.registration);
  into.reregistration.merge(from.reregistration);
  into.deregistration.merge(from.deregistration);
  into.resolution.merge(from.resolution);
  into.resolution_raw.merge(from.resolution_raw);
  into.move_to_visible.merge(from.move_to_visible);
}

// Earliest non-zero time stamp (0 = none).
TimeNs earliest(TimeNs a, TimeNs b) { return a == 0 ? b : b == 0 ? a : std::min(a, b); }

}  // namespace

void merge_lane(RunStats& total, const RunStats& lane) {
  const bool first = total.lanes == 0;
  auto sum = std::bit_cast<CounterArray>(total.c);
  const auto add = std::bit_cast<CounterArray>(lane.c);
  for (std::size_t i = 0; i < kCounterCount; ++i) sum[i] += add[i];
  total.c = std::bit_cast<RunCounters>(sum);
  merge_latency(total, lane);
  merge_latency(total.window, lane.window);
  for (const auto& [cause, n] : lane.errors) total.errors[cause] += n;
  total.error_count += lane.error_count;

  total.pes_registered += lane.pes_registered;
  total.pes_alive += lane.pes_alive;
  total.peak_pes_registered += lane.peak_pes_registered;  // an upper bound: lanes peak apart
  total.load_end_registered += lane.load_end_registered;
  total.load_end_alive += lane.load_end_alive;
  total.ramp_seconds = (first || (total.ramp_seconds > 0 && lane.ramp_seconds > 0))
                           ? std::max(total.ramp_seconds, lane.ramp_seconds)
                           : 0;
  total.elapsed_s = std::max(total.elapsed_s, lane.elapsed_s);
  total.total_s = std::max(total.total_s, lane.total_s);

  total.rss_start_bytes = first ? lane.rss_start_bytes : std::min(total.rss_start_bytes, lane.rss_start_bytes);
  total.rss_peak_bytes = std::max(total.rss_peak_bytes, lane.rss_peak_bytes);
  total.rss_loaded_bytes = std::max(total.rss_loaded_bytes, lane.rss_loaded_bytes);
  total.pe_slot_bytes = lane.pe_slot_bytes;
  total.vmrss_before_setup_bytes = first ? lane.vmrss_before_setup_bytes
                                         : std::min(total.vmrss_before_setup_bytes, lane.vmrss_before_setup_bytes);
  total.vmrss_after_setup_bytes = std::max(total.vmrss_after_setup_bytes, lane.vmrss_after_setup_bytes);

  AssociationStats& a = total.pe_assocs;
  const AssociationStats& b = lane.pe_assocs;
  a.attempted += b.attempted;
  a.up += b.up;
  a.failed += b.failed;
  a.up_at_load_end += b.up_at_load_end;
  a.first_attempt_ns = earliest(a.first_attempt_ns, b.first_attempt_ns);
  a.last_up_ns = std::max(a.last_up_ns, b.last_up_ns);
  total.lanes = first ? 1 : total.lanes + 1;
}

std::uint64_t process_vmrss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      std::uint64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

double bytes_per(std::uint64_t before, std::uint64_t after, std::uint64_t n) noexcept {
  if (n == 0 || before == 0 || after <= before) return 0;
  return static_cast<double>(after - before) / static_cast<double>(n);
}

}  // namespace poolreg::poolgen
