// Per-frame cost of the steering decision with the alias table (runtime/alias_owner_table.hpp),
// as the lanes make it (kernel_lane.cpp deliver_or_steer, dpdk packet_processor.cpp steer_away):
// steer_lane() alone (the decision before aliases existed), plus the table's empty() check with
// nothing published (every single-homed deployment), and plus a lookup for every frame that
// steers to the lane while N aliases are published (misses: ordinary peers; hits: frames from
// published aliases). 4096 peers (random IPv4, random UDP ports) cycled; 2 lanes, lane 0 decides.
// What it leaves out: the frame's parse and the engine (the decision is a small part of a
// frame's cost), cache misses of a table bigger than the caches under real traffic mixes, and
// writers (publishing happens at association up / ASCONF, not per frame).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/runtime/alias_owner_table.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace {

using poolreg::runtime::AliasOwnerTable;
using poolreg::runtime::steer_lane;

struct Peer {
  std::array<std::uint8_t, 4> ip;
  std::uint16_t port;
};

std::vector<Peer> peers(std::uint32_t seed, std::size_t n) {
  std::mt19937 rng(seed);
  std::vector<Peer> out(n);
  for (auto& p : out) {
    const std::uint32_t a = rng();
    p.ip = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
            static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    p.port = static_cast<std::uint16_t>(1024 + rng() % 60000);
  }
  return out;
}

constexpr unsigned kLanes = 2;
constexpr unsigned kSelf = 0;

// The decision of kernel_lane.cpp / packet_processor.cpp without knows_peer() (only asked on a hit
// held by another lane).
inline unsigned decide(const AliasOwnerTable* aliases, const Peer& p) {
  unsigned owner = steer_lane(p.ip.data(), false, p.port, kLanes);
  if (owner == kSelf && aliases != nullptr && !aliases->empty()) {
    const unsigned holder = aliases->lookup(p.ip.data(), false, p.port, false);
    if (holder != AliasOwnerTable::kNoLane && holder != kSelf) owner = holder;
  }
  return owner;
}

void BM_SteerLaneOnly(benchmark::State& state) {
  const auto frames = peers(1, 4096);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(steer_lane(frames[i].ip.data(), false, frames[i].port, kLanes));
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SteerLaneOnly);

void BM_SteerWithEmptyAliasTable(benchmark::State& state) {
  const auto frames = peers(1, 4096);
  AliasOwnerTable table;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decide(&table, frames[i]));
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SteerWithEmptyAliasTable);

// arg: aliases published (held by lane 1); the frames are other peers (lookups miss).
void BM_SteerWithAliasesMiss(benchmark::State& state) {
  const auto frames = peers(1, 4096);
  AliasOwnerTable table;
  for (const Peer& a : peers(2, static_cast<std::size_t>(state.range(0))))
    table.publish(a.ip.data(), false, a.port, false, 1);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decide(&table, frames[i]));
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SteerWithAliasesMiss)->Arg(1)->Arg(1000)->Arg(65536);

// arg: aliases published (held by lane 1); every frame comes from one of them (lookups hit
// when the alias steers to lane 0).
void BM_SteerWithAliasesHit(benchmark::State& state) {
  const auto aliases = peers(2, static_cast<std::size_t>(state.range(0)));
  AliasOwnerTable table;
  for (const Peer& a : aliases) table.publish(a.ip.data(), false, a.port, false, 1);
  std::vector<Peer> frames;
  for (std::size_t k = 0; frames.size() < 4096; ++k) frames.push_back(aliases[k % aliases.size()]);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decide(&table, frames[i]));
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SteerWithAliasesHit)->Arg(1000)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
