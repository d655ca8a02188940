// decode(encode(x)) == x for every ASAP and ENRP message type, in RFC and next-gen mode, plus
// the placement rules of next-gen extension TLVs (nextgen.md section 0, NG-CAP-01, NG-ID64-01).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "registrar/wire/tlv_reader.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

IpAddress v6_sample() {
  return IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34});
}

// IDs: 32-bit values in RFC mode, full 64-bit in next-gen mode.
struct Ids {
  PoolElementId pe;
  RegistrarId a, b, c;
};
Ids ids(bool next_gen) {
  if (next_gen) return {0xfedcba9876543210ULL, 0x1111222233334444ULL, 0x5555666677778888ULL, 0x9999aaaabbbbccccULL};
  return {0x76543210, 0x33334444, 0x77778888, 0xbbbbcccc};
}

std::vector<PoolElement> varied_elements(const Ids& id, bool with_asap) {
  std::vector<PoolElement> out;
  const PolicyType policies[] = {
      PolicyType::kRoundRobin, PolicyType::kWeightedRoundRobin, PolicyType::kRandom,
      PolicyType::kWeightedRandom, PolicyType::kPriority, PolicyType::kLeastUsed,
      PolicyType::kLeastUsedDegradation, PolicyType::kPriorityLeastUsed, PolicyType::kRandomizedLeastUsed,
      PolicyType::kRandomizedPriorityLeastUsed, PolicyType::kRandomizedLeastUsedDegradation,
      PolicyType::kPriorityLeastUsedDegradation, PolicyType::kRandomizedPriorityLeastUsedDegradation,
      PolicyType::kWeightedRandomDpf, PolicyType::kLeastUsedDpf, PolicyType::kLeastUsedDegradationDpf};
  const TransportProtocol protocols[] = {TransportProtocol::kSctp, TransportProtocol::kTcp, TransportProtocol::kUdp,
                                         TransportProtocol::kUdpLite, TransportProtocol::kDccp};
  std::uint32_t n = 1;
  for (PolicyType type : policies) {
    PoolElement e;
    e.id = id.pe + n;
    e.home_registrar = id.a;
    e.registration_life_ms = 1000 * n;
    const TransportProtocol proto = protocols[n % 5];
    e.user_transport.protocol = proto;
    e.user_transport.port = static_cast<std::uint16_t>(1000 + n);
    if (proto == TransportProtocol::kSctp) {
      e.user_transport.use = TransportUse::kDataPlusControl;
      e.user_transport.addresses = {v4(0x0a000000 + n), v6_sample()};
    } else {
      if (proto == TransportProtocol::kTcp) e.user_transport.use = TransportUse::kDataPlusControl;
      if (proto == TransportProtocol::kDccp) e.user_transport.dccp_service_code = 0xdcc9;
      e.user_transport.addresses = {n % 2 ? v6_sample() : v4(0xc0a80000 + n)};
    }
    // Only the fields that travel for this policy (parameters.md section 6).
    PolicyParams& p = e.policy;
    p.type = type;
    switch (type) {
      case PolicyType::kWeightedRoundRobin:
      case PolicyType::kWeightedRandom: p.weight = 7 * n; break;
      case PolicyType::kPriority: p.priority = 3 * n; break;
      case PolicyType::kLeastUsed:
      case PolicyType::kRandomizedLeastUsed: p.load = 0x10000000u * (n % 15); break;
      case PolicyType::kWeightedRandomDpf: p.weight = n; p.weight_dpf = 0x80000000u; p.distance_ms = 50 * n; break;
      case PolicyType::kLeastUsedDpf: p.load = n; p.load_dpf = 0x40000000u; p.distance_ms = 100; break;
      case PolicyType::kLeastUsedDegradationDpf:
        p.load = n; p.load_degradation = 2 * n; p.load_dpf = 3 * n; p.distance_ms = 4 * n; break;
      case PolicyType::kRoundRobin:
      case PolicyType::kRandom: break;
      default: p.load = 11 * n; p.load_degradation = 13 * n; break;
    }
    if (with_asap) e.asap_transport = sctp(static_cast<std::uint16_t>(40000 + n), {v4(0x0a000000 + n)});
    out.push_back(std::move(e));
    ++n;
  }
  return out;
}

