// poolreg-dpdk-resolution-bench: ASAP Handle Resolutions/s of the DPDK poll lanes, per lcore,
// with 1 and 2 lcores (Google Benchmark).
//
// The registrar side is the real poll-lane code: per lane a net_ring port, PacketProcessor,
// sctp::SctpEngine on its own usrsctp copy (lane 0 the linked one, lane 1 a private dlmopen'd one)
// with an ASAP listener, and a runtime::LaneResolver answering from a Handlespace that holds the pool
// "BenchPool" (10 PEs, round robin; 3 per answer, the registrar default). Lanes steer as in
// poolregd (2 lanes).
// The traffic source is synthetic (sctp_synth.hpp): 128 client associations per lane, each from
// its own UDP port of 10.1.0.2 (and its own SCTP port), opened by hand-built INIT / COOKIE ECHO
// before timing. Each round, untimed, puts kPerAssociation pre-built Ethernet/IPv4/UDP/SCTP DATA
// frames of one Handle Resolution each per association (plus a SACK for what the lane sent in
// the round before) into the lane's RX ring, so every lane gets the associations it owns (what
// RSS on the peer's address and port would do). Timed: each lane runs poolregd's PollLoop
// iterations until its rings are drained (rx_burst, packet path, usrsctp, decode, resolve,
// encode, usrsctp, tx_burst, usrsctp timers, command and event rings), lane 0 on the main lcore
// and lane 1 on the worker lcore. Untimed again, the source reads every frame the lanes sent
// (answers, SACKs) and counts the answers.
//
// BM_PollLaneResolutions/lcores:N  items = resolutions answered on the lanes (resolutions_answered)
//   per_lcore = items / N; every request of every round must be answered (checked).
// BM_PollLaneResolutionsOrder/order:O  1 lcore as BM_PollLaneResolutions, the order per
//   association check (runtime/lane_order.hpp) off (O=0, as before issue 16 item 1) and on (O=1,
//   as poolregd runs and every other benchmark here), twice each, alternating.
// BM_PollLaneResolutionsSteered     2 lcores, but every frame arrives on lane 0's queue, which
//   steers the other lane's half through its inbox (software steering, no RSS).
// BM_PollLaneResolutionsNicRss/key:K  2 lcores; each frame arrives on the queue a 2-queue port
//   with RSS would pick (the Toeplitz hash of the client's address and port and ours, RETA of 128
//   entries, rss_steering.hpp): K=0 with the drivers' usual key (Microsoft's), as before issue 15
//   item 3, where the lanes hand over what lands on the wrong one; K=1 with the peer-only key and
//   table poolregd programs now, ownership by RssSteering. The clients are chosen so that both
//   ownership rules give them the same lane (the associations are set up once for every
//   benchmark). steered_share = frames handed between lanes / SCTP frames the lanes processed.
//   What it leaves out: a NIC computes the hash in hardware; here the source does it, untimed.
// BM_PollLaneResolutionsNative/lcores:N  as BM_PollLaneResolutions, over native SCTP (IP protocol
//   132): a second set of 128 associations per lane from the same SCTP ports of the same address
//   (a native peer is (IP, UDP port 0), so they are other associations), the same requests in
//   Ethernet/IPv4/SCTP frames with their CRC32c set. Steering is the same (the SCTP port takes the
//   UDP port's place and is the same number). The difference to the UDP figure: no UDP header,
//   the native framing checks and one CRC32c over every incoming packet in the packet path, and
//   the answers go out as native frames. The engine checks the CRC32c of the UDP-encapsulated
//   requests (usrsctp checks none: SctpEngineConfig::crc32c_offload), so each request's CRC32c is
//   checked once on both kinds; POOLREG_BENCH_USRSCTP_CRC32C=1 runs the engines with usrsctp
//   checking and writing it instead (native requests then checked twice), for comparison.
// The ratio to the kernel-socket backend: perf/dataplane/dpdk_bench.sh runs
// poolreg-sctp-synth against poolregd on kernel sockets with the same source.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/frame_builder.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/dpdk/poll_loop.hpp"
#include "dataplane/dpdk/rss_steering.hpp"
#include "dataplane/dpdk/steering.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "dataplane/runtime/lane_order.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "perf/dataplane/bench_eal.hpp"
#include "perf/dataplane/net_ring_lanes.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace {

using namespace poolreg;
using namespace poolreg::dpdk;
using perf::kNetRingClientIp;
using perf::kNetRingRegistrarIp;
using Client = perf::NetRingClient;
using Lane = perf::NetRingLane;

