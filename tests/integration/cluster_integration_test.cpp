// Integration: a three-registrar ENRP cluster (three poolregd processes on 127.0.0.1, static peers,
// the fast ENRP profile shortened to the smallest allowed timers) driven by the client library
// and the control socket (cluster_integration_fixture.hpp). Each registrar runs its own usrsctp
// stack on its own UDP port: every daemon names its peers' UDP encapsulation ports (enrp.peers
// udp_port) and the test process's (for keep-alives to PEs after a takeover,
// --sctp-remote-udp-port).
// Spec IDs: ENRP-UPD-* handle updates, ENRP-TKO-* takeover, ENRP-SYNC-* table sync,
// ENRP-AUD-01 audit, ENRP-LIFE / asap.md 4.7 expiry.
#include "tests/integration/cluster_integration_fixture.hpp"
#include "tests/integration/foreign_pe.hpp"

namespace poolreg::integration {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const auto& kIds = kClusterIds;

// ENRP-UPD-01..03: registrations, re-registrations (mobility) and deregistrations at A reach B
// and C; ENRP-TKO-01..05: after kill -9 of B exactly one of A and C takes over B's PEs, which stay
// resolvable and get a Keep-Alive with H=1 from their new home; B restarted on the same ports
// with the same ID syncs and agrees on every checksum.
TEST_F(PoolregdCluster, HandleUpdatesPropagateTakeoverAndRestart) {
  auto pe_a = pe_at(0);
  auto pu_b = pu_at(1);
  auto pu_c = pu_at(2);
  const PoolHandle pool_a = handle_of("cluster-a");
  for (PoolElementId id : {11u, 12u, 13u})
    ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool_a, id, TransportProtocol::kSctp)).ok());

  EXPECT_EQ(ids_of(resolve_until(*pu_b, pool_a, has_ids({11, 12, 13}), 15s)),
            (std::set<PoolElementId>{11, 12, 13}));
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool_a, has_ids({11, 12, 13}), 15s)),
            (std::set<PoolElementId>{11, 12, 13}));

  // Mobility at A, seen at C.
  const IpAddress moved = IpAddress::v4({127, 0, 0, 2});
  client::PeUpdate update;
  update.addresses = std::vector<IpAddress>{moved};
  ASSERT_TRUE(client::reregister_and_wait(*pe_a, pool_a, 11, update).ok());
  auto seen = resolve_until(
      *pu_c, pool_a,
      [&](const ResolutionResult& r) {
        for (const auto& e : r.elements)
          if (e.id == 11 && e.user_transport.addresses == std::vector<IpAddress>{moved}) return true;
        return false;
      },
      10s);
  bool moved_seen = false;
  for (const auto& e : seen.elements) moved_seen |= e.id == 11 && e.user_transport.addresses[0] == moved;
  EXPECT_TRUE(moved_seen) << "re-registration at A not visible at C";
  for (const auto& e : seen.elements) EXPECT_EQ(e.home_registrar, kIds[0]);

  // Deregistration at A, gone at C.
  ASSERT_TRUE(client::deregister_and_wait(*pe_a, pool_a, 13).ok());
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool_a, has_ids({11, 12}), 10s)), (std::set<PoolElementId>{11, 12}));

  // PEs homed at B.
  auto pe_b = pe_at(1);
  std::set<RegistrarId> new_homes;
  client::PoolElementEvents events;
  events.on_home_changed = [&](const PoolHandle&, PoolElementId, RegistrarId home) {
    new_homes.insert(home);
  };
  pe_b->set_events(events);
  const PoolHandle pool_b = handle_of("cluster-b");
  for (PoolElementId id : {21u, 22u})
    ASSERT_TRUE(client::register_and_wait(*pe_b, registration(pool_b, id, TransportProtocol::kSctp)).ok());
  auto pu_a = pu_at(0);
  EXPECT_EQ(ids_of(resolve_until(*pu_a, pool_b, has_ids({21, 22}), 15s)), (std::set<PoolElementId>{21, 22}));
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool_b, has_ids({21, 22}), 15s)), (std::set<PoolElementId>{21, 22}));

  // kill -9 B: dead-peer detection (last heard 2 s + no response 1 s) and takeover (1 s).
  daemons_[1]->kill_now();
  pu_b.reset();
  const auto deadline = std::chrono::steady_clock::now() + 25s;
  bool always_resolvable = true;
  while (std::chrono::steady_clock::now() < deadline && new_homes.empty()) {
    for (auto* pu : {pu_a.get(), pu_c.get()}) {
      if (ids_of(client::resolve_and_wait(*pu, pool_b, 16, 4s)) != std::set<PoolElementId>{21, 22})
        always_resolvable = false;
      // A's PEs stay too.
      if (ids_of(client::resolve_and_wait(*pu, pool_a, 16, 4s)) != std::set<PoolElementId>{11, 12})
        always_resolvable = false;
    }
    client::run_until(
        loop_, [] { return false; }, 200ms);
  }
  EXPECT_TRUE(always_resolvable) << "a PE was not resolvable at A or C after B died";
  ASSERT_FALSE(new_homes.empty()) << "no Keep-Alive with H=1 from a takeover registrar within 25 s";
  // Let the other PE's Keep-Alive arrive too, then: one winner, known to both survivors.
  client::run_until(
      loop_, [] { return false; }, 500ms);
  ASSERT_EQ(new_homes.size(), 1u) << "PEs of B probed by more than one registrar";
  const RegistrarId winner = *new_homes.begin();
  EXPECT_TRUE(winner == kIds[0] || winner == kIds[2]) << std::hex << winner;
  EXPECT_EQ(enrp_counter(*daemons_[0], "takeovers_won") + enrp_counter(*daemons_[2], "takeovers_won"), 1u);
  auto homes_are_winner = [&](const ResolutionResult& r) {
    return ids_of(r) == std::set<PoolElementId>{21, 22} &&
           std::all_of(r.elements.begin(), r.elements.end(),
                       [&](const PoolElement& e) { return e.home_registrar == winner; });
  };
  EXPECT_TRUE(homes_are_winner(resolve_until(*pu_a, pool_b, homes_are_winner, 10s)));
  EXPECT_TRUE(homes_are_winner(resolve_until(*pu_c, pool_b, homes_are_winner, 10s)));

  // Restart B on the same ports with the same ID: it is recognised by its endpoint, syncs from a
  // mentor, and every registrar then agrees with every other on every checksum.
  ASSERT_TRUE(daemons_[1]->start_and_wait()) << daemons_[1]->log();
  pu_b = pu_at(1);
  EXPECT_EQ(ids_of(resolve_until(*pu_b, pool_a, has_ids({11, 12}), 15s)), (std::set<PoolElementId>{11, 12}));
  EXPECT_TRUE(homes_are_winner(resolve_until(*pu_b, pool_b, homes_are_winner, 15s)));
  std::string why;
  EXPECT_TRUE(eventually_serving([&] { return cluster_in_sync(&why); }, 15s)) << why;
}

