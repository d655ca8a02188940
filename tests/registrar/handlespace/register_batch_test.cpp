// Handlespace::register_batch equals register_pe called request by request, in order.
// Property test (fixed seeds): two handlespaces get the same operations, one through
// register_batch, the other one request at a time; a random mix of new registrations,
// re-registrations with changed addresses and policy values, incompatible policies / transports,
// ownership refusals, invalid PEs, limit overflows and the same PE several times in one batch
// (also new pools created and re-registered inside one batch). Between batches both get the
// same deregistrations, expiries and takeovers. After every batch: identical outcomes, lookup
// results, counters, per-owner Internet-16/32 checksums (and equal to a recomputation) and
// identical handle-table snapshots.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "registrar/handlespace/handlespace.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;

struct Flattened {
  PoolHandle handle;
  PoolElement pe;
  std::uint64_t association;
  std::uint32_t seq;
  friend bool operator==(const Flattened&, const Flattened&) = default;
};

std::vector<Flattened> flatten(const Handlespace& hs) {
  std::vector<Flattened> out;
  SnapshotCursor cursor;
  for (int round = 0; round < 100'000; ++round) {
    auto r = hs.snapshot(cursor, std::nullopt, 61, [&](const PoolHandle& h, const PoolElementView& v) {
      out.push_back({h, v.to_pool_element(), v.association(), v.registration_seq()});
    });
    if (!r.more) break;
    cursor = r.next;
  }
  return out;
}

void expect_same_outcome(const Expected<RegisterOutcome, HandlespaceError>& a,
                         const Expected<RegisterOutcome, HandlespaceError>& b, const std::string& where) {
  ASSERT_EQ(a.has_value(), b.has_value()) << where;
  if (!a.has_value()) {
    EXPECT_EQ(a.error().cause, b.error().cause) << where;
    EXPECT_STREQ(a.error().reason, b.error().reason) << where;
    return;
  }
  EXPECT_EQ(a->pe_created, b->pe_created) << where;
  EXPECT_EQ(a->pool_created, b->pool_created) << where;
  EXPECT_EQ(a->previous_home, b->previous_home) << where;
  EXPECT_EQ(a->registration_seq, b->registration_seq) << where;
}

struct Mix {
  bool short_id_mode;  // ID64 mode with short-ID collision refusal
  std::uint64_t seed;
};

class RegisterBatchProperty : public ::testing::TestWithParam<Mix> {};

