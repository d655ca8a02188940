#include "dataplane/dpdk/lane_capture.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>

namespace poolreg::dpdk {

LaneCaptureTap::~LaneCaptureTap() {
  disarm();
  if (ring_ != nullptr) {
    void* obj = nullptr;
    while (rte_ring_sc_dequeue(ring_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(ring_);
  }
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

Expected<void, std::string> LaneCaptureTap::arm(std::uint64_t port_mask, std::uint32_t snaplen) {
  if (snaplen == 0 || snaplen > kMaxSnaplen)
    return unexpected("snap length " + std::to_string(snaplen) + " out of range 1.." + std::to_string(kMaxSnaplen));
  const std::string suffix = "_" + std::to_string(lane_);
  if (ring_ == nullptr) {
    ring_ = rte_ring_create(("poolreg_cap" + suffix).c_str(), kRingSize, socket_, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring_ == nullptr) return unexpected("capture ring of lane " + std::to_string(lane_) + ": " + rte_strerror(rte_errno));
  }
  if (pool_ == nullptr) {
    // As many buffers as the ring holds plus the lane's mempool cache: the ring fills first.
    pool_ = rte_pktmbuf_pool_create(("poolreg_capmb" + suffix).c_str(), kRingSize + 255, 64, 0,
                                    static_cast<std::uint16_t>(rte_pcapng_mbuf_size(kMaxSnaplen)), socket_);
    if (pool_ == nullptr)
      return unexpected("capture buffers of lane " + std::to_string(lane_) + ": " + rte_strerror(rte_errno));
  }
  snaplen_.store(snaplen, std::memory_order_relaxed);
  armed_ports_.store(port_mask, std::memory_order_release);
  return {};
}

unsigned LaneCaptureTap::drain(rte_mbuf** out, unsigned max) noexcept {
  if (ring_ == nullptr) return 0;
  return rte_ring_sc_dequeue_burst(ring_, reinterpret_cast<void**>(out), max, nullptr);
}

void LaneCaptureTap::copy(rte_mbuf* const* pkts, std::uint16_t n, std::uint16_t port, std::uint16_t queue,
                          rte_pcapng_direction direction) noexcept {
  const std::uint32_t snaplen = snaplen_.load(std::memory_order_relaxed);
  const std::uint64_t now = rte_get_tsc_cycles();
  rte_mbuf* copies[64];
  std::uint16_t done = 0;
  while (done < n) {
    const std::uint16_t chunk = static_cast<std::uint16_t>(n - done < 64 ? n - done : 64);
    unsigned made = 0;
    for (std::uint16_t i = 0; i < chunk; ++i) {
      rte_mbuf* c = rte_pcapng_copy(port, queue, pkts[done + i], pool_, snaplen, now, direction);
      if (c == nullptr) continue;
      // rte_pcapng_copy() may already have converted the stamp (with DPDK 22.11's overflowing
      // conversion, see CaptureSession::write_frames): the raw TSC goes in, converted later.
      if (rte_pktmbuf_data_len(c) >= sizeof(EnhancedPacketBlockHead)) {
        auto* head = rte_pktmbuf_mtod(c, EnhancedPacketBlockHead*);
        head->timestamp_high = static_cast<std::uint32_t>(now >> 32);
        head->timestamp_low = static_cast<std::uint32_t>(now);
      }
      copies[made++] = c;
    }
    const unsigned queued = rte_ring_sp_enqueue_burst(ring_, reinterpret_cast<void* const*>(copies), made, nullptr);
    for (unsigned i = queued; i < made; ++i) rte_pktmbuf_free(copies[i]);
    copied_.fetch_add(queued, std::memory_order_relaxed);
    if (queued < chunk) dropped_.fetch_add(chunk - queued, std::memory_order_relaxed);
    done = static_cast<std::uint16_t>(done + chunk);
  }
}

}  // namespace poolreg::dpdk
