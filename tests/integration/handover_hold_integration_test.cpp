// Integration: the handover hold (issue 14 item 3, asap.handover_hold_ms, default 3000 ms) in a
// three-registrar cluster (cluster_integration_fixture.hpp). A PE registered at A loses its
// association: while held, a PU at C keeps seeing it (no ENRP DEL reached C); when it registers
// again over a new association within the hold, C never saw it disappear and gets its new state;
// when it does not come back, C loses it after the hold.
#include "tests/integration/cluster_integration_fixture.hpp"

namespace poolreg::integration {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

constexpr auto kHold = std::chrono::milliseconds(3000);  // the daemon default

std::uint64_t asap_counter(const Poolregd& d, const char* name) {
  json r = control_call(d, "stats");
  if (r.is_null() || !r.contains("asap") || r["asap"].is_null()) return 0;
  return r["asap"].value(name, std::uint64_t{0});
}

// Whether the daemon's `pe` command says the PE is held (false when unknown).
bool pe_held(const Poolregd& d, const PoolHandle& pool, PoolElementId id) {
  json r = control_call(d, "pe", json{{"handle", pool.to_display()}, {"id", std::to_string(id)}});
  return r.is_object() && r.contains("pe") && r["pe"].value("held", false);
}

TEST_F(PoolregdCluster, HandoverHoldPeBackWithinTheHoldNeverDisappearsAtThePeers) {
  const PoolHandle pool = handle_of("hold-back");
  auto pe = pe_at(0);
  client::PeRegistration reg = registration(pool, 301, TransportProtocol::kSctp);
  ASSERT_TRUE(client::register_and_wait(*pe, reg).ok());
  auto pu_c = pu_at(2);
  ASSERT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({301}), 15s)), std::set<PoolElementId>{301});
  ASSERT_EQ(pool_pe_count(*daemons_[2], pool), 1);

  // The PE's association goes; A holds the PE.
  client::close_and_wait(*pe);
  pe.reset();
  ASSERT_TRUE(eventually([&] { return asap_counter(*daemons_[0], "pe_held") == 1; }, 3s));
  EXPECT_TRUE(pe_held(*daemons_[0], pool, 301));
  EXPECT_EQ(pool_pe_count(*daemons_[0], pool), 1);

  // It comes back over a new association (another port: the new state) within the hold.
  auto back = pe_at(0);
  reg.user_transport.port = 7301;
  ASSERT_TRUE(client::register_and_wait(*back, reg).ok()) << daemons_[0]->log();
  EXPECT_EQ(asap_counter(*daemons_[0], "pe_hold_resumed"), 1u);
  EXPECT_FALSE(pe_held(*daemons_[0], pool, 301));

  // C gets the new port, and never lost the PE: watched past the hold's end.
  const auto until = std::chrono::steady_clock::now() + kHold + 1500ms;
  bool new_port_seen = false;
  long min_count = 1;
  while (std::chrono::steady_clock::now() < until) {
    client::run_until(loop_, [] { return false; }, 100ms);  // our PE acks A's keep-alives meanwhile
    min_count = std::min(min_count, pool_pe_count(*daemons_[2], pool));
    json r = control_call(*daemons_[2], "pe", json{{"handle", pool.to_display()}, {"id", "301"}});
    if (r.is_object() && r.contains("pe") && r["pe"]["user_transport"]["port"] == 7301) new_port_seen = true;
  }
  EXPECT_EQ(min_count, 1) << "the peer lost the PE during the hold";
  EXPECT_TRUE(new_port_seen) << "the new state did not reach the peer";
  EXPECT_EQ(asap_counter(*daemons_[0], "pe_hold_expired"), 0u);
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({301}), 5s)), std::set<PoolElementId>{301});
}

TEST_F(PoolregdCluster, HandoverHoldPeNotBackIsRemovedAtThePeersAfterTheHold) {
  const PoolHandle pool = handle_of("hold-gone");
  auto pe = pe_at(0);
  ASSERT_TRUE(client::register_and_wait(*pe, registration(pool, 302, TransportProtocol::kSctp)).ok());
  ASSERT_TRUE(eventually([&] { return pool_pe_count(*daemons_[2], pool) == 1; }, 15s));

  const auto closed_at = std::chrono::steady_clock::now();
  client::close_and_wait(*pe);
  pe.reset();
  // Still there at C while the hold runs (no DEL yet).
  std::this_thread::sleep_for(kHold / 2);
  EXPECT_EQ(pool_pe_count(*daemons_[2], pool), 1) << "DEL before the hold ended";
  // Gone after it.
  ASSERT_TRUE(eventually([&] { return pool_pe_count(*daemons_[2], pool) == -1; }, kHold + 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - closed_at, kHold);
  EXPECT_EQ(asap_counter(*daemons_[0], "pe_hold_expired"), 1u);
}

}  // namespace
}  // namespace poolreg::integration
