// poolreg-dpdk-write-bench: ASAP writes (registrations, re-registrations, deregistrations)
// answered end to end through poolregd's DPDK lanes and control thread, per lane, with 1 and 2
// lanes (Google Benchmark; issue 16, the baseline of item 1).
//
// The write path as the daemon runs it today: a lane (the in-process poll lanes of
// net_ring_lanes.hpp, as poolreg-dpdk-resolution-bench builds them, each with its LaneResolver and
// LaneKeepAlives) decodes the SCTP DATA and hands every ASAP message that is not a Handle
// Resolution to the control thread through its event ring (LaneEventSink, eventfd wake-up); the
// control thread (a std::thread here, the main lcore in poolregd) runs poolregd's loop: EventLoop,
// runtime::LaneTransport, daemon::ProtocolRouter, daemon::TransportOutput and asap::AsapServer
// writing the handlespace, then AsapServer's timers, the handlespace's feedback drain and QSBR
// reclaim every 100 ms and a quiescent state per pass (Application::Runtime::service_timers). The
// answer goes back through the lane's command ring (LaneTransport::send) and out of the lane's
// engine, and, keep-alives being on the lanes, every accepted registration also hands its PE to
// the lane (LaneCommand::kWatchKeepAlives) and a deregistration takes it back.
// Registrar configuration: poolregd's defaults (daemon::to_asap_config of a default
// RegistrarConfig: address check on, keep-alives on lanes, per-address quotas), except the
// keep-alive interval, stretched to one hour so that no Keep-Alive goes out while the benchmark
// runs (the synthetic source does not answer them; keep-alive traffic is what
// lane_keepalive_bench.sh measures). No ENRP (no peers: no Handle Updates), no event subscribers.
//
// Workload: kAssociationsPerLane associations per lane from the synthetic source (sctp_synth.hpp),
// each from its own UDP and SCTP port of 10.1.0.2 and carrying one PE of its own (PE ID 0x10000 +
// association number; pools WritePool-0..63 by association number; the PE's user address is the
// association's, so the address check keeps it), as real PEs connect. Besides them the
// handlespace holds kBackgroundPes PEs in the same pools, registered directly (as ENRP would bring
// them from other registrars), so the pools are not toy-sized. All associations and the first
// registration of every PE are set up before timing. Each round puts, untimed, every association's
// write(s) into its lane's RX ring, the associations in a fresh random order (the writes scattered
// over the PE set and pools), plus a SACK for what the lane sent in the round before. Timed: the
// lanes run poolregd's PollLoop iterations (lane 0 on the main lcore, lane 1 on the worker lcore)
// until the control thread has answered every write of the round and the lanes have sent the
// answers. Untimed again, the source reads the lanes' frames and counts the answers.
//
// BM_LaneWrites/lanes:N/workload:0/idle_us:S  every PE re-registers once per round (AsapServer's
//   re-registration path: PE already known over this association).
// BM_LaneWrites/lanes:N/workload:1/idle_us:S  every PE deregisters and registers again in each round (two
//   writes; the registration is a new PE).
// idle_us: while a lane waits for the control thread's answers it runs PollLoop's idle rule: after
//   256 empty iterations a sleep of S us per iteration, readers offline (poolregd's default
//   dpdk.idle_sleep_us = 50); S = 0 busy-polls.
// Counters: items = writes answered (AsapServer's counters; every write must be answered and no
//   registration refused: checked), per_lane = items / N per second, lane_cpu_s_per_M and
//   control_cpu_s_per_M = CPU-seconds of the lanes' threads (around their PollLoop iterations)
//   and of the control thread per 10^6 writes, control_busy = control thread CPU / real time of
//   the timed parts of the rounds.
// The control thread is not pinned (EAL pins the lanes to CPUs 0 and 1): with 2 lanes on a
// 2-CPU machine three busy threads share two CPUs, as they would in poolregd there.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/registrar_config.hpp"
#include "dataplane/daemon/config_mapping.hpp"
#include "dataplane/daemon/protocol_router.hpp"
#include "dataplane/daemon/transport_output.hpp"
#include "dataplane/dpdk/steering.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/lane_transport.hpp"
#include "dataplane/runtime/steer_lane.hpp"
#include "perf/dataplane/bench_eal.hpp"
#include "perf/dataplane/net_ring_lanes.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "perf/dataplane/write_requests.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace {

