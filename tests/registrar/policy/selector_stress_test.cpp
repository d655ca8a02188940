// Concurrency stress: readers select continuously while one writer churns the same selector,
// memory reclaimed by a real QSBR scheme. Meant for ThreadSanitizer and AddressSanitizer.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "registrar/policy/selector.hpp"
#include "test_qsbr.hpp"

namespace poolreg::policy {
namespace {

constexpr std::size_t kReaders = 3;
constexpr Slot kSlots = 3000;          // slot numbers in use (forces growth and shrinking)
constexpr std::size_t kMinLive = 16;   // the writer keeps at least this many PEs
constexpr int kWriterOps = 3000000;    // upper bound; the time budget usually ends first
constexpr auto kTimeBudget = std::chrono::milliseconds(2000);  // per policy: 6 x 2 s

// Per-reader single-producer ring of selected slots for on_selected (no locks in the test
// either, so the sanitizer sees only the selector's own synchronisation).
class FeedbackRing {
 public:
  void push(Slot slot) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) >= kSize) return;  // full: drop
    slots_[head % kSize].store(slot, std::memory_order_relaxed);
    head_.store(head + 1, std::memory_order_release);
  }
  template <typename F>
  void drain(F&& f) {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    for (; tail < head; ++tail) f(slots_[tail % kSize].load(std::memory_order_relaxed));
    tail_.store(tail, std::memory_order_release);
  }

 private:
  static constexpr std::uint64_t kSize = 1024;
  std::array<std::atomic<Slot>, kSize> slots_{};
  std::atomic<std::uint64_t> head_{0};
  std::atomic<std::uint64_t> tail_{0};
};

struct SlotTruth {
  std::atomic<bool> live{false};
  std::atomic<std::uint64_t> erased_at{0};  // writer op number of the last erase
};

struct ReaderStats {
  std::uint64_t answers = 0;
  std::uint64_t short_answers = 0;
  std::uint64_t errors = 0;
};

