#include "dataplane/kernel/kernel_lane_counters.hpp"

#include <array>

namespace poolreg::kernel {

namespace {

constexpr std::string_view kDropHelp =
    "UDP datagrams a kernel lane read or meant to send and dropped, by reason; each one is an SCTP "
    "packet lost (retransmitted by SCTP, or a sign of overload when inbox or socket are full).";

constexpr std::array kDropFields = std::to_array<DescribedField<KernelLaneCounters, runtime::Counter>>({
    {{"drop_truncated", "poolreg_kernel_dropped_datagrams_total", kDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "truncated"},
     &KernelLaneCounters::drop_truncated},
    {{"drop_too_short", "poolreg_kernel_dropped_datagrams_total", kDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "too_short"},
     &KernelLaneCounters::drop_too_short},
    {{"drop_steer_full", "poolreg_kernel_dropped_datagrams_total", kDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "steer_full"},
     &KernelLaneCounters::drop_steer_full},
    {{"drop_tx_failed", "poolreg_kernel_dropped_datagrams_total", kDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "tx_failed"},
     &KernelLaneCounters::drop_tx_failed},
});

}  // namespace

std::span<const DescribedField<KernelLaneCounters, runtime::Counter>> kernel_lane_drop_fields() noexcept {
  return kDropFields;
}

}  // namespace poolreg::kernel