// ENRP-SYNC-01 (enrp.md 3, 4.6): a registrar that starts late learns the PEs registered
// meanwhile from a peer's handle table.
class PoolregdClusterLateC : public PoolregdCluster {
 protected:
  PoolregdClusterLateC() { late_c_ = true; }
};

TEST_F(PoolregdClusterLateC, LateRegistrarLearnsHandlespaceBySync) {
  // A and B only: they register and sync; C starts afterwards and must get A's PEs by a table sync.
  auto pe_a = pe_at(0);
  const PoolHandle pool = handle_of("cluster-sync");
  for (PoolElementId id : {41u, 42u, 43u})
    ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool, id, TransportProtocol::kSctp)).ok());
  auto pu_b = pu_at(1);
  EXPECT_EQ(ids_of(resolve_until(*pu_b, pool, has_ids({41, 42, 43}), 10s)),
            (std::set<PoolElementId>{41, 42, 43}));
  ASSERT_TRUE(daemons_[2]->start_and_wait()) << daemons_[2]->log();
  auto pu_c = pu_at(2);
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({41, 42, 43}), 15s)),
            (std::set<PoolElementId>{41, 42, 43}));
  EXPECT_GE(enrp_counter(*daemons_[2], "sync_pes_received"), 3u);
  std::string why;
  EXPECT_TRUE(eventually_serving([&] { return cluster_in_sync(&why); }, 10s)) << why;
}

