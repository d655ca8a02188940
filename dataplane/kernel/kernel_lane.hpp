// KernelLane: one lane of the kernel-socket backend, a thread ("lane<i>") that owns a UDP socket
// of the SO_REUSEPORT group (UdpPacketSource), a usrsctp copy with its SctpEngine, and (when
// resolutions are answered on lanes) a runtime::LaneResolver. The same lane shape as a DPDK poll
// lcore, with a kernel socket instead of a port queue and a sleep in epoll_wait instead of
// polling:
//
//   every iteration: recvmmsg burst -> peers of this lane into the engine, peers of other lanes
//   into their inbox (runtime::steer_lane, the DPDK function; with the kernel's cBPF steering,
//   reuseport_steering.hpp, only what the program leaves to the kernel's hash) -> this lane's
//   inbox (packets other lanes read for it) -> commands from the control thread
//   (runtime::run_lane_commands) -> keep-alive timers (runtime::LaneKeepAlives, when set) -> usrsctp
//   timers -> sendmmsg of what the engine produced -> events to the control thread (one eventfd
//   write per iteration that produced some) -> QSBR quiescent state.
//   nothing to do: epoll_wait on the socket and the lane's wake eventfd (written by the control
//   thread after queueing commands and by other lanes after steering packets here), with a
//   timeout of kTimerTickMs for usrsctp's timers; the QSBR readers are offline while it sleeps.
//
// Native SCTP (raw_sctp_source.hpp): with set_native_source(), the lane also reads a raw socket
// (protocol 132). A native peer is steered by its IP address and SCTP source port (it has no UDP
// port), its packets handed to the engine only when their SCTP destination port is the engine's
// (SctpEngine::native_port_ours); the others are another local SCTP user's and are counted
// (native_drop_not_our_port); packets to a listener port at a local address the registrar does not
// listen on are dropped before steering (native_listen_filter.hpp, native_drop_not_listen_address).
// Every lane sends through its own raw socket; only the reading lane
// (lane 0) receives, and hands other lanes' peers over through their inboxes (software steering:
// one reader, so no packet reaches two lanes' engines).
//
// Aliases (runtime/alias_owner_table.hpp): a packet whose source steers to this lane but is
// another lane's alias (a multi-homed or ADD-IP peer's other address) goes to that lane's inbox,
// unless this lane's engine knows the address as a peer of its own. Only the lane steering gives
// the source to looks it up (a packet the kernel's hash put elsewhere reaches it first), so at
// most two hand-overs; while no alias is published, one relaxed load per packet.
//
// Inboxes: MP/SC runtime::LaneRings of SteeredPacket (malloc()ed; the receiving lane frees them).
// Stop: request_stop() from any thread; the lane keeps running (at most stop_grace_ms) while
// associations finish a graceful SHUTDOWN, then aborts what is left and returns.
//
// Threading: constructed/destroyed on the control thread while the thread is not running;
// run() is the thread's body; request_stop() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/kernel/native_listen_filter.hpp"
#include "dataplane/kernel/raw_sctp_source.hpp"
#include "dataplane/kernel/udp_packet_source.hpp"
#include "dataplane/runtime/alias_owner_table.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_ring.hpp"
#include "dataplane/sctp/sctp_engine.hpp"

namespace poolreg::kernel {

// A packet one lane read for another (the owner of its peer).
struct SteeredPacket {
  sctp::SctpPacketFrom from;
  std::uint16_t length = 0;
  std::uint8_t bytes[1];  // `length` bytes (allocated with the header)
};

struct KernelLaneConfig {
  unsigned index = 0;
  unsigned lanes = 1;
  std::uint32_t stop_grace_ms = 1000;
  // Several lanes: the addresses other lanes hold as aliases (multi-homed / ADD-IP peers); the
  // lane steering gives such an address to hands its packets to the holder. Null: none.
  const runtime::AliasOwnerTable* aliases = nullptr;
};

// What other lanes see of a lane: where to steer its packets and how to wake it.
struct LaneInbox {
  runtime::LaneRing* ring = nullptr;
  int wake_fd = -1;
};

class KernelLane {
 public:
  static constexpr int kTimerTickMs = 10;    // usrsctp timers while idle (>= its 10 ms granularity)
  static constexpr unsigned kInboxBurst = 256;

  // inboxes: every lane's (by index, this one's included); wake_fd: this lane's eventfd (also
  // inboxes[index].wake_fd and the control thread's LaneRings::lane_wake_fd). Everything must
  // outlive the lane.
  KernelLane(const KernelLaneConfig& config, UdpPacketSource& source, sctp::SctpEngine& engine,
             runtime::LaneEventSink& events, runtime::LaneRing& commands, std::vector<LaneInbox> inboxes,
             KernelLaneCounters& counters);
  ~KernelLane();
  KernelLane(const KernelLane&) = delete;
  KernelLane& operator=(const KernelLane&) = delete;

  // Before the thread starts.
  void set_resolver(runtime::LaneResolver* resolver) noexcept { resolver_ = resolver; }
  // The lane's endpoint keep-alives (runtime/lane_keepalives.hpp): its commands run with the
  // others, its timers every iteration, its reader slot follows the lane's (online / offline).
  void set_keepalives(runtime::LaneKeepAlives* keepalives) noexcept { keepalives_ = keepalives; }
  bool ok() const noexcept { return epoll_fd_ >= 0; }
  // Native SCTP packets are read from `source` too, those `filter` does not admit dropped and
  // counted (native_drop_not_listen_address); both must outlive the lane. Before the thread
  // starts; false when the source's sockets cannot be watched.
  bool set_native_source(RawSctpSource* source, const NativeListenFilter* filter = nullptr);

  void run();
  void request_stop() noexcept;

 private:
  // One iteration; returns the work done (packets + commands).
  unsigned iterate();
  void deliver_or_steer(const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length);
  // The lane to hand a packet whose source steers here to: another lane holding it as an alias,
  // else this one. port: the steering port (UDP, or SCTP when native).
  unsigned alias_owner(const sctp::SctpPacketFrom& from, std::uint16_t port) const;
  // Into lane `owner`'s inbox (false: dropped, counted; p is freed).
  bool hand_over(unsigned owner, SteeredPacket* p);
  // Into this lane's engine (a native packet only when its destination port is the engine's).
  void deliver(const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length);
  unsigned drain_inbox();
  void sleep(int timeout_ms);
  static std::uint64_t now_ms() noexcept;

  KernelLaneConfig config_;
  UdpPacketSource& source_;
  RawSctpSource* native_ = nullptr;
  const NativeListenFilter* listen_filter_ = nullptr;
  sctp::SctpEngine& engine_;
  runtime::LaneEventSink& events_;
  runtime::LaneRing& commands_;
  std::vector<LaneInbox> inboxes_;
  std::vector<bool> to_wake_;  // lanes this iteration steered packets to
  KernelLaneCounters& counters_;
  runtime::LaneResolver* resolver_ = nullptr;
  runtime::LaneKeepAlives* keepalives_ = nullptr;
  int epoll_fd_ = -1;
  std::atomic<bool> stop_{false};
};

}  // namespace poolreg::kernel
