// Integration: registrars in different wire modes (real poolregd processes on 127.0.0.1).
// - Mixed cluster: one registrar in RFC mode and one in next-gen mode (64-bit ID) interoperate
//   through RFC mode over SCTP (nextgen.md 1, NG-CAP-01): registrations at either are resolvable
//   at the other, the audit (Internet-16, short IDs) agrees and stays quiet.
// - Next-gen pair with ENRP over TCP (nextgen.md 6).
// - A stranger on another loopback address (127.0.0.2) that claims a peer's ID over ENRP/TCP is
//   not that peer (issue 17 finding 1).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "registrar/wire/enrp_codec.hpp"
#include "tests/integration/cluster_integration_fixture.hpp"

namespace poolreg::integration {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

constexpr RegistrarId kRfcId = 0x10000011u;
constexpr RegistrarId kNgId = 0xabcd000010000012ull;  // the RFC peer knows it as 0x10000012

std::unique_ptr<Poolregd> mixed_daemon(const char* name, const char* mode, RegistrarId id,
                                       const DaemonPorts& own, const DaemonPorts& peer) {
  std::vector<std::string> args = {"--mode",
                                   mode,
                                   "--id",
                                   std::to_string(id),
                                   "--sctp-remote-udp-port",
                                   std::to_string(StackEnvironment::stack->udp_port())};
  for (auto& a : fast_enrp_args()) args.push_back(std::move(a));
  // Without the test-only commands (checked below).
  args.insert(args.end(),
              {"--set", "control.test_commands=false", "--set", "enrp.peers=" + peers_value({peer})});
  return std::make_unique<Poolregd>(name, own, args);
}

TEST(PoolregdMixedModes, RfcAndNextgenRegistrarsInteroperate_NG_CAP_01) {
  ASSERT_FALSE(poolregd_path().empty());
  const DaemonPorts rfc_ports = pick_ports(), ng_ports = pick_ports();
  auto rfc = mixed_daemon("rfc", "rfc", kRfcId, rfc_ports, ng_ports);
  auto ng = mixed_daemon("ng", "nextgen", kNgId, ng_ports, rfc_ports);
  ASSERT_TRUE(rfc->start());
  ASSERT_TRUE(ng->start());
  ASSERT_TRUE(rfc->wait_for_log("listening:", 10s)) << rfc->log();
  ASSERT_TRUE(ng->wait_for_log("listening:", 10s)) << ng->log();
  auto dump_logs = [&] { return "---- rfc ----\n" + rfc->log() + "---- ng ----\n" + ng->log(); };

  runtime::EventLoop loop;
  auto spin = [&](std::chrono::milliseconds d) {
    client::run_until(
        loop, [] { return false; }, d);
  };
  auto client_options = [](const Poolregd& d) {
    auto o = d.client_options(ClientTransport::kSctp);
    o.pe_listen_port = 0;
    return o;
  };
  PoolElementClient pe_rfc(loop, StackEnvironment::stack.get(), client_options(*rfc));
  PoolElementClient pe_ng(loop, StackEnvironment::stack.get(), client_options(*ng));
  PoolUserClient pu_rfc(loop, StackEnvironment::stack.get(), client_options(*rfc));
  PoolUserClient pu_ng(loop, StackEnvironment::stack.get(), client_options(*ng));
  ASSERT_EQ(client::connect_and_wait(pe_rfc, 5s), ClientStatus::kOk);
  ASSERT_EQ(client::connect_and_wait(pe_ng, 5s), ClientStatus::kOk);
  ASSERT_EQ(client::connect_and_wait(pu_rfc, 5s), ClientStatus::kOk);
  ASSERT_EQ(client::connect_and_wait(pu_ng, 5s), ClientStatus::kOk);

  const PoolHandle pool = handle_of("mixed-modes");
  for (PoolElementId id : {71u, 72u})
    ASSERT_TRUE(client::register_and_wait(pe_rfc, registration(pool, id, TransportProtocol::kSctp)).ok());
  for (PoolElementId id : {81u, 82u})
    ASSERT_TRUE(client::register_and_wait(pe_ng, registration(pool, id, TransportProtocol::kSctp)).ok());

  // Both see all four. The clients speak RFC ASAP, so they get the short (32-bit) home ID of the
  // next-gen registrar from both.
  const std::set<PoolElementId> all = {71, 72, 81, 82};
  for (PoolUserClient* pu : {&pu_rfc, &pu_ng}) {
    auto r = client::resolve_until(
        *pu, pool, 16, [&](const ResolutionResult& x) { return ids_of(x) == all; }, 15s, 100ms, 4s);
    ASSERT_EQ(ids_of(r), all) << dump_logs();
    for (const auto& e : r.elements) {
      const bool ng_pe = e.id >= 80;
      const RegistrarId want = ng_pe ? short_id(kNgId) : kRfcId;
      EXPECT_EQ(e.home_registrar, want) << std::hex << e.id << " at " << (pu == &pu_ng ? "ng" : "rfc");
    }
  }

  // Checksums agree both ways (Internet-16: the next-gen registrar talks RFC to this peer).
  std::string why;
  auto both_in_sync = [&] {
    return peers_alive_and_in_sync(*rfc, 1, &why) && peers_alive_and_in_sync(*ng, 1, &why);
  };
  auto wait_in_sync = [&] {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!both_in_sync() && std::chrono::steady_clock::now() < deadline) spin(100ms);
    return both_in_sync();
  };
  ASSERT_TRUE(wait_in_sync()) << why << dump_logs();
  json ng_peers = control_call(*ng, "peers");
  ASSERT_EQ(ng_peers["peers"].size(), 1u);
  EXPECT_FALSE(ng_peers["peers"][0]["nextgen"].get<bool>()) << "RFC peer taken for a next-gen one";
  EXPECT_EQ(ng_peers["peers"][0]["id"], "0x10000011");
  json rfc_peers = control_call(*rfc, "peers");
  ASSERT_EQ(rfc_peers["peers"].size(), 1u);
  // The next-gen Presence carries NG-Capabilities and Extended-IDs (skipped by RSPLIB, type
  // 0x8041); our RFC-mode registrar learns the full ID from it (registrar/enrp design) and keeps
  // sending RFC messages.
  EXPECT_EQ(rfc_peers["peers"][0]["id"], "0xabcd000010000012");
  EXPECT_FALSE(rfc_peers["peers"][0]["nextgen"].get<bool>());
  EXPECT_EQ(rfc_peers["peers"][0]["pe_count"], 2);

