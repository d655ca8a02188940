// Building blocks of registrar/asap: KeepAliveScheduler, OwnedPeTable, TokenBucket,
// address scopes, Server Announce builder (ASAP-ANN-01), counters export.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "registrar/asap/asap_counters.hpp"
#include "registrar/asap/keep_alive_scheduler.hpp"
#include "registrar/asap/owned_pe_table.hpp"
#include "registrar/asap/rate_limiter.hpp"
#include "registrar/asap/server_announce.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::asap {
namespace {

constexpr TimeNs kMs = kNsPerMs;

std::vector<std::uint32_t> run(KeepAliveScheduler& s, TimeNs now) {
  std::vector<std::uint32_t> fired;
  s.run_due(now, [&](std::uint32_t id) { fired.push_back(id); });
  return fired;
}

TEST(KeepAliveScheduler, FiresAtDeadlineNotBefore) {
  KeepAliveScheduler s(10 * kMs, 64, 0);
  s.arm(3, 5000 * kMs);
  EXPECT_TRUE(s.armed(3));
  EXPECT_TRUE(run(s, 4999 * kMs).empty());
  EXPECT_EQ(run(s, 5000 * kMs), std::vector<std::uint32_t>{3});
  EXPECT_FALSE(s.armed(3));
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(s.next_due().has_value());
}

TEST(KeepAliveScheduler, DisarmAndRearm) {
  KeepAliveScheduler s(10 * kMs, 64, 0);
  s.arm(1, 100 * kMs);
  s.arm(2, 100 * kMs);
  s.disarm(1);
  s.arm(2, 300 * kMs);  // move
  EXPECT_TRUE(run(s, 200 * kMs).empty());
  EXPECT_EQ(run(s, 300 * kMs), std::vector<std::uint32_t>{2});
  s.disarm(7);  // never armed: no-op
}

TEST(KeepAliveScheduler, DeadlinesBeyondOneRotation) {
  KeepAliveScheduler s(1 * kMs, 64, 0);  // one rotation = 64 ms
  s.arm(1, 1000 * kMs);
  s.arm(2, 10 * kMs);
  for (TimeNs t = 0; t < 1000 * kMs; t += 7 * kMs) {
    auto f = run(s, t);
    if (t >= 10 * kMs && t < 17 * kMs) EXPECT_EQ(f, std::vector<std::uint32_t>{2});
    else EXPECT_TRUE(f.empty()) << t;
  }
  EXPECT_EQ(run(s, 1000 * kMs), std::vector<std::uint32_t>{1});
}

TEST(KeepAliveScheduler, LargeJumpFiresEverythingDue) {
  KeepAliveScheduler s(1 * kMs, 64, 0);
  for (std::uint32_t i = 0; i < 500; ++i) s.arm(i, (i + 1) * 3 * kMs);
  auto f = run(s, 10'000 * kMs);
  EXPECT_EQ(f.size(), 500u);
  EXPECT_EQ(std::set<std::uint32_t>(f.begin(), f.end()).size(), 500u);
}

TEST(KeepAliveScheduler, PastDeadlineFiresOnNextRun) {
  KeepAliveScheduler s(10 * kMs, 64, 1000 * kMs);
  run(s, 2000 * kMs);
  s.arm(4, 1500 * kMs);  // already due
  ASSERT_TRUE(s.next_due().has_value());
  EXPECT_LE(*s.next_due(), 2010 * kMs);
  EXPECT_EQ(run(s, 2000 * kMs), std::vector<std::uint32_t>{4});
}

TEST(KeepAliveScheduler, CallbackMayRearmAndCancel) {
  KeepAliveScheduler s(10 * kMs, 64, 0);
  s.arm(1, 100 * kMs);
  s.arm(2, 100 * kMs);
  std::vector<std::uint32_t> fired;
  s.run_due(100 * kMs, [&](std::uint32_t id) {
    fired.push_back(id);
    s.disarm(id == 1 ? 2 : 1);  // whichever fires first cancels the other
    s.arm(id, 200 * kMs);
  });
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(run(s, 200 * kMs), fired);
}

TEST(KeepAliveScheduler, NextDueNeverInThePastAfterRun) {
  KeepAliveScheduler s(10 * kMs, 4096, 0);
  s.arm(1, 5000 * kMs);
  ASSERT_TRUE(s.next_due());
  EXPECT_GE(*s.next_due(), 4990 * kMs);
  EXPECT_LE(*s.next_due(), 5010 * kMs);
  // A wake-up at next_due with nothing due yet must move next_due forward (no spinning).
  TimeNs now = 0;
  for (int guard = 0; guard < 100 && s.size() > 0; ++guard) {
    const TimeNs due = *s.next_due();
    ASSERT_GE(due, now) << "next_due went back";
    now = due;
    run(s, now);
  }
  EXPECT_EQ(s.size(), 0u);
  EXPECT_LE(now, 5010 * kMs);
}

TEST(KeepAliveScheduler, ManyTimersRandomOperationsMatchOracle) {
  KeepAliveScheduler s(5 * kMs, 256, 0);
  std::map<std::uint32_t, TimeNs> oracle;
  std::uint64_t rng = 12345;
  auto next = [&] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
  };
  TimeNs now = 0;
  for (int step = 0; step < 20000; ++step) {
    const std::uint32_t id = static_cast<std::uint32_t>(next() % 3000);
    switch (next() % 4) {
      case 0:
      case 1: {
        const TimeNs at = now + (next() % 20000) * kMs / 10;
        s.arm(id, at);
        oracle[id] = at;
        break;
      }
      case 2:
        s.disarm(id);
        oracle.erase(id);
        break;
      default: {
        now += (next() % 500) * kMs;
        std::set<std::uint32_t> expect;
        for (auto it = oracle.begin(); it != oracle.end();) {
          if (it->second <= now) {
            expect.insert(it->first);
            it = oracle.erase(it);
          } else {
            ++it;
          }
        }
        auto f = run(s, now);
        ASSERT_EQ(std::set<std::uint32_t>(f.begin(), f.end()), expect) << "step " << step;
        ASSERT_EQ(f.size(), expect.size());
      }
    }
    ASSERT_EQ(s.size(), oracle.size());
  }
}

TEST(OwnedPeTable, InsertFindEraseAgainstOracle) {
  OwnedPeTable t;
  std::map<std::pair<std::string, PoolElementId>, OwnedPeTable::Index> oracle;
  std::uint64_t rng = 99;
  auto next = [&] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
  };
  for (int step = 0; step < 50000; ++step) {
    const std::string pool = "pool" + std::to_string(next() % 7);
    const PoolElementId id = 1 + next() % 2000;
    const PoolHandle h = *PoolHandle::from_string(pool);
    if (next() % 3 != 0) {
      bool created = false;
      const auto i = t.insert(h, id, created);
      const auto it = oracle.find({pool, id});
      EXPECT_EQ(created, it == oracle.end());
      if (it != oracle.end()) {
        ASSERT_EQ(it->second, i);
      }
      oracle[{pool, id}] = i;
      ASSERT_EQ(t.at(i).id, id);
      ASSERT_EQ(t.at(i).handle, h);
    } else {
      const auto i = t.find(h, id);
      const auto it = oracle.find({pool, id});
      ASSERT_EQ(i == OwnedPeTable::kNotFound, it == oracle.end());
      if (it != oracle.end()) {
        ASSERT_EQ(i, it->second);
        t.erase(i);
        oracle.erase(it);
      }
    }
    ASSERT_EQ(t.size(), oracle.size());
  }
  for (const auto& [key, index] : oracle)
    ASSERT_EQ(t.find(*PoolHandle::from_string(key.first), key.second), index);
}

