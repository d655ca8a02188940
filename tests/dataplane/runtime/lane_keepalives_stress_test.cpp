// LaneKeepAlives under concurrency (issue 16 item 2; suite stress, so the TSan variant runs it):
// two lane threads, each with its own LaneKeepAlives, clock and command ring, send Keep-Alives and
// consume Acks while revalidating their PEs through the lock-free handlespace; meanwhile the
// control thread registers PEs, moves them to the other lane's association (a rebind) and
// deregisters them, handing each (re-)registration to its lane through a LaneRing as
// LaneTransport does.
//
// What must hold: no PE that answers its Keep-Alives is ever reported timed out (a false removal)
// or sent its next Keep-Alive before the interval, a "not ours" report only ever follows a move or
// a deregistration of that PE, and in the end each lane watches exactly the answering PEs bound to
// its association. TSan checks the reads of handlespace records on the lanes against the
// control thread's writes and reclamation.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_ring.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::runtime {
namespace {

constexpr RegistrarId kOwnId = 0x0a0b0c0d;
constexpr std::size_t kLanes = 2;
constexpr PoolElementId kPes = 256;
constexpr int kControlOps = 6000;
constexpr ConnectionId kAssociationOfLane[kLanes] = {101, 202};

// A PE whose ID is a multiple of 3 never answers; every other one answers every Keep-Alive.
bool answers(PoolElementId id) { return id % 3 != 0; }

PoolHandle pool() { return *PoolHandle::from_string("stress"); }

PoolElement make_pe(PoolElementId id, std::uint16_t port) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = kOwnId;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = port;
  pe.user_transport.addresses.push_back(IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(id)));
  pe.policy.type = PolicyType::kRoundRobin;
  return pe;
}

// What the control thread did to each PE, read by the lanes' checks after the run.
struct PeHistory {
  std::atomic<std::uint32_t> left{0};  // moves away from an association + deregistrations
};

class CollectingReports final : public LaneKeepAlives::Reports {
 public:
  void keepalive_report(const KeepAliveReport& r) override { reports.push_back(r); }
  std::vector<KeepAliveReport> reports;
};

struct Lane {
  explicit Lane(std::size_t index) : index(index) {}
  std::size_t index;
  LaneRing commands{4096};  // KeepAliveWatch* from the control thread; nullptr never pushed
  ManualClock clock{1000 * kNsPerSec};
  LaneCounters counters;
  CollectingReports reports;
  std::vector<std::pair<ConnectionId, std::vector<std::uint8_t>>> sent;
  std::unique_ptr<LaneKeepAlives> keepalives;
  std::uint64_t acks_offered = 0;
  std::uint64_t acks_consumed = 0;
  // ASAP-KA-03 under load: an answering PE's next Keep-Alive comes one interval after its Ack.
  std::vector<TimeNs> last_keepalive = std::vector<TimeNs>(kPes + 1, 0);  // 0: none since the watch
  std::uint64_t early_keepalives = 0;
};

std::vector<std::uint8_t> ack_for(const wire::EndpointKeepAlive& ka) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(wire::encode(wire::EndpointKeepAliveAck{ka.pool_handle, ka.pe_id.value_or(0)},
                           wire::WireOptions{}, wire::ByteSink(out))
                  .ok());
  return out;
}

