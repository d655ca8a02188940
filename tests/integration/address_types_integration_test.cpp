// Integration (issue 14 item 5): RFC 8653 address types across real poolregd processes on
// 127.0.0.1. Two next-gen registrars and one RFC-mode registrar, meshed over ENRP/SCTP. A
// next-gen PE with typed addresses registers at next-gen A; a next-gen PU at next-gen B gets its
// addresses in stability order with their types; a PU at the RFC registrar gets plain addresses
// (no 0x8045) in the same order. After a move, B lists the kept graceful address last and the
// RFC registrar never sees it.
#include "tests/integration/cluster_integration_fixture.hpp"

namespace poolreg::integration {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::unique_ptr<Poolregd> typed_daemon(const char* name, const char* mode, RegistrarId id, const DaemonPorts& own,
                                       const std::vector<DaemonPorts>& peers) {
  std::vector<std::string> args = {"--mode", mode, "--id", std::to_string(id), "--sctp-remote-udp-port",
                                   std::to_string(StackEnvironment::stack->udp_port())};
  for (auto& a : fast_enrp_args()) args.push_back(std::move(a));
  args.insert(args.end(), {"--set", "enrp.peers=" + peers_value(peers)});
  return std::make_unique<Poolregd>(name, own, args);
}

AddressTypeEntry entry(AddressType type, std::uint32_t lifetime_ms = 0) {
  AddressTypeEntry e;
  e.type = type;
  e.lifetime_ms = lifetime_ms;
  return e;
}

TEST(PoolregdAddressTypes, NextGenPeersSeeOrderedTypesRfcPeerPlainAddresses) {
  ASSERT_FALSE(poolregd_path().empty());
  const DaemonPorts pa = pick_ports(), pb = pick_ports(), pr = pick_ports();
  auto a = typed_daemon("ng-a", "nextgen", 0x30000001u, pa, {pb, pr});
  auto b = typed_daemon("ng-b", "nextgen", 0x30000002u, pb, {pa, pr});
  auto r = typed_daemon("rfc", "rfc", 0x30000003u, pr, {pa, pb});
  for (Poolregd* d : {a.get(), b.get(), r.get()}) ASSERT_TRUE(d->start());
  for (Poolregd* d : {a.get(), b.get(), r.get()}) ASSERT_TRUE(d->wait_for_log("listening:", 10s)) << d->log();
  auto logs = [&] { return "---- a ----\n" + a->log() + "---- b ----\n" + b->log() + "---- rfc ----\n" + r->log(); };

  // A sends its PEs to B in next-gen form (with 0x8045) only once B's Presence told it that B is
  // next-gen; a PE registered before that reaches B as a plain copy that holds no types until
  // its next update (seen once in CI). Wait until A and B know each other as next-gen.
  auto next_gen_peers = [](const Poolregd& d) {
    const json p = control_call(d, "peers");
    std::size_t n = 0;
    if (p.is_object() && p.contains("peers"))
      for (const auto& row : p["peers"]) n += row.value("nextgen", false) ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return next_gen_peers(*a) == 1 && next_gen_peers(*b) == 1; }, 10s)) << logs();

  runtime::EventLoop loop;
  auto ng_options = [](const Poolregd& d) {
    auto o = d.client_options(ClientTransport::kSctp);
    o.pe_listen_port = 0;
    o.next_gen = true;
    o.ng_capabilities = 0x01;
    return o;
  };
  auto rfc_options = [](const Poolregd& d) {
    auto o = d.client_options(ClientTransport::kSctp);
    o.pe_listen_port = 0;
    return o;
  };
  PoolElementClient pe(loop, StackEnvironment::stack.get(), ng_options(*a));
  PoolUserClient pu_b(loop, StackEnvironment::stack.get(), ng_options(*b));
  PoolUserClient pu_r(loop, StackEnvironment::stack.get(), rfc_options(*r));
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk);
  ASSERT_EQ(client::connect_and_wait(pu_b, 5s), ClientStatus::kOk);
  ASSERT_EQ(client::connect_and_wait(pu_r, 5s), ClientStatus::kOk);

  const IpAddress nonpersistent = IpAddress::v4({127, 0, 0, 1}), fixed = IpAddress::v4({127, 0, 0, 2}),
                  graceful = IpAddress::v4({127, 0, 0, 3}), moved = IpAddress::v4({127, 0, 0, 4});
  const PoolHandle pool = handle_of("typed-pool");
  client::PeRegistration reg = registration(pool, 91, TransportProtocol::kSctp);
  reg.user_transport.addresses = {nonpersistent, fixed, graceful};
  reg.address_types = {{nonpersistent, entry(AddressType::kNonpersistent)},
                       {fixed, entry(AddressType::kFixed)},
                       {graceful, entry(AddressType::kGracefulReplacement, 60000)}};
  ASSERT_TRUE(client::register_and_wait(pe, reg).ok());

  const std::vector<IpAddress> ordered = {fixed, graceful, nonpersistent};
  auto addresses_are = [](std::vector<IpAddress> want) {
    return [want](const ResolutionResult& x) {
      return x.elements.size() == 1 && x.elements[0].user_transport.addresses == want;
    };
  };
  auto at_b = client::resolve_until(pu_b, pool, 4, addresses_are(ordered), 15s, 100ms, 4s);
  ASSERT_TRUE(addresses_are(ordered)(at_b)) << logs();
  ASSERT_EQ(at_b.elements[0].address_types.size(), 3u);
  EXPECT_EQ(at_b.elements[0].address_types[0].type, AddressType::kFixed);
  EXPECT_EQ(at_b.elements[0].address_types[1].type, AddressType::kGracefulReplacement);
  EXPECT_EQ(at_b.elements[0].address_types[1].lifetime_ms, 60000u);
  EXPECT_EQ(at_b.elements[0].address_types[2].type, AddressType::kNonpersistent);
  auto at_r = client::resolve_until(pu_r, pool, 4, addresses_are(ordered), 15s, 100ms, 4s);
  ASSERT_TRUE(addresses_are(ordered)(at_r)) << logs();
  EXPECT_TRUE(at_r.elements[0].address_types.empty());

  // The move: B keeps the graceful address last (retiring), the RFC registrar only the new one.
  client::PeUpdate update;
  update.addresses = std::vector<IpAddress>{moved};
  ASSERT_TRUE(client::reregister_and_wait(pe, pool, 91, update).ok());
  at_b = client::resolve_until(pu_b, pool, 4, addresses_are({moved, graceful}), 10s, 100ms, 4s);
  ASSERT_TRUE(addresses_are({moved, graceful})(at_b)) << logs();
  ASSERT_EQ(at_b.elements[0].address_types.size(), 2u);
  EXPECT_TRUE(at_b.elements[0].address_types[1].retiring);
  at_r = client::resolve_until(pu_r, pool, 4, addresses_are({moved}), 10s, 100ms, 4s);
  EXPECT_TRUE(addresses_are({moved})(at_r)) << logs();

  // poolctl pe at B shows the types with the time left.
  const json shown = control_call(*b, "pe", json{{"handle", "typed-pool"}, {"id", 91}});
  ASSERT_TRUE(shown["pe"].contains("address_types")) << shown.dump();
  EXPECT_EQ(shown["pe"]["address_types"][1]["address"], "127.0.0.3");
  EXPECT_TRUE(shown["pe"]["address_types"][1]["retiring"].get<bool>());
  EXPECT_GT(shown["pe"]["address_types"][1]["retire_in_ms"].get<std::uint64_t>(), 50000u);
}

}  // namespace
}  // namespace poolreg::integration
