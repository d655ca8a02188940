// message_body / find_pool_element_part: which bytes an Operation Error quotes from a received
// Registration (asap.md 6), and that the lookup never leaves the buffer.
#include "registrar/wire/tlv_locate.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire::testing {
namespace {

// Registration: header | Pool Handle "pool" (4..11) | Pool Element (12..59): fixed fields
// (16..27), SCTP transport (28..51), RR policy (52..59).
const std::string kHandleTlv = "00090008 706f6f6c";
const std::string kPeFixed = "12345678 00000000 00007530";
const std::string kSctp = "00040018 00070000 00010008 0a010101 00010008 0a020101";
const std::string kRr = "00080008 00000001";
const std::string kRegistration = "0100003c " + kHandleTlv + " 000a0030 " + kPeFixed + kSctp + kRr;

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& b, std::size_t from, std::size_t to) {
  return {b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(to)};
}
std::vector<std::uint8_t> bytes_of(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

TEST(MessageBody, IsTheTlvRegionUpToTheLengthField) {
  const auto msg = hex(kRegistration);
  const auto body = message_body(msg);
  EXPECT_EQ(body.data(), msg.data() + 4);
  EXPECT_EQ(body.size(), 56u);

  // Bytes after Length are not part of it; a Length beyond the buffer is clipped.
  auto longer = msg;
  longer.insert(longer.end(), {0, 0, 0, 0});
  EXPECT_EQ(message_body(longer).size(), 56u);
  const auto cut = slice(msg, 0, 30);
  EXPECT_EQ(message_body(cut).size(), 26u);
}

TEST(MessageBody, EmptyForShortHeaderOrLengthBelowHeader) {
  EXPECT_TRUE(message_body(hex("0100")).empty());
  EXPECT_TRUE(message_body(hex("01000002 00090008")).empty());
  EXPECT_TRUE(message_body(hex("01000004")).empty());
}

TEST(FindPoolElementPart, FindsTheElementItsTransportAndItsPolicy_ASAP_REG) {
  const auto msg = hex(kRegistration);
  EXPECT_EQ(bytes_of(find_pool_element_part(msg, PoolElementPart::kWholeElement)), slice(msg, 12, 60));
  EXPECT_EQ(bytes_of(find_pool_element_part(msg, PoolElementPart::kUserTransport)), slice(msg, 28, 52));
  EXPECT_EQ(bytes_of(find_pool_element_part(msg, PoolElementPart::kPolicy)), slice(msg, 52, 60));
}

TEST(FindPoolElementPart, FindsPartsTheDecoderRejected) {
  // Unknown policy 0x99 and a TCP transport: still located (they are what R=1 quotes).
  const auto msg = hex("01000034 " + kHandleTlv + " 000a0028 " + kPeFixed +
                       "00050010 00070000 00010008 0a010101" + "00080008 00000099");
  EXPECT_EQ(bytes_of(find_pool_element_part(msg, PoolElementPart::kUserTransport)), slice(msg, 28, 44));
  EXPECT_EQ(bytes_of(find_pool_element_part(msg, PoolElementPart::kPolicy)), slice(msg, 44, 52));
}

TEST(FindPoolElementPart, EmptyWhenThePartIsMissing) {
  EXPECT_TRUE(find_pool_element_part(hex("0100000c " + kHandleTlv), PoolElementPart::kWholeElement).empty());
  // Pool Element without policy.
  const auto no_policy = hex("01000034 " + kHandleTlv + " 000a0028 " + kPeFixed + kSctp);
  EXPECT_TRUE(find_pool_element_part(no_policy, PoolElementPart::kPolicy).empty());
  EXPECT_FALSE(find_pool_element_part(no_policy, PoolElementPart::kUserTransport).empty());
  // Pool Element too short for its fixed fields: the element, but none of its parts.
  const auto short_pe = hex("01000014 " + kHandleTlv + " 000a0008 12345678");
  EXPECT_EQ(find_pool_element_part(short_pe, PoolElementPart::kWholeElement).size(), 8u);
  EXPECT_TRUE(find_pool_element_part(short_pe, PoolElementPart::kUserTransport).empty());
}

TEST(FindPoolElementPart, NeverReadsOutsideATruncatedBuffer_WIRE_01) {
  const auto msg = hex(kRegistration);
  for (std::size_t n = 0; n < msg.size(); ++n) {
    const auto cut = slice(msg, 0, n);
    for (auto part :
         {PoolElementPart::kWholeElement, PoolElementPart::kUserTransport, PoolElementPart::kPolicy}) {
      const auto found = find_pool_element_part(cut, part);
      if (found.empty()) continue;
      EXPECT_GE(found.data(), cut.data()) << n;
      EXPECT_LE(found.data() + found.size(), cut.data() + cut.size()) << n;
    }
  }
}

}  // namespace
}  // namespace poolreg::wire::testing
