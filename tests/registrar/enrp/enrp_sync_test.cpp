// EnrpServer handle table synchronisation, start-up (mentor) and audit repair
// (ENRP-START-01, ENRP-SYNC-01..03, ENRP-AUD-01).
#include <gtest/gtest.h>

#include <set>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

PoolHandle pool_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "pool-%03d", i);
  return handle(buf);
}

void fill_owned(SimNode& n, int pools, int per_pool, PoolElementId first_id = 1, bool announce = false) {
  PoolElementId id = first_id;
  for (int p = 0; p < pools; ++p)
    for (int i = 0; i < per_pool; ++i, ++id)
      register_owned(n, pool_name(p), make_pe(id, n.id, 0x0b000000u + static_cast<std::uint32_t>(id)), announce);
}

class EnrpSyncTest : public EnrpCluster {};

TEST_F(EnrpSyncTest, StartupSyncOf10000PesInBoundedChunks_ENRP_START_01_ENRP_SYNC_01_03) {
  a = &net.add_node(kA);
  SimNode& d = net.add_node(0x4000);
  net.mesh_static_peers();
  fill_owned(*a, 100, 100);  // 10 000 PEs owned by A
  ASSERT_EQ(count_all(*a->hs), 10000u);
  const TimeNs t0 = net.clock.now();
  net.start_all();
  net.advance(1 * kNsPerSec);

  // The mentor's whole table arrived within the discovery window.
  EXPECT_TRUE(d.srv().startup_complete());
  EXPECT_LT(net.clock.now() - t0, EnrpConfig::fast().mentor_discovery);
  EXPECT_EQ(count_all(*d.hs), 10000u);
  EXPECT_EQ(d.hs->pe_count_of_owner(kA), 10000u);
  EXPECT_EQ(d.hs->checksum16(kA), a->hs->checksum16(kA));
  EXPECT_EQ(d.hs->checksum32(kA), a->hs->checksum32(kA));
  for (int p = 0; p < 100; p += 33)
    for (PoolElementId id = 1 + static_cast<PoolElementId>(p) * 100; id <= static_cast<PoolElementId>(p + 1) * 100; id += 17)
      EXPECT_TRUE(find_pe(*d.hs, pool_name(p), id).has_value()) << id;

  // D asked its mentor for the full table (W=0), once per response.
  auto requests = net.sent_between(d.index, a->index, EnrpType::kHandleTableRequest);
  ASSERT_FALSE(requests.empty());
  for (const auto& m : requests) EXPECT_FALSE(std::get<wire::HandleTableRequest>(m).own_children_only);
  EXPECT_FALSE(net.sent_between(d.index, a->index, EnrpType::kListRequest).empty());

  // Every response is bounded (128 PEs, 1400 bytes), M=1 on all but the last.
  const auto raw = net.raw_sent(a->index, d.index, EnrpType::kHandleTableResponse);
  ASSERT_GE(raw.size(), 10000u / 128);
  EXPECT_EQ(raw.size(), requests.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    EXPECT_LE(raw[i]->bytes.size(), 1400u);
    auto m = decode_msg(raw[i]->bytes);
    ASSERT_TRUE(m.has_value());
    const auto& r = std::get<wire::HandleTableResponse>(*m);
    EXPECT_EQ(r.more, i + 1 < raw.size()) << i;
    std::size_t n = 0;
    for (const auto& pool : r.pools) {
      EXPECT_FALSE(pool.elements.empty());
      n += pool.elements.size();
    }
    EXPECT_LE(n, 128u);
    EXPECT_GE(n, 1u);
    total += n;
  }
  EXPECT_EQ(total, 10000u);
  EXPECT_EQ(d.srv().counters().sync_pes_received, 10000u);

  // Afterwards the audit agrees.
  net.advance(cycle());
  auto dp = d.srv().peers();
  ASSERT_NE(peer_by_id(dp, kA), nullptr);
  EXPECT_TRUE(peer_by_id(dp, kA)->in_sync);
  EXPECT_EQ(d.srv().counters().audit_mismatches, 0u);
}