constexpr unsigned kLanes = perf::kNetRingMaxLanes;
constexpr unsigned kAssociationsPerLane = 128;
constexpr unsigned kPerAssociation = 16;  // requests per association per round
constexpr std::uint8_t kAsapHandleResolutionResponse = 6;
constexpr std::uint32_t kAsapPpid = 11;

struct World {
  perf::NetRingWorld net;  // mempool, ids, clock, inboxes (net_ring_lanes.hpp)
  handlespace::QsbrDomain domain{8};
  std::unique_ptr<handlespace::Handlespace> hs;
  asap::AsapConfig asap;
  std::vector<std::unique_ptr<Lane>> lanes;
  std::vector<std::uint8_t> request;  // one Handle Resolution for BenchPool
  std::uint64_t requests_sent = 0;
  std::uint64_t answers_seen = 0;
  std::string error;
};

World* g_world = nullptr;

// What a 2-queue RSS port computes for a client's frames (see the header comment).
constexpr std::size_t kRetaSize = 128;
const std::vector<std::uint8_t> kDriverKey = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                              0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                              0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                              0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
const RssSteering g_rss(RssSteering::peer_only_key(40), kLanes, true, false);

unsigned nic_queue(const std::vector<std::uint8_t>& key, std::uint16_t client_port) {
  return RssSteering::reta_entry(RssSteering::toeplitz(key, kNetRingClientIp, kNetRingRegistrarIp, false,
                                                       client_port, perf::kNetRingUdpPort) %
                                     kRetaSize,
                                 kLanes);
}

bool enqueue_frame(World& w, rte_ring* ring, const Client& client, const std::vector<std::uint8_t>& sctp,
                   bool native = false) {
  return perf::enqueue_frame(w.net.pool, ring, client, sctp, native);
}

// Reads every frame the lane transmitted, counting the Handle Resolution Responses.
void collect(World& w, Lane& lane) { w.answers_seen += perf::collect(lane, kAsapHandleResolutionResponse); }

bool setup() {
  auto* w = new World();
  g_world = w;
  w->net.pool = rte_pktmbuf_pool_create("res_pool", 131071, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        static_cast<int>(rte_socket_id()));
  if (w->net.pool == nullptr) return false;
  w->hs = std::make_unique<handlespace::Handlespace>(handlespace::HandlespaceConfig{}, w->domain);
  const PoolHandle handle = *PoolHandle::from_string("BenchPool");
  for (PoolElementId id = 1; id <= 10; ++id) {
    PoolElement pe;
    pe.id = id;
    pe.home_registrar = 0x1234;
    pe.registration_life_ms = 3'600'000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = 7000;
    pe.user_transport.addresses.push_back(IpAddress::v4(0x0a020000u + id));
    pe.policy.type = PolicyType::kRoundRobin;
    if (!w->hs->register_pe(handle, pe).has_value()) return false;
  }
  wire::HandleResolution hr;
  hr.pool_handle = handle;
  if (!wire::encode(hr, wire::WireOptions{}, wire::ByteSink(w->request)).ok()) return false;
  w->asap.registrar_id = 0x1234;
  w->net.hs = w->hs.get();
  w->net.domain = &w->domain;
  w->net.asap = &w->asap;
  // To a control lcore nobody runs: what arrives there is counted (count_control_events).
  w->net.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->net.wake_fd < 0) {
    w->error = "control rings";
    return false;
  }
  perf::NetRingLaneOptions options;
  options.name = "reslane";
  // POOLREG_BENCH_USRSCTP_CRC32C=1: usrsctp computes and checks the CRC32c (the engine's
  // behaviour before it took the CRC32c over), to compare the two in one session.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the environment is read, never set, by this process
  if (const char* v = std::getenv("POOLREG_BENCH_USRSCTP_CRC32C"); v != nullptr && *v == '1')
    options.usrsctp_crc32c = true;
  for (unsigned l = 0; l < kLanes; ++l) {
    auto lane = perf::make_net_ring_lane(w->net, l, options);
    if (!lane) {
      w->error = w->net.error;
      return false;
    }
    w->lanes.push_back(std::move(lane));
  }
  for (unsigned l = 0; l < kLanes; ++l)
    w->lanes[l]->processor->set_steering(Steering{l, kLanes, w->net.inboxes});
  // Clients: UDP (and SCTP) ports from 20000 up, each to the lane it steers to.
  std::uint32_t tag = 0x5eed0001;
  for (std::uint16_t port = 20000; port < 60000; ++port) {
    const unsigned owner = steer_lane(kNetRingClientIp, false, port, kLanes);
    if (owner != g_rss.lane(kNetRingClientIp, false, port)) continue;  // both rules must agree (header)
    Lane& lane = *w->lanes[owner];
    if (lane.clients.size() >= kAssociationsPerLane) {
      bool all = true;
      for (auto& l : w->lanes) all = all && l->clients.size() >= kAssociationsPerLane;
      if (all) break;
      continue;
    }
    Client c;
    c.udp_port = port;
    c.sctp.local_port = port;
    c.sctp.peer_port = perf::kNetRingAsapPort;
    c.sctp.local_tag = tag++;
    c.sctp.next_tsn = 1000;
    lane.clients.push_back(c);
  }
  // The native associations: the same SCTP ports, other tags.
  for (auto& lane : w->lanes) {
    lane->native_clients = lane->clients;
    for (Client& c : lane->native_clients) c.sctp.local_tag = tag++;
  }
  // Handshake, lane by lane, all untimed.
  for (auto& lane : w->lanes) {
    for (const bool native : {false, true}) {
      w->error = perf::handshake(w->net.pool, *lane, native);
      if (!w->error.empty()) return false;
    }
  }
  return true;
}

