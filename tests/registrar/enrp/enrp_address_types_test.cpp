// RFC 8653 address types over ENRP (issue 14 item 5): between next-gen registrars a PE's types
// and a kept graceful address (with the time it has left) travel in Handle Updates and Handle
// Table Responses; an RFC-mode peer gets plain addresses without the retiring one; when the
// graceful lifetime ends every registrar drops the address itself, with no Handle Update.
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

EnrpConfig ng_config() {
  EnrpConfig c = EnrpConfig::fast();
  c.next_gen = true;
  return c;
}

bool contains_tlv_type(const std::vector<std::uint8_t>& bytes, std::uint16_t type) {
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
    if (((bytes[i] << 8) | bytes[i + 1]) == type) return true;
  return false;
}

AddressTypeEntry entry(AddressType type, std::uint32_t lifetime_ms = 0) {
  AddressTypeEntry e;
  e.type = type;
  e.lifetime_ms = lifetime_ms;
  return e;
}

// A and C next-gen, B RFC mode; D next-gen, started later (learns by Handle Table sync).
class EnrpAddressTypesTest : public EnrpCluster {
 protected:
  static constexpr RegistrarId kD = 0x4000;
  void make_mixed() {
    a = &net.add_node(kA, ng_config());
    b = &net.add_node(kB);
    c = &net.add_node(kC, ng_config());
    d = &net.add_node(kD, ng_config());
    net.mesh_static_peers();
    net.kill(d->index);
  }
  // 11.0.0.1 fixed, 11.0.0.2 graceful 5 s, 11.0.0.9 retiring at now + 2 s (as AsapServer stores
  // a moved PE).
  PoolElement moved_pe() {
    PoolElement pe = make_pe(0x77, kA, 0x0b000001);
    pe.user_transport.addresses = {IpAddress::v4(0x0b000001), IpAddress::v4(0x0b000002), IpAddress::v4(0x0b000009)};
    pe.address_types = {entry(AddressType::kFixed), entry(AddressType::kGracefulReplacement, 5000),
                        entry(AddressType::kGracefulReplacement)};
    pe.address_types[2].retiring = true;
    pe.address_types[2].retire_at = net.clock.now() + 2 * kNsPerSec;
    return pe;
  }
  SimNode* d = nullptr;
};

TEST_F(EnrpAddressTypesTest, TypesRoundTripBetweenNextGenPeersAndStayInvisibleToRfcPeer) {
  make_mixed();
  start_and_settle(2 * kNsPerSec);
  const PoolHandle h = handle("TypedPool");
  const PoolElement pe = moved_pe();
  register_owned(*a, h, pe);
  net.pump();

  auto at_c = find_pe(*c->hs, h, 0x77);
  ASSERT_TRUE(at_c.has_value());
  EXPECT_EQ(at_c->user_transport.addresses, pe.user_transport.addresses);
  ASSERT_EQ(at_c->address_types.size(), 3u);
  EXPECT_EQ(at_c->address_types[0].type, AddressType::kFixed);
  EXPECT_EQ(at_c->address_types[1].lifetime_ms, 5000u);
  EXPECT_TRUE(at_c->address_types[2].retiring);
  // The time left travelled (ms granularity), not A's clock value.
  EXPECT_EQ(at_c->address_types[2].retire_at, pe.address_types[2].retire_at);

  auto at_b = find_pe(*b->hs, h, 0x77);
  ASSERT_TRUE(at_b.has_value());
  EXPECT_TRUE(at_b->address_types.empty());
  EXPECT_EQ(at_b->user_transport.addresses, (std::vector<IpAddress>{IpAddress::v4(0x0b000001), IpAddress::v4(0x0b000002)}));
  for (const SentRecord* r : net.raw_sent(a->index, b->index, EnrpType::kHandleUpdate))
    EXPECT_FALSE(contains_tlv_type(r->bytes, wire::param::kAddressTypes));
  bool typed_to_c = false;
  for (const SentRecord* r : net.raw_sent(a->index, c->index, EnrpType::kHandleUpdate))
    typed_to_c = typed_to_c || contains_tlv_type(r->bytes, wire::param::kAddressTypes);
  EXPECT_TRUE(typed_to_c);

  // D starts and syncs its table: the types come with the Handle Table Response.
  net.advance(500 * kNsPerMs);
  net.revive(d->index);
  net.build(*d);
  d->srv().start();
  net.advance(1 * kNsPerSec);
  ASSERT_TRUE(d->srv().startup_complete());
  auto at_d = find_pe(*d->hs, h, 0x77);
  ASSERT_TRUE(at_d.has_value());
  ASSERT_EQ(at_d->address_types.size(), 3u);
  EXPECT_TRUE(at_d->address_types[2].retiring);
  EXPECT_EQ(at_d->address_types[2].retire_at, pe.address_types[2].retire_at);

  // The retiring address ends at A, C and D without a Handle Update; the checksums stay equal.
  const TimeNs before_end = net.clock.now();
  net.advance(pe.address_types[2].retire_at - net.clock.now() + 100 * kNsPerMs);
  for (SimNode* n : {a, c, d}) {
    auto now_pe = find_pe(*n->hs, h, 0x77);
    ASSERT_TRUE(now_pe.has_value()) << n->id;
    EXPECT_EQ(now_pe->user_transport.addresses.size(), 2u) << n->id;
    EXPECT_EQ(n->srv().counters().graceful_addresses_retired, 1u) << n->id;
  }
  for (SimNode* n : {b, c, d})
    EXPECT_TRUE(net.sent_between(a->index, n->index, EnrpType::kHandleUpdate, before_end).empty()) << n->id;
  net.advance(cycle());
  for (SimNode* n : {a, c, d})
    for (const auto& p : n->srv().peers()) EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
}

}  // namespace
}  // namespace poolreg::enrp::testing
