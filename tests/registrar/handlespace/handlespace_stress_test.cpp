// Concurrency stress (suite stress, TSan in CI): reader threads resolve and look up PEs
// continuously while one writer per shard churns registrations, re-registrations with new
// addresses, deregistrations and takeovers on the same pools. Every PE a reader sees carries a
// self-check (its registration life is a hash of all its other fields): a torn or half-written
// PE, or one read after being freed, fails the check (or is reported by TSan/ASan). Half of the
// registrations go through the batched path (register_batch).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "registrar/handlespace/handlespace.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;

// The home PR is not covered: takeovers change it legitimately.
std::uint32_t self_check(PoolElementId id, std::uint32_t a0, std::uint32_t a1, std::uint16_t port,
                         std::uint32_t weight, std::uint16_t asap_port) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::uint64_t v : {id, std::uint64_t{a0}, std::uint64_t{a1}, std::uint64_t{port}, std::uint64_t{weight},
                          std::uint64_t{asap_port}}) {
    h ^= v;
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

PoolElement make_checked_pe(PoolElementId id, RegistrarId home, std::uint32_t nonce, PolicyType policy) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = home;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = static_cast<std::uint16_t>(nonce | 1);
  const std::uint32_t a0 = nonce * 2654435761u, a1 = ~nonce;
  pe.user_transport.addresses = {IpAddress::v4(a0), IpAddress::v4(a1)};
  if (nonce % 3 == 0) {  // some PEs with an IPv6 address in the middle (longer record)
    std::array<std::uint8_t, 16> b{};
    b[0] = 0x20;
    b[15] = static_cast<std::uint8_t>(nonce);
    pe.user_transport.addresses.insert(pe.user_transport.addresses.begin() + 1, IpAddress::v6(b));
  }
  pe.policy.type = policy;
  pe.policy.weight = 1 + nonce % 1000;
  pe.policy.load = nonce;
  pe.policy.load_degradation = 1000;
  TransportEndpoint asap;
  asap.port = static_cast<std::uint16_t>(nonce >> 16);
  asap.addresses = {IpAddress::v4(nonce)};
  pe.asap_transport = asap;
  pe.registration_life_ms = self_check(id, a0, a1, pe.user_transport.port, pe.policy.weight, asap.port);
  return pe;
}

std::uint32_t v4_value(const IpAddress& a) {
  return (std::uint32_t{a.data()[0]} << 24) | (std::uint32_t{a.data()[1]} << 16) | (std::uint32_t{a.data()[2]} << 8) |
         a.data()[3];
}

bool view_is_consistent(const PoolElementView& v) {
  auto addrs = v.user_addresses();
  if (addrs.size() < 2) return false;
  const std::uint32_t a0 = v4_value(addrs[0]);
  const std::uint32_t a1 = v4_value(addrs[addrs.size() - 1]);
  if (v.asap_addresses().size() != 1) return false;
  const std::uint32_t nonce = v4_value(v.asap_addresses()[0]);
  if (a0 != nonce * 2654435761u || a1 != ~nonce) return false;
  if (v.home() < 100 || v.home() > 102) return false;
  return v.registration_life_ms() ==
         self_check(v.id(), a0, a1, v.user_port(), v.policy().weight, v.asap_port());
}

