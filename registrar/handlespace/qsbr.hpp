// QsbrDomain: quiescent-state-based reclamation for the handlespace's lock-free readers
// (the model is DPDK's rte_rcu_qsbr; registrar/ does not depend on DPDK).
//
// Contract
// - Readers: every thread that reads the handlespace owns one reader slot (QsbrReader, RAII).
//   A reader is either ONLINE (it may hold pointers into handlespace memory) or OFFLINE (it
//   holds none). While online it must call quiescent() regularly (e.g. once per poll-loop
//   iteration / per RX burst): quiescent() declares "I hold no pointer obtained before this
//   call". Pointers obtained inside a read section must not be used after the next
//   quiescent()/offline(). Reader calls are wait-free: one atomic load + one store (online()
//   uses an atomic exchange instead of the store). A reader that blocks (sleeps, waits on I/O) must go offline first,
//   otherwise reclamation stalls (memory grows, nothing breaks).
// - Writers (any thread; shard writers may call concurrently): retire(object, destroy) after
//   unlinking the object from every structure readers can reach. The object is destroyed by
//   reclaim() once every reader that was online at retire time has reported a quiescent state
//   or gone offline. retire() takes a writer-side mutex (never touched by readers) and calls
//   reclaim() itself every kAutoReclaimBatch retirements.
// - reclaim() may be called from any thread, even an online reader (its own slot counts like
//   any other). synchronize() must not be called by an online reader: it would wait for a
//   quiescent state of its own caller.
// - Destroying the domain frees everything still pending: all readers must be offline and
//   unregistered by then.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "registrar/common/reclaimer.hpp"

namespace poolreg::handlespace {

class QsbrDomain final : public Reclaimer {
 public:
  static constexpr std::size_t kAutoReclaimBatch = 256;

  explicit QsbrDomain(std::size_t max_readers = 64);
  ~QsbrDomain() override;
  QsbrDomain(const QsbrDomain&) = delete;
  QsbrDomain& operator=(const QsbrDomain&) = delete;

  // Reader slot management (not on the hot path; any thread). Returns nullopt when all
  // max_readers slots are taken. A new slot starts OFFLINE.
  std::optional<std::size_t> register_reader();
  void unregister_reader(std::size_t slot);  // the slot must be offline

  // Reader hot path (only the thread owning `slot`).
  void online(std::size_t slot) noexcept;
  void offline(std::size_t slot) noexcept;
  void quiescent(std::size_t slot) noexcept;
  bool is_online(std::size_t slot) const noexcept;

  // Writer side.
  void retire(void* object, void (*destroy)(void*)) override;
  // Frees every retired object that no online reader can still hold; returns how many.
  std::size_t reclaim();
  // Blocks (spinning with yield) until everything retired before the call has been freed.
  void synchronize();
  std::size_t pending() const;
  // Grace-period tokens for state that is recycled rather than freed (e.g. pool slots):
  // begin_grace_period() after unlinking, then grace_period_elapsed(token) tells when no reader
  // can still hold what was unlinked. Writer side; elapsed() scans the reader slots.
  std::uint64_t begin_grace_period() noexcept { return token_.fetch_add(1, std::memory_order_seq_cst) + 1; }
  bool grace_period_elapsed(std::uint64_t token) const noexcept { return token <= safe_token(); }
  // Smallest token every online reader has passed (UINT64_MAX when no reader is online).
  std::uint64_t safe_token() const noexcept;
  std::size_t max_readers() const noexcept { return slot_count_; }

 private:
  struct alignas(64) ReaderSlot {
    std::atomic<std::uint64_t> seen{0};  // 0 = offline, else last token observed
    std::atomic<bool> in_use{false};
  };
  struct Retired {
    void* object;
    void (*destroy)(void*);
    std::uint64_t token;
  };

  alignas(64) std::atomic<std::uint64_t> token_{1};
  std::size_t slot_count_;
  std::unique_ptr<ReaderSlot[]> slots_;
  mutable std::mutex retire_mutex_;
  std::vector<Retired> retired_;  // token order (non-decreasing)
  std::size_t since_reclaim_ = 0;
};

// RAII reader registration; one per reader thread. Starts OFFLINE; call online() before
// reading. Throws std::runtime_error when the domain has no free slot (start-up only).
class QsbrReader {
 public:
  explicit QsbrReader(QsbrDomain& domain);
  ~QsbrReader();
  QsbrReader(const QsbrReader&) = delete;
  QsbrReader& operator=(const QsbrReader&) = delete;

  void online() noexcept { domain_->online(slot_); }
  void offline() noexcept { domain_->offline(slot_); }
  void quiescent() noexcept { domain_->quiescent(slot_); }
  bool is_online() const noexcept { return domain_->is_online(slot_); }
  QsbrDomain& domain() const noexcept { return *domain_; }

 private:
  QsbrDomain* domain_;
  std::size_t slot_;
};

}  // namespace poolreg::handlespace