// One lane's loop: commands, 1 ms of its own clock, timers, then the answering PEs' Acks (at once,
// so an answering PE can never miss its timeout), quiescent state.
void run_lane(Lane& lane, const std::atomic<bool>& control_done, TimeNs min_spacing) {
  lane.keepalives->online();
  int idle_after_done = 0;
  while (idle_after_done < 400) {
    if (control_done.load(std::memory_order_acquire)) ++idle_after_done;
    while (void* p = lane.commands.pop()) {
      std::unique_ptr<KeepAliveWatch> w(static_cast<KeepAliveWatch*>(p));
      lane.keepalives->watch(*w);
      lane.last_keepalive[w->id] = 0;  // a watch starts its own interval
    }
    lane.clock.advance(kNsPerMs);
    lane.keepalives->run_timers();
    for (auto& [connection, bytes] : lane.sent) {
      // No ASSERT here: a lane that returned early would stay online and block the end.
      auto m = wire::decode_asap(bytes);
      const auto* ka = m.has_value() ? std::get_if<wire::EndpointKeepAlive>(&m.value()) : nullptr;
      if (ka == nullptr || !ka->pe_id.has_value()) {
        ADD_FAILURE() << "lane " << lane.index << " sent something else than a Keep-Alive with a PE ID";
        continue;
      }
      if (!answers(*ka->pe_id)) continue;
      TimeNs& last = lane.last_keepalive[*ka->pe_id];
      if (last != 0 && lane.clock.now() - last < min_spacing) ++lane.early_keepalives;
      last = lane.clock.now();
      ++lane.acks_offered;
      if (lane.keepalives->consume(connection, ack_for(*ka))) ++lane.acks_consumed;
    }
    lane.sent.clear();
    lane.keepalives->quiescent();
    if ((lane.clock.now() / kNsPerMs) % 64 == 0) std::this_thread::yield();
  }
  lane.keepalives->offline();
}

