#include "registrar/handlespace/qsbr.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace poolreg::handlespace {

QsbrDomain::QsbrDomain(std::size_t max_readers)
    : slot_count_(max_readers == 0 ? 1 : max_readers), slots_(new ReaderSlot[slot_count_]) {}

QsbrDomain::~QsbrDomain() {
  // A destroyed object may retire more objects (e.g. a pool retiring its selector's parts).
  for (;;) {
    std::vector<Retired> items;
    {
      std::lock_guard lock(retire_mutex_);
      items.swap(retired_);
    }
    if (items.empty()) break;
    for (auto& r : items) r.destroy(r.object);
  }
}

std::optional<std::size_t> QsbrDomain::register_reader() {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    bool expected = false;
    if (slots_[i].in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      slots_[i].seen.store(0, std::memory_order_release);
      return i;
    }
  }
  return std::nullopt;
}

void QsbrDomain::unregister_reader(std::size_t slot) {
  slots_[slot].seen.store(0, std::memory_order_release);
  slots_[slot].in_use.store(false, std::memory_order_release);
}

void QsbrDomain::online(std::size_t slot) noexcept {
  // An RMW, paired with the writer's RMW read of `seen` in safe_token(): either the writer's
  // read comes first in the modification order of `seen` (then this exchange synchronizes with
  // it and every unlink the writer made before the scan is visible to this reader's later
  // loads), or the writer reads the token stored here, which is older than anything retired
  // after the reader's token load and so keeps that memory alive. (No standalone fence:
  // TSan does not model them.)
  slots_[slot].seen.exchange(token_.load(std::memory_order_acquire), std::memory_order_acq_rel);
}

void QsbrDomain::offline(std::size_t slot) noexcept {
  // Release: every read this reader made happens-before a writer that observes 0 frees memory.
  slots_[slot].seen.store(0, std::memory_order_release);
}

void QsbrDomain::quiescent(std::size_t slot) noexcept {
  // Acquire on the token: a reader that observed token t also observes every unlink made
  // before t was issued. Release on seen: this reader's earlier reads happen-before the free.
  slots_[slot].seen.store(token_.load(std::memory_order_acquire), std::memory_order_release);
}

bool QsbrDomain::is_online(std::size_t slot) const noexcept {
  return slots_[slot].seen.load(std::memory_order_relaxed) != 0;
}

std::uint64_t QsbrDomain::safe_token() const noexcept {
  std::uint64_t min_seen = UINT64_MAX;
  for (std::size_t i = 0; i < slot_count_; ++i) {
    // RMW read: observes the latest value of the slot (see online()).
    const std::uint64_t seen = slots_[i].seen.fetch_add(0, std::memory_order_acq_rel);
    if (seen != 0) min_seen = std::min(min_seen, seen);
  }
  return min_seen;
}

void QsbrDomain::retire(void* object, void (*destroy)(void*)) {
  bool run_reclaim = false;
  {
    std::lock_guard lock(retire_mutex_);
    // The object was unlinked before this increment: a reader that later reports a token
    // >= this value cannot hold it any more.
    const std::uint64_t token = token_.fetch_add(1, std::memory_order_seq_cst) + 1;
    retired_.push_back({object, destroy, token});
    if (++since_reclaim_ >= kAutoReclaimBatch) {
      since_reclaim_ = 0;
      run_reclaim = true;
    }
  }
  if (run_reclaim) reclaim();
}

std::size_t QsbrDomain::reclaim() {
  std::vector<Retired> ready;
  {
    std::lock_guard lock(retire_mutex_);
    if (retired_.empty()) return 0;
    const std::uint64_t safe = safe_token();
    // Tokens are issued under the mutex, so retired_ is sorted by token.
    auto end = std::find_if(retired_.begin(), retired_.end(), [safe](const Retired& r) { return r.token > safe; });
    ready.assign(retired_.begin(), end);
    retired_.erase(retired_.begin(), end);
  }
  for (auto& r : ready) r.destroy(r.object);
  return ready.size();
}

void QsbrDomain::synchronize() {
  std::uint64_t target;
  {
    std::lock_guard lock(retire_mutex_);
    if (retired_.empty()) return;
    target = retired_.back().token;
  }
  for (;;) {
    reclaim();
    {
      std::lock_guard lock(retire_mutex_);
      if (retired_.empty() || retired_.front().token > target) return;
    }
    std::this_thread::yield();
  }
}

std::size_t QsbrDomain::pending() const {
  std::lock_guard lock(retire_mutex_);
  return retired_.size();
}

QsbrReader::QsbrReader(QsbrDomain& domain) : domain_(&domain) {
  auto slot = domain.register_reader();
  if (!slot) throw std::runtime_error("QsbrDomain: no free reader slot");
  slot_ = *slot;
}

QsbrReader::~QsbrReader() {
  domain_->offline(slot_);
  domain_->unregister_reader(slot_);
}

}  // namespace poolreg::handlespace
