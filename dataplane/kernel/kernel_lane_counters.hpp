// KernelLaneCounters: the counters of one kernel lane: the lane's (runtime::LaneCounters: packets,
// steering, messages by type, resolutions answered there, latency) plus its UDP socket's drops. One
// cache-line aligned block per lane; only the lane's thread writes it, any thread (control socket,
// metrics) reads it (single-writer relaxed atomics, see runtime/lane_counters.hpp).
#pragma once

#include "dataplane/runtime/lane_counters.hpp"

namespace poolreg::kernel {

struct alignas(64) KernelLaneCounters : runtime::LaneCounters {
  runtime::Counter drop_truncated;    // larger than UdpPacketSource::kMaxDatagram
  runtime::Counter drop_too_short;    // shorter than an SCTP common header
  runtime::Counter drop_steer_full;   // the owning lane's inbox was full
  runtime::Counter drop_tx_failed;    // sendmmsg refused (buffer full, unreachable, ...)

  std::uint64_t dropped_total() const noexcept {
    return drop_truncated.get() + drop_too_short.get() + drop_steer_full.get() + drop_tx_failed.get();
  }

  // Every single counter by the name `poolctl stats` shows (the lane's, named as on the DPDK
  // lanes, then the socket's): visit(const char* name, std::uint64_t value).
  template <typename Visit>
  void for_each_counter(Visit&& visit) const {
    for_each_lane_counter(visit);
    visit("drop_truncated", drop_truncated.get());
    visit("drop_too_short", drop_too_short.get());
    visit("drop_steer_full", drop_steer_full.get());
    visit("drop_tx_failed", drop_tx_failed.get());
    visit("dropped_total", dropped_total());
  }
};

}  // namespace poolreg::kernel