std::vector<AsapMessage> asap_samples(bool ng) {
  const Ids id = ids(ng);
  const auto caps = ng ? std::optional<std::uint32_t>(kNgCapId64 | kNgCapHro) : std::nullopt;
  const PoolHandle h = handle("EchoPool");
  const PoolHandle odd = handle("P");  // 1 byte: 3 pad bytes
  auto elements = varied_elements(id, false);
  PoolElement reg_pe = elements[3];
  OperationError two_causes;
  two_causes.causes = {{0x5, hex("0008000c 40000001 40000000")}, {0x9, {}}, {0x3, hex("010203")}};
  return {
      Registration{h, reg_pe, caps},
      Registration{odd, elements[0], std::nullopt},
      Deregistration{h, id.pe},
      RegistrationResponse{false, h, id.pe, std::nullopt, caps},
      RegistrationResponse{true, h, id.pe, two_causes, std::nullopt},
      DeregistrationResponse{h, id.pe, std::nullopt},
      DeregistrationResponse{h, id.pe, OperationError::single(ErrorCause::kUnspecified)},
      HandleResolution{h, std::nullopt, std::nullopt},
      HandleResolution{odd, kHroItemsMax, caps},
      HandleResolutionResponse{h, elements[5].policy, elements, std::nullopt},
      HandleResolutionResponse{odd, std::nullopt, {}, OperationError::single(ErrorCause::kUnknownPoolHandle)},
      EndpointKeepAlive{false, id.a, h, id.pe},
      EndpointKeepAlive{true, id.b, h, std::nullopt},
      EndpointKeepAliveAck{h, id.pe},
      EndpointUnreachable{h, id.pe},
      ServerAnnounce{id.a, {}},
      ServerAnnounce{id.a, {sctp(3863, {v4(0x0a000001), v6_sample()}), elements[1].user_transport}},
      Cookie{{1, 2, 3, 4, 5}},
      CookieEcho{{0xff}},
      BusinessCard{h, elements[2].policy, {elements[2], elements[4]}},
      BusinessCard{h, std::nullopt, {}},
      AsapError{two_causes},
  };
}

std::vector<EnrpMessage> enrp_samples(bool ng) {
  const Ids id = ids(ng);
  const PoolHandle h = handle("EchoPool");
  auto elements = varied_elements(id, true);
  Presence full{id.a, id.b, true, std::uint16_t{0x29a5}, std::nullopt, server_info(0x0a0b0c0d, 0x0a000001),
                std::nullopt};
  if (ng) {
    full.checksum32 = 0x57f8d1ac;
    full.ng_capabilities = 0x3f;
  }
  return {
      full,
      Presence{id.a, 0, false, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      HandleTableRequest{id.b, id.a, true},
      HandleTableRequest{id.b, id.a, false},
      HandleTableResponse{id.a, id.b, false, true,
                          {HandleTableEntry{h, {elements[0], elements[1]}},
                           HandleTableEntry{handle("Other"), {elements[2]}}}},
      HandleTableResponse{id.a, id.b, true, false, {}},
      HandleUpdate{id.a, id.b, true, UpdateAction::kAddPe, h, elements[6]},
      HandleUpdate{id.a, 0, false, UpdateAction::kDeletePe, h, elements[7]},
      ListRequest{id.b, id.a},
      ListResponse{id.a, id.b, false, {server_info(1, 0x0a000001), server_info(2, 0x0a000002)}},
      ListResponse{id.a, id.b, true, {}},
      InitTakeover{id.a, 0, id.c},
      InitTakeoverAck{id.b, id.a, id.c},
      TakeoverServer{id.a, 0, id.c},
      EnrpError{id.a, id.b, OperationError::single(ErrorCause::kInvalidValues, hex("000f0006 00000000"))},
  };
}

// Collects every TLV type, recursing into Pool Element, transport and Server Information TLVs.
void collect_types(std::span<const std::uint8_t> region, std::vector<std::uint16_t>& types,
                   std::vector<std::uint16_t>& ext_lengths) {
  TlvReader r(region, 0);
  while (auto t = r.next()) {
    types.push_back(t->type);
    if ((t->type & 0xfff0) == 0x8040) ext_lengths.push_back(static_cast<std::uint16_t>(t->value.size() + 4));
    switch (t->pure_type()) {
      case param::kPoolElement:
        if (t->value.size() >= 12) collect_types(t->value.subspan(12), types, ext_lengths);
        break;
      case param::kServerInformation:
        if (t->value.size() >= 4) collect_types(t->value.subspan(4), types, ext_lengths);
        break;
      default:
        break;
    }
  }
  ASSERT_FALSE(r.failed());
}

std::size_t enrp_fixed(std::uint8_t type) { return (type == 4 || (type >= 7 && type <= 9)) ? 16 : 12; }
std::size_t asap_fixed(std::uint8_t type) { return (type == 7 || type == 10) ? 8 : 4; }

class WireRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(WireRoundTrip, EveryAsapMessage) {
  WireOptions o;
  o.next_gen = GetParam();
  std::set<std::size_t> kinds;
  for (const auto& m : asap_samples(o.next_gen)) {
    SCOPED_TRACE(static_cast<int>(asap_type_of(m)));
    kinds.insert(m.index());
    std::vector<std::uint8_t> buf;
    const auto e = encode(m, o, buf);
    ASSERT_TRUE(e.ok()) << static_cast<int>(e.status);
    ASSERT_EQ(e.size, buf.size());
    EXPECT_EQ(buf.size() % 4, 0u);  // WIRE-01
    EXPECT_EQ((buf[2] << 8 | buf[3]), static_cast<int>(buf.size()));
    const auto d = decode_asap(buf, o);
    ASSERT_TRUE(d.has_value()) << decode_error_kind_name(d.error().kind) << " at " << d.error().offset;
    EXPECT_TRUE(d.value() == m);
    // Extension TLVs: only in next-gen mode, Length % 4 == 0, and leading when present.
    std::vector<std::uint16_t> types, ext_lengths;
    collect_types(std::span<const std::uint8_t>(buf).subspan(asap_fixed(buf[0])), types, ext_lengths);
    for (auto len : ext_lengths) EXPECT_EQ(len % 4, 0);
    if (!o.next_gen) {
      EXPECT_TRUE(ext_lengths.empty());
    }
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<AsapMessage>);
}

TEST_P(WireRoundTrip, EveryEnrpMessage) {
  WireOptions o;
  o.next_gen = GetParam();
  std::set<std::size_t> kinds;
  for (const auto& m : enrp_samples(o.next_gen)) {
    SCOPED_TRACE(static_cast<int>(enrp_type_of(m)));
    kinds.insert(m.index());
    std::vector<std::uint8_t> buf;
    const auto e = encode(m, o, buf);
    ASSERT_TRUE(e.ok()) << static_cast<int>(e.status);
    EXPECT_EQ(buf.size() % 4, 0u);
    const auto d = decode_enrp(buf, o);
    ASSERT_TRUE(d.has_value()) << decode_error_kind_name(d.error().kind) << " at " << d.error().offset;
    EXPECT_TRUE(d.value() == m);
    std::vector<std::uint16_t> types, ext_lengths;
    collect_types(std::span<const std::uint8_t>(buf).subspan(enrp_fixed(buf[0])), types, ext_lengths);
    for (auto len : ext_lengths) EXPECT_EQ(len % 4, 0);
    if (!o.next_gen) {
      EXPECT_TRUE(ext_lengths.empty());
    } else {
      // NG-CAP-01 / NG-ID64-01: Extended-IDs present, and every extension TLV at message level
      // precedes the first RFC parameter.
      ASSERT_FALSE(types.empty());
      bool seen_rfc = false;
      TlvReader r(std::span<const std::uint8_t>(buf).subspan(enrp_fixed(buf[0])), 0);
      bool has_ext_ids = false;
      while (auto t = r.next()) {
        const bool ext = (t->type & 0xfff0) == 0x8040;
        if (t->type == param::kExtendedIds) has_ext_ids = true;
        if (ext) EXPECT_FALSE(seen_rfc) << "extension after an RFC parameter";
        else seen_rfc = true;
      }
      EXPECT_TRUE(has_ext_ids);
    }
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<EnrpMessage>);
}

INSTANTIATE_TEST_SUITE_P(Modes, WireRoundTrip, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("NextGen") : std::string("Rfc"); });

