// EnrpServer wire-mode interoperation (RFC peers and next-gen peers in one cluster:
// NG-CAP-01, NG-CK32-01, NG-ID64-01 tie-break) and error handling (ENRP-ERR-01).
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

std::uint16_t first_tlv_type(const std::vector<std::uint8_t>& bytes, std::size_t fixed = 12) {
  if (bytes.size() < fixed + 4) return 0;
  return static_cast<std::uint16_t>((bytes[fixed] << 8) | bytes[fixed + 1]);
}

bool contains_tlv_type(const std::vector<std::uint8_t>& bytes, std::uint16_t type) {
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
    if (((bytes[i] << 8) | bytes[i + 1]) == type) return true;
  return false;
}

// A: next-gen, 64-bit ID; B: RFC mode; C: next-gen with a 32-bit ID.
class EnrpInteropTest : public EnrpCluster {
 protected:
  static constexpr RegistrarId kA64 = 0xabcd000000001000ULL;
  void make_mixed() {
    a = &net.add_node(kA64, ng_config());
    b = &net.add_node(kB);
    c = &net.add_node(kC, ng_config());
    net.mesh_static_peers();
  }
};

TEST_F(EnrpInteropTest, RfcAndNextGenPeersInteroperate_NG_CAP_01_NG_CK32_01) {
  make_mixed();
  start_and_settle(2 * kNsPerSec);
  const TimeNs since = net.clock.now();
  net.advance(cycle());

  // Presence toward the next-gen peer: NG-Capabilities first, PE-Checksum-32 present.
  auto to_c = net.raw_sent(a->index, c->index, EnrpType::kPresence);
  ASSERT_FALSE(to_c.empty());
  EXPECT_EQ(first_tlv_type(to_c.back()->bytes), wire::param::kNgCapabilities);
  auto pc = std::get<wire::Presence>(*decode_msg(to_c.back()->bytes));
  ASSERT_TRUE(pc.ng_capabilities.has_value());
  EXPECT_TRUE(pc.checksum32.has_value());
  EXPECT_EQ(pc.sender, kA64);  // Extended-IDs carry the full ID
  // Toward the RFC peer: NG-Capabilities still leads (RFC peers skip it), no checksum-32.
  auto to_b = net.raw_sent(a->index, b->index, EnrpType::kPresence);
  ASSERT_FALSE(to_b.empty());
  EXPECT_EQ(first_tlv_type(to_b.back()->bytes), wire::param::kNgCapabilities);
  EXPECT_FALSE(std::get<wire::Presence>(*decode_msg(to_b.back()->bytes)).checksum32.has_value());
  // The RFC peer never sends extensions.
  for (const SentRecord* r : net.raw_sent(b->index, a->index, EnrpType::kPresence))
    EXPECT_NE(first_tlv_type(r->bytes), wire::param::kNgCapabilities);
  EXPECT_EQ(b->srv().counters().decode_failures, 0u);
  EXPECT_EQ(a->srv().counters().decode_failures, 0u);

  // PEs registered at each flavour reach everybody.
  const PoolHandle h = handle("MixPool");
  const PoolElementId pe64 = 0x0000000100000042ULL;
  register_owned(*a, h, make_pe(pe64, kA64));
  register_owned(*b, h, make_pe(0x55, kB));
  register_owned(*c, h, make_pe(0x66, kC));
  net.pump();
  // At the RFC peer A's PE arrives with its short ID and the home mapped to A's full ID.
  auto at_b = find_pe(*b->hs, h, short_id(pe64));
  ASSERT_TRUE(at_b.has_value());
  EXPECT_EQ(at_b->home_registrar, kA64);
  auto at_c = find_pe(*c->hs, h, pe64);
  ASSERT_TRUE(at_c.has_value());
  EXPECT_EQ(at_c->home_registrar, kA64);
  EXPECT_TRUE(find_pe(*a->hs, h, 0x55).has_value());
  EXPECT_TRUE(find_pe(*a->hs, h, 0x66).has_value());
  EXPECT_TRUE(find_pe(*c->hs, h, 0x55).has_value());

  // Handle Updates toward the RFC peer are byte-exact RFC encodings (no 0x8041/0x8042).
  auto ups_b = net.raw_sent(a->index, b->index, EnrpType::kHandleUpdate);
  ASSERT_FALSE(ups_b.empty());
  for (const SentRecord* r : ups_b) {
    EXPECT_FALSE(contains_tlv_type(r->bytes, wire::param::kExtendedIds));
    EXPECT_FALSE(contains_tlv_type(r->bytes, wire::param::kExtendedPeId));
  }
  auto ups_c = net.raw_sent(a->index, c->index, EnrpType::kHandleUpdate);
  ASSERT_FALSE(ups_c.empty());
  EXPECT_TRUE(contains_tlv_type(ups_c.back()->bytes, wire::param::kExtendedIds));

  // Audits agree in both modes.
  std::uint64_t mismatches = 0;
  for (SimNode* n : {a, b, c}) mismatches += n->srv().counters().audit_mismatches;
  net.advance(2 * cycle());
  for (SimNode* n : {a, b, c}) {
    for (const auto& p : n->srv().peers()) {
      EXPECT_EQ(p.state, PeerState::kAlive);
      EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
    }
    mismatches -= n->srv().counters().audit_mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
  // C compares 32-bit checksums with A, 16-bit ones with B.
  auto cp = c->srv().peers();
  ASSERT_NE(peer_by_id(cp, kA64), nullptr);
  EXPECT_TRUE(peer_by_id(cp, kA64)->their_checksum32.has_value());
  EXPECT_EQ(*peer_by_id(cp, kA64)->their_checksum32, a->hs->checksum32(kA64));
  ASSERT_NE(peer_by_id(cp, kB), nullptr);
  EXPECT_FALSE(peer_by_id(cp, kB)->ng_capabilities.has_value());
  (void)since;
}

TEST_F(EnrpInteropTest, NextGenAuditUsesChecksum32_NG_CK32_01) {
  make_mixed();
  start_and_settle(2 * kNsPerSec);
  const PoolHandle h = handle("Ck32");
  register_owned(*a, h, make_pe(0x0000000100000042ULL, kA64));
  net.pump();
  // C loses A's PE silently: the 32-bit audit notices and repairs it.
  ASSERT_TRUE(c->srv().corrupt_view_for_test(h, 0x0000000100000042ULL));
  const auto before = c->srv().counters().audit_mismatches;
  net.advance(cycle());
  EXPECT_GT(c->srv().counters().audit_mismatches, before);
  EXPECT_EQ(c->hs->checksum32(kA64), a->hs->checksum32(kA64));
  EXPECT_TRUE(find_pe(*c->hs, h, 0x0000000100000042ULL).has_value());
}

// Both next-gen, ID64: the 64-bit IDs decide the tie (C's full ID is lower although its short
// form is higher).
TEST_F(EnrpInteropTest, Id64TakeoverTieBreakUsesFullIds_NG_ID64_01) {
  const RegistrarId ka = 0x0000000200000005ULL, kc = 0x0000000100000009ULL;
  a = &net.add_node(ka, ng_config());
  b = &net.add_node(kB);
  c = &net.add_node(kc, ng_config());
  net.mesh_static_peers();
  start_and_settle(2 * kNsPerSec);
  register_owned(*b, handle("T"), make_pe(0x201, kB));
  net.pump();
  net.kill(b->index);
  const EnrpConfig cfg = EnrpConfig::fast();
  net.advance(cfg.max_time_last_heard + cfg.max_time_no_response + 1 * kNsPerSec);
  EXPECT_EQ(c->srv().counters().takeovers_won, 1u);
  EXPECT_EQ(a->srv().counters().takeovers_won, 0u);
  EXPECT_EQ(a->hs->pe_count_of_owner(kc), 1u);
}

EnrpConfig ng_tcp_config() {
  EnrpConfig c = ng_config();
  c.ng_capabilities |= wire::kNgCapTcp;
  return c;
}

PoolElement tcp_pe(PoolElementId id, RegistrarId home) {
  PoolElement pe = make_pe(id, home);
  pe.user_transport.protocol = TransportProtocol::kTcp;
  pe.asap_transport->protocol = TransportProtocol::kTcp;
  pe.asap_transport->port = 40123;
  return pe;
}

TEST_F(EnrpInteropTest, TcpPeersKeepOneConnectionPerPair_NG_TCP_01) {
  net.enrp_protocol = TransportProtocol::kTcp;
  a = &net.add_node(kA, ng_tcp_config());
  b = &net.add_node(kB, ng_tcp_config());
  c = &net.add_node(kC, ng_tcp_config());
  net.mesh_static_peers();
  start_and_settle(2 * kNsPerSec);
  // Everybody connected to everybody at start (6 connections); the ones opened by the higher
  // ID of each pair were closed (nextgen.md section 6 item 10).
  EXPECT_EQ(net.link_count(), 3u);
  EXPECT_EQ(net.aborts, 3u);
  net.advance(2 * cycle());
  register_owned(*a, handle("TcpPool"), make_pe(7, kA));
  net.pump();
  for (SimNode* n : {b, c}) EXPECT_TRUE(find_pe(*n->hs, handle("TcpPool"), 7).has_value());
  net.advance(cycle());
  for (SimNode* n : {a, b, c})
    for (const auto& p : n->srv().peers()) {
      EXPECT_EQ(p.state, PeerState::kAlive);
      EXPECT_TRUE(p.in_sync);
    }
  EXPECT_EQ(net.link_count(), 3u);
}

TEST_F(EnrpInteropTest, TcpPeDescribedAsSctpToRfcPeers_NG_TCP_01) {
  a = &net.add_node(kA64, ng_tcp_config());
  b = &net.add_node(kB);
  c = &net.add_node(kC, ng_tcp_config());
  net.mesh_static_peers();
  start_and_settle(2 * kNsPerSec);
  const PoolHandle h = handle("TcpPool");
  register_owned(*a, h, tcp_pe(0x77, kA64));
  net.pump();
  auto at_b = find_pe(*b->hs, h, 0x77);
  ASSERT_TRUE(at_b.has_value());
  EXPECT_EQ(at_b->asap_transport->protocol, TransportProtocol::kSctp);
  EXPECT_EQ(at_b->asap_transport->port, 40123);
  auto at_c = find_pe(*c->hs, h, 0x77);
  ASSERT_TRUE(at_c.has_value());
  EXPECT_EQ(at_c->asap_transport->protocol, TransportProtocol::kTcp);
}

TEST_F(EnrpInteropTest, TakenOverTcpPeKeptForItsLifeNotProbed_NG_TCP_02) {
  a = &net.add_node(kA, ng_tcp_config());
  c = &net.add_node(kC, ng_tcp_config());
  net.mesh_static_peers();
  start_and_settle(2 * kNsPerSec);
  const PoolHandle h = handle("TcpPool");
  register_owned(*a, h, tcp_pe(0x77, kA));
  net.pump();
  net.kill(a->index);
  const EnrpConfig cfg = EnrpConfig::fast();
  net.advance(cfg.max_time_last_heard + cfg.max_time_no_response + 1);
  EXPECT_EQ(c->srv().counters().takeovers_won, 1u);
  auto pe = find_pe(*c->hs, h, 0x77);
  ASSERT_TRUE(pe.has_value());
  EXPECT_EQ(pe->home_registrar, kC);
  EXPECT_TRUE(c->monitor.calls.empty());
  auto exp = c->hs->next_expiry();
  ASSERT_TRUE(exp.has_value());
  EXPECT_GT(*exp, net.clock.now());
  EXPECT_LE(*exp, net.clock.now() + 30 * kNsPerSec);
}

class EnrpErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a = &net.add_node(0x1000);
    x = &net.add_external(0x5000);
    net.set_static_peers(*a, {x->index});
    a->srv().start();
    net.pump();
    cid = x->connections_up.front();
    net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
    register_owned(*a, handle("Keep"), make_pe(1, 0x1000), false);
    net.pump();
    x->inbox.clear();
  }
  std::vector<wire::EnrpError> errors() {
    std::vector<wire::EnrpError> out;
    for (auto& [c, bytes] : x->inbox) {
      auto m = decode_msg(bytes);
      if (m && std::holds_alternative<wire::EnrpError>(*m)) out.push_back(std::get<wire::EnrpError>(*m));
    }
    return out;
  }
  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* x = nullptr;
  ConnectionId cid = 0;
};

