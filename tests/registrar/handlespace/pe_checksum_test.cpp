// Audit checksum math against the vectors of shared/spec/checksum.md (ENRP-AUD-01/02).
#include "registrar/handlespace/pe_checksum.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace poolreg::handlespace {
namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(PeChecksum16, Rfc1071ExampleAsRawHostOrder) {
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  const std::uint16_t f = checksum16_finish(checksum16_handle_part(data));
  const auto wire = checksum16_wire_bytes(f);
  // The wire bytes, read big-endian, are RFC 1071's network-order checksum 0x220d.
  EXPECT_EQ((wire[0] << 8) | wire[1], 0x220d);
}

TEST(PeChecksum16, ContributionsOfSection31) {
  EXPECT_EQ(checksum16_contribution(bytes("EchoPool"), 0x12345678), 0x00025ad4u);
  EXPECT_EQ(checksum16_contribution(bytes("EchoPool"), 0x9abcdef0), 0x00035be4u);
  EXPECT_EQ(checksum16_contribution(bytes("Pool1"), 0x00000001), 0x0000dcf0u);
}

TEST(PeChecksum16, HandleAndIdArePaddedSeparately) {
  // "Pool1"/1 alone: network-order view 0x0f23 (0x0e24 if handle and ID were concatenated).
  const auto wire = checksum16_wire_bytes(checksum16_finish(checksum16_contribution(bytes("Pool1"), 1)));
  EXPECT_EQ((wire[0] << 8) | wire[1], 0x0f23);
}

TEST(PeChecksum16, SetVectorsOfSection31_ENRP_AUD_01) {
  ChecksumAccumulator acc;
  EXPECT_EQ(acc.checksum16(), 0xffff);
  acc.add(checksum16_contribution(bytes("EchoPool"), 0x12345678), 0);
  EXPECT_EQ(acc.checksum16(), 0xa529);
  EXPECT_EQ(checksum16_wire_bytes(acc.checksum16()), (std::array<std::uint8_t, 2>{0x29, 0xa5}));
  acc.add(checksum16_contribution(bytes("EchoPool"), 0x9abcdef0), 0);
  EXPECT_EQ(acc.checksum16(), 0x4942);
  EXPECT_EQ(checksum16_wire_bytes(acc.checksum16()), (std::array<std::uint8_t, 2>{0x42, 0x49}));
  acc.add(checksum16_contribution(bytes("Pool1"), 0x00000001), 0);
  EXPECT_EQ(acc.checksum16(), 0x6c51);
  acc.subtract(checksum16_contribution(bytes("EchoPool"), 0x9abcdef0), 0);
  EXPECT_EQ(acc.checksum16(), 0xc838);
  EXPECT_EQ(checksum16_wire_bytes(acc.checksum16()), (std::array<std::uint8_t, 2>{0x38, 0xc8}));
}

TEST(PeChecksum16, AccumulatorWrapsLikeRsplib) {
  // RSPLIB keeps A as a wrapping uint32: folding the wrapped value, not the exact sum.
  ChecksumAccumulator acc;
  acc.a16 = 0xfffffff0u;
  acc.add(0x20u, 0);
  EXPECT_EQ(acc.a16, 0x10u);
  EXPECT_EQ(acc.checksum16(), static_cast<std::uint16_t>(~0x10u));
}

TEST(PeChecksum16, IdUsesOnlyTheLow32Bits) {
  EXPECT_EQ(checksum16_id_part(0xffffffff12345678ULL), checksum16_id_part(0x12345678));
}

TEST(PeChecksum32, VectorsOfSection41) {
  EXPECT_EQ(checksum32_contribution(bytes("EchoPool"), 0x12345678), 0x00000000a8072e53ULL);
  ChecksumAccumulator acc;
  EXPECT_EQ(acc.checksum32(), 0xffffffffu);
  acc.add(0, checksum32_contribution(bytes("EchoPool"), 0x12345678));
  EXPECT_EQ(acc.checksum32(), 0x57f8d1acu);
  acc.add(0, checksum32_contribution(bytes("EchoPool"), 0xfedcba9876543210ULL));
  acc.add(0, checksum32_contribution(bytes("Pool1"), 1));
  EXPECT_EQ(acc.checksum32(), 0xcb859db9u);
  acc.subtract(0, checksum32_contribution(bytes("EchoPool"), 0xfedcba9876543210ULL));
  EXPECT_EQ(acc.checksum32(), 0xd689623eu);
}

TEST(PeChecksum32, HandlePadsAtItsEnd) {
  // "Pool1" = 50 6f 6f 6c | 31 00 00 00.
  EXPECT_EQ(checksum32_handle_part(bytes("Pool1")), 0x506f6f6cULL + 0x31000000ULL);
}

}  // namespace
}  // namespace poolreg::handlespace