// RFC mode sends the short form only; decoding yields the zero-extended short ID.
TEST(WireModes, RfcModeTruncatesIdsToShortForm) {
  const Ids id = ids(true);
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(encode(InitTakeover{id.a, id.b, id.c}, WireOptions{}, buf).ok());
  EXPECT_EQ(buf.size(), 16u);
  const auto d = decode_enrp(buf);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d.value() == EnrpMessage(InitTakeover{short_id(id.a), short_id(id.b), short_id(id.c)}));
}

TEST(WireModes, NextGenPresenceLayout) {
  Presence p{0x1111222233334444ULL, 0x5555666677778888ULL, false, std::uint16_t{0x29a5}, 0x57f8d1acu,
             server_info(0x0a0b0c0d, 0x0a000001), kNgCapId64 | kNgCapCk32};
  WireOptions o;
  o.next_gen = true;
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(encode(p, o, buf).ok());
  // header, short IDs, 0x8040, 0x8041 (2 × u64), 0x8044, 0x000f, 0x000b.
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>(buf.begin(), buf.begin() + 56)),
            to_hex(hex("01000050 33334444 77778888 80400008 00000003 80410014 11112222 33334444"
                       "55556666 77778888 80440008 57f8d1ac 000f0006 29a50000")));
}

TEST(WireModes, NextGenRegistrationLayout) {
  Registration r{handle("EchoPool"), pe1(), kNgCapId64};
  r.element.id = 0xabcdef0012345678ULL;
  WireOptions o;
  o.next_gen = true;
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(encode(r, o, buf).ok());
  // 0x8040 first, then the RFC layout; the PE TLV ends with 0x8042 (Length 20).
  EXPECT_EQ(to_hex(buf), to_hex(hex("0100005c 80400008 00000001 0009000c 4563686f 506f6f6c 000a0044 12345678"
                                    "00000000 00007530 00040018 00070000 00010008 0a010101 00010008 0a020101"
                                    "00080008 00000001 80420014 abcdef00 12345678 00000000 00000000")));
}

TEST(WireModes, NextGenPeIdentifier64PrecedesPeIdentifier) {
  WireOptions o;
  o.next_gen = true;
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(encode(Deregistration{handle("EchoPool"), 0x0000000112345678ULL}, o, buf).ok());
  EXPECT_EQ(to_hex(buf), to_hex(hex("02000024 0009000c 4563686f 506f6f6c 8043000c 00000001 12345678 000e0008 12345678")));
}

}  // namespace
}  // namespace poolreg::wire
