// LaneCaptureTap: one poll lcore's end of an operator capture (`poolctl capture`, issue 15 item 4).
// While armed, the lane copies the frames it receives from a port (right after the RX burst) and
// the frames it hands to a port (right before the TX burst) into pcapng-ready mbufs
// (rte_pcapng_copy: Enhanced Packet Block header, direction, TSC timestamp) and enqueues them on
// a single-producer/single-consumer ring; the control lcore dequeues them and writes the file
// (CaptureSession). Frames another lane steered into this lane's inbox are not copied again:
// the lane that read them from its RX queue already did.
//
// Threads: tap() on the owning poll lcore only; arm(), disarm(), drain() and the counters on the
// control lcore. The ring and the copy pool are created once, at the first arm(), and live as
// long as the tap (the lane may still hold a pointer to them for one burst after disarm()).
// Disarmed cost on the lane: one relaxed atomic load per burst.
#pragma once

#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "registrar/common/expected.hpp"

namespace poolreg::dpdk {

// The head of a pcapng Enhanced Packet Block (pcapng specification, block type 6), as
// rte_pcapng_copy() lays it at the start of its copy, in host byte order. The tap stores its raw
// TSC stamp in the timestamp fields; CaptureSession turns it into wall-clock nanoseconds.
struct EnhancedPacketBlockHead {
  std::uint32_t block_type;
  std::uint32_t block_length;
  std::uint32_t interface_id;
  std::uint32_t timestamp_high;
  std::uint32_t timestamp_low;
  std::uint32_t captured_length;
  std::uint32_t original_length;
};
inline constexpr std::uint32_t kEnhancedPacketBlock = 6;

class LaneCaptureTap {
 public:
  static constexpr unsigned kRingSize = 4096;  // frames waiting for the control lcore, per lane
  // Bytes copied per frame at most: a 1500-byte MTU frame with VLAN tag fits. Larger (jumbo)
  // frames are cut, as with any snap length; the copy pool's buffers are sized for this.
  static constexpr std::uint32_t kMaxSnaplen = 2048;

  // lane: for the ring and pool names; socket: NUMA socket of the lane's lcore.
  LaneCaptureTap(unsigned lane, int socket) : lane_(lane), socket_(socket) {}
  ~LaneCaptureTap();
  LaneCaptureTap(const LaneCaptureTap&) = delete;
  LaneCaptureTap& operator=(const LaneCaptureTap&) = delete;

  // Control lcore. Starts copying frames of the ports in `port_mask` (bit = ethdev port id < 64),
  // at most `snaplen` (1..kMaxSnaplen) bytes each. Creates the ring and pool on first use.
  Expected<void, std::string> arm(std::uint64_t port_mask, std::uint32_t snaplen);
  void disarm() noexcept { armed_ports_.store(0, std::memory_order_release); }
  // Control lcore: up to `max` captured frames (pcapng mbufs, the caller frees or writes them).
  unsigned drain(rte_mbuf** out, unsigned max) noexcept;

  // Poll lcore: copies pkts[0..n) of `port` (queue = the lane's queue) when armed for it.
  void tap(rte_mbuf* const* pkts, std::uint16_t n, std::uint16_t port, std::uint16_t queue,
           rte_pcapng_direction direction) noexcept {
    const std::uint64_t mask = armed_ports_.load(std::memory_order_acquire);
    if (mask == 0 || port >= 64 || (mask & (std::uint64_t{1} << port)) == 0) return;
    copy(pkts, n, port, queue, direction);
  }

  // Since the tap was created (control lcore reads; the lane writes).
  std::uint64_t copied() const noexcept { return copied_.load(std::memory_order_relaxed); }
  // Frames not captured because the ring was full or the copy pool empty (the control lcore
  // did not keep up): the file misses them; the lane's traffic is not affected.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  void copy(rte_mbuf* const* pkts, std::uint16_t n, std::uint16_t port, std::uint16_t queue,
            rte_pcapng_direction direction) noexcept;

  unsigned lane_;
  int socket_;
  rte_ring* ring_ = nullptr;
  rte_mempool* pool_ = nullptr;
  std::atomic<std::uint32_t> snaplen_{kMaxSnaplen};
  std::atomic<std::uint64_t> armed_ports_{0};
  std::atomic<std::uint64_t> copied_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace poolreg::dpdk
