// Expected<T, E>: the std::expected-shaped result type (registrar/common/expected.hpp).
#include "registrar/common/expected.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace poolreg {
namespace {

Expected<int, std::string> parse_digit(char c) {
  if (c < '0' || c > '9') return unexpected(std::string("not a digit: ") + c);
  return c - '0';
}

Expected<void, int> check_even(int v) {
  if (v % 2 != 0) return Unexpected(v);
  return {};
}

TEST(Expected, HoldsValueOrError) {
  auto ok = parse_digit('7');
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(ok.value_or(-1), 7);

  auto bad = parse_digit('x');
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), "not a digit: x");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Expected, VoidCarriesOnlyTheError) {
  EXPECT_TRUE(check_even(4).has_value());
  auto r = check_even(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), 3);
}

TEST(Expected, MovesOnlyTypes) {
  Expected<std::unique_ptr<int>, std::string> p = std::make_unique<int>(5);
  ASSERT_TRUE(p);
  std::unique_ptr<int> owned = std::move(p).value();
  EXPECT_EQ(*owned, 5);
  Expected<std::unique_ptr<int>, std::string> e = unexpected(std::string("gone"));
  EXPECT_EQ(std::move(e).error(), "gone");
}

TEST(Expected, ArrowReachesMembers) {
  Expected<std::string, int> s = std::string("abc");
  EXPECT_EQ(s->size(), 3u);
}

}  // namespace
}  // namespace poolreg
