// Parameter-level layouts (parameters.md sections 3-7): byte images of single TLVs and the
// unknown-parameter rules inside nested TLVs (WIRE-02/03/05/08).
#include <gtest/gtest.h>

#include <vector>

#include "registrar/wire/parameter_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

template <typename F>
std::string encoded(F&& f) {
  std::vector<std::uint8_t> out;
  TlvWriter w(out);
  f(w);
  EXPECT_TRUE(w.ok());
  w.trim();
  return to_hex(out);
}

// Frames the first TLV of `bytes` (offsets relative to bytes).
Tlv first_tlv(const std::vector<std::uint8_t>& bytes) {
  TlvReader r(bytes, 0);
  auto t = r.next();
  EXPECT_TRUE(t.has_value());
  return t.value_or(Tlv{});
}

TEST(WireParameters, PolicyFieldLayoutForEveryWireType) {
  struct Case {
    PolicyType type;
    const char* hex;
  };
  PolicyParams p;
  p.weight = 0x11;
  p.priority = 0x22;
  p.load = 0x33;
  p.load_degradation = 0x44;
  p.weight_dpf = 0x55;
  p.load_dpf = 0x66;
  p.distance_ms = 0x77;
  const Case cases[] = {
      {PolicyType::kRoundRobin, "00080008 00000001"},
      {PolicyType::kWeightedRoundRobin, "0008000c 00000002 00000011"},
      {PolicyType::kRandom, "00080008 00000003"},
      {PolicyType::kWeightedRandom, "0008000c 00000004 00000011"},
      {PolicyType::kPriority, "0008000c 00000005 00000022"},
      {PolicyType::kLeastUsed, "0008000c 40000001 00000033"},
      {PolicyType::kLeastUsedDegradation, "00080010 40000002 00000033 00000044"},
      {PolicyType::kPriorityLeastUsed, "00080010 40000003 00000033 00000044"},
      {PolicyType::kRandomizedLeastUsed, "0008000c 40000004 00000033"},
      {PolicyType::kRandomizedPriorityLeastUsed, "00080010 b0001001 00000033 00000044"},
      {PolicyType::kRandomizedLeastUsedDegradation, "00080010 b0001002 00000033 00000044"},
      {PolicyType::kPriorityLeastUsedDegradation, "00080010 b0001003 00000033 00000044"},
      {PolicyType::kRandomizedPriorityLeastUsedDegradation, "00080010 b0001004 00000033 00000044"},
      {PolicyType::kWeightedRandomDpf, "00080014 b0002001 00000011 00000055 00000077"},
      {PolicyType::kLeastUsedDpf, "00080014 b0002002 00000033 00000066 00000077"},
      {PolicyType::kLeastUsedDegradationDpf, "00080018 b0002003 00000033 00000044 00000066 00000077"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(policy_name(c.type));
    p.type = c.type;
    EXPECT_EQ(encoded([&](TlvWriter& w) { encode_policy(w, p); }), to_hex(hex(c.hex)));
    const auto bytes = hex(c.hex);
    const auto d = decode_policy(first_tlv(bytes));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d.value().type, c.type);
    // Exactly the travelling fields come back; the others stay 0.
    std::vector<std::uint8_t> again;
    TlvWriter w(again);
    encode_policy(w, d.value());
    w.trim();
    EXPECT_EQ(again, bytes);
  }
}

TEST(WireParameters, TransportLayouts) {
  TransportEndpoint dccp{TransportProtocol::kDccp, 5000, TransportUse::kDataOnly, 0x01020304, {v4(0x0a000001)}};
  EXPECT_EQ(encoded([&](TlvWriter& w) { encode_transport(w, dccp, WireOptions{}); }),
            to_hex(hex("00030014 13880000 01020304 00010008 0a000001")));
  TransportEndpoint udp{TransportProtocol::kUdp, 53, TransportUse::kDataPlusControl, 0, {v4(0x0a000001)}};
  // UDP has a reserved field: transport use is not sent.
  EXPECT_EQ(encoded([&](TlvWriter& w) { encode_transport(w, udp, WireOptions{}); }),
            to_hex(hex("00060010 00350000 00010008 0a000001")));
  TransportEndpoint tcp6{TransportProtocol::kTcp, 80, TransportUse::kDataPlusControl, 0,
                         {IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})}};
  EXPECT_EQ(encoded([&](TlvWriter& w) { encode_transport(w, tcp6, WireOptions{}); }),
            to_hex(hex("0005001c 00500001 00020014 20010db8 00000000 00000000 00000001")));
}

TEST(WireParameters, UdpReservedFieldIgnoredOnReceipt) {
  const auto bytes = hex("00060010 0035abcd 00010008 0a000001");
  UnrecognizedReports reports;
  const auto t = decode_transport(first_tlv(bytes), WireOptions{}, reports);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t.value().use, TransportUse::kDataOnly);
  EXPECT_EQ(t.value().to_endpoint().addresses, std::vector<IpAddress>{v4(0x0a000001)});
}

