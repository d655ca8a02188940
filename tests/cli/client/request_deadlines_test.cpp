// RequestDeadlines on a ManualClock: one loop timer, FIFO expiry, lazy deletion of answered requests.
#include "cli/client/request_deadlines.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace poolreg::client {
namespace {

class RequestDeadlinesTest : public ::testing::Test {
 protected:
  RequestDeadlinesTest()
      : loop(&clock), deadlines(loop, 100 * kNsPerMs, [this](std::uint64_t seq, const std::string& key) {
          if (answered.count(seq) == 0) expired.emplace_back(seq, key);
        }) {}

  void advance_ms(TimeNs ms) {
    clock.advance(ms * kNsPerMs);
    loop.run_once(0);
  }

  ManualClock clock{1'000 * kNsPerMs};
  runtime::EventLoop loop;
  RequestDeadlines<std::string> deadlines;
  std::set<std::uint64_t> answered;
  std::vector<std::pair<std::uint64_t, std::string>> expired;
};

TEST_F(RequestDeadlinesTest, ExpiresInOrderWithOneTimer) {
  deadlines.push(1, "a");
  advance_ms(30);
  deadlines.push(2, "b");
  deadlines.push(3, "c");
  EXPECT_EQ(loop.active_timers(), 1u);
  advance_ms(69);
  EXPECT_TRUE(expired.empty());
  advance_ms(1);  // t = 100 ms after the first push
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0], std::make_pair(std::uint64_t{1}, std::string("a")));
  EXPECT_EQ(loop.active_timers(), 1u);  // re-armed for "b"
  advance_ms(30);
  ASSERT_EQ(expired.size(), 3u);
  EXPECT_EQ(expired[1].second, "b");
  EXPECT_EQ(expired[2].second, "c");
  EXPECT_EQ(deadlines.size(), 0u);
  EXPECT_EQ(loop.active_timers(), 0u);
}

TEST_F(RequestDeadlinesTest, AnsweredRequestsAreSkippedByTheOwner) {
  deadlines.push(1, "a");
  deadlines.push(2, "b");
  answered.insert(1);
  advance_ms(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].first, 2u);
}

TEST_F(RequestDeadlinesTest, ClearCancelsTheTimer) {
  deadlines.push(1, "a");
  deadlines.clear();
  EXPECT_EQ(loop.active_timers(), 0u);
  advance_ms(200);
  EXPECT_TRUE(expired.empty());
  deadlines.push(2, "b");  // usable again
  advance_ms(100);
  ASSERT_EQ(expired.size(), 1u);
}

}  // namespace
}  // namespace poolreg::client
