// PollLoop: the main loop of a poll-mode lcore (launched with rte_eal_remote_launch), in the
// ip_pipeline shape: every iteration RX burst on each port (+ the frames other lanes steered into
// this lane's inbox) -> the port's PacketProcessor (ARP/ICMP answers, SCTP into
// usrsctp; an armed LaneCaptureTap copies the burst first) -> commands from the control lcore's ring (runtime::run_lane_commands) -> usrsctp timers
// (>= 1 ms apart) -> TX burst of everything produced -> wake the control lcore if events were
// queued. No lock and no syscall on this path except the eventfd write when events were produced
// and the optional idle sleep.
//
// Idle: after kIdleSpins empty iterations the loop sleeps idle_sleep_us per iteration (0 = pure
// busy polling, the appliance setting; the default trades a few microseconds of latency for not
// burning a core on a shared host or in tests).
//
// Handlespace reader (when a runtime::LaneResolver answers Handle Resolutions here): online while the
// loop runs, a quiescent state after every iteration, offline while sleeping and after the end,
// so the writers' memory reclamation never waits for a sleeping poll lcore.
//
// Stop: request_stop() from any thread. The loop then keeps running (at most stop_grace_ms) while
// the engine still has associations finishing a graceful SHUTDOWN, then aborts what is left,
// flushes TX and returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/dpdk/lane_capture.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_ring.hpp"
#include "dataplane/sctp/sctp_engine.hpp"

namespace poolreg::dpdk {

// One port as a lane polls it.
struct LanePort {
  std::uint16_t port_id = 0;
  bool has_rx_queue = true;  // false: the port has fewer RX queues than lanes; only the inbox feeds it
  PacketProcessor* processor = nullptr;  // the lane's processor for this port
};

struct PollLoopConfig {
  std::uint16_t queue_id = 0;  // this lcore's TX queue on every port, and its RX queue where there is one
  rte_ring* inbox = nullptr;   // steering.hpp: frames other lanes hand to this one (nullptr: one lane)
  std::uint16_t burst = 32;
  std::uint32_t idle_sleep_us = 50;
  std::uint32_t stop_grace_ms = 1000;
};

class PollLoop {
 public:
  static constexpr std::uint32_t kIdleSpins = 256;

  // ports: at least one; a steered frame goes to the processor of its port (rte_mbuf::port).
  PollLoop(const PollLoopConfig& config, std::vector<LanePort> ports, sctp::SctpEngine& engine,
           runtime::LaneEventSink& events, runtime::LaneRing* commands)
      : config_(config), ports_(std::move(ports)), engine_(engine), events_(events), commands_(commands) {}

  // The lcore function: arg is the PollLoop*.
  static int lcore_main(void* arg);
  // The handlespace reader of this lcore (nullptr: none). Before the lcore is launched.
  void set_resolver(runtime::LaneResolver* resolver) noexcept { resolver_ = resolver; }
  // The lane's endpoint keep-alives (runtime/lane_keepalives.hpp): commands, timers every
  // iteration, its reader slot online while the lcore runs (like the resolver's).
  void set_keepalives(runtime::LaneKeepAlives* keepalives) noexcept { keepalives_ = keepalives; }
  // The lane's operator-capture tap (nullptr: none): frames read from an RX queue and frames
  // handed to a TX queue are offered to it. Before the lcore is launched.
  void set_capture(LaneCaptureTap* tap) noexcept { capture_ = tap; }
  int run();
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  // One iteration of run()'s loop; returns the work done (packets + commands). For a caller that
  // drives the lane itself instead of run() (benchmarks): it keeps the resolver online around it.
  unsigned iterate();

 private:
  void transmit();
  std::uint64_t now_ms() const noexcept;
  void sleep_us(std::uint32_t us);

  PollLoopConfig config_;
  std::vector<LanePort> ports_;
  sctp::SctpEngine& engine_;
  runtime::LaneEventSink& events_;
  runtime::LaneRing* commands_;
  runtime::LaneResolver* resolver_ = nullptr;
  runtime::LaneKeepAlives* keepalives_ = nullptr;
  LaneCaptureTap* capture_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
};

}  // namespace poolreg::dpdk