TEST(WireParameters, Wire08AddressLimitConfigurable) {
  const auto bytes = hex("00040018 00070000 00010008 0a010101 00010008 0a020101");
  UnrecognizedReports reports;
  WireOptions one;
  one.max_addresses = 1;
  const auto t = decode_transport(first_tlv(bytes), one, reports);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().kind, DecodeErrorKind::kBadAddressCount);
  EXPECT_TRUE(decode_transport(first_tlv(bytes), WireOptions{}, reports).has_value());
}

TEST(WireParameters, Wire03SkipReportInsideTransportIsReportedWithItsOffset) {
  const auto bytes = hex("00040018 00070000 c0770008 00000000 00010008 0a010101");
  UnrecognizedReports reports;
  const auto t = decode_transport(first_tlv(bytes), WireOptions{}, reports);
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], (TlvLocation{8, 8}));
  EXPECT_EQ(t.value().addresses.size(), 1u);
}

TEST(WireParameters, PoolElementTrailingSkipTlvAccepted) {
  const auto bytes = hex(
      "000a0038 12345678 00000000 00007530 00040010 00070000 00010008 0a010101 00080008 00000001"
      "80990010 00000000 00000000 00000000");
  UnrecognizedReports reports;
  const auto pe = decode_pool_element(first_tlv(bytes), WireOptions{}, reports);
  ASSERT_TRUE(pe.has_value());
  EXPECT_TRUE(reports.empty());
  EXPECT_FALSE(pe.value().asap_transport);
}

TEST(WireParameters, PoolElementThirdTransportIsDuplicate) {
  const auto bytes = hex(
      "000a0040 12345678 00000000 00007530 00040010 00070000 00010008 0a010101 00080008 00000001"
      "00040010 00070000 00010008 0a010101 00040010 00070000 00010008 0a010101");
  UnrecognizedReports reports;
  const auto pe = decode_pool_element(first_tlv(bytes), WireOptions{}, reports);
  ASSERT_FALSE(pe.has_value());
  EXPECT_EQ(pe.error().kind, DecodeErrorKind::kTlvTruncated);  // Length 0x40 stops inside the 2nd transport
  const auto fixed = hex(
      "000a0048 12345678 00000000 00007530 00040010 00070000 00010008 0a010101 00080008 00000001"
      "00040010 00070000 00010008 0a010101 00040010 00070000 00010008 0a010101");
  const auto pe2 = decode_pool_element(first_tlv(fixed), WireOptions{}, reports);
  ASSERT_FALSE(pe2.has_value());
  EXPECT_EQ(pe2.error().kind, DecodeErrorKind::kDuplicateParameter);
  EXPECT_EQ(pe2.error().offset, 56u);
}

TEST(WireParameters, ServerInformationNeedsItsTransport) {
  const auto bytes = hex("000b0008 0a0b0c0d");
  UnrecognizedReports reports;
  const auto s = decode_server_information(first_tlv(bytes), WireOptions{}, reports);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, DecodeErrorKind::kMissingParameter);
}

TEST(WireParameters, PeIdentifierInNextGenModeCarries64Bits) {
  WireOptions ng;
  ng.next_gen = true;
  EXPECT_EQ(encoded([&](TlvWriter& w) { encode_pe_identifier(w, 0x0102030405060708ULL, ng); }),
            to_hex(hex("8043000c 01020304 05060708 000e0008 05060708")));
  EXPECT_EQ(encoded([&](TlvWriter& w) { encode_pe_identifier(w, 0x0102030405060708ULL, WireOptions{}); }),
            to_hex(hex("000e0008 05060708")));
}

TEST(WireParameters, KnownParameterSetMatchesLow14Bits) {
  EXPECT_TRUE(is_known_parameter(0x0009));
  EXPECT_TRUE(is_known_parameter(0xc009));
  EXPECT_TRUE(is_known_parameter(0x803f));
  EXPECT_TRUE(is_known_parameter(0x8044));
  EXPECT_FALSE(is_known_parameter(0x8050));
  EXPECT_FALSE(is_known_parameter(0x0000));
  EXPECT_FALSE(is_known_parameter(0x0010));
}

TEST(WireParameters, DecodeErrorKindNamesAreDistinct) {
  EXPECT_EQ(decode_error_kind_name(DecodeErrorKind::kPoolHandleTooLong), "pool handle too long");
  EXPECT_NE(decode_error_kind_name(DecodeErrorKind::kTlvTruncated), decode_error_kind_name(DecodeErrorKind::kTrailingBytes));
}

}  // namespace
}  // namespace poolreg::wire