  // The audit stays quiet: over three more presence cycles no mismatch and no resync.
  const std::uint64_t mismatches =
      enrp_counter(*rfc, "audit_mismatches") + enrp_counter(*ng, "audit_mismatches");
  const std::uint64_t audits = enrp_counter(*rfc, "audits") + enrp_counter(*ng, "audits");
  spin(3 * kPresenceCycle);
  EXPECT_TRUE(both_in_sync()) << why;
  EXPECT_EQ(enrp_counter(*rfc, "audit_mismatches") + enrp_counter(*ng, "audit_mismatches"), mismatches);
  EXPECT_GE(enrp_counter(*rfc, "audits") + enrp_counter(*ng, "audits"), audits + 4) << "no audits ran";

  // Deregistration and mobility at the next-gen registrar reach the RFC one.
  ASSERT_TRUE(client::deregister_and_wait(pe_ng, pool, 82).ok());
  const IpAddress moved = IpAddress::v4({127, 0, 0, 3});
  client::PeUpdate update;
  update.addresses = std::vector<IpAddress>{moved};
  ASSERT_TRUE(client::reregister_and_wait(pe_ng, pool, 81, update).ok());
  auto moved_and_gone = [&](const ResolutionResult& r) {
    if (ids_of(r) != std::set<PoolElementId>{71, 72, 81}) return false;
    for (const auto& e : r.elements)
      if (e.id == 81) return e.user_transport.addresses == std::vector<IpAddress>{moved};
    return false;
  };
  EXPECT_TRUE(moved_and_gone(client::resolve_until(pu_rfc, pool, 16, moved_and_gone, 10s, 100ms, 4s)))
      << "deregistration / re-registration at ng not seen at rfc";
  EXPECT_TRUE(wait_in_sync()) << why;

  // control.test_commands = false: the test-only command does not exist.
  EXPECT_TRUE(
      control_call(*ng, "test-corrupt-view", json{{"handle", "mixed-modes"}, {"id", 71}}).contains("error"));
  EXPECT_EQ(pool_pe_count(*ng, pool), 3);
}

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
        std::vector<std::string>{"--mode", "nextgen", "--id", std::to_string(0x20000001u + i), "--set",
                                 "enrp.tcp=true", "--set", "enrp.tcp_port=" + std::to_string(ports[i].enrp),
                                 "--set", "enrp.profile=fast", "--set", "enrp.mentor_discovery_ms=1000",
                                 "--set",
                                 "enrp.peers=[\"127.0.0.1:" + std::to_string(ports[other].enrp) + "\"]"});
    ASSERT_TRUE(d[i]->start());
  }
  for (auto& x : d) ASSERT_TRUE(x->wait_for_log("listening:", 10s)) << x->log();
  EXPECT_NE(d[0]->log().find("ENRP TCP 127.0.0.1:" + std::to_string(ports[0].enrp)), std::string::npos)
      << d[0]->log();

  runtime::EventLoop loop;
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
  const ResolutionResult r = client::resolve_until(
      pu, pool, 16, [](const ResolutionResult& x) { return x.ok() && !x.elements.empty(); }, 15s, 100ms, 4s);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << d[0]->log() << d[1]->log();
  ASSERT_EQ(r.elements.size(), 1u);
  EXPECT_EQ(r.elements[0].id, big);
  EXPECT_EQ(r.elements[0].home_registrar, 0x20000001u);
  client::close_and_wait(pu);
  client::close_and_wait(pe);
  for (auto& x : d) EXPECT_TRUE(x->stops_cleanly());
}