using namespace poolreg;
using Client = perf::NetRingClient;
using Lane = perf::NetRingLane;

constexpr unsigned kLanes = perf::kNetRingMaxLanes;
constexpr unsigned kAssociationsPerLane = 1024;
constexpr std::uint64_t kAssociations = std::uint64_t{kLanes} * kAssociationsPerLane;
constexpr unsigned kPools = 64;
constexpr std::uint32_t kBackgroundPes = 100'000;
constexpr RegistrarId kRegistrarId = 0x1234;
constexpr TimeNs kReclaimPeriod = 100 * kNsPerMs;  // as poolregd's loop
constexpr TimeNs kMaxLoopWait = 100 * kNsPerMs;

enum class Workload { kReregister = 0, kChurn = 1 };

TimeNs thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<TimeNs>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

struct World;

// poolregd's control thread (see the header comment); published figures are atomics the bench
// thread reads between rounds.
struct Control {
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> target{0};    // writes answered when the round is over
  std::atomic<std::uint64_t> answered{0};  // every write AsapServer answered
  std::atomic<std::uint64_t> rejected{0};  // of them registrations refused (R=1)
  std::atomic<std::uint64_t> registrations{0};
  std::atomic<std::uint64_t> reregistrations{0};
  std::atomic<std::uint64_t> deregistrations{0};
  std::atomic<std::uint64_t> lane_watches{0};
  std::atomic<std::uint64_t> associations{0};
  std::atomic<TimeNs> cpu_ns{0};  // the thread's CPU time, stored before `answered`
  std::string error;
  std::thread thread;

  void run(World& w);
};

struct World {
  perf::NetRingWorld net;
  handlespace::QsbrDomain domain{8};
  std::unique_ptr<handlespace::Handlespace> hs;
  asap::AsapConfig asap;
  std::vector<std::unique_ptr<Lane>> lanes;
  std::vector<std::vector<perf::PeWrites>> writes;  // per lane, per client
  std::vector<std::vector<std::uint32_t>> order;    // per lane: this round's client order
  std::mt19937_64 rng{0x5eed};
  Control control;
  std::uint64_t writes_sent = 0;
  std::uint64_t responses_seen = 0;  // Registration Responses the source read
  std::uint64_t registrations_sent = 0;
  std::string error;
};

World* g_world = nullptr;