TEST_F(EnrpErrorTest, MalformedMessageAnsweredWithErrorStateUnchanged_ENRP_ERR_01) {
  wire::HandleUpdate u;
  u.sender = 0x5000;
  u.receiver = 0x1000;
  u.pool_handle = handle("Bad");
  u.element = make_pe(9, 0x5000);
  auto bytes = encode_msg(u);
  // Pool Handle TLV (after header, IDs, action/reserved) claims more bytes than the message has.
  bytes[18] = 0x0f;
  bytes[19] = 0xf0;
  auto expected = wire::decode_enrp(bytes);
  ASSERT_FALSE(expected.has_value());
  const auto peers_before = a->srv().peers().size();
  net.inject(x->index, cid, bytes);
  net.pump();
  auto errs = errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].sender, 0x1000u);
  EXPECT_EQ(errs[0].receiver, 0x5000u);
  ASSERT_EQ(errs[0].error.causes.size(), 1u);
  EXPECT_EQ(errs[0].error.causes[0].code, static_cast<std::uint16_t>(expected.error().cause));
  const auto off = expected.error().offending(bytes);
  EXPECT_EQ(errs[0].error.causes[0].info, std::vector<std::uint8_t>(off.begin(), off.end()));
  EXPECT_FALSE(errs[0].error.causes[0].info.empty());
  // State unchanged.
  EXPECT_EQ(count_all(*a->hs), 1u);
  EXPECT_EQ(a->srv().peers().size(), peers_before);
  EXPECT_EQ(a->srv().counters().decode_failures, 1u);
}