TEST_P(RegisterBatchProperty, BatchEqualsSequence) {
  const Mix mix = GetParam();
  HandlespaceConfig config = testing::config_with_shards(4);
  config.limits.max_pools = 10;         // 14 pool names: pool creation is refused sometimes
  config.limits.max_pes_per_pool = 24;  // 40 IDs per pool: so are new PEs
  config.limits.max_addresses_per_pe = 3;
  config.limits.reject_short_id_collisions = mix.short_id_mode;
  QsbrDomain domain_seq(4), domain_batch(4);
  Handlespace seq(config, domain_seq), batch(config, domain_batch);

  std::mt19937_64 rng(mix.seed);
  std::vector<std::string> names;
  for (int i = 0; i < 14; ++i) names.push_back("batch-pool-" + std::to_string(i));
  const PolicyType policies[] = {PolicyType::kRoundRobin, PolicyType::kLeastUsed, PolicyType::kWeightedRandom,
                                 PolicyType::kLeastUsedDegradation, PolicyType::kPriority};
  const RegistrarId owners[] = {0x11, 0x22, 0x33, 0x44};
  TimeNs now = 1;
  std::size_t compared = 0, refused = 0, created = 0, reregistered = 0, duplicates = 0;
  std::map<ErrorCause, std::size_t> causes;

  auto random_pe = [&](std::size_t pool) {
    PoolElement pe;
    pe.id = 1 + rng() % 40;
    if (mix.short_id_mode && rng() % 4 == 0) pe.id |= (1 + rng() % 3) << 32;  // same short ID, other PE
    if (rng() % 100 == 0) pe.id = 0;                                          // invalid
    pe.home_registrar = owners[rng() % std::size(owners)];
    pe.registration_life_ms = static_cast<std::uint32_t>(rng());
    // The pool's usual policy most of the time; another one is refused once the pool exists.
    pe.policy.type =
        rng() % 10 == 0 ? policies[rng() % std::size(policies)] : policies[pool % std::size(policies)];
    pe.policy.weight = static_cast<std::uint32_t>(rng() % 5);
    pe.policy.load = static_cast<std::uint32_t>(rng() % 3 == 0 ? rng() : 0);
    pe.policy.load_degradation = static_cast<std::uint32_t>(rng() % 2 ? rng() % 1000 : 0);
    pe.policy.priority = static_cast<std::uint32_t>(rng() % 3);
    pe.user_transport.protocol = rng() % 20 == 0 ? TransportProtocol::kTcp : TransportProtocol::kSctp;
    pe.user_transport.use = rng() % 20 == 0 ? TransportUse::kDataPlusControl : TransportUse::kDataOnly;
    pe.user_transport.port = static_cast<std::uint16_t>(1 + rng() % 60000);
    const std::size_t addresses =
        rng() % 100 == 0 ? 0 : (rng() % 50 == 0 ? 4 : 1 + rng() % 2);  // 0 and 4 refused
    for (std::size_t a = 0; a < addresses; ++a) {
      if (rng() % 5 == 0) {
        std::array<std::uint8_t, 16> b{};
        b[0] = 0x20;
        b[15] = static_cast<std::uint8_t>(rng());
        pe.user_transport.addresses.push_back(IpAddress::v6(b));
      } else {
        pe.user_transport.addresses.push_back(IpAddress::v4(static_cast<std::uint32_t>(rng())));
      }
    }
    if (rng() % 2) {
      TransportEndpoint asap;
      asap.port = 3863;
      asap.addresses = {IpAddress::v4(static_cast<std::uint32_t>(rng()))};
      pe.asap_transport = asap;
    }
    return pe;
  };

  constexpr int kBatches = 1500;
  for (int b = 0; b < kBatches; ++b) {
    // ---- one batch ----
    const std::size_t n = rng() % 4 == 0 ? rng() % 4 : 1 + rng() % 90;  // also empty and tiny ones
    std::vector<PoolHandle> handles;
    std::vector<PoolElement> pes;
    std::vector<RegistrationOptions> options;
    handles.reserve(n);
    pes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0 && rng() % 6 == 0) {
        // The same PE again inside this batch: new address, maybe another association.
        const std::size_t j = rng() % i;
        handles.push_back(handles[j]);
        PoolElement pe = pes[j];
        if (!pe.user_transport.addresses.empty())
          pe.user_transport.addresses[0] = IpAddress::v4(static_cast<std::uint32_t>(rng()));
        pe.policy.load = static_cast<std::uint32_t>(rng());
        pes.push_back(pe);
        options.push_back({.association = rng() % 3 == 0 ? options[j].association : rng() % 4,
                           .expires_at = rng() % 2 ? 0 : now + 1 + rng() % 5000});
        ++duplicates;
        continue;
      }
      const std::size_t pool = rng() % names.size();
      handles.push_back(handle(names[pool]));
      pes.push_back(random_pe(pool));
      options.push_back({.association = rng() % 3 == 0 ? 0 : 1 + rng() % 3,  // 0 skips the owner check
                         .expires_at = rng() % 2 ? 0 : now + 1 + rng() % 5000});
    }
    std::vector<RegistrationRequest> requests;
    for (std::size_t i = 0; i < n; ++i) requests.push_back({&handles[i], &pes[i], options[i]});

    std::vector<Expected<RegisterOutcome, HandlespaceError>> expected;
    for (std::size_t i = 0; i < n; ++i) expected.push_back(seq.register_pe(handles[i], pes[i], options[i]));
    std::vector<Expected<RegisterOutcome, HandlespaceError>> got(n);
    batch.register_batch(requests, got);

    for (std::size_t i = 0; i < n; ++i) {
      const std::string where = "batch " + std::to_string(b) + " request " + std::to_string(i);
      expect_same_outcome(got[i], expected[i], where);
      if (!expected[i].has_value()) {
        ++refused;
        ++causes[expected[i].error().cause];
      } else if (expected[i]->pe_created)
        ++created;
      else
        ++reregistered;
      // Reader-side lookup gives the same PE in both.
      PoolElement a, c;
      std::uint64_t assoc_a = 0, assoc_c = 0;
      const bool found_a = seq.lookup(handles[i], pes[i].id, [&](const PoolElementView& v) {
        a = v.to_pool_element();
        assoc_a = v.association();
      });
      const bool found_c = batch.lookup(handles[i], pes[i].id, [&](const PoolElementView& v) {
        c = v.to_pool_element();
        assoc_c = v.association();
      });
      ASSERT_EQ(found_a, found_c) << where;
      EXPECT_EQ(a, c) << where;
      EXPECT_EQ(assoc_a, assoc_c) << where;
      ++compared;
    }

    // ---- the same other writer operations on both ----
    const auto dice = rng() % 10;
    if (dice < 4) {
      for (int k = 0; k < 6; ++k) {
        const PoolHandle h = handle(names[rng() % names.size()]);
        const PoolElementId id = 1 + rng() % 40;
        auto ra = seq.deregister(h, id);
        auto rc = batch.deregister(h, id);
        ASSERT_EQ(ra.has_value(), rc.has_value());
        if (ra) {
          EXPECT_EQ(ra->pe, rc->pe);
        }
      }
    } else if (dice < 7) {
      now += rng() % 800;
      std::vector<PoolElementId> ea, ec;
      seq.expire_due(now, [&](const RemovedPe& r) { ea.push_back(r.pe.id); });
      batch.expire_due(now, [&](const RemovedPe& r) { ec.push_back(r.pe.id); });
      EXPECT_EQ(ea, ec);
    } else if (dice < 8) {
      const RegistrarId from = owners[rng() % std::size(owners)], to = owners[rng() % std::size(owners)];
      const bool clear = rng() % 2;
      EXPECT_EQ(seq.change_owner(from, to, clear), batch.change_owner(from, to, clear));
    } else if (dice < 9) {
      const std::uint64_t assoc = 1 + rng() % 3;
      EXPECT_EQ(seq.remove_association(assoc, [](const RemovedPe&) {}),
                batch.remove_association(assoc, [](const RemovedPe&) {}));
    }

    // ---- whole state ----
    ASSERT_EQ(seq.counters().pes, batch.counters().pes) << "batch " << b;
    ASSERT_EQ(seq.counters().pools, batch.counters().pools) << "batch " << b;
    const auto scratch = testing::recompute_checksums(batch);
    for (RegistrarId o : owners) {
      EXPECT_EQ(batch.checksum16(o), seq.checksum16(o)) << "owner " << o << " batch " << b;
      EXPECT_EQ(batch.checksum32(o), seq.checksum32(o)) << "owner " << o << " batch " << b;
      auto it = scratch.by_owner.find(o);
      EXPECT_EQ(batch.checksum_accumulator(o),
                it == scratch.by_owner.end() ? ChecksumAccumulator{} : it->second);
      EXPECT_EQ(batch.pe_count_of_owner(o), seq.pe_count_of_owner(o));
    }
    if (b % 10 == 0 || b == kBatches - 1) {
      ASSERT_EQ(flatten(batch), flatten(seq)) << "batch " << b;
    }
    if (b % 50 == 0) {
      domain_seq.reclaim();
      domain_batch.reclaim();
    }
  }
  // The mix really exercised every branch.
  std::printf("batches %d: %zu created, %zu re-registered, %zu refused, %zu in-batch duplicates\n", kBatches,
              created, reregistered, refused, duplicates);
  EXPECT_GT(created, 1000u);
  EXPECT_GT(reregistered, 5000u);
  EXPECT_GT(duplicates, 5000u);
  for (ErrorCause cause :
       {ErrorCause::kInvalidValues, ErrorCause::kNonUniquePeIdentifier,
        ErrorCause::kInconsistentPoolingPolicy, ErrorCause::kLackOfResources,
        ErrorCause::kInconsistentTransportType, ErrorCause::kInconsistentDataControlConfiguration})
    EXPECT_GT(causes[cause], 20u) << "cause " << static_cast<int>(cause);
  EXPECT_EQ(compared, created + reregistered + refused);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RegisterBatchProperty,
                         ::testing::Values(Mix{false, 20261123}, Mix{false, 7}, Mix{true, 4242}));

