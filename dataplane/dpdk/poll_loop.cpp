#include "dataplane/dpdk/poll_loop.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <memory>

namespace poolreg::dpdk {

int PollLoop::lcore_main(void* arg) { return static_cast<PollLoop*>(arg)->run(); }

std::uint64_t PollLoop::now_ms() const noexcept {
  return rte_get_timer_cycles() / (rte_get_timer_hz() / 1000);
}

unsigned PollLoop::run_commands() {
  void* batch[64] = {};
  const unsigned n = rte_ring_sc_dequeue_burst(commands_, batch, 64, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    std::unique_ptr<TransportCommand> c(static_cast<TransportCommand*>(batch[i]));
    switch (c->kind) {
      case TransportCommand::Kind::kSend:
        engine_.send(c->id, c->protocol, std::span<const std::uint8_t>(c->data, c->length));
        break;
      case TransportCommand::Kind::kConnect:
        engine_.connect(c->id, c->protocol, c->addresses, c->port, c->udp_port);
        break;
      case TransportCommand::Kind::kClose:
        engine_.close(c->id);
        break;
      case TransportCommand::Kind::kAbort:
        engine_.abort(c->id);
        break;
    }
  }
  return n;
}

void PollLoop::transmit() {
  const std::uint16_t count = processor_.tx_count();
  if (count == 0) return;
  std::uint16_t sent = 0;
  for (int attempt = 0; attempt < 4 && sent < count; ++attempt) {
    sent += rte_eth_tx_burst(config_.port_id, config_.queue_id, processor_.tx() + sent,
                             static_cast<std::uint16_t>(count - sent));
  }
  processor_.tx_sent(sent);
}

unsigned PollLoop::iterate() {
  rte_mbuf* packets[512];
  const std::uint16_t burst = config_.burst > 512 ? 512 : config_.burst;
  std::uint16_t n = 0;
  if (config_.has_rx_queue) {
    n = rte_eth_rx_burst(config_.port_id, config_.queue_id, packets, burst);
    if (n > 0) processor_.process_burst(packets, n);
  }
  if (config_.inbox != nullptr) {
    const auto steered = static_cast<std::uint16_t>(
        rte_ring_sc_dequeue_burst(config_.inbox, reinterpret_cast<void**>(packets), burst, nullptr));
    if (steered > 0) processor_.process_steered(packets, steered);
    n = static_cast<std::uint16_t>(n + steered);
  }
  const unsigned commands = run_commands();
  engine_.flush_pending();
  engine_.run_timers(now_ms());
  transmit();
  events_.flush();
  processor_.counters().loop_iterations.add();
  if (resolver_ != nullptr) resolver_->quiescent();
  return n + commands;
}

void PollLoop::sleep_us(std::uint32_t us) {
  if (resolver_ != nullptr) resolver_->offline();
  rte_delay_us_sleep(us);
  if (resolver_ != nullptr) resolver_->online();
}

int PollLoop::run() {
  running_.store(true, std::memory_order_release);
  if (resolver_ != nullptr) resolver_->online();
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
  run_commands();
  engine_.shutdown();
  transmit();
  events_.flush();
  if (resolver_ != nullptr) resolver_->offline();
  running_.store(false, std::memory_order_release);
  return 0;
}

}  // namespace poolreg::dpdk
