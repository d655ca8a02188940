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

constexpr std::string_view kNativeHelp =
    "Native SCTP packets (IP protocol 132, raw socket) a kernel lane handed to its SCTP engine or sent.";
constexpr std::string_view kNativeDropHelp =
    "Native SCTP packets (IP protocol 132) a kernel lane's raw socket read and dropped, by reason: "
    "not_our_port are packets for another SCTP user of the host (the raw socket sees them all), "
    "not_listen_address packets to a listener port at a local address outside asap.listen / enrp.listen, the "
    "others are bad input.";

constexpr std::array kNativeFields = std::to_array<DescribedField<KernelLaneCounters, runtime::Counter>>({
    {{"native_in", "poolreg_kernel_native_sctp_packets_total", kNativeHelp, CounterUnit::kCount,
      MetricKind::kCounter, "direction", "in"},
     &KernelLaneCounters::native_in},
    {{"native_out", "poolreg_kernel_native_sctp_packets_total", kNativeHelp, CounterUnit::kCount,
      MetricKind::kCounter, "direction", "out"},
     &KernelLaneCounters::native_out},
    {{"native_drop_not_our_port", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "not_our_port"},
     &KernelLaneCounters::native_drop_not_our_port},
    {{"native_drop_not_listen_address", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp,
      CounterUnit::kCount, MetricKind::kCounter, "reason", "not_listen_address"},
     &KernelLaneCounters::native_drop_not_listen_address},
    {{"native_drop_truncated", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "truncated"},
     &KernelLaneCounters::native_drop_truncated},
    {{"native_drop_malformed", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "malformed"},
     &KernelLaneCounters::native_drop_malformed},
    {{"native_drop_bad_crc", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "bad_crc"},
     &KernelLaneCounters::native_drop_bad_crc},
    {{"native_drop_tx_failed", "poolreg_kernel_native_sctp_dropped_total", kNativeDropHelp, CounterUnit::kCount,
      MetricKind::kCounter, "reason", "tx_failed"},
     &KernelLaneCounters::native_drop_tx_failed},
});

}  // namespace

std::span<const DescribedField<KernelLaneCounters, runtime::Counter>> kernel_lane_native_fields() noexcept {
  return kNativeFields;
}

std::span<const DescribedField<KernelLaneCounters, runtime::Counter>> kernel_lane_drop_fields() noexcept {
  return kDropFields;
}

}  // namespace poolreg::kernel
