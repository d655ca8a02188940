// Address-Types sub-TLV 0x8045 (RFC 8653 types, README.md "Address types"): byte layout,
// round trip through ENRP and ASAP messages, the RFC-mode form (no TLV, no retiring address),
// and every malformed form giving a DecodeError instead of a value.
#include <gtest/gtest.h>

#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "registrar/wire/parameter_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

AddressTypeEntry entry(AddressType type, std::uint32_t lifetime_ms = 0, bool retiring = false) {
  AddressTypeEntry e;
  e.type = type;
  e.lifetime_ms = lifetime_ms;
  e.retiring = retiring;
  return e;
}

// pe1_enrp with a third address: 10.1.1.1 fixed, 10.2.1.1 graceful 30 s, 10.9.9.9 retiring (5 s left).
PoolElement typed_pe() {
  PoolElement e = pe1_enrp();
  e.user_transport.addresses.push_back(v4(0x0a090909));
  e.address_types = {entry(AddressType::kFixed), entry(AddressType::kGracefulReplacement, 30000),
                     entry(AddressType::kGracefulReplacement, 5000, true)};
  return e;
}

std::vector<std::uint8_t> encode_pe(const PoolElement& e, bool next_gen) {
  std::vector<std::uint8_t> out;
  TlvWriter w(out);
  WireOptions o;
  o.next_gen = next_gen;
  encode_pool_element(w, e, true, o);
  EXPECT_TRUE(w.ok());
  w.trim();
  return out;
}

Expected<PoolElement, DecodeError> decode_pe(const std::vector<std::uint8_t>& bytes) {
  TlvReader r(bytes, 0);
  auto t = r.next();
  if (!t) return unexpected(r.error());
  UnrecognizedReports reports;
  WireOptions o;
  o.next_gen = true;
  auto v = decode_pool_element(*t, o, reports);
  if (!v) return unexpected(v.error());
  return v->to_pool_element();
}

// Index of the 0x8045 TLV in an encoded PE (0 when absent).
std::size_t types_offset(const std::vector<std::uint8_t>& b) {
  for (std::size_t i = 0; i + 4 <= b.size(); i += 4)
    if (b[i] == 0x80 && b[i + 1] == 0x45) return i;
  return 0;
}

TEST(WireAddressTypes, LayoutAfterExtendedPeId) {
  const auto bytes = encode_pe(typed_pe(), true);
  const std::size_t at = types_offset(bytes);
  ASSERT_NE(at, 0u);
  // Right after the 20-byte 0x8042, last in the PE TLV: Length 4 + 3 * 8.
  EXPECT_EQ(bytes[at - 20], 0x80);
  EXPECT_EQ(bytes[at - 19], 0x42);
  EXPECT_EQ(at + 28, bytes.size());
  const std::vector<std::uint8_t> value(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
  EXPECT_EQ(to_hex(value), to_hex(hex("8045001c 01000000 00000000 04000000 00007530 04010000 00001388")));
}

TEST(WireAddressTypes, RoundTripNextGen) {
  const PoolElement e = typed_pe();
  auto d = decode_pe(encode_pe(e, true));
  ASSERT_TRUE(d.has_value()) << decode_error_kind_name(d.error().kind);
  EXPECT_EQ(d->user_transport.addresses, e.user_transport.addresses);
  EXPECT_EQ(d->address_types, e.address_types);
}

TEST(WireAddressTypes, RoundTripInHandleUpdateAndRegistration) {
  WireOptions o;
  o.next_gen = true;
  HandleUpdate u{0x0a0b0c0d, 0x01020304, false, UpdateAction::kAddPe, handle("Pool"), typed_pe()};
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(encode(EnrpMessage{u}, o, buf).ok());
  auto d = decode_enrp(buf, o);
  ASSERT_TRUE(d.has_value()) << decode_error_kind_name(d.error().kind);
  EXPECT_EQ(std::get<HandleUpdate>(d.value()).element.address_types, u.element.address_types);

  Registration r{handle("Pool"), pe1(), 0x01};
  r.element.address_types = {entry(AddressType::kSessionLasting), entry(AddressType::kNonpersistent)};
  buf.clear();
  ASSERT_TRUE(encode(AsapMessage{r}, o, buf).ok());
  auto a = decode_asap(buf, o);
  ASSERT_TRUE(a.has_value()) << decode_error_kind_name(a.error().kind);
  EXPECT_EQ(std::get<Registration>(a.value()).element.address_types, r.element.address_types);
}

TEST(WireAddressTypes, RfcModeSendsPlainAddressesWithoutRetiringOnes) {
  const auto bytes = encode_pe(typed_pe(), false);
  EXPECT_EQ(types_offset(bytes), 0u);
  auto d = decode_pe(bytes);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->address_types.empty());
  // The retiring 10.9.9.9 is left out: nothing at an RFC peer would ever drop it.
  EXPECT_EQ(d->user_transport.addresses, (std::vector<IpAddress>{v4(0x0a010101), v4(0x0a020101)}));
}