TEST(HandlespaceStress, ReadersNeverSeeHalfWrittenPes) {
  constexpr std::size_t kShards = 2;
  constexpr int kReaders = 2;
  const auto kDuration = std::chrono::seconds(3);
  QsbrDomain domain(16);
  Handlespace hs(testing::config_with_shards(kShards, 256), domain);

  const PolicyType policies[] = {PolicyType::kRoundRobin, PolicyType::kLeastUsedDegradation,
                                 PolicyType::kWeightedRandom, PolicyType::kLeastUsed};
  std::vector<std::string> pools;
  std::vector<PolicyType> pool_policy;
  for (int i = 0; i < 8; ++i) {
    pools.push_back("stress-" + std::to_string(i));
    pool_policy.push_back(policies[i % 4]);
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> seen{0}, bad{0}, resolutions{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      ReaderContext ctx(domain, 1000 + r);
      ctx.online();
      std::mt19937 rng(r);
      for (std::uint64_t i = 0; i < 1'000'000'000ULL && !stop.load(std::memory_order_relaxed); ++i) {
        const auto& name = pools[rng() % pools.size()];
        hs.resolve(handle(name), 1 + rng() % 4, ctx, [&](const PoolElementView& v) {
          seen.fetch_add(1, std::memory_order_relaxed);
          if (!view_is_consistent(v)) bad.fetch_add(1, std::memory_order_relaxed);
        });
        hs.lookup(handle(name), 1 + rng() % 64, [&](const PoolElementView& v) {
          if (!view_is_consistent(v)) bad.fetch_add(1, std::memory_order_relaxed);
        });
        resolutions.fetch_add(1, std::memory_order_relaxed);
        if (i % 64 == 0) {
          HandlespaceCounters c = hs.counters();
          (void)c;
          hs.for_each_pool([&](const PoolSummary& s) { (void)s.pe_count; });
        }
        ctx.quiescent();
        if (i % 4096 == 0) {  // go offline now and then, as a blocking thread would
          ctx.offline();
          std::this_thread::yield();
          ctx.online();
        }
      }
      ctx.offline();
    });
  }

  // One writer thread per shard (each shard has exactly one writer).
  std::atomic<std::uint64_t> writes{0};
  std::vector<std::thread> writers;
  const auto deadline = std::chrono::steady_clock::now() + kDuration;
  for (std::size_t shard = 0; shard < kShards; ++shard) {
    writers.emplace_back([&, shard] {
      std::mt19937 rng(77 + static_cast<unsigned>(shard));
      std::vector<std::size_t> mine;
      for (std::size_t p = 0; p < pools.size(); ++p)
        if (hs.shard_of(handle(pools[p])) == shard) mine.push_back(p);
      if (mine.empty()) return;
      for (std::uint64_t i = 0; i < 100'000'000ULL && std::chrono::steady_clock::now() < deadline; ++i) {
        const std::size_t p = mine[rng() % mine.size()];
        const PoolElementId id = 1 + rng() % 64;
        const RegistrarId home = 100 + rng() % 3;
        const auto dice = rng() % 100;
        if (dice < 35) {
          auto r = hs.register_pe(handle(pools[p]), make_checked_pe(id, home, static_cast<std::uint32_t>(rng()), pool_policy[p]));
          EXPECT_TRUE(r.has_value());
        } else if (dice < 70) {
          // The batched path (register_batch): up to 24 requests on this shard's pools, same
          // PE possibly several times.
          const std::size_t n = 1 + rng() % 24;
          std::vector<PoolHandle> handles;
          std::vector<PoolElement> pes;
          std::vector<RegistrationRequest> requests;
          handles.reserve(n);
          pes.reserve(n);
          for (std::size_t k = 0; k < n; ++k) {
            const std::size_t q = mine[rng() % mine.size()];
            handles.push_back(handle(pools[q]));
            pes.push_back(make_checked_pe(1 + rng() % 64, 100 + rng() % 3, static_cast<std::uint32_t>(rng()),
                                          pool_policy[q]));
            requests.push_back({&handles.back(), &pes.back(), {}});
          }
          std::vector<Expected<RegisterOutcome, HandlespaceError>> outcomes(n);
          hs.register_batch(requests, outcomes);
          for (const auto& r : outcomes) EXPECT_TRUE(r.has_value());
        } else if (dice < 97) {
          hs.deregister(handle(pools[p]), id);
        } else {
          hs.change_owner(shard, 100 + rng() % 3, 100 + rng() % 3, false);
        }
        writes.fetch_add(1, std::memory_order_relaxed);
        if (i % 128 == 0) {
          hs.drain_feedback(shard);
          domain.reclaim();
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  for (auto& r : readers) r.join();
  domain.synchronize();

  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_GT(writes.load(), 0u);
  // Checksums still exact after the concurrent run.
  auto scratch = testing::recompute_checksums(hs);
  for (RegistrarId o : {100, 101, 102}) EXPECT_EQ(hs.checksum_accumulator(o), scratch.by_owner[o]);
  std::printf("stress: %llu writes, %llu resolutions, %llu PEs verified, feedback dropped %llu\n",
              static_cast<unsigned long long>(writes.load()), static_cast<unsigned long long>(resolutions.load()),
              static_cast<unsigned long long>(seen.load()),
              static_cast<unsigned long long>(hs.counters().feedback_dropped));
}

// Pools appear and vanish constantly (ASAP-REG-02) and the pool tables grow and shrink while
// readers resolve the same handles: readers must only ever see complete PEs or unknown pools.
TEST(HandlespaceStress, PoolsComeAndGoUnderReaders) {
  const auto kDuration = std::chrono::seconds(3);
  QsbrDomain domain(8);
  Handlespace hs(testing::config_with_shards(2, 64), domain);
  constexpr int kPools = 300;
  std::vector<PoolHandle> handles;
  for (int i = 0; i < kPools; ++i) handles.push_back(handle("flicker-" + std::to_string(i)));

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0}, seen{0}, unknown{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      ReaderContext ctx(domain, 5 + r);
      ctx.online();
      std::mt19937 rng(100 + r);
      for (std::uint64_t i = 0; i < 1'000'000'000ULL && !stop.load(std::memory_order_relaxed); ++i) {
        const auto st = hs.resolve(handles[rng() % kPools], 2, ctx, [&](const PoolElementView& v) {
          seen.fetch_add(1, std::memory_order_relaxed);
          if (!view_is_consistent(v)) bad.fetch_add(1, std::memory_order_relaxed);
        });
        if (st == ResolveStatus::kUnknownPool) unknown.fetch_add(1, std::memory_order_relaxed);
        ctx.quiescent();
      }
      ctx.offline();
    });
  }
  std::vector<std::thread> writers;
  const auto deadline = std::chrono::steady_clock::now() + kDuration;
  for (std::size_t shard = 0; shard < 2; ++shard) {
    writers.emplace_back([&, shard] {
      std::mt19937 rng(9 + static_cast<unsigned>(shard));
      std::vector<int> mine;
      for (int p = 0; p < kPools; ++p)
        if (hs.shard_of(handles[p]) == shard) mine.push_back(p);
      for (std::uint64_t i = 0; i < 100'000'000ULL && std::chrono::steady_clock::now() < deadline; ++i) {
        const int p = mine[rng() % mine.size()];
        const PoolElementId id = 1 + rng() % 2;
        if (rng() % 2) {
          EXPECT_TRUE(hs.register_pe(handles[p],
                                     make_checked_pe(id, 100, static_cast<std::uint32_t>(rng()),
                                                     p % 2 ? PolicyType::kRoundRobin : PolicyType::kRandom))
                          .has_value());
        } else {
          hs.deregister(handles[p], id);
        }
        if (i % 64 == 0) {
          hs.drain_feedback(shard);
          domain.reclaim();
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  for (auto& r : readers) r.join();
  domain.synchronize();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_GT(unknown.load(), 0u);
  auto scratch = testing::recompute_checksums(hs);
  EXPECT_EQ(hs.checksum_accumulator(100), scratch.by_owner[100]);
  std::printf("flicker: %llu PEs verified, %llu unknown-pool answers, %zu pools left\n",
              static_cast<unsigned long long>(seen.load()), static_cast<unsigned long long>(unknown.load()),
              hs.counters().pools);
}

}  // namespace
}  // namespace poolreg::handlespace