void Control::run(World& w) {
  runtime::EventLoop loop;
  daemon::ProtocolRouter router;
  std::vector<runtime::LaneTransport::Lane> lanes;
  for (auto& lane : w.lanes) lanes.push_back(runtime::LaneTransport::Lane{lane->rings, lane->engine.get()});
  runtime::LaneTransport transport(loop, router, std::move(lanes), w.net.ids, runtime::kMaxMessageSize);
  transport.set_keepalives_on_lanes(true);  // DpdkBackend::enable_lane_keepalives
  transport.mark_started();
  daemon::TransportOutput output(transport, false,
                                 [&router](ConnectionId id, WireProtocol p) { router.note_outgoing(id, p); });
  output.set_lanes(&transport);
  handlespace::ReaderContext reader(w.domain, kRegistrarId ^ 0x9e3779b97f4a7c15ull);
  asap::AsapServer server(w.asap, *w.hs, reader, output, loop.clock(), nullptr);
  router.attach(transport, output, server, nullptr);
  reader.online();
  ready.store(true, std::memory_order_release);
  TimeNs next_reclaim = 0;
  while (!stop.load(std::memory_order_acquire)) {
    TimeNs now = loop.now();
    TimeNs due = now + kMaxLoopWait;
    if (auto a = server.next_timer_due()) due = std::min(due, *a);
    loop.run_once(due <= now ? 0 : static_cast<int>((due - now + kNsPerMs - 1) / kNsPerMs));
    now = loop.now();
    if (auto a = server.next_timer_due(); a && *a <= now) server.run_timers(now);
    w.hs->drain_feedback();
    if (now >= next_reclaim) {
      w.domain.reclaim();
      next_reclaim = now + kReclaimPeriod;
    }
    reader.quiescent();
    const asap::AsapCounters& c = server.counters();
    registrations.store(c.registrations, std::memory_order_relaxed);
    reregistrations.store(c.reregistrations, std::memory_order_relaxed);
    deregistrations.store(c.deregistrations, std::memory_order_relaxed);
    rejected.store(c.registrations_rejected, std::memory_order_relaxed);
    lane_watches.store(c.keepalive_lane_watches, std::memory_order_relaxed);
    associations.store(server.associations(), std::memory_order_relaxed);
    cpu_ns.store(thread_cpu_ns(), std::memory_order_relaxed);
    answered.store(c.registrations + c.reregistrations + c.registrations_rejected + c.deregistrations +
                       c.deregistrations_unknown + c.deregistrations_refused,
                   std::memory_order_release);
  }
  reader.offline();
}

