// Integration: a three-registrar ENRP cluster (three poolregd processes on 127.0.0.1, static peers,
// the fast ENRP profile shortened to the smallest allowed timers) driven by the client library.
// Each registrar runs its own usrsctp stack on its own UDP port, so every daemon is told its
// peers' UDP encapsulation ports (--sctp-peer-udp-port) and the test process's (for keep-alives
// to PEs after a takeover, --sctp-remote-udp-port).
// Spec IDs: ENRP-UPD-* handle updates, ENRP-TKO-* takeover, ENRP-LIFE / asap.md 4.7 expiry.
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "dataplane/client/pool_element_client.hpp"
#include "dataplane/client/pool_user_client.hpp"
#include "dataplane/client/sync_wait.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;
using client::PoolElementClient;
using client::PoolUserClient;
using client::ResolutionResult;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const IpAddress kLoopback = IpAddress::v4(0x7f000001u);
constexpr std::array<RegistrarId, 3> kIds = {0x10000001u, 0x10000002u, 0x10000003u};

PoolHandle handle_of(const char* s) { return *PoolHandle::from_string(s); }

client::PeRegistration registration(const PoolHandle& h, PoolElementId id, TransportProtocol user,
                                    std::uint32_t life_ms = 30000) {
  client::PeRegistration r;
  r.handle = h;
  r.id = id;
  r.user_transport.protocol = user;
  r.user_transport.port = static_cast<std::uint16_t>(6000 + id);
  r.user_transport.addresses = {kLoopback};
  r.policy.type = PolicyType::kRoundRobin;
  r.registration_life_ms = life_ms;
  return r;
}

std::set<PoolElementId> ids_of(const ResolutionResult& r) {
  std::set<PoolElementId> s;
  if (r.ok())
    for (const auto& pe : r.elements) s.insert(pe.id);
  return s;
}

class PoolregdCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    for (auto& p : ports_) p = pick_ports();
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> args = {
          "--id", std::to_string(kIds[i]),
          "--set", "enrp.profile=fast",
          "--set", "enrp.heartbeat_interval_ms=1000",
          "--set", "enrp.max_time_last_heard_ms=2000",
          "--set", "enrp.max_time_no_response_ms=1000",
          "--set", "enrp.takeover_expiry_ms=1000",
          "--set", "enrp.mentor_discovery_ms=1000",
          "--set", "asap.address_check=false",
          "--sctp-remote-udp-port", std::to_string(StackEnvironment::stack->udp_port())};
      if (std::getenv("POOLREG_IT_DEBUG") != nullptr) args.insert(args.end(), {"--log-level", "debug"});
      std::string peers = "[";
      for (int j = 0; j < 3; ++j) {
        if (j == i) continue;
        peers += std::string(peers.size() > 1 ? ", " : "") + "{ address = \"127.0.0.1:" +
                 std::to_string(ports_[j].enrp) + "\" }";
        args.push_back("--sctp-peer-udp-port");
        args.push_back(std::to_string(ports_[j].enrp) + "=" + std::to_string(ports_[j].udp));
      }
      args.push_back("--set");
      args.push_back("enrp.peers=" + peers + "]");
      daemons_[i] = std::make_unique<Poolregd>(std::string(1, static_cast<char>('a' + i)), ports_[i], args);
      if (i == 2 && late_c_) continue;
      ASSERT_TRUE(daemons_[i]->start()) << i;
    }
    for (auto& d : daemons_) {
      if (d->running()) {
        ASSERT_TRUE(d->wait_for_log("listening:", 10s)) << d->log();
      }
    }
  }
  void TearDown() override {
    for (auto& d : daemons_) {
      if (::testing::Test::HasFailure() || std::getenv("POOLREG_IT_VERBOSE") != nullptr) std::cerr << "---- poolregd " << d->name() << " (" << d->state() << ") log ----\n" << d->log();
      d->kill_now();
    }
  }

  std::unique_ptr<PoolUserClient> pu_at(int i, ClientTransport t = ClientTransport::kSctp) {
    auto c = std::make_unique<PoolUserClient>(loop_, StackEnvironment::stack.get(), daemons_[i]->client_options(t));
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  std::unique_ptr<PoolElementClient> pe_at(int i, ClientTransport t = ClientTransport::kSctp) {
    auto o = daemons_[i]->client_options(t);
    if (t == ClientTransport::kSctp) o.pe_listen_port = 0;  // reachable by a takeover registrar
    auto c = std::make_unique<PoolElementClient>(loop_, StackEnvironment::stack.get(), o);
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  // Resolves (up to 16 items) every 100 ms until pred holds or `limit` passes.
  ResolutionResult resolve_until(PoolUserClient& pu, const PoolHandle& h,
                                 const std::function<bool(const ResolutionResult&)>& pred,
                                 std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ResolutionResult r;
    do {
      r = client::resolve_and_wait(pu, h, 16, 4s);
      if (pred(r)) return r;
      client::run_until(loop_, [] { return false; }, 100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }
  static std::function<bool(const ResolutionResult&)> has_ids(std::set<PoolElementId> want) {
    return [want](const ResolutionResult& r) { return ids_of(r) == want; };
  }

  kernel::EventLoop loop_;
  bool late_c_ = false;  // C is not started by SetUp
  std::array<DaemonPorts, 3> ports_;
  std::array<std::unique_ptr<Poolregd>, 3> daemons_;
};

// ENRP-UPD-01..03: registrations, re-registrations (mobility) and deregistrations at A reach B
// and C; ENRP-TKO-01..05: after kill -9 of B, A or C takes over B's PEs, which stay resolvable
// and get a Keep-Alive with H=1 from their new home.
TEST_F(PoolregdCluster, HandleUpdatesPropagateAndTakeoverKeepsPesResolvable) {
  auto pe_a = pe_at(0);
  auto pu_b = pu_at(1);
  auto pu_c = pu_at(2);
  const PoolHandle pool_a = handle_of("cluster-a");
  for (PoolElementId id : {11u, 12u, 13u})
    ASSERT_TRUE(client::register_and_wait(*pe_a, registration(pool_a, id, TransportProtocol::kSctp)).ok());

  EXPECT_EQ(ids_of(resolve_until(*pu_b, pool_a, has_ids({11, 12, 13}), 15s)), (std::set<PoolElementId>{11, 12, 13}));
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool_a, has_ids({11, 12, 13}), 15s)), (std::set<PoolElementId>{11, 12, 13}));

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
  events.on_home_changed = [&](const PoolHandle&, PoolElementId, RegistrarId home) { new_homes.insert(home); };
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
  std::set<RegistrarId> homes_seen;
  while (std::chrono::steady_clock::now() < deadline && new_homes.empty()) {
    for (auto* pu : {pu_a.get(), pu_c.get()}) {
      auto r = client::resolve_and_wait(*pu, pool_b, 16, 4s);
      if (ids_of(r) != std::set<PoolElementId>{21, 22}) always_resolvable = false;
      for (const auto& e : r.elements) homes_seen.insert(e.home_registrar);
      // A's PEs stay too.
      if (ids_of(client::resolve_and_wait(*pu, pool_a, 16, 4s)) != std::set<PoolElementId>{11, 12})
        always_resolvable = false;
    }
    client::run_until(loop_, [] { return false; }, 200ms);
  }
  EXPECT_TRUE(always_resolvable) << "a PE was not resolvable at A or C after B died";
  ASSERT_FALSE(new_homes.empty()) << "no Keep-Alive with H=1 from a takeover registrar within 25 s";
  for (RegistrarId h : new_homes) EXPECT_TRUE(h == kIds[0] || h == kIds[2]) << std::hex << h;
  // Both survivors agree on the new home.
  auto at_a = client::resolve_and_wait(*pu_a, pool_b, 16);
  auto at_c = resolve_until(*pu_c, pool_b, [&](const ResolutionResult& r) {
    return ids_of(r) == std::set<PoolElementId>{21, 22} &&
           std::all_of(r.elements.begin(), r.elements.end(),
                       [&](const PoolElement& e) { return new_homes.count(e.home_registrar) > 0; });
  }, 10s);
  EXPECT_EQ(ids_of(at_a), (std::set<PoolElementId>{21, 22}));
  EXPECT_EQ(ids_of(at_c), (std::set<PoolElementId>{21, 22}));
  for (const auto& r : {at_a, at_c})
    for (const auto& e : r.elements) EXPECT_TRUE(new_homes.count(e.home_registrar)) << std::hex << e.home_registrar;
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
  EXPECT_EQ(ids_of(resolve_until(*pu_b, pool, has_ids({41, 42, 43}), 10s)), (std::set<PoolElementId>{41, 42, 43}));
  ASSERT_TRUE(daemons_[2]->start_and_wait()) << daemons_[2]->log();
  auto pu_c = pu_at(2);
  EXPECT_EQ(ids_of(resolve_until(*pu_c, pool, has_ids({41, 42, 43}), 15s)), (std::set<PoolElementId>{41, 42, 43}));
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

}  // namespace
}  // namespace poolreg::integration