TEST_F(EnrpSyncTest, ResponsesBoundedByElementCount_ENRP_SYNC_01) {
  EnrpConfig cfg = EnrpConfig::fast();
  cfg.max_elements_per_response = 7;
  cfg.max_response_bytes = 65535;
  a = &net.add_node(kA, cfg);
  SimNode& d = net.add_node(0x4000, cfg);
  net.mesh_static_peers();
  fill_owned(*a, 3, 10);  // 30 PEs: 7+7+7+7+2
  net.start_all();
  net.advance(1 * kNsPerSec);
  EXPECT_EQ(d.hs->pe_count_of_owner(kA), 30u);
  const auto raw = net.raw_sent(a->index, d.index, EnrpType::kHandleTableResponse);
  ASSERT_EQ(raw.size(), 5u);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto r = std::get<wire::HandleTableResponse>(*decode_msg(raw[i]->bytes));
    std::size_t n = 0;
    for (const auto& pool : r.pools) n += pool.elements.size();
    EXPECT_EQ(n, i + 1 < raw.size() ? 7u : 2u);
    EXPECT_EQ(r.more, i + 1 < raw.size());
  }
}

TEST_F(EnrpSyncTest, AuditRepairsCorruptedViewWithinOneCycle_ENRP_AUD_01) {
  make3();
  start_and_settle();
  for (int i = 0; i < 50; ++i) register_owned(*a, pool_name(i % 3), make_pe(100 + i, kA));
  net.pump();
  ASSERT_EQ(b->hs->pe_count_of_owner(kA), 50u);
  const auto before = b->srv().counters();

  // B silently loses one of A's PEs and holds a stale one A does not have.
  ASSERT_TRUE(b->srv().corrupt_view_for_test(pool_name(1), 101));
  handlespace::RegistrationOptions o;
  o.expires_at = net.clock.now() + 60 * kNsPerSec;
  ASSERT_TRUE(b->hs->register_pe(pool_name(7), make_pe(999, kA), o).has_value());
  EXPECT_NE(b->hs->checksum16(kA), a->hs->checksum16(kA));

  net.advance(cycle());
  EXPECT_EQ(b->hs->pe_count_of_owner(kA), 50u);
  EXPECT_TRUE(find_pe(*b->hs, pool_name(1), 101).has_value());
  EXPECT_FALSE(find_pe(*b->hs, pool_name(7), 999).has_value());
  EXPECT_EQ(b->hs->checksum16(kA), a->hs->checksum16(kA));
  const auto& after = b->srv().counters();
  EXPECT_GE(after.audit_mismatches, before.audit_mismatches + 1);
  EXPECT_GE(after.sync_completed, before.sync_completed + 1);
  EXPECT_EQ(after.sync_pes_purged, before.sync_pes_purged + 1);
  // The repair asked A for its own PEs only (W=1).
  auto reqs = net.sent_between(b->index, a->index, EnrpType::kHandleTableRequest);
  ASSERT_FALSE(reqs.empty());
  EXPECT_TRUE(std::get<wire::HandleTableRequest>(reqs.back()).own_children_only);
  // C was never out of sync.
  EXPECT_EQ(c->srv().counters().audit_mismatches, 0u);
  net.advance(cycle());
  EXPECT_TRUE(peer_by_id(b->srv().peers(), kA)->in_sync);
}

TEST_F(EnrpSyncTest, ForceAuditSyncsWithEveryPeer_ENRP_AUD_01) {
  make3();
  start_and_settle();
  for (int i = 0; i < 10; ++i) register_owned(*b, pool_name(0), make_pe(500 + i, kB));
  net.pump();
  const auto before = a->srv().counters().sync_completed;
  a->srv().force_audit();
  net.pump();
  EXPECT_EQ(a->srv().counters().sync_completed, before + 2);
  EXPECT_EQ(a->hs->pe_count_of_owner(kB), 10u);
  EXPECT_EQ(a->srv().counters().sync_pes_purged, 0u);
}