bool setup() {
  auto* w = new World();
  g_world = w;
  w->net.pool = rte_pktmbuf_pool_create("write_pool", 131071, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        static_cast<int>(rte_socket_id()));
  if (w->net.pool == nullptr) return false;
  const config::RegistrarConfig defaults;
  w->hs = std::make_unique<handlespace::Handlespace>(daemon::to_handlespace_config(defaults, 2), w->domain);
  w->asap = daemon::to_asap_config(defaults, kRegistrarId);
  w->asap.keepalive_interval = 3600 * kNsPerSec;  // none sent while the benchmark runs (header)
  // The background PEs: other registrars' (home 0x5678), as ENRP brings them.
  for (std::uint32_t i = 0; i < kBackgroundPes; ++i) {
    PoolElement pe;
    pe.id = 0x1000000u + i;
    pe.home_registrar = 0x5678;
    pe.registration_life_ms = 30000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = 7000;
    pe.user_transport.addresses.push_back(IpAddress::v4(0x0a030000u + i));
    pe.policy.type = PolicyType::kRoundRobin;
    if (!w->hs->register_pe(*PoolHandle::from_string(perf::write_pool_name(i, kPools)), pe).has_value()) {
      w->error = "background PE";
      return false;
    }
  }
  w->net.hs = w->hs.get();
  w->net.domain = &w->domain;
  w->net.asap = &w->asap;
  w->net.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->net.wake_fd < 0) {
    w->error = "eventfd";
    return false;
  }
  perf::NetRingLaneOptions options;
  options.name = "wrlane";
  options.loop_readers = true;  // as DpdkBackend: quiescent after every iteration
  for (unsigned l = 0; l < kLanes; ++l) {
    auto lane = perf::make_net_ring_lane(w->net, l, options);
    if (!lane || !perf::enable_keepalives(w->net, *lane, options)) {
      w->error = w->net.error;
      return false;
    }
    w->lanes.push_back(std::move(lane));
  }
  for (unsigned l = 0; l < kLanes; ++l)
    w->lanes[l]->processor->set_steering(dpdk::Steering{l, kLanes, w->net.inboxes});
  // Clients: UDP (and SCTP) ports from 20000 up, each to the lane it steers to.
  std::uint32_t tag = 0x3ee70001;
  for (std::uint32_t port = 20000; port < 65000; ++port) {
    Lane& lane = *w->lanes[runtime::steer_lane(perf::kNetRingClientIp, false,
                                               static_cast<std::uint16_t>(port), kLanes)];
    if (lane.clients.size() >= kAssociationsPerLane) {
      bool all = true;
      for (auto& l : w->lanes) all = all && l->clients.size() >= kAssociationsPerLane;
      if (all) break;
      continue;
    }
    Client c;
    c.udp_port = static_cast<std::uint16_t>(port);
    c.sctp.local_port = c.udp_port;
    c.sctp.peer_port = perf::kNetRingAsapPort;
    c.sctp.local_tag = tag++;
    c.sctp.next_tsn = 1000;
    lane.clients.push_back(c);
  }
  std::uint64_t pe = 0;
  w->writes.resize(kLanes);
  w->order.resize(kLanes);
  for (unsigned l = 0; l < kLanes; ++l) {
    if (w->lanes[l]->clients.size() != kAssociationsPerLane) {
      w->error = "not enough client ports";
      return false;
    }
    for (std::size_t i = 0; i < kAssociationsPerLane; ++i, ++pe) {
      w->writes[l].push_back(
          perf::encode_pe_writes(perf::write_pool_name(pe, kPools), 0x10000 + pe, perf::kNetRingClientIp));
      if (w->writes[l].back().registration.empty()) {
        w->error = "encode";
        return false;
      }
    }
    w->order[l].resize(kAssociationsPerLane);
    std::iota(w->order[l].begin(), w->order[l].end(), 0u);
  }
  // The control thread, free to run on every CPU (it inherits the main lcore's pinning).
  w->control.thread = std::thread([w] {
    try {
      w->control.run(*w);
    } catch (const std::exception& e) {
      w->control.error = e.what();
      w->control.failed.store(true);
      w->control.ready.store(true, std::memory_order_release);
    }
  });
  cpu_set_t all;
  CPU_ZERO(&all);
  for (unsigned c = 0; c < std::thread::hardware_concurrency(); ++c) CPU_SET(c, &all);
  ::pthread_setaffinity_np(w->control.thread.native_handle(), sizeof all, &all);
  ::pthread_setname_np(w->control.thread.native_handle(), "control");  // for perf / top
  while (!w->control.ready.load(std::memory_order_acquire)) std::this_thread::yield();
  if (w->control.failed.load()) {
    w->error = "control thread: " + w->control.error;
    return false;
  }
  for (auto& lane : w->lanes) {
    Control* control = &w->control;
    lane->pending = [control] {
      return control->answered.load(std::memory_order_acquire) <
             control->target.load(std::memory_order_acquire);
    };
  }
  // Handshake, lane by lane, untimed; the control thread takes the associations up meanwhile.
  for (auto& lane : w->lanes) {
    w->error = perf::handshake(w->net.pool, *lane, false);
    if (!w->error.empty()) return false;
  }
  for (int k = 0; k < 5000 && w->control.associations.load() < kAssociations; ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (w->control.associations.load() != kAssociations) {
    w->error = std::to_string(w->control.associations.load()) + " associations up at AsapServer";
    return false;
  }
  return true;
}

// One round's input (untimed): per client of the lane, in a random order, a SACK if owed and
// the workload's write(s).
bool fill(World& w, unsigned l, Workload workload, std::uint64_t& writes, std::uint64_t& registrations) {
  Lane& lane = *w.lanes[l];
  std::shuffle(w.order[l].begin(), w.order[l].end(), w.rng);
  for (const std::uint32_t i : w.order[l]) {
    Client& c = lane.clients[i];
    if (c.sctp.sack_due && !perf::enqueue_frame(w.net.pool, lane.rx, c, perf::build_sack(c.sctp)))
      return false;
    if (workload == Workload::kChurn) {
      if (!perf::enqueue_frame(w.net.pool, lane.rx, c,
                               perf::build_data(c.sctp, perf::kAsapPpid, w.writes[l][i].deregistration)))
        return false;
      ++writes;
    }
    if (!perf::enqueue_frame(w.net.pool, lane.rx, c,
                             perf::build_data(c.sctp, perf::kAsapPpid, w.writes[l][i].registration)))
      return false;
    ++writes;
    ++registrations;
  }
  return true;
}

