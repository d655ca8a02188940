// Property test (fixed seed): 200 000 random writer operations across several owners, pools
// and shards, checked against a reference model; after every batch the incremental
// Internet-16/32 checksums of every owner equal a from-scratch recomputation (ENRP-AUD-02).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "registrar/handlespace/handlespace.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;
using testing::make_pe;

struct ModelPe {
  RegistrarId home;
  std::uint32_t address;
  std::uint64_t association;
  TimeNs expires_at;
};
using Key = std::pair<std::string, PoolElementId>;

TEST(HandlespaceProperty, IncrementalChecksumsEqualRecomputation_ENRP_AUD_02) {
  QsbrDomain domain(4);
  Handlespace hs(testing::config_with_shards(4), domain);
  std::mt19937_64 rng(20261123);
  std::map<Key, ModelPe> model;
  const RegistrarId owners[] = {0x11, 0x22, 0x33, 0x44, 0xfffffffeULL};
  const std::string pools[] = {"EchoPool", "Pool1", "a", "bb", "ccc", "dddd", "eeeee", "long-pool-handle-32-bytes-long!!"};
  TimeNs now = 1;
  std::size_t checks = 0;
  constexpr int kOps = 200'000;
  constexpr int kBatch = 2'000;

  auto remove_from_model = [&](const RemovedPe& r) {
    auto it = model.find({std::string(r.handle.to_display()), r.pe.id});
    ASSERT_NE(it, model.end());
    EXPECT_EQ(it->second.home, r.pe.home_registrar);
    model.erase(it);
  };

  for (int op = 1; op <= kOps; ++op) {
    const auto dice = rng() % 100;
    const std::string& pool = pools[rng() % std::size(pools)];
    // IDs: small range so re-registrations and collisions are frequent; some 64-bit ones.
    PoolElementId id = 1 + rng() % 300;
    if (rng() % 8 == 0) id |= (rng() % 4) << 40;
    const RegistrarId home = owners[rng() % std::size(owners)];
    if (dice < 55) {
      const std::uint32_t addr = static_cast<std::uint32_t>(rng());
      const std::uint64_t assoc = rng() % 3 == 0 ? 0 : 1 + rng() % 5;
      const TimeNs expiry = rng() % 2 ? 0 : now + 1 + rng() % 5000;
      auto r = hs.register_pe(handle(pool), make_pe(id, home, addr), {.association = assoc, .expires_at = expiry});
      auto it = model.find({pool, id});
      const bool refused = it != model.end() && assoc != 0 && it->second.association != 0 && it->second.association != assoc;
      ASSERT_EQ(r.has_value(), !refused) << "op " << op;
      if (r.has_value()) {
        EXPECT_EQ(r->pe_created, it == model.end());
        model[{pool, id}] = ModelPe{home, addr, assoc, expiry};
      } else {
        EXPECT_EQ(r.error().cause, ErrorCause::kNonUniquePeIdentifier);
      }
    } else if (dice < 80) {
      auto r = hs.deregister(handle(pool), id);
      auto it = model.find({pool, id});
      ASSERT_EQ(r.has_value(), it != model.end());
      if (r) {
        EXPECT_EQ(r->pe.home_registrar, it->second.home);
        EXPECT_EQ(r->pe.user_transport.addresses.at(0), IpAddress::v4(it->second.address));
        model.erase(it);
      }
    } else if (dice < 85) {
      const RegistrarId from = owners[rng() % std::size(owners)];
      const bool clear = rng() % 2;
      std::size_t expected = 0;
      for (auto& [k, v] : model)
        if (v.home == from) {
          ++expected;
          v.home = home;
          if (clear) v.expires_at = 0;
        }
      EXPECT_EQ(hs.change_owner(from, home, clear), expected);
    } else if (dice < 95) {
      now += rng() % 200;
      hs.expire_due(now, remove_from_model);
      for (auto& [k, v] : model) ASSERT_TRUE(v.expires_at == 0 || v.expires_at > now);
    } else {
      const std::uint64_t assoc = 1 + rng() % 5;
      std::size_t expected = 0;
      for (auto& [k, v] : model) expected += v.association == assoc;
      EXPECT_EQ(hs.remove_association(assoc, remove_from_model), expected);
    }

    if (op % kBatch == 0) {
      ASSERT_EQ(hs.counters().pes, model.size()) << "op " << op;
      std::set<std::string> model_pools;
      for (auto& [k, v] : model) model_pools.insert(k.first);
      ASSERT_EQ(hs.counters().pools, model_pools.size());
      // Content equals the model.
      std::size_t seen = 0;
      SnapshotCursor cursor;
      for (int round = 0; round < 100'000; ++round) {
        auto r = hs.snapshot(cursor, std::nullopt, 97, [&](const PoolHandle& h, const PoolElementView& v) {
          ++seen;
          auto it = model.find({h.to_display(), v.id()});
          ASSERT_NE(it, model.end());
          EXPECT_EQ(v.home(), it->second.home);
          EXPECT_EQ(v.association(), it->second.association);
          EXPECT_EQ(*v.user_addresses().begin(), IpAddress::v4(it->second.address));
        });
        if (!r.more) break;
        cursor = r.next;
      }
      ASSERT_EQ(seen, model.size());
      // Checksums: incremental == recomputed from scratch, for every owner (also empty ones).
      auto scratch = testing::recompute_checksums(hs);
      for (RegistrarId o : owners) {
        ChecksumAccumulator model_acc;
        std::size_t count = 0;
        for (auto& [k, v] : model)
          if (v.home == o) {
            ++count;
            model_acc.add(checksum16_contribution(handle(k.first).bytes(), k.second),
                          checksum32_contribution(handle(k.first).bytes(), k.second));
          }
        EXPECT_EQ(hs.checksum_accumulator(o), scratch.by_owner[o]) << "owner " << o << " op " << op;
        EXPECT_EQ(hs.checksum_accumulator(o), model_acc) << "owner " << o << " op " << op;
        EXPECT_EQ(hs.checksum16(o), model_acc.checksum16());
        EXPECT_EQ(hs.checksum32(o), model_acc.checksum32());
        EXPECT_EQ(hs.pe_count_of_owner(o), count);
        ++checks;
      }
      domain.reclaim();
    }
  }
  EXPECT_EQ(checks, std::size(owners) * (kOps / kBatch));
}