class EnrpSyncExternal : public ::testing::Test {
 protected:
  void make(bool x_static) {
    a = &net.add_node(0x1000);
    x = &net.add_external(0x5000);
    if (x_static) net.set_static_peers(*a, {x->index});
    a->srv().start();
    net.pump();
    cid = x_static ? x->connections_up.front() : net.connect_external(x->index, a->index);
  }
  std::vector<wire::HandleTableResponse> responses() {
    std::vector<wire::HandleTableResponse> out;
    for (auto& [c, bytes] : x->inbox) {
      auto m = decode_msg(bytes);
      if (m && std::holds_alternative<wire::HandleTableResponse>(*m))
        out.push_back(std::get<wire::HandleTableResponse>(*m));
    }
    return out;
  }
  // Runs a complete table sync as requester X; returns every (handle, PE) received.
  std::vector<std::pair<PoolHandle, PoolElement>> full_sync(bool w) {
    x->inbox.clear();
    std::vector<std::pair<PoolHandle, PoolElement>> got;
    for (int round = 0; round < 1000; ++round) {
      x->inbox.clear();
      net.inject(x->index, cid, wire::HandleTableRequest{0x5000, 0x1000, w});
      net.pump();
      auto r = responses();
      EXPECT_EQ(r.size(), 1u);
      if (r.empty()) break;
      std::set<std::string> seen;
      for (const auto& pool : r[0].pools) {
        EXPECT_TRUE(seen.insert(pool.pool_handle.to_display()).second) << "pool split within one response";
        EXPECT_FALSE(pool.elements.empty());
        for (const auto& pe : pool.elements) got.emplace_back(pool.pool_handle, pe);
      }
      if (!r[0].more) break;
    }
    return got;
  }
  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* x = nullptr;
  ConnectionId cid = 0;
};

TEST_F(EnrpSyncExternal, UnknownRequesterGetsReject_ENRP_SYNC_02) {
  make(/*x_static=*/false);
  net.inject(x->index, cid, wire::HandleTableRequest{0x5000, 0x1000, false});
  net.pump();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reject);
  EXPECT_TRUE(r[0].pools.empty());
  EXPECT_EQ(r[0].receiver, 0x5000u);
}

TEST_F(EnrpSyncExternal, OwnChildrenFlagAndContinuation_ENRP_SYNC_01) {
  make(/*x_static=*/true);
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
  net.pump();
  fill_owned(*a, 2, 150, 1);  // 300 own PEs
  handlespace::RegistrationOptions o;
  o.expires_at = net.clock.now() + 600 * kNsPerSec;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(a->hs->register_pe(pool_name(1), make_pe(9000 + i, 0x7777), o).has_value());

  auto own = full_sync(true);
  EXPECT_EQ(own.size(), 300u);
  std::set<PoolElementId> ids;
  for (auto& [h, pe] : own) {
    EXPECT_EQ(pe.home_registrar, 0x1000u);
    ids.insert(pe.id);
  }
  EXPECT_EQ(ids.size(), 300u);  // each exactly once across the continuation

  auto all = full_sync(false);
  EXPECT_EQ(all.size(), 305u);
}

TEST_F(EnrpSyncExternal, RejectedSyncKeepsPes_ENRP_SYNC_03) {
  make(/*x_static=*/true);
  net.advance(6 * kNsPerSec);  // start-up window over (X never answered the mentor request)
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
  wire::HandleUpdate u;
  u.sender = 0x5000;
  u.receiver = 0x1000;
  u.pool_handle = pool_name(0);
  u.element = make_pe(77, 0x5000);
  net.inject(x->index, cid, u);
  net.pump();
  ASSERT_TRUE(find_pe(*a->hs, pool_name(0), 77).has_value());
  // X announces a checksum that differs (it claims to own nothing): A starts a W=1 sync...
  x->inbox.clear();
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false, 0xffff));
  net.pump();
  EXPECT_EQ(a->srv().counters().audit_mismatches, 1u);
  ASSERT_TRUE(peer_by_id(a->srv().peers(), 0x5000)->sync_running);
  // ...which X rejects: status cleared, nothing purged.
  wire::HandleTableResponse rej;
  rej.sender = 0x5000;
  rej.receiver = 0x1000;
  rej.reject = true;
  net.inject(x->index, cid, rej);
  net.pump();
  EXPECT_FALSE(peer_by_id(a->srv().peers(), 0x5000)->sync_running);
  EXPECT_TRUE(find_pe(*a->hs, pool_name(0), 77).has_value());
  // A complete, empty answer (M=0) purges the PE that X no longer has.
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false, 0xffff));
  net.pump();
  wire::HandleTableResponse empty;
  empty.sender = 0x5000;
  empty.receiver = 0x1000;
  net.inject(x->index, cid, empty);
  net.pump();
  EXPECT_FALSE(find_pe(*a->hs, pool_name(0), 77).has_value());
}

}  // namespace
}  // namespace poolreg::enrp::testing
