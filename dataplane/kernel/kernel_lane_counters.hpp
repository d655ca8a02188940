// KernelLaneCounters: the counters of one kernel lane: the lane's (runtime::LaneCounters: packets,
// steering, messages by type, resolutions answered there, latency) plus its UDP socket's drops. One
// cache-line aligned block per lane; only the lane's thread writes it, any thread (control socket,
// metrics) reads it (single-writer relaxed atomics, see runtime/lane_counters.hpp).
// Every counter has a descriptor (kernel_lane_counters.cpp): the drops are one Prometheus family,
// poolreg_kernel_dropped_datagrams_total{reason}; the native SCTP path's (raw IP socket,
// raw_sctp_source.hpp) are poolreg_kernel_native_sctp_packets_total{direction} and
// poolreg_kernel_native_sctp_dropped_total{reason}.
#pragma once

#include <span>

#include "dataplane/runtime/lane_counters.hpp"
#include "registrar/common/counter_descriptor.hpp"

namespace poolreg::kernel {

struct KernelLaneCounters;
// The socket's drop counters with their descriptors, in declaration order.
std::span<const DescribedField<KernelLaneCounters, runtime::Counter>> kernel_lane_drop_fields() noexcept;
// The native SCTP path's counters with their descriptors, in declaration order.
std::span<const DescribedField<KernelLaneCounters, runtime::Counter>> kernel_lane_native_fields() noexcept;

struct alignas(64) KernelLaneCounters : runtime::LaneCounters {
  runtime::Counter drop_truncated;    // larger than UdpPacketSource::kMaxDatagram
  runtime::Counter drop_too_short;    // shorter than an SCTP common header
  runtime::Counter drop_steer_full;   // the owning lane's inbox was full
  runtime::Counter drop_tx_failed;    // sendmmsg refused (buffer full, unreachable, ...)
  // Native SCTP (IP protocol 132, a raw socket): packets handed to the engine / sent, and drops.
  runtime::Counter native_in;
  runtime::Counter native_out;
  runtime::Counter native_drop_not_our_port;  // for another local SCTP user (or our own, looped back)
  runtime::Counter native_drop_not_listen_address;  // to a listener port, but not to a listen address
  runtime::Counter native_drop_truncated;     // shorter than its IP / SCTP common header
  runtime::Counter native_drop_malformed;     // not IPv4 protocol 132, bad IHL, a fragment
  runtime::Counter native_drop_bad_crc;       // CRC32c mismatch
  runtime::Counter native_drop_tx_failed;     // sendto refused, or no raw socket of the family

  std::uint64_t dropped_total() const noexcept {
    return drop_truncated.get() + drop_too_short.get() + drop_steer_full.get() + drop_tx_failed.get();
  }

  // Every single counter with its descriptor (the lane's, named as on the DPDK lanes, then the
  // socket's drops): visit(const CounterDescriptor& d, std::uint64_t value); d.key is the name
  // `poolctl stats` shows.
  template <typename Visit>
  void for_each_counter(Visit&& visit) const {
    for_each_lane_counter(visit);
    for (const auto& f : kernel_lane_drop_fields()) visit(f.describe, (this->*f.field).get());
    for (const auto& f : kernel_lane_native_fields()) visit(f.describe, (this->*f.field).get());
  }
};

}  // namespace poolreg::kernel