// A TCP connection from 127.0.0.2 (bound before connect) to `port` on 127.0.0.1; -1 on failure.
int connect_from_other_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(0x7f000002u);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(PoolregdNextgenCluster, StrangerClaimingPeerIdOverTcpIsDropped) {
  ASSERT_FALSE(poolregd_path().empty());
  std::array<DaemonPorts, 2> ports = {pick_ports(), pick_ports()};
  std::array<std::unique_ptr<Poolregd>, 2> d;
  const std::array<RegistrarId, 2> ids = {0x20000011u, 0x20000012u};
  for (int i = 0; i < 2; ++i) {
    const int other = 1 - i;
    d[i] = std::make_unique<Poolregd>(
        std::string("ng") + std::to_string(i), ports[i],
        std::vector<std::string>{"--mode", "nextgen", "--id", std::to_string(ids[i]), "--set", "enrp.tcp=true",
                                 "--set", "enrp.tcp_port=" + std::to_string(ports[i].enrp), "--set",
                                 "enrp.profile=fast", "--set", "enrp.mentor_discovery_ms=1000", "--set",
                                 "enrp.peers=[\"127.0.0.1:" + std::to_string(ports[other].enrp) + "\"]"});
    ASSERT_TRUE(d[i]->start());
  }
  for (auto& x : d) ASSERT_TRUE(x->wait_for_log("listening:", 10s)) << x->log();

  // A PE registered at d[1] shows up at d[0].
  runtime::EventLoop loop;
  auto pe_options = d[1]->client_options(ClientTransport::kTcp);
  pe_options.next_gen = true;
  pe_options.ng_capabilities = wire::kNgCapId64 | wire::kNgCapHro | wire::kNgCapTcp;
  client::PoolElementClient pe(loop, nullptr, pe_options);
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk);
  const PoolHandle pool = handle_of("ng-impostor");
  ASSERT_TRUE(client::register_and_wait(pe, registration(pool, 0x77, TransportProtocol::kTcp)).ok());
  ASSERT_TRUE(eventually([&] { return pool_pe_count(*d[0], pool) == 1; }, 10s)) << d[0]->log();

  // The stranger speaks for d[1]: a DEL of d[1]'s PE (d[1] is its owner, so only identity
  // protects it).
  wire::HandleUpdate del;
  del.sender = ids[1];
  del.receiver = ids[0];
  del.action = wire::UpdateAction::kDeletePe;
  del.pool_handle = pool;
  del.element.id = 0x77;
  del.element.home_registrar = ids[1];
  del.element.registration_life_ms = 30000;
  del.element.policy.type = PolicyType::kRoundRobin;
  del.element.user_transport.protocol = TransportProtocol::kTcp;
  del.element.user_transport.port = 6119;
  del.element.user_transport.addresses = {kLoopback};
  TransportEndpoint asap;
  asap.protocol = TransportProtocol::kSctp;
  asap.port = 3863;
  asap.addresses = {kLoopback};
  del.element.asap_transport = asap;
  std::vector<std::uint8_t> bytes;
  wire::WireOptions o;
  o.next_gen = true;
  ASSERT_TRUE(wire::encode(wire::EnrpMessage{del}, o, wire::ByteSink(bytes)).ok());
  // The audit would restore a deleted PE within a few heartbeats, so the check is on what the
  // DEL did: applied updates do not move.
  const std::uint64_t applied_before = enrp_counter(*d[0], "updates_applied");
  const int fd = connect_from_other_loopback(ports[0].enrp);
  if (fd < 0) GTEST_SKIP() << "no second loopback address (127.0.0.2) to connect from";
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  EXPECT_TRUE(eventually([&] { return enrp_counter(*d[0], "rejected_identity_mismatch") >= 1; }, 5s))
      << control_call(*d[0], "stats").dump() << "\n" << d[0]->log();
  EXPECT_EQ(enrp_counter(*d[0], "updates_applied"), applied_before) << "a stranger's DEL was applied";
  EXPECT_EQ(pool_pe_count(*d[0], pool), 1) << d[0]->log();
  ::close(fd);
  client::close_and_wait(pe);
  for (auto& x : d) EXPECT_TRUE(x->stops_cleanly());
}

}  // namespace
}  // namespace poolreg::integration
