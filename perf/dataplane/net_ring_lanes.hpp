// The in-process DPDK poll lanes of the perf/dataplane benchmarks (poolreg-dpdk-resolution-bench,
// poolreg-dpdk-write-bench): per lane a net_ring port whose RX and TX rings the benchmark holds,
// a PacketProcessor, an sctp::SctpEngine on its own usrsctp copy (lane 0 the linked one, lane i > 0
// a private dlmopen'd one) listening for ASAP (3863, over UDP 9899 and native), a
// runtime::LaneResolver, the lane's control rings and LaneEventSink, and poolregd's PollLoop: what
// dpdk::DpdkBackend::add_lane builds, without the EAL port probing, so that the benchmark is the
// synthetic SCTP source (sctp_synth.hpp) on the other side of the rings.
//
// The benchmark drives a lane itself (NetRingLane::drain: PollLoop::iterate until the rings are
// empty), fills the RX rings and reads the TX rings untimed in between (enqueue_frame, collect).
// Handshakes open the clients' associations (handshake), also untimed.
//
// Threading: a lane's drain runs on one lcore at a time; enqueue_frame / collect / handshake on the
// thread that owns the rings between drains.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/frame_builder.hpp"
#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/lcore_counters.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/dpdk/poll_loop.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_order.hpp"
#include "dataplane/runtime/lane_rings.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::perf {

constexpr unsigned kNetRingMaxLanes = 2;
constexpr std::uint8_t kNetRingRegistrarIp[4] = {10, 0, 0, 1};
constexpr std::uint8_t kNetRingClientIp[4] = {10, 1, 0, 2};
constexpr std::uint16_t kNetRingUdpPort = 9899;  // the registrar's SCTP-over-UDP port
constexpr std::uint16_t kNetRingAsapPort = 3863;
inline const dpdk::MacAddress kNetRingRegistrarMac = {0x02, 0, 0, 0, 0, 1};
inline const dpdk::MacAddress kNetRingClientMac = {0x02, 0, 0, 0, 0, 2};

// One client association of the synthetic source: its UDP port (SCTP over UDP) or, native, its
// SCTP port (the same number).
struct NetRingClient {
  std::uint16_t udp_port = 0;
  SynthAssociation sctp;
};

struct NetRingLane {
  unsigned index = 0;
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  rte_ring* inbox = nullptr;
  std::uint16_t port = 0;
  dpdk::InterfaceConfig config;
  dpdk::LcoreCounters counters;
  std::unique_ptr<sctp::UsrsctpStack> private_stack;
  std::unique_ptr<sctp::SctpEngine> engine;
  std::unique_ptr<dpdk::PacketProcessor> processor;
  std::unique_ptr<runtime::LaneResolver> resolver;
  runtime::LaneRing commands{65536};  // the ring sizes of DpdkBackend
  runtime::LaneRing event_ring{65536};
  // Order per association (lane_order.hpp), on as in poolregd; with no control thread (the
  // resolution bench) nobody finishes stamps, and nothing is handed over while every request is
  // answered.
  runtime::LaneOrder order;
  runtime::LaneRings rings;
  std::unique_ptr<runtime::LaneEventSink> events;
  std::unique_ptr<runtime::LaneKeepAlives> keepalives;  // enable_keepalives(); after the sink it reports into
  std::unique_ptr<dpdk::PollLoop> poll;
  std::uint64_t forwarded = 0;         // messages the lane did not answer itself (count_control_events)
  std::uint64_t closed = 0;            // associations that went away
  std::vector<NetRingClient> clients;  // the associations this lane owns (SCTP over UDP)
  std::vector<NetRingClient> native_clients;  // and over native SCTP, from the same SCTP ports
  std::vector<NetRingClient>& of(bool native) { return native ? native_clients : clients; }
  // Another thread may still hand this lane work (frames steered from lane 0, answers from the
  // control thread): drain() keeps polling while it is set.
  std::atomic<bool> keep_polling{false};
  // And while this says so (set between rounds, read by the lane's thread): work the lane does not
  // see yet, e.g. answers the control thread has still to hand back.
  std::function<bool()> pending;
  // While it waits for that work: after PollLoop::kIdleSpins idle iterations, sleep this long per
  // idle iteration with the readers offline, as poolregd's poll loop (dpdk.idle_sleep_us; 0 = spin).
  std::uint32_t idle_sleep_us = 0;

  // poolregd's poll loop (PollLoop::iterate) until the RX ring, the inbox and the command ring are
  // empty, usrsctp's output of the last packets went out, keep_polling is clear and pending() false. The
  // lane's handlespace readers are online meanwhile.
  void drain();
  // Events that reached the lane's event ring while nobody consumes them (untimed): counted, freed.
  void count_control_events();
  // Poll loop, engine (usrsctp_finish), keep-alives, resolver, sink, processor, in that order.
  void teardown();
};

// What every lane shares; must outlive the lanes.
struct NetRingWorld {
  rte_mempool* pool = nullptr;
  std::atomic<std::uint64_t> ids{1};
  handlespace::Handlespace* hs = nullptr;
  handlespace::QsbrDomain* domain = nullptr;
  const asap::AsapConfig* asap = nullptr;
  SteadyClock clock;
  rte_ring* inboxes[kNetRingMaxLanes] = {};
  int wake_fd = -1;  // the control thread's eventfd (lanes write it when they queue events)
  std::string error;
};

struct NetRingLaneOptions {
  std::string name = "lane";  // prefix of the rings' and port's names (unique per process)
  // The lane's handlespace readers are the PollLoop's (set_resolver / set_keepalives: a quiescent
  // state after every iteration, as DpdkBackend sets them up) rather than online only around drain.
  bool loop_readers = false;
  bool usrsctp_crc32c = false;  // usrsctp checks and writes the CRC32c (SctpEngineConfig::crc32c_offload off)
};

// Builds lane `index` (w.pool, w.hs, w.domain and w.asap set; w.wake_fd: an eventfd). Null with
// w.error set on failure.
std::unique_ptr<NetRingLane> make_net_ring_lane(NetRingWorld& w, unsigned index,
                                                const NetRingLaneOptions& options);
// The lane's endpoint keep-alives (DpdkBackend::enable_lane_keepalives): after make_net_ring_lane.
bool enable_keepalives(NetRingWorld& w, NetRingLane& lane, const NetRingLaneOptions& options);

// Ethernet/IPv4/UDP (native: Ethernet/IPv4 protocol 132) around an SCTP packet from `client` to
// the registrar, into `ring`. sctp_synth sets the CRC32c.
bool enqueue_frame(rte_mempool* pool, rte_ring* ring, const NetRingClient& client,
                   const std::vector<std::uint8_t>& sctp, bool native = false);

// Reads every frame the lane transmitted and feeds each to its client association; `seen` (if
// given) gets each client with what its packet brought. Returns the DATA chunks whose ASAP type
// is `count_type`.
std::uint64_t collect(NetRingLane& lane, std::uint8_t count_type,
                      const std::function<void(NetRingClient&, PeerInput&)>& seen = {});

// Opens every association of lane.of(native) (INIT, INIT ACK, COOKIE ECHO, COOKIE ACK), draining
// the lane in between. Empty on success, else what failed.
std::string handshake(rte_mempool* pool, NetRingLane& lane, bool native);

}  // namespace poolreg::perf