void run_stress(PolicyType type) {
  testing::TestQsbr qsbr(kReaders);
  auto selector = make_selector(type, qsbr);
  std::vector<SlotTruth> truth(kSlots);
  std::array<FeedbackRing, kReaders> feedback;
  std::atomic<std::uint64_t> ops{1};
  std::atomic<bool> stop{false};
  std::array<ReaderStats, kReaders> stats{};

  // Writer state. Erased slots wait a grace period before reuse (the handlespace's contract).
  Xoshiro256 rng(99);
  std::vector<Slot> live;
  std::vector<std::size_t> index_of(kSlots, SIZE_MAX);
  std::vector<Slot> free_slots;
  for (Slot s = kSlots; s > 0; --s) free_slots.push_back(s - 1);
  std::deque<std::pair<std::uint64_t, Slot>> quarantine;
  auto random_params = [&] {
    PolicyParams p;
    p.type = type;
    p.weight = static_cast<std::uint32_t>(rng.below(5));
    p.priority = static_cast<std::uint32_t>(rng.below(4));
    p.load = static_cast<std::uint32_t>(rng.below(8)) << 28;  // few distinct loads: shared groups
    p.load_degradation = static_cast<std::uint32_t>(rng.below(3)) << 26;
    if (type == PolicyType::kWeightedRandom && p.weight == 0) p.weight = 1;  // keep answers full
    return p;
  };
  auto insert_one = [&] {
    const Slot s = free_slots.back();
    free_slots.pop_back();
    truth[s].live.store(true);
    selector->insert(s, random_params());
    index_of[s] = live.size();
    live.push_back(s);
  };
  // Populate before the readers start: with more threads than cores the writer may not run
  // for a while, and answers from a nearly empty pool would count as short.
  while (live.size() < kMinLive) insert_one();

  std::vector<std::thread> readers;
  for (std::size_t r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      SelectorContext ctx(1000 + r);
      Slot out[kMaxSelectItems];
      const std::size_t sizes[] = {1, 3, 10};
      qsbr.online(r);
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed) && i < 50'000'000; ++i) {
        const std::size_t k = sizes[i % 3];
        const std::uint64_t started = ops.load();
        const std::size_t n = selector->select(k, ctx, out);
        ReaderStats& s = stats[r];
        ++s.answers;
        if (n < (k < kMinLive ? k : kMinLive)) ++s.short_answers;
        for (std::size_t j = 0; j < n; ++j) {
          const Slot slot = out[j];
          bool ok = slot < kSlots;
          for (std::size_t m = 0; ok && m < j; ++m) ok = out[m] != slot;  // no duplicates
          // Live now, or erased after this call began.
          ok = ok && (truth[slot].live.load() || truth[slot].erased_at.load() >= started);
          if (!ok) ++s.errors;
        }
        if (n > 0 && selector->needs_selection_feedback()) feedback[r].push(out[0]);
        qsbr.quiescent(r);
      }
      qsbr.offline(r);
    });
  }

  const auto deadline = std::chrono::steady_clock::now() + kTimeBudget;
  int op = 0;
  for (; op < kWriterOps; ++op) {
    if (op % 256 == 0) {
      if (std::chrono::steady_clock::now() > deadline) break;
      qsbr.reclaim();
      const std::uint64_t safe = qsbr.safe_epoch();
      while (!quarantine.empty() && quarantine.front().first <= safe) {
        free_slots.push_back(quarantine.front().second);
        quarantine.pop_front();
      }
      for (auto& ring : feedback) ring.drain([&](Slot s) { selector->on_selected(s); });
    }
    // Alternate growing and shrinking phases so that arrays grow, shrink and get retired.
    const bool growing = (op / 20000) % 2 == 0;
    const std::uint64_t choice = rng.below(10);
    const std::uint64_t insert_below = growing ? 5 : 2;
    if ((choice < insert_below || live.size() < kMinLive) && !free_slots.empty()) {
      insert_one();
    } else if (choice < 7 && live.size() > kMinLive) {  // erase: 20 % or 50 %
      const std::size_t i = rng.below(live.size());
      const Slot s = live[i];
      selector->erase(s);
      truth[s].erased_at.store(ops.fetch_add(1));
      truth[s].live.store(false);
      live[i] = live.back();
      index_of[live[i]] = i;
      live.pop_back();
      index_of[s] = SIZE_MAX;
      quarantine.emplace_back(qsbr.advance(), s);
    } else if (choice < 9 && !live.empty()) {
      selector->update(live[rng.below(live.size())], random_params());
    } else if (!live.empty()) {
      selector->on_selected(live[rng.below(live.size())]);
    }
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(selector->size(), live.size());
  selector.reset();
  qsbr.free_all();

  std::uint64_t answers = 0;
  std::uint64_t short_answers = 0;
  for (const auto& s : stats) {
    EXPECT_EQ(s.errors, 0u);
    answers += s.answers;
    short_answers += s.short_answers;
  }
  EXPECT_GT(op, 1000);
  EXPECT_GT(answers, 1000u);
  // Short answers happen only when a writer change races with the call.
  EXPECT_LT(short_answers, answers / 20 + 10) << answers;
  std::printf("%s: %d writer ops, %llu answers, %llu short, %zu frees\n", std::string(policy_short_name(type)).c_str(),
              op, static_cast<unsigned long long>(answers), static_cast<unsigned long long>(short_answers),
              qsbr.freed());
}

TEST(SelectorStressTest, RoundRobin) { run_stress(PolicyType::kRoundRobin); }
TEST(SelectorStressTest, LeastUsed) { run_stress(PolicyType::kLeastUsed); }
TEST(SelectorStressTest, LeastUsedDegradation) { run_stress(PolicyType::kLeastUsedDegradation); }
TEST(SelectorStressTest, WeightedRoundRobin) { run_stress(PolicyType::kWeightedRoundRobin); }
TEST(SelectorStressTest, WeightedRandom) { run_stress(PolicyType::kWeightedRandom); }
TEST(SelectorStressTest, RandomizedLeastUsedDegradation) { run_stress(PolicyType::kRandomizedLeastUsedDegradation); }

}  // namespace
}  // namespace poolreg::policy