// Every address retiring (a fuzz_decode find): RFC mode keeps them all, since a transport
// without addresses is malformed and the PE is still reached there until it replaces them.
TEST(WireAddressTypes, RfcModeKeepsAllAddressesWhenEveryOneIsRetiring) {
  PoolElement e = typed_pe();
  for (auto& t : e.address_types) {
    t.type = AddressType::kGracefulReplacement;
    t.lifetime_ms = 1000;
    t.retiring = true;
  }
  const auto bytes = encode_pe(e, false);
  auto d = decode_pe(bytes);
  ASSERT_TRUE(d.has_value()) << decode_error_kind_name(d.error().kind);
  EXPECT_EQ(d->user_transport.addresses, e.user_transport.addresses);
}

TEST(WireAddressTypes, UntypedPeUnchangedInNextGen) {
  PoolElement e = pe1_enrp();
  const auto bytes = encode_pe(e, true);
  EXPECT_EQ(types_offset(bytes), 0u);
}

// Replaces the 0x8045 TLV of a typed PE by `tlv_hex` (fixing the PE TLV length).
std::vector<std::uint8_t> with_types_tlv(const std::string& tlv_hex) {
  auto bytes = encode_pe(typed_pe(), true);
  bytes.resize(types_offset(bytes));
  const auto tlv = hex(tlv_hex);
  bytes.insert(bytes.end(), tlv.begin(), tlv.end());
  bytes[2] = static_cast<std::uint8_t>(bytes.size() >> 8);
  bytes[3] = static_cast<std::uint8_t>(bytes.size());
  return bytes;
}

TEST(WireAddressTypes, MalformedFormsAreDecodeErrors) {
  struct Case {
    const char* what;
    std::string tlv;
    DecodeErrorKind kind;
  };
  const Case cases[] = {
      {"empty value", "80450004", DecodeErrorKind::kBadValueLength},
      {"short entry", "8045000c 01000000 0000", DecodeErrorKind::kTlvTruncated},
      {"length not a multiple of 8", "80450010 01000000 00000000 01000000", DecodeErrorKind::kBadValueLength},
      {"fewer entries than addresses", "80450014 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kAddressTypeCount},
      {"more entries than addresses",
       "80450024 01000000 00000000 01000000 00000000 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kAddressTypeCount},
      {"unknown type 5", "8045001c 05000000 00000000 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kUnknownAddressType},
      {"lifetime on a fixed address", "8045001c 01000000 00000010 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kUnknownAddressType},
      {"retiring fixed address", "8045001c 01010000 00000000 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kUnknownAddressType},
      {"twice", "8045001c 01000000 00000000 01000000 00000000 01000000 00000000 "
                "8045001c 01000000 00000000 01000000 00000000 01000000 00000000",
       DecodeErrorKind::kDuplicateParameter},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto d = decode_pe(with_types_tlv(c.tlv));
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().kind, c.kind) << decode_error_kind_name(d.error().kind);
  }
  // Before the user transport: it cannot be matched to addresses.
  const auto bytes = hex("000a0034 12345678 0a0b0c0d 00007530 8045000c 01000000 00000000"
                         " 00040010 00070000 00010008 0a010101 00080008 00000001");
  auto d = decode_pe(bytes);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, DecodeErrorKind::kAddressTypeCount);
}

TEST(WireAddressTypes, TypeNamesParseBack) {
  for (std::uint8_t t = 1; t <= kMaxAddressType; ++t) {
    const auto type = static_cast<AddressType>(t);
    EXPECT_EQ(parse_address_type(address_type_name(type)), type);
  }
  EXPECT_EQ(parse_address_type("Session"), AddressType::kSessionLasting);
  EXPECT_FALSE(parse_address_type("sticky").has_value());
}

}  // namespace
}  // namespace poolreg::wire
