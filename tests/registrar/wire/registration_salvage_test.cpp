// salvage_registration: pool handle + PE ID from a Registration the decoder rejected, so the
// registrar can answer R=1 (asap.md 6), and why nothing could be read otherwise.
#include "registrar/wire/registration_salvage.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire::testing {
namespace {

const std::string kHandleTlv = "00090008 706f6f6c";  // "pool"
const std::string kSctp = "00040018 00070000 00010008 0a010101 00010008 0a020101";
const std::string kRr = "00080008 00000001";

// Header + Pool Handle "pool" + Pool Element (fixed fields, SCTP transport, `policy`).
std::vector<std::uint8_t> registration(const std::string& pe_fixed, const std::string& policy = kRr) {
  return hex("0100003c " + kHandleTlv + " 000a0030 " + pe_fixed + kSctp + policy);
}

struct Case {
  const char* what;
  std::vector<std::uint8_t> bytes;
  bool decodes;  // what the strict decoder says (salvage is meant for when it does not)
  PoolElementId id;
};

TEST(RegistrationSalvage, ReadsHandleAndShortIdOfRejectedRegistrations_ASAP_REG) {
  const Case cases[] = {
      {"well formed", registration("12345678 00000000 00007530"), true, 0x12345678},
      {"PE ID 0", registration("00000000 00000000 00007530"), false, 0},
      {"unknown policy 0x99", registration("12345678 00000000 00007530", "00080008 00000099"), false,
       0x12345678},
      {"PE before handle", hex("0100003c 000a0030 12345678 00000000 00007530" + kSctp + kRr + kHandleTlv),
       true, 0x12345678},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(decode_registration_view(c.bytes).has_value(), c.decodes);
    const auto s = salvage_registration(c.bytes, WireOptions{});
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->handle, handle("pool"));
    EXPECT_EQ(s->id, c.id);
  }
}

TEST(RegistrationSalvage, PoolHandleLimitIsTheDecodersLimit_WIRE_07) {
  // 33-byte handle: unreadable with the default 32-byte limit, fine with a larger one.
  const std::string long_handle = "0009 0025" + std::string(66, 'a') + "000000";
  const auto bytes = hex("0100005c " + long_handle + " 000a0030 12345678 00000000 00007530" + kSctp + kRr);
  const auto strict = salvage_registration(bytes, WireOptions{});
  ASSERT_FALSE(strict.has_value());
  EXPECT_EQ(strict.error(), SalvageFailure::kUnreadablePoolHandle);
  const auto lenient = salvage_registration(bytes, WireOptions{.max_pool_handle = 64});
  ASSERT_TRUE(lenient.has_value());
  EXPECT_EQ(lenient->handle.size(), 33u);
}

TEST(RegistrationSalvage, SaysWhatWasMissing) {
  const auto no_pe = salvage_registration(hex("0100000c " + kHandleTlv), WireOptions{});
  ASSERT_FALSE(no_pe.has_value());
  EXPECT_EQ(no_pe.error(), SalvageFailure::kNoPoolElement);

  const auto no_handle =
      salvage_registration(hex("01000034 000a0030 12345678 00000000 00007530" + kSctp + kRr), WireOptions{});
  ASSERT_FALSE(no_handle.has_value());
  EXPECT_EQ(no_handle.error(), SalvageFailure::kNoPoolHandle);

  const auto header_only = salvage_registration(hex("01000004"), WireOptions{});
  ASSERT_FALSE(header_only.has_value());
  EXPECT_EQ(header_only.error(), SalvageFailure::kNoPoolHandle);

  const auto short_pe =
      salvage_registration(hex("01000014 " + kHandleTlv + " 000a0006 12340000"), WireOptions{});
  ASSERT_FALSE(short_pe.has_value());
  EXPECT_EQ(short_pe.error(), SalvageFailure::kShortPoolElement);
}

TEST(RegistrationSalvage, StopsAtTheFirstMalformedTlv_WIRE_02) {
  // The Pool Element TLV claims more bytes than the message has: only the handle is readable.
  const auto bytes = hex("01000014 " + kHandleTlv + " 000a0040 12345678");
  const auto s = salvage_registration(bytes, WireOptions{});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error(), SalvageFailure::kNoPoolElement);

  // Truncated anywhere: never more than the bytes hold.
  const auto full = registration("12345678 00000000 00007530");
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    // The Pool Element TLV (12..59) is whole only in the full message.
    EXPECT_EQ(salvage_registration(cut, WireOptions{}).has_value(), n == full.size()) << n;
  }
}

}  // namespace
}  // namespace poolreg::wire::testing