struct LaneRun {
  Lane* lane = nullptr;
  TimeNs cpu_ns = 0;
};

int drain_on_lcore(void* arg) {
  auto* run = static_cast<LaneRun*>(arg);
  const TimeNs t0 = thread_cpu_ns();
  run->lane->drain();
  run->cpu_ns += thread_cpu_ns() - t0;
  return 0;
}

// One round on `lanes` lanes; false when the input did not fit. lane_cpu: CPU time of the drains.
bool round(World& w, unsigned lanes, Workload workload, unsigned worker, TimeNs& lane_cpu, double& timed_s,
           benchmark::State* state) {
  std::uint64_t writes = 0, registrations = 0;
  for (unsigned l = 0; l < lanes; ++l)
    if (!fill(w, l, workload, writes, registrations)) return false;
  w.control.target.store(w.control.answered.load(std::memory_order_acquire) + writes,
                         std::memory_order_release);
  w.writes_sent += writes;
  w.registrations_sent += registrations;
  if (state != nullptr) state->ResumeTiming();
  const auto t0 = std::chrono::steady_clock::now();
  LaneRun runs[kLanes] = {{w.lanes[0].get(), 0}, {w.lanes[1].get(), 0}};
  if (lanes == 2) rte_eal_remote_launch(drain_on_lcore, &runs[1], worker);
  drain_on_lcore(&runs[0]);
  if (lanes == 2) rte_eal_wait_lcore(worker);
  timed_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (state != nullptr) state->PauseTiming();
  lane_cpu += runs[0].cpu_ns + runs[1].cpu_ns;
  for (unsigned l = 0; l < lanes; ++l)
    w.responses_seen += perf::collect(*w.lanes[l], perf::kAsapRegistrationResponse);
  return true;
}

// After a benchmark (untimed): every client acknowledges what it received, as a real peer would
// within its delayed-SACK time, so that a lane left idle by the next benchmark retransmits nothing.
void acknowledge_all(World& w) {
  for (auto& lane : w.lanes) {
    for (Client& c : lane->clients)
      if (c.sctp.sack_due) perf::enqueue_frame(w.net.pool, lane->rx, c, perf::build_sack(c.sctp));
    lane->drain();
    w.responses_seen += perf::collect(*lane, perf::kAsapRegistrationResponse);
  }
}

bool register_all(World& w) {
  TimeNs cpu = 0;
  double timed_s = 0;
  const unsigned worker = rte_get_next_lcore(-1, 1, 0);
  if (!round(w, kLanes, Workload::kReregister, worker, cpu, timed_s, nullptr)) return false;
  acknowledge_all(w);
  return w.control.registrations.load() == kAssociations && w.control.rejected.load() == 0;
}

