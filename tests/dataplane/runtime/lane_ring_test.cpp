// LaneRing: FIFO, full and empty as documented (capacity rounded up to a power of two), and under
// concurrency every element pushed by several producer threads is popped exactly once by the one
// consumer, in order per producer (the MP/SC use of a kernel lane's inbox). Bounded loops.
#include "dataplane/runtime/lane_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace poolreg::runtime {
namespace {

void* as_ptr(std::uintptr_t v) { return reinterpret_cast<void*>(v); }

TEST(LaneRing, FifoFullAndEmpty) {
  LaneRing ring(5);  // rounded up to 8
  EXPECT_EQ(ring.capacity(), 8u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.pop(), nullptr);
  for (std::uintptr_t i = 1; i <= 8; ++i) EXPECT_TRUE(ring.push(as_ptr(i)));
  EXPECT_FALSE(ring.push(as_ptr(9)));  // full: the caller keeps it
  void* batch[4];
  ASSERT_EQ(ring.pop_burst(batch, 4), 4u);
  for (std::uintptr_t i = 0; i < 4; ++i) EXPECT_EQ(batch[i], as_ptr(i + 1));
  EXPECT_TRUE(ring.push(as_ptr(9)));  // room again, and it wraps around
  for (std::uintptr_t i = 5; i <= 9; ++i) EXPECT_EQ(ring.pop(), as_ptr(i));
  EXPECT_EQ(ring.pop(), nullptr);
  EXPECT_TRUE(ring.empty());
}

TEST(LaneRing, ManyProducersOneConsumerLoseNothing) {
  constexpr unsigned kProducers = 4;
  constexpr std::uintptr_t kPerProducer = 50000;
  LaneRing ring(256);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);  // test timeout 60 s
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (unsigned p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uintptr_t i = 1; i <= kPerProducer; ++i) {
        const std::uintptr_t value = (static_cast<std::uintptr_t>(p) << 32) | i;
        while (!ring.push(as_ptr(value))) {
          // Bounded by time, not by attempts: on a loaded machine (CI, sanitizers) the consumer
          // may be descheduled for long stretches without being gone.
          if (std::chrono::steady_clock::now() > deadline) return;
          std::this_thread::yield();
        }
      }
    });
  }
  go.store(true, std::memory_order_release);
  std::vector<std::uintptr_t> last(kProducers, 0);
  std::uint64_t received = 0, out_of_order = 0, foreign = 0;
  const std::uint64_t total = kProducers * kPerProducer;
  while (received < total && std::chrono::steady_clock::now() < deadline) {
    void* v = ring.pop();
    if (v == nullptr) {
      std::this_thread::yield();  // let the producers run when they share our CPU
      continue;
    }
    const auto value = reinterpret_cast<std::uintptr_t>(v);
    const unsigned p = static_cast<unsigned>(value >> 32);
    const std::uintptr_t i = value & 0xffffffffu;
    if (p >= kProducers) {
      ++foreign;
    } else {
      if (i != last[p] + 1) ++out_of_order;
      last[p] = i;
    }
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(received, total);
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(foreign, 0u);
  for (unsigned p = 0; p < kProducers; ++p) EXPECT_EQ(last[p], kPerProducer);
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace poolreg::runtime