// asap.md 4.7: a registrar expires a peer-owned PE at its registration life unless an ADD
// refreshes it; the home registrar does not (keep-alives decide there).
TEST_F(PoolregdCluster, PeerOwnedPeExpiresAfterItsLifetime) {
  auto pe_a = pe_at(0, ClientTransport::kTcp);
  auto pu_a = pu_at(0);
  auto pu_c = pu_at(2);
  const PoolHandle pool = handle_of("cluster-life");
  ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool, 31, TransportProtocol::kTcp, 2000)).ok());
  const auto registered = std::chrono::steady_clock::now();
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({31}), 10s)), std::set<PoolElementId>{31});
  auto gone = resolve_until(*pu_c, pool, has_ids({}), 15s);
  EXPECT_EQ(ids_of(gone), std::set<PoolElementId>{}) << "peer-owned PE never expired at C";
  EXPECT_GE(std::chrono::steady_clock::now() - registered, 1500ms) << "expired before its lifetime";
  // The home registrar still has it (its association is alive and acks keep-alives).
  EXPECT_EQ(ids_of(client::resolve_and_wait(*pu_a, pool, 16)), std::set<PoolElementId>{31});
}

// A registrar killed and restarted at once on the same ports (crash + restart before anybody
// noticed) rejoins and resyncs. All three share 127.0.0.1: the peers must map C's new
// associations to C by address AND port (PeerTable::find_static_by_endpoint), not to whichever
// static peer has the address.
TEST_F(PoolregdCluster, RestartedRegistrarRejoins) {
  auto pe_a = pe_at(0);
  const PoolHandle pool = handle_of("cluster-restart");
  for (PoolElementId id : {51u, 52u})
    ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool, id, TransportProtocol::kSctp)).ok());
  {
    auto pu_c = pu_at(2);
    EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({51, 52}), 10s)), (std::set<PoolElementId>{51, 52}));
  }
  ASSERT_TRUE(daemons_[2]->start_and_wait()) << daemons_[2]->log();  // kill -9 and start again
  auto pu_c = pu_at(2);
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({51, 52}), 20s)), (std::set<PoolElementId>{51, 52}));
  std::string why;
  EXPECT_TRUE(eventually_serving([&] { return cluster_in_sync(&why); }, 10s)) << why;
  // Nobody took anybody over, and A still owns its PEs everywhere.
  for (auto& d : daemons_) EXPECT_EQ(enrp_counter(*d, "takeovers_won"), 0u) << d->name();
  for (const auto& e : client::resolve_and_wait(*pu_c, pool, 16).elements)
    EXPECT_EQ(e.home_registrar, kIds[0]);
}

// ENRP-AUD-01: a PE silently lost from C's view (test-only control command, no Handle Update)
// makes C's checksum of A's PEs differ from the one A announces; the audit on A's next Presence
// resyncs A's PEs at C, within one presence cycle (plus the round trips).
TEST_F(PoolregdCluster, AuditRepairsCorruptedViewWithinOnePresenceCycle) {
  auto pe_a = pe_at(0);
  const PoolHandle pool = handle_of("cluster-audit");
  for (PoolElementId id : {61u, 62u, 63u})
    ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool, id, TransportProtocol::kSctp)).ok());
  Poolregd& c = *daemons_[2];
  ASSERT_TRUE(eventually_serving([&] { return pool_pe_count(c, pool) == 3; }, 10s));
  std::string why;
  ASSERT_TRUE(eventually_serving([&] { return cluster_in_sync(&why); }, 10s)) << why;
  const std::uint64_t mismatches_before = enrp_counter(c, "audit_mismatches");

  json r = control_call(c, "test-corrupt-view", json{{"handle", "cluster-audit"}, {"id", 62}});
  ASSERT_TRUE(r.is_object() && r.value("removed", false)) << r.dump();
  const auto corrupted = std::chrono::steady_clock::now();
  EXPECT_EQ(pool_pe_count(c, pool), 2);  // really gone (no Handle Update re-added it)
  // A PE that is not there cannot be deleted again.
  EXPECT_TRUE(
      control_call(c, "test-corrupt-view", json{{"handle", "cluster-audit"}, {"id", 62}}).contains("error"));

  ASSERT_TRUE(eventually_serving([&] { return pool_pe_count(c, pool) == 3; }, 10s))
      << "audit never repaired C";
  const auto repair = std::chrono::steady_clock::now() - corrupted;
  std::cerr << "audit repair took " << std::chrono::duration_cast<std::chrono::milliseconds>(repair).count()
            << " ms (presence cycle " << kPresenceCycle.count() << " ms)\n";
  // One full cycle until A's next Presence, plus request/response round trips and the 100 ms
  // polling; generous for a loaded 2-core CI box and sanitizer builds.
  EXPECT_LT(repair, kPresenceCycle + 1500ms);
  EXPECT_GT(enrp_counter(c, "audit_mismatches"), mismatches_before);
  EXPECT_TRUE(eventually_serving([&] { return cluster_in_sync(&why); }, 10s)) << why;
  // The repaired PE is A's, with its registration intact.
  json pe = control_call(c, "pe", json{{"handle", "cluster-audit"}, {"id", 62}});
  ASSERT_TRUE(pe.contains("pe")) << pe.dump();
  EXPECT_EQ(pe["pe"]["home"], "0x10000001");
}