void run(benchmark::State& state, unsigned lanes, Workload workload, std::uint32_t idle_sleep_us) {
  World& w = *g_world;
  for (auto& lane : w.lanes) lane->idle_sleep_us = idle_sleep_us;
  const unsigned worker = rte_get_next_lcore(-1, 1, 0);
  if (lanes == 2 && worker >= RTE_MAX_LCORE) {
    state.SkipWithError("needs two lcores (-l 0-1)");
    return;
  }
  const std::uint64_t answered0 = w.control.answered.load(), sent0 = w.writes_sent,
                      rejected0 = w.control.rejected.load(), seen0 = w.responses_seen,
                      registrations0 = w.registrations_sent, watches0 = w.control.lane_watches.load();
  const TimeNs control0 = w.control.cpu_ns.load();
  TimeNs lane_cpu = 0;
  double timed_s = 0;  // real time of the timed parts of the rounds
  for (auto _ : state) {
    state.PauseTiming();
    if (!round(w, lanes, workload, worker, lane_cpu, timed_s, &state)) {
      state.SkipWithError("mbufs or ring space ran out");
      return;
    }
    state.ResumeTiming();
  }
  acknowledge_all(w);
  const std::uint64_t items = w.control.answered.load() - answered0;
  const std::uint64_t sent = w.writes_sent - sent0;
  const std::uint64_t rejected = w.control.rejected.load() - rejected0;
  const std::uint64_t seen = w.responses_seen - seen0, registrations = w.registrations_sent - registrations0;
  if (items != sent || rejected != 0 || seen != registrations) {
    w.error = std::to_string(items) + " of " + std::to_string(sent) + " writes answered, " +
              std::to_string(rejected) + " registrations refused, " + std::to_string(seen) + " of " +
              std::to_string(registrations) + " Registration Responses read";
    state.SkipWithError(w.error.c_str());
  }
  const double control_s = static_cast<double>(w.control.cpu_ns.load() - control0) / 1e9;
  const double lanes_s = static_cast<double>(lane_cpu) / 1e9;
  const double per_m = items == 0 ? 0.0 : 1e6 / static_cast<double>(items);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.counters["per_lane"] =
      benchmark::Counter(static_cast<double>(items) / lanes, benchmark::Counter::kIsRate);
  state.counters["lanes"] = lanes;
  state.counters["associations"] = kAssociationsPerLane * lanes;
  state.counters["lane_cpu_s_per_M"] = lanes_s * per_m;
  state.counters["control_cpu_s_per_M"] = control_s * per_m;
  state.counters["control_busy"] = timed_s > 0 ? control_s / timed_s : 0.0;
  state.counters["lane_watches_per_write"] =
      items == 0 ? 0.0
                 : static_cast<double>(w.control.lane_watches.load() - watches0) / static_cast<double>(items);
}

void BM_LaneWrites(benchmark::State& state) {
  run(state, static_cast<unsigned>(state.range(0)), static_cast<Workload>(state.range(1)),
      static_cast<std::uint32_t>(state.range(2)));
}
// idle_us: the lanes' idle sleep while they wait (poolregd's default dpdk.idle_sleep_us is 50;
// 0 = busy polling, the lanes then compete with the control thread for the CPUs).
BENCHMARK(BM_LaneWrites)
    ->ArgNames({"lanes", "workload", "idle_us"})
    ->Args({1, 0, 50})
    ->Args({2, 0, 50})
    ->Args({1, 1, 50})
    ->Args({2, 1, 50})
    ->Args({1, 0, 0})
    ->Args({2, 0, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (!perf::start_bench_eal(argv[0], "writebench", 1024)) {
    std::fprintf(stderr, "EAL could not start\n");
    return 1;
  }
  int rc = 0;
  if (!setup() || !register_all(*g_world)) {
    std::fprintf(
        stderr, "set-up failed: %s (registered %llu, refused %llu)\n",
        g_world != nullptr ? g_world->error.c_str() : "?",
        static_cast<unsigned long long>(g_world != nullptr ? g_world->control.registrations.load() : 0),
        static_cast<unsigned long long>(g_world != nullptr ? g_world->control.rejected.load() : 0));
    rc = 1;
  } else {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::fprintf(stderr,
                 "source: %llu writes sent, %llu Registration Responses read; control: %llu registrations, "
                 "%llu re-registrations, %llu deregistrations, %llu refused\n",
                 static_cast<unsigned long long>(g_world->writes_sent),
                 static_cast<unsigned long long>(g_world->responses_seen),
                 static_cast<unsigned long long>(g_world->control.registrations.load()),
                 static_cast<unsigned long long>(g_world->control.reregistrations.load()),
                 static_cast<unsigned long long>(g_world->control.deregistrations.load()),
                 static_cast<unsigned long long>(g_world->control.rejected.load()));
  }
  if (g_world != nullptr) {
    if (g_world->control.thread.joinable()) {
      g_world->control.stop.store(true, std::memory_order_release);
      g_world->control.thread.join();
    }
    for (auto& l : g_world->lanes) l->teardown();
  }
  perf::remove_eal_runtime_dir();
  return rc;
}