// Where a round's frames arrive.
enum class Arrival {
  kOwnQueue,     // every client's frames on its owner's queue (ideal RSS)
  kLaneZero,     // everything on lane 0 (a port without RSS)
  kDriverKey,    // RSS with the drivers' usual key
  kPeerOnlyKey,  // RSS with rss_steering.hpp's key and table
};

// One round's input (untimed): SACKs owed, then kPerAssociation requests per client, into `ring`
// (null: the RX ring of the lane the arrival rule picks per client).
bool fill(World& w, Lane& lane, rte_ring* ring, Arrival arrival = Arrival::kOwnQueue, bool native = false) {
  for (Client& c : lane.of(native)) {
    if (arrival == Arrival::kDriverKey || arrival == Arrival::kPeerOnlyKey)
      ring = w.lanes[nic_queue(arrival == Arrival::kDriverKey ? kDriverKey : g_rss.key(), c.udp_port)]->rx;
    if (c.sctp.sack_due && !enqueue_frame(w, ring, c, perf::build_sack(c.sctp), native)) return false;
    for (unsigned k = 0; k < kPerAssociation; ++k) {
      if (!enqueue_frame(w, ring, c, perf::build_data(c.sctp, kAsapPpid, w.request), native)) return false;
      ++w.requests_sent;
    }
  }
  return true;
}

int drain_on_lcore(void* arg) {
  static_cast<Lane*>(arg)->drain();
  return 0;
}

std::uint64_t answered(const World& w) {
  std::uint64_t n = 0;
  for (const auto& l : w.lanes) n += l->counters.resolutions_answered.get();
  return n;
}

std::uint64_t steered_frames(const World& w) {
  std::uint64_t n = 0;
  for (const auto& l : w.lanes) n += l->counters.sctp_steered_out.get();
  return n;
}

std::uint64_t sctp_frames(const World& w) {
  std::uint64_t n = 0;
  for (const auto& l : w.lanes) n += l->counters.sctp_packets_in.get();
  return n;
}

bool rings_empty(const World& w) {
  for (const auto& l : w.lanes)
    if (rte_ring_count(l->rx) != 0 || rte_ring_count(l->inbox) != 0) return false;
  return true;
}

