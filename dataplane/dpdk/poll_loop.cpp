#include "dataplane/dpdk/poll_loop.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <memory>

#include "dataplane/runtime/lane_commands.hpp"

namespace poolreg::dpdk {

int PollLoop::lcore_main(void* arg) { return static_cast<PollLoop*>(arg)->run(); }

std::uint64_t PollLoop::now_ms() const noexcept {
  return rte_get_timer_cycles() / (rte_get_timer_hz() / 1000);
}

void PollLoop::transmit() {
  for (const LanePort& port : ports_) {
    PacketProcessor& p = *port.processor;
    const std::uint16_t count = p.tx_count();
    if (count == 0) continue;
    if (capture_ != nullptr) capture_->tap(p.tx(), count, port.port_id, config_.queue_id, RTE_PCAPNG_DIRECTION_OUT);
    std::uint16_t sent = 0;
    for (int attempt = 0; attempt < 4 && sent < count; ++attempt)
      sent += rte_eth_tx_burst(port.port_id, config_.queue_id, p.tx() + sent, static_cast<std::uint16_t>(count - sent));
    p.tx_sent(sent);
  }
}

unsigned PollLoop::iterate() {
  rte_mbuf* packets[512];
  const std::uint16_t burst = config_.burst > 512 ? 512 : config_.burst;
  unsigned n = 0;
  for (const LanePort& port : ports_) {
    if (!port.has_rx_queue) continue;
    const std::uint16_t got = rte_eth_rx_burst(port.port_id, config_.queue_id, packets, burst);
    if (got > 0) {
      if (capture_ != nullptr) capture_->tap(packets, got, port.port_id, config_.queue_id, RTE_PCAPNG_DIRECTION_IN);
      port.processor->process_burst(packets, got);
    }
    n += got;
  }
  if (config_.inbox != nullptr) {
    const unsigned steered =
        rte_ring_sc_dequeue_burst(config_.inbox, reinterpret_cast<void**>(packets), burst, nullptr);
    if (ports_.size() == 1) {
      if (steered > 0) ports_.front().processor->process_steered(packets, static_cast<std::uint16_t>(steered));
    } else {
      for (unsigned i = 0; i < steered; ++i) {  // to the processor of the port it came in on
        PacketProcessor* p = ports_.front().processor;
        for (const LanePort& port : ports_)
          if (port.port_id == packets[i]->port) p = port.processor;
        p->process_steered(&packets[i], 1);
      }
    }
    n += steered;
  }
  const unsigned commands = runtime::run_lane_commands(*commands_, engine_, 64, keepalives_);
  if (keepalives_ != nullptr) keepalives_->run_timers();
  engine_.flush_pending();
  engine_.run_timers(now_ms());
  transmit();
  events_.flush();
  ports_.front().processor->counters().loop_iterations.add();
  if (resolver_ != nullptr) resolver_->quiescent();
  if (keepalives_ != nullptr) keepalives_->quiescent();
  return n + commands;
}

void PollLoop::sleep_us(std::uint32_t us) {
  if (resolver_ != nullptr) resolver_->offline();
  if (keepalives_ != nullptr) keepalives_->offline();
  rte_delay_us_sleep(us);
  if (resolver_ != nullptr) resolver_->online();
  if (keepalives_ != nullptr) keepalives_->online();
}

int PollLoop::run() {
  running_.store(true, std::memory_order_release);
  if (resolver_ != nullptr) resolver_->online();
  if (keepalives_ != nullptr) keepalives_->online();
  unsigned idle = 0;
  while (!stop_.load(std::memory_order_acquire)) {
    if (iterate() != 0) {
      idle = 0;
    } else if (++idle >= kIdleSpins && config_.idle_sleep_us != 0) {
      sleep_us(config_.idle_sleep_us);
    }
  }
  // Graceful end: let closing associations finish their SHUTDOWN (bounded).
  const std::uint64_t deadline = now_ms() + config_.stop_grace_ms;
  while (engine_.connection_count() > 0 && now_ms() < deadline) {
    if (iterate() == 0) sleep_us(200);
  }
  runtime::run_lane_commands(*commands_, engine_, ~0u, keepalives_);
  engine_.shutdown();
  transmit();
  events_.flush();
  if (resolver_ != nullptr) resolver_->offline();
  if (keepalives_ != nullptr) keepalives_->offline();
  running_.store(false, std::memory_order_release);
  return 0;
}

}  // namespace poolreg::dpdk