TEST_F(EnrpErrorTest, UnknownTypeAnsweredWithCause2_ENRP_ERR_01) {
  std::vector<std::uint8_t> msg = {0x0b, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x10, 0x00};
  net.inject(x->index, cid, msg);
  net.pump();
  auto errs = errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].error.causes[0].code, 0x2);
  EXPECT_EQ(errs[0].error.causes[0].info, msg);
}

TEST_F(EnrpErrorTest, ErrorsAreNeverAnsweredWithErrors_ENRP_ERR_01) {
  // A malformed Error (Operation Error TLV truncated) ...
  std::vector<std::uint8_t> bad = {0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x50, 0x00,
                                   0x00, 0x00, 0x10, 0x00, 0x00, 0x0c, 0x00, 0x40};
  net.inject(x->index, cid, bad);
  // ... and a valid one.
  wire::EnrpError e;
  e.sender = 0x5000;
  e.receiver = 0x1000;
  e.error = wire::OperationError::single(ErrorCause::kUnrecognizedParameter);
  net.inject(x->index, cid, e);
  net.pump();
  EXPECT_TRUE(x->inbox.empty());
  EXPECT_EQ(a->srv().counters().errors_received, 1u);
  EXPECT_EQ(a->srv().counters().decode_failures, 1u);
  EXPECT_EQ(count_all(*a->hs), 1u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