namespace poolreg::integration {
namespace {

// A registrar killed and restarted on the same ports (crash + restart) rejoins and resyncs.
// DISABLED: fails today. After the restart the peers see C's associations restart (SCTP
// RESTART: old id closed, new incoming id) and C's messages then arrive over a connection that
// EnrpServer::identify() maps with PeerTable::find_static_by_address(), which compares addresses
// only, not ports: on one host every static peer is 127.0.0.1, so C is taken for another peer
// and never becomes alive again. Enable once registrar/enrp matches address AND port.
TEST_F(PoolregdCluster, DISABLED_RestartedRegistrarRejoins) {
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
}

}  // namespace
}  // namespace poolreg::integration

namespace poolreg::integration {
namespace {

// nextgen.md 6: two next-gen registrars with ENRP over TCP (no UDP encapsulation ports needed);
// a PE registered over TCP at one (64-bit PE ID) is resolved over TCP at the other.
TEST(PoolregdNextgenCluster, EnrpOverTcpPropagatesRegistrations) {
  ASSERT_FALSE(poolregd_path().empty());
  std::array<DaemonPorts, 2> ports = {pick_ports(), pick_ports()};
  std::array<std::unique_ptr<Poolregd>, 2> d;
  for (int i = 0; i < 2; ++i) {
    const int other = 1 - i;
    d[i] = std::make_unique<Poolregd>(
        std::string("ng") + std::to_string(i), ports[i],
        std::vector<std::string>{"--mode", "nextgen", "--id", std::to_string(0x20000001u + i), "--set", "enrp.tcp=true",
                                 "--set", "enrp.tcp_port=" + std::to_string(ports[i].enrp), "--set",
                                 "enrp.profile=fast", "--set", "enrp.mentor_discovery_ms=1000", "--set",
                                 "enrp.peers=[\"127.0.0.1:" + std::to_string(ports[other].enrp) + "\"]"});
    ASSERT_TRUE(d[i]->start());
  }
  for (auto& x : d) ASSERT_TRUE(x->wait_for_log("listening:", 10s)) << x->log();
  EXPECT_NE(d[0]->log().find("ENRP TCP 127.0.0.1:" + std::to_string(ports[0].enrp)), std::string::npos) << d[0]->log();

  kernel::EventLoop loop;
  auto pe_options = d[0]->client_options(ClientTransport::kTcp);
  pe_options.next_gen = true;
  pe_options.ng_capabilities = wire::kNgCapId64 | wire::kNgCapHro | wire::kNgCapTcp;
  client::PoolElementClient pe(loop, nullptr, pe_options);
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk);
  auto pu_options = d[1]->client_options(ClientTransport::kTcp);
  pu_options.next_gen = true;
  pu_options.ng_capabilities = pe_options.ng_capabilities;
  client::PoolUserClient pu(loop, nullptr, pu_options);
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk);

  const PoolHandle pool = handle_of("ng-tcp");
  const PoolElementId big = 0x1234567800000042ull;
  ASSERT_TRUE(client::register_and_wait(pe, registration(pool, big, TransportProtocol::kTcp)).ok());
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  ResolutionResult r;
  do {
    r = client::resolve_and_wait(pu, pool, 16, 4s);
    if (r.ok() && !r.elements.empty()) break;
    client::run_until(loop, [] { return false; }, 100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << d[0]->log() << d[1]->log();
  ASSERT_EQ(r.elements.size(), 1u);
  EXPECT_EQ(r.elements[0].id, big);
  EXPECT_EQ(r.elements[0].home_registrar, 0x20000001u);
  client::close_and_wait(pu);
  client::close_and_wait(pe);
  for (auto& x : d) {
    auto st = x->stop(SIGTERM);
    EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << x->log();
  }
}

}  // namespace
}  // namespace poolreg::integration