// Every refusal cause reaches the batch caller at the right position, the others still apply.
TEST(RegisterBatch, RefusalsInTheMiddleOfABatch) {
  QsbrDomain domain(2);
  HandlespaceConfig config = testing::config_with_shards(2);
  config.limits.max_pes_per_pool = 2;
  Handlespace hs(config, domain);
  const PoolHandle p = handle("P"), q = handle("Q");
  PoolElement a = testing::make_pe(1, 0x11), b = testing::make_pe(2, 0x11), c = testing::make_pe(3, 0x11);
  PoolElement lu = testing::make_pe(4, 0x11, 0x0a000004, 5000, PolicyType::kLeastUsed);
  PoolElement moved = a;
  moved.user_transport.addresses = {IpAddress::v4(0x0b000001)};
  PoolElement invalid = testing::make_pe(0, 0x11);
  const std::vector<RegistrationRequest> requests = {
      {&p, &a, {.association = 7}},      // new pool, new PE
      {&p, &b, {}},                      // new PE
      {&p, &c, {}},                      // pool full (0x6)
      {&p, &lu, {}},                     // policy mismatch (0x5)
      {&p, &moved, {.association = 8}},  // other association (0x4)
      {&p, &moved, {.association = 7}},  // re-registration, new address
      {&q, &invalid, {}},                // PE ID 0 (0x3), no pool Q created
      {&q, &lu, {}},                     // new pool Q
  };
  std::vector<Expected<RegisterOutcome, HandlespaceError>> out(requests.size());
  hs.register_batch(requests, out);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_TRUE(out[0]->pool_created);
  ASSERT_TRUE(out[1].has_value());
  EXPECT_FALSE(out[1]->pool_created);
  EXPECT_EQ(out[2].error().cause, ErrorCause::kLackOfResources);
  EXPECT_EQ(out[3].error().cause, ErrorCause::kInconsistentPoolingPolicy);
  EXPECT_EQ(out[4].error().cause, ErrorCause::kNonUniquePeIdentifier);
  ASSERT_TRUE(out[5].has_value());
  EXPECT_FALSE(out[5]->pe_created);
  EXPECT_EQ(out[5]->registration_seq, 2u);
  EXPECT_EQ(out[6].error().cause, ErrorCause::kInvalidValues);
  ASSERT_TRUE(out[7].has_value());
  EXPECT_TRUE(out[7]->pool_created);
  EXPECT_TRUE(hs.lookup(p, 1, [](const PoolElementView& v) {
    EXPECT_EQ(*v.user_addresses().begin(), IpAddress::v4(0x0b000001));
  }));
  EXPECT_EQ(hs.counters().pes, 3u);
  EXPECT_EQ(hs.counters().pools, 2u);
}

TEST(RegisterBatch, EmptyBatchAndShortOutcomeSpanDoNothing) {
  QsbrDomain domain(2);
  Handlespace hs(testing::config_with_shards(1), domain);
  const PoolHandle p = handle("P");
  const PoolElement a = testing::make_pe(1, 0x11);
  hs.register_batch({}, {});
  const std::vector<RegistrationRequest> requests = {{&p, &a, {}}, {&p, &a, {}}};
  std::vector<Expected<RegisterOutcome, HandlespaceError>> out(1);
  hs.register_batch(requests, out);
  EXPECT_EQ(hs.counters().pes, 0u);
  out.resize(2);
  hs.register_batch(requests, out);
  EXPECT_TRUE(out[0]->pe_created);
  EXPECT_FALSE(out[1]->pe_created);
  EXPECT_EQ(out[1]->registration_seq, 2u);
}

}  // namespace
}  // namespace poolreg::handlespace