void run(benchmark::State& state, unsigned lcores, Arrival arrival, bool native = false,
         bool ordered = true) {
  const bool steered = arrival == Arrival::kLaneZero;
  const bool nic = arrival == Arrival::kDriverKey || arrival == Arrival::kPeerOnlyKey;
  World& w = *g_world;
  const unsigned worker = rte_get_next_lcore(-1, 1, 0);
  if (lcores == 2 && worker >= RTE_MAX_LCORE) {
    state.SkipWithError("needs two lcores (-l 0-1)");
    return;
  }
  // Ownership as poolregd sets it: RSS-predicted when the port was given our key and table.
  for (unsigned l = 0; l < kLanes; ++l)
    w.lanes[l]->processor->set_steering(
        Steering{l, kLanes, w.net.inboxes, arrival == Arrival::kPeerOnlyKey ? &g_rss : nullptr});
  for (unsigned l = 0; l < kLanes; ++l)
    w.lanes[l]->engine->set_lane_order(ordered ? &w.lanes[l]->order : nullptr);
  const std::uint64_t before = answered(w);
  const std::uint64_t sent_before = w.requests_sent;
  const std::uint64_t steered_before = steered_frames(w), frames_before = sctp_frames(w);
  for (auto _ : state) {
    state.PauseTiming();
    for (unsigned l = 0; l < lcores; ++l) {
      // Steered: everything arrives on lane 0's queue, as from a port without RSS.
      rte_ring* ring = nic ? nullptr : steered ? w.lanes[0]->rx : w.lanes[l]->rx;
      if (!fill(w, *w.lanes[l], ring, arrival, native)) {
        state.SkipWithError("mbufs or ring space ran out");
        return;
      }
    }
    state.ResumeTiming();
    // Both lanes may hand frames to each other (nic): drain both until no ring holds any.
    do {
      if (steered) w.lanes[1]->keep_polling.store(true, std::memory_order_release);
      if (lcores == 2) rte_eal_remote_launch(drain_on_lcore, w.lanes[1].get(), worker);
      w.lanes[0]->drain();
      w.lanes[1]->keep_polling.store(false, std::memory_order_release);
      if (lcores == 2) rte_eal_wait_lcore(worker);
    } while (nic && !rings_empty(w));
    state.PauseTiming();
    for (unsigned l = 0; l < lcores; ++l) collect(w, *w.lanes[l]);
    state.ResumeTiming();
  }
  const std::uint64_t items = answered(w) - before;
  if (items != w.requests_sent - sent_before) {
    std::uint64_t forwarded = 0, closed = 0;
    for (const auto& l : w.lanes) {
      l->count_control_events();
      forwarded += l->forwarded;
      closed += l->closed;
    }
    w.error = std::to_string(items) + " of " + std::to_string(w.requests_sent - sent_before) +
              " answered on the lanes (" + std::to_string(forwarded) + " forwarded, " +
              std::to_string(closed) + " associations closed)";
    state.SkipWithError(w.error.c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.counters["per_lcore"] =
      benchmark::Counter(static_cast<double>(items) / lcores, benchmark::Counter::kIsRate);
  state.counters["lcores"] = lcores;
  state.counters["associations"] = kAssociationsPerLane * lcores;
  const std::uint64_t frames = sctp_frames(w) - frames_before;
  state.counters["steered_share"] =
      frames == 0 ? 0.0
                  : static_cast<double>(steered_frames(w) - steered_before) / static_cast<double>(frames);
  // Ownership back to the software rule for the benchmarks that follow.
  for (unsigned l = 0; l < kLanes; ++l)
    w.lanes[l]->processor->set_steering(Steering{l, kLanes, w.net.inboxes});
}

void BM_PollLaneResolutions(benchmark::State& state) {
  run(state, static_cast<unsigned>(state.range(0)), Arrival::kOwnQueue);
}
BENCHMARK(BM_PollLaneResolutions)
    ->ArgName("lcores")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Order per association (issue 16 item 1) off (as before it) and on (as poolregd runs), 1 lcore,
// the same requests as BM_PollLaneResolutions: the cost of the check on a resolution whose
// association has nothing in flight (here: never handed anything over, the PU case).
void BM_PollLaneResolutionsOrder(benchmark::State& state) {
  run(state, 1, Arrival::kOwnQueue, false, state.range(0) != 0);
}
BENCHMARK(BM_PollLaneResolutionsOrder)
    ->ArgName("order")
    ->Arg(0)
    ->Arg(1)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PollLaneResolutionsNative(benchmark::State& state) {
  run(state, static_cast<unsigned>(state.range(0)), Arrival::kOwnQueue, true);
}
BENCHMARK(BM_PollLaneResolutionsNative)
    ->ArgName("lcores")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PollLaneResolutionsSteered(benchmark::State& state) { run(state, 2, Arrival::kLaneZero); }
BENCHMARK(BM_PollLaneResolutionsSteered)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PollLaneResolutionsNicRss(benchmark::State& state) {
  run(state, 2, state.range(0) == 0 ? Arrival::kDriverKey : Arrival::kPeerOnlyKey);
}
BENCHMARK(BM_PollLaneResolutionsNicRss)
    ->ArgName("key")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (!perf::start_bench_eal(argv[0], "resbench", 1024)) {
    std::fprintf(stderr, "EAL could not start\n");
    return 1;
  }
  if (!setup()) {
    std::fprintf(stderr, "set-up failed: %s\n", g_world != nullptr ? g_world->error.c_str() : "?");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Every answer the source saw, against every request it sent (the last round's answers
  // beyond the congestion window may still sit in usrsctp: reported, not checked).
  std::fprintf(stderr, "source: %llu requests sent, %llu answers seen on the wire\n",
               static_cast<unsigned long long>(g_world->requests_sent),
               static_cast<unsigned long long>(g_world->answers_seen));
  for (auto& l : g_world->lanes) l->teardown();
  perf::remove_eal_runtime_dir();
  return 0;
}