TEST(TokenBucket, DisabledAlwaysAllows_SEC_01) {
  RateLimit off;
  TokenBucket b(off, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.try_take(off, 0));
}

TEST(TokenBucket, BurstThenRate_SEC_01) {
  RateLimit lim{10.0, 5.0};
  TokenBucket b(lim, 0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.try_take(lim, 0));
  EXPECT_FALSE(b.try_take(lim, 0));
  EXPECT_FALSE(b.try_take(lim, 50 * kMs));  // half a token
  EXPECT_TRUE(b.try_take(lim, 100 * kMs));
  // Long idle refills to the burst, not beyond.
  int n = 0;
  while (b.try_take(lim, 100 * kNsPerSec) && n < 100) ++n;
  EXPECT_EQ(n, 5);
}

TEST(ServerAnnounce, PrIdAndSctpTransport_ASAP_ANN_01) {
  std::vector<std::uint8_t> out;
  const IpAddress addrs[] = {*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.1.1")};
  ASSERT_TRUE(encode_server_announce(0x0a0b0c0d, addrs, 3863, out).ok());
  auto r = wire::decode_asap(out);
  ASSERT_TRUE(r.has_value());
  auto& m = std::get<wire::ServerAnnounce>(r.value());
  EXPECT_EQ(m.registrar_id, 0x0a0b0c0du);
  ASSERT_EQ(m.transports.size(), 1u);
  EXPECT_EQ(m.transports[0].protocol, TransportProtocol::kSctp);
  EXPECT_EQ(m.transports[0].port, 3863);
  EXPECT_EQ(m.transports[0].addresses, std::vector<IpAddress>(std::begin(addrs), std::end(addrs)));
  // RFC encoding even for 64-bit IDs: only the short form, no extension TLV.
  out.clear();
  ASSERT_TRUE(encode_server_announce(0x1234567800000001ULL, addrs, 3863, out, 3863).ok());
  auto r2 = wire::decode_asap(out);
  ASSERT_TRUE(r2.has_value());
  auto& m2 = std::get<wire::ServerAnnounce>(r2.value());
  EXPECT_EQ(m2.registrar_id, 1u);
  ASSERT_EQ(m2.transports.size(), 2u);
  EXPECT_EQ(m2.transports[1].protocol, TransportProtocol::kTcp);
  out.clear();
  ASSERT_TRUE(encode_server_announce(5, {}, 3863, out).ok());
  EXPECT_EQ(out.size(), 8u);  // header + PR ID only
}

TEST(AsapCounters, ExportNamesIncludeCausesAndKinds) {
  AsapCounters c;
  c.registrations = 3;
  c.errors_sent_by_cause[3] = 2;
  c.decode_errors_by_kind[static_cast<std::size_t>(wire::DecodeErrorKind::kTlvTruncated)] = 1;
  std::map<std::string, std::uint64_t> seen;
  c.for_each([&](std::string_view name, std::uint64_t v) { seen[std::string(name)] = v; });
  EXPECT_EQ(seen.at("registrations"), 3u);
  EXPECT_EQ(seen.at("errors_sent.invalid_values"), 2u);
  bool kind_found = false;
  for (const auto& [name, v] : seen) kind_found = kind_found || (name.rfind("decode_errors.", 0) == 0 && v == 1);
  EXPECT_TRUE(kind_found);
}

}  // namespace
}  // namespace poolreg::asap