// Issue 14 item 1 across the cluster, default configuration (address check on): a mobile PE at
// A (threaded usrsctp, RFC 5061 ASCONF with AUTH) starts on 127.0.0.1, adds the host's second
// address (ADD-IP), re-registers with it, then deletes 127.0.0.1 (DELETE-IP). A PU at C sees the
// old address, then the new one with it, then only the new one (A prunes it and sends a Handle
// Update), and the PE is there in every answer (no DEL reaches C).
class PoolregdClusterAddressCheck : public PoolregdCluster {
 protected:
  PoolregdClusterAddressCheck() { address_check_ = true; }
};

TEST_F(PoolregdClusterAddressCheck, MakeBeforeBreakIsSeenAtAnotherRegistrar_ASAP_REG_06) {
  const char* helper = std::getenv("KERNEL_SCTP_PEER");
  if (helper == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  const std::optional<IpAddress> other = second_host_address();
  if (!other) GTEST_SKIP() << "no second IPv4 address on this host";
  const IpAddress second = *other;
  const IpAddress lo = IpAddress::v4({127, 0, 0, 1});
  ForeignPe pe(helper, *daemons_[0], "127.0.0.1");
  ASSERT_TRUE(pe.started());
  ASSERT_EQ(pe.line().rfind("UP ", 0), 0u);
  auto pu_c = pu_at(2);
  const PoolHandle pool = handle_of("cluster-mobile");
  auto registered = [&](std::vector<IpAddress> addresses) {
    return pe.tell(hex_of(registration_of("cluster-mobile", 403, std::move(addresses))) + "\n") &&
           ForeignPe::registration_accepted(pe.line()) == true;
  };
  bool seen_once = false;
  bool always_there = true;  // once C knew the PE, every answer holds it
  auto sees = [&](const std::vector<IpAddress>& want, std::chrono::milliseconds limit) {
    auto r = resolve_until(*pu_c, pool, [&](const ResolutionResult& r) {
      const bool there = ids_of(r) == std::set<PoolElementId>{403};
      if (seen_once && !there) always_there = false;
      seen_once = seen_once || there;
      return there && r.elements[0].user_transport.addresses == want;
    }, limit);
    return r.elements.size() == 1 && r.elements[0].user_transport.addresses == want;
  };
  ASSERT_TRUE(registered({lo}));
  ASSERT_TRUE(sees({lo}, 10s));
  ASSERT_TRUE(pe.tell("ADD " + second.to_string() + "\n"));
  ASSERT_EQ(pe.line(), "DONE ADD " + second.to_string() + "\n");
  // The ASCONF travels ahead of the re-registration; should A not have it yet, the new address
  // is filtered: re-register (bounded).
  bool both = false;
  for (int i = 0; i < 5 && !both; ++i) {
    ASSERT_TRUE(registered({second, lo}));
    both = sees({second, lo}, 3s);
  }
  ASSERT_TRUE(both) << daemons_[0]->log();
  ASSERT_TRUE(pe.tell("DEL 127.0.0.1\n"));
  ASSERT_EQ(pe.line(), "DONE DEL 127.0.0.1\n");
  EXPECT_TRUE(sees({second}, 10s)) << daemons_[0]->log();
  EXPECT_TRUE(always_there);
  EXPECT_EQ(pe.finish(), 0);
}

}  // namespace
}  // namespace poolreg::integration
