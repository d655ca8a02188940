// TestQsbr: a minimal quiescent-state-based reclaimer for the stress tests (test-only).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "registrar/common/reclaimer.hpp"

namespace poolreg::policy::testing {

// Readers call quiescent() between read-side sections and offline() when they stop. The
// writer calls retire() (through the Reclaimer interface) and reclaim(); an object retired at
// epoch e is freed once every online reader has announced an epoch >= e. All seq_cst: simple,
// and ThreadSanitizer sees every happens-before edge.
class TestQsbr final : public Reclaimer {
 public:
  explicit TestQsbr(std::size_t readers) : reader_epochs_(readers) {
    for (auto& e : reader_epochs_) e.store(kOffline);
  }
  ~TestQsbr() override { free_all(); }

  // --- readers ---
  void online(std::size_t reader) { reader_epochs_[reader].store(epoch_.load()); }
  void quiescent(std::size_t reader) { reader_epochs_[reader].store(epoch_.load()); }
  void offline(std::size_t reader) { reader_epochs_[reader].store(kOffline); }

  // --- writer ---
  void retire(void* object, void (*destroy)(void*)) override {
    pending_.push_back({object, destroy, epoch_.fetch_add(1) + 1});
  }
  // Epoch tag a caller can wait on for its own quarantine (slot reuse).
  std::uint64_t advance() { return epoch_.fetch_add(1) + 1; }
  std::uint64_t safe_epoch() const {
    std::uint64_t min = kOffline;
    for (const auto& e : reader_epochs_) {
      const std::uint64_t v = e.load();
      if (v < min) min = v;
    }
    return min;
  }
  void reclaim() {
    const std::uint64_t safe = safe_epoch();
    std::size_t kept = 0;
    for (auto& item : pending_) {
      if (item.epoch <= safe) {
        item.destroy(item.object);
        ++freed_;
      } else {
        pending_[kept++] = item;
      }
    }
    pending_.resize(kept);
  }
  void free_all() {
    for (auto& item : pending_) item.destroy(item.object);
    freed_ += pending_.size();
    pending_.clear();
  }
  std::size_t freed() const { return freed_; }

 private:
  static constexpr std::uint64_t kOffline = std::numeric_limits<std::uint64_t>::max();
  struct Item {
    void* object;
    void (*destroy)(void*);
    std::uint64_t epoch;
  };
  std::atomic<std::uint64_t> epoch_{1};
  std::vector<std::atomic<std::uint64_t>> reader_epochs_;
  std::vector<Item> pending_;
  std::size_t freed_ = 0;
};

}  // namespace poolreg::policy::testing
