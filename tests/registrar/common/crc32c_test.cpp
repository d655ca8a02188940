// Tests registrar/common/crc32c.hpp against the RFC 3720 B.4 CRC32c examples, and the
// instruction path against the portable table.
#include "registrar/common/crc32c.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace poolreg {
namespace {

TEST(Crc32c, Rfc3720ThirtyTwoZeroBytes) {
  const std::array<std::uint8_t, 32> zeros{};
  EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
}

TEST(Crc32c, Rfc3720ThirtyTwoOnesBytes) {
  std::array<std::uint8_t, 32> ones{};
  ones.fill(0xff);
  EXPECT_EQ(crc32c(ones), 0x62a8ab43u);
}

TEST(Crc32c, Rfc3720AscendingBytes) {
  std::array<std::uint8_t, 32> ascending{};
  for (std::size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(crc32c(ascending), 0x46dd794eu);
}

TEST(Crc32c, Rfc3720DescendingBytes) {
  std::array<std::uint8_t, 32> descending{};
  for (std::size_t i = 0; i < descending.size(); ++i) descending[i] = static_cast<std::uint8_t>(31 - i);
  EXPECT_EQ(crc32c(descending), 0x113fdb5cu);
}

TEST(Crc32c, CheckValueOfAsciiDigits) {
  // The catalogue "check" value of CRC-32C: the CRC of "123456789".
  const std::vector<std::uint8_t> digits = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(crc32c(digits), 0xe3069283u);
}

TEST(Crc32c, EmptyInputIsZero) { EXPECT_EQ(crc32c({}), 0u); }

TEST(Crc32c, IncrementalEqualsOneShot) {
  std::vector<std::uint8_t> data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const std::span<const std::uint8_t> all(data);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{333}, data.size()}) {
    std::uint32_t state = crc32c_update(kCrc32cInit, all.first(cut));
    state = crc32c_update(state, all.subspan(cut));
    EXPECT_EQ(crc32c_finish(state), crc32c(all)) << "cut at " << cut;
  }
}

TEST(Crc32c, PortableTableEqualsDispatchedVersion) {
  std::vector<std::uint8_t> data(301);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 17);
  const std::span<const std::uint8_t> all(data);
  for (std::size_t offset = 0; offset < 9; ++offset)
    for (std::size_t length :
         std::initializer_list<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 64, 200})  // every tail
      EXPECT_EQ(crc32c_update(kCrc32cInit, all.subspan(offset, length)),
                crc32c_update_portable(kCrc32cInit, all.subspan(offset, length)))
          << offset << "+" << length;
  const std::vector<std::uint8_t> digits = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(crc32c_finish(crc32c_update_portable(kCrc32cInit, digits)), 0xe3069283u);
}

}  // namespace
}  // namespace poolreg