// Association teardown in bounded steps (remove_association with a small `max`) interleaved with
// registrations that move PEs between associations, deregistrations with the SEC-02 check and
// expiries: every step removes exactly min(max, PEs left) PEs of that association, a closing
// association's PEs can be taken over by another association (no 0x4), and the checksums stay
// equal to a recomputation. Association numbers are never reused once closed (as connection IDs).
TEST(HandlespaceProperty, BoundedAssociationTeardownKeepsIndexesAndChecksums) {
  QsbrDomain domain(4);
  Handlespace hs(testing::config_with_shards(4), domain);
  std::mt19937_64 rng(20261206);
  std::map<Key, ModelPe> model;
  const RegistrarId owners[] = {0x11, 0x22, 0x33};
  const std::string pools[] = {"EchoPool", "Pool1", "a", "bb", "ccc", "dddd"};
  std::vector<std::uint64_t> live = {1, 2, 3, 4};
  std::uint64_t next_association = 5;
  std::set<std::uint64_t> closing;
  TimeNs now = 1;
  constexpr int kOps = 100'000;
  std::size_t steps = 0, takeovers = 0;

  auto count_of = [&](std::uint64_t assoc) {
    std::size_t n = 0;
    for (auto& [k, v] : model) n += v.association == assoc;
    return n;
  };
  auto forget_if_gone = [&](std::uint64_t assoc) {
    if (closing.contains(assoc) && count_of(assoc) == 0) closing.erase(assoc);
  };
  auto step = [&](std::uint64_t assoc, std::size_t max) {
    const std::size_t before = count_of(assoc);
    std::size_t removed = 0;
    const std::size_t n = hs.remove_association(assoc, [&](const RemovedPe& r) {
      EXPECT_EQ(r.association, assoc);
      auto it = model.find({std::string(r.handle.to_display()), r.pe.id});
      ASSERT_NE(it, model.end());
      EXPECT_EQ(it->second.association, assoc);
      model.erase(it);
      ++removed;
    }, max);
    ASSERT_EQ(n, std::min(max, before));
    ASSERT_EQ(removed, n);
    if (count_of(assoc) > 0) closing.insert(assoc);
    forget_if_gone(assoc);
    ++steps;
  };
  auto conflicts = [&](std::uint64_t bound, std::uint64_t assoc) {
    return bound != 0 && assoc != 0 && bound != assoc && !closing.contains(bound);
  };

  for (int op = 1; op <= kOps; ++op) {
    const auto dice = rng() % 100;
    const std::string& pool = pools[rng() % std::size(pools)];
    const PoolElementId id = 1 + rng() % 400;
    const RegistrarId home = owners[rng() % std::size(owners)];
    if (dice < 60) {
      const std::uint32_t addr = static_cast<std::uint32_t>(rng());
      const std::uint64_t assoc = rng() % 8 == 0 ? 0 : live[rng() % live.size()];
      const TimeNs expiry = rng() % 4 ? 0 : now + 1 + rng() % 5000;
      auto r = hs.register_pe(handle(pool), make_pe(id, home, addr), {.association = assoc, .expires_at = expiry});
      auto it = model.find({pool, id});
      const bool refused = it != model.end() && conflicts(it->second.association, assoc);
      ASSERT_EQ(r.has_value(), !refused) << "op " << op;
      if (r.has_value()) {
        const std::uint64_t previous = it != model.end() ? it->second.association : 0;
        if (previous != 0 && previous != assoc && closing.contains(previous)) ++takeovers;
        model[{pool, id}] = ModelPe{home, addr, assoc, expiry};
        if (previous != 0) forget_if_gone(previous);
      }
    } else if (dice < 75) {
      const std::uint64_t assoc = rng() % 4 == 0 ? 0 : live[rng() % live.size()];
      auto r = hs.deregister_from(handle(pool), id, assoc);
      auto it = model.find({pool, id});
      if (it != model.end() && conflicts(it->second.association, assoc)) {
        ASSERT_FALSE(r.has_value()) << "op " << op;
        continue;
      }
      ASSERT_TRUE(r.has_value()) << "op " << op;
      ASSERT_EQ(r->has_value(), it != model.end());
      if (it != model.end()) {
        const std::uint64_t previous = it->second.association;
        model.erase(it);
        forget_if_gone(previous);
      }
    } else if (dice < 83) {
      now += rng() % 200;
      hs.expire_due(now, [&](const RemovedPe& r) {
        auto it = model.find({std::string(r.handle.to_display()), r.pe.id});
        ASSERT_NE(it, model.end());
        const std::uint64_t previous = it->second.association;
        model.erase(it);
        forget_if_gone(previous);
      });
    } else if (dice < 88) {
      // The association is lost: its first bounded step; a new association takes its place.
      const std::size_t i = rng() % live.size();
      const std::uint64_t lost = live[i];
      live[i] = next_association++;
      step(lost, 1 + rng() % 40);
    } else if (!closing.empty()) {
      // A later pass of a teardown under way.
      auto it = closing.begin();
      std::advance(it, static_cast<long>(rng() % closing.size()));
      step(*it, 1 + rng() % 40);
    }

    if (op % 1'000 == 0) {
      ASSERT_EQ(hs.counters().pes, model.size()) << "op " << op;
      auto scratch = testing::recompute_checksums(hs);
      for (RegistrarId o : owners) {
        ChecksumAccumulator model_acc;
        for (auto& [k, v] : model)
          if (v.home == o)
            model_acc.add(checksum16_contribution(handle(k.first).bytes(), k.second),
                          checksum32_contribution(handle(k.first).bytes(), k.second));
        ASSERT_EQ(hs.checksum_accumulator(o), scratch.by_owner[o]) << "owner " << o << " op " << op;
        ASSERT_EQ(hs.checksum_accumulator(o), model_acc) << "owner " << o << " op " << op;
      }
      domain.reclaim();
    }
  }
  // Finish every teardown: afterwards no PE of a lost association is left.
  while (!closing.empty()) step(*closing.begin(), 1'000);
  for (auto& [k, v] : model) EXPECT_TRUE(v.association == 0 || std::count(live.begin(), live.end(), v.association));
  EXPECT_GT(steps, 1'000u);
  EXPECT_GT(takeovers, 10u);  // the interleaving really moved PEs off closing associations
}

}  // namespace
}  // namespace poolreg::handlespace