TEST(LaneKeepAlivesStress, TwoLanesAgainstControlWritesNoFalseTimeout) {
  handlespace::QsbrDomain domain(8);
  handlespace::Handlespace hs(handlespace::HandlespaceConfig{}, domain);
  asap::AsapConfig config;
  config.registrar_id = kOwnId;
  config.keepalive_interval = 20 * kNsPerMs;
  config.keepalive_timeout = 10 * kNsPerMs;
  config.timer_tick = kNsPerMs;

  std::array<std::unique_ptr<Lane>, kLanes> lanes;
  for (std::size_t i = 0; i < kLanes; ++i) {
    lanes[i] = std::make_unique<Lane>(i);
    Lane& lane = *lanes[i];
    lane.keepalives = std::make_unique<LaneKeepAlives>(
        hs, domain, config, lane.counters, lane.reports, lane.clock,
        [&lane](ConnectionId c, std::span<const std::span<const std::uint8_t>> messages,
                std::span<SendResult> results) {
          for (std::size_t k = 0; k < messages.size(); ++k) {
            lane.sent.emplace_back(c, std::vector<std::uint8_t>(messages[k].begin(), messages[k].end()));
            results[k] = SendResult::kSent;
          }
        });
  }

  std::array<PeHistory, kPes + 1> history;
  std::atomic<bool> control_done{false};
  std::vector<std::thread> threads;
  threads.reserve(kLanes);
  for (std::size_t i = 0; i < kLanes; ++i)
    threads.emplace_back(
        [&, i] { run_lane(*lanes[i], control_done, config.keepalive_interval - config.timer_tick); });

  // The control thread (this one): the only writer of the handlespace. EXPECT, not ASSERT, below:
  // returning early would leave the lane threads running.
  std::mt19937 rng(20261207);
  std::array<int, kPes + 1> lane_of{};  // -1: not registered
  lane_of.fill(-1);
  std::uint32_t ticket = 0;
  std::uint64_t moves = 0;
  std::uint64_t deregistrations = 0;
  auto hand_over = [&](PoolElementId id, int lane) {
    auto w = std::make_unique<KeepAliveWatch>();
    w->connection = kAssociationOfLane[lane];
    w->handle = pool();
    w->id = id;
    w->ticket = ++ticket;
    while (!lanes[static_cast<std::size_t>(lane)]->commands.push(w.get())) std::this_thread::yield();
    static_cast<void>(w.release());
  };
  for (int op = 0; op < kControlOps; ++op) {
    const auto id = static_cast<PoolElementId>(1 + rng() % kPes);
    const int was = lane_of[id];
    const unsigned what = rng() % 8;
    handlespace::RegistrationOptions ro;
    if (was < 0) {  // register on a random lane's association
      const int lane = static_cast<int>(rng() % kLanes);
      ro.association = kAssociationOfLane[lane];
      EXPECT_TRUE(hs.register_pe(pool(), make_pe(id, 7000), ro).has_value());
      lane_of[id] = lane;
      hand_over(id, lane);
    } else if (what < 2) {  // moves to the other lane's association (rebind)
      const int lane = 1 - was;
      history[id].left.fetch_add(1, std::memory_order_release);
      ro.association = kAssociationOfLane[lane];
      ro.rebind_from = kAssociationOfLane[was];
      EXPECT_TRUE(
          hs.register_pe(pool(), make_pe(id, static_cast<std::uint16_t>(7000 + op % 100)), ro).has_value());
      lane_of[id] = lane;
      ++moves;
      hand_over(id, lane);
    } else if (what < 3) {  // deregistered
      history[id].left.fetch_add(1, std::memory_order_release);
      EXPECT_TRUE(hs.remove(pool(), id));
      lane_of[id] = -1;
      ++deregistrations;
    } else {  // re-registration over the same association: a new record for the readers
      ro.association = kAssociationOfLane[was];
      EXPECT_TRUE(
          hs.register_pe(pool(), make_pe(id, static_cast<std::uint16_t>(8000 + op % 100)), ro).has_value());
    }
    if (op % 32 == 0) {
      domain.reclaim();
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // let the lanes' clocks run
    }
  }
  control_done.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  domain.synchronize();

  std::uint64_t sent = 0;
  std::uint64_t consumed = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t not_ours = 0;
  for (const auto& lane : lanes) {
    sent += lane->counters.keepalives_sent.get();
    consumed += lane->acks_consumed;
    for (const KeepAliveReport& r : lane->reports.reports) {
      EXPECT_EQ(r.connection, kAssociationOfLane[lane->index]);
      if (r.kind == KeepAliveReport::Kind::kTimedOut) {
        ++timeouts;
        EXPECT_FALSE(answers(r.id)) << "PE " << r.id << " answered every Keep-Alive but timed out on lane "
                                    << lane->index;
      } else {
        ++not_ours;
        EXPECT_GT(history[r.id].left.load(std::memory_order_acquire), 0u)
            << "PE " << r.id << " reported not ours on lane " << lane->index << " but never left";
      }
    }
    // Every Ack of a PE still watched on its association was consumed; an Ack is only refused
    // for a PE the lane had dropped since (none here: Acks follow their Keep-Alive at once).
    EXPECT_EQ(lane->acks_consumed, lane->acks_offered) << "lane " << lane->index;
    EXPECT_EQ(lane->early_keepalives, 0u) << "lane " << lane->index << ": Keep-Alives before the interval";
    // In the end a lane watches exactly the answering PEs bound to its association: every PE that
    // moved away or was deregistered was dropped at its next timer, every silent one timed out.
    std::size_t expected_watched = 0;
    for (PoolElementId id = 1; id <= kPes; ++id)
      if (lane_of[id] == static_cast<int>(lane->index) && answers(id)) ++expected_watched;
    EXPECT_EQ(lane->keepalives->watched(), expected_watched) << "lane " << lane->index;
  }
  std::printf(
      "keep-alives sent %llu, acks consumed %llu, timeouts %llu, not ours %llu, moves %llu, "
      "deregistrations %llu\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(consumed),
      static_cast<unsigned long long>(timeouts), static_cast<unsigned long long>(not_ours),
      static_cast<unsigned long long>(moves), static_cast<unsigned long long>(deregistrations));
  // The run did exercise every path.
  EXPECT_GT(sent, 1000u);
  EXPECT_GT(consumed, 500u);
  EXPECT_GT(timeouts, 0u);
  EXPECT_GT(not_ours, 0u);
  EXPECT_GT(moves, 0u);
  EXPECT_GT(deregistrations, 0u);
}

}  // namespace
}  // namespace poolreg::runtime
