// SelectionFeedbackQueue: bounded MPSC queue, drops (and counts) when full.
#include "registrar/handlespace/selection_feedback_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace poolreg::handlespace {
namespace {

TEST(SelectionFeedbackQueue, FifoAndDropWhenFull) {
  SelectionFeedbackQueue q(4);
  EXPECT_EQ(q.capacity(), 4u);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(q.try_push({1, 2, i}));
  EXPECT_FALSE(q.try_push({1, 2, 99}));
  EXPECT_EQ(q.dropped(), 1u);
  SelectionFeedback item;
  for (std::uint32_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.try_pop(item));
    EXPECT_EQ(item.slot, i);
    EXPECT_EQ(item.pool_index, 1u);
    EXPECT_EQ(item.pool_generation, 2u);
  }
  EXPECT_FALSE(q.try_pop(item));
  EXPECT_TRUE(q.try_push({0, 0, 5}));  // wraps around
  ASSERT_TRUE(q.try_pop(item));
  EXPECT_EQ(item.slot, 5u);
}

TEST(SelectionFeedbackQueue, ConcurrentProducersLoseNothingButDrops) {
  SelectionFeedbackQueue q(64);
  constexpr std::uint32_t kPerProducer = 20000;
  std::atomic<bool> done{false};
  std::vector<std::thread> producers;
  for (std::uint32_t p = 0; p < 2; ++p)
    producers.emplace_back([&, p] {
      for (std::uint32_t i = 0; i < kPerProducer; ++i) q.try_push({p, 0, i});
    });
  std::uint64_t popped = 0;
  std::uint32_t last[2] = {0, 0};
  bool first[2] = {true, true};
  SelectionFeedback item;
  std::thread consumer([&] {
    for (;;) {
      const bool finished = done.load();
      while (q.try_pop(item)) {
        ++popped;
        // Per producer, items arrive in push order.
        if (!first[item.pool_index]) {
          EXPECT_GT(item.slot, last[item.pool_index]);
        }
        first[item.pool_index] = false;
        last[item.pool_index] = item.slot;
      }
      if (finished) break;
      std::this_thread::yield();
    }
  });
  for (auto& t : producers) t.join();
  done = true;
  consumer.join();
  EXPECT_EQ(popped + q.dropped(), 2u * kPerProducer);
}

}  // namespace
}  // namespace poolreg::handlespace
