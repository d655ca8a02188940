// AliasOwnerTable: which lane holds a peer address as an alias of one of its associations
// (SCTP multi-homing: the addresses a peer listed in its INIT / INIT ACK; ADD-IP: an address it
// added by ASCONF). Lanes steer a peer's packets by its source address (steer_lane.hpp), so the
// packets from a multi-homed peer's second address may be steered to a lane whose usrsctp copy
// does not know the association and would answer them out of the blue (an ABORT ending it). The
// lane holding the alias publishes it here; the lane steering gives the address to (its
// "natural" owner) looks it up and hands the packet over to the holder instead.
//
// Key: the steering key (IP, UDP source port; for native SCTP the SCTP source port, flagged
// native). Value: the holding lane. Several holders on one lane are counted; a key another lane
// already holds is refused (first come, first served: the engine's own rule for aliases).
//
// Concurrency (the contract):
// - lookup() and empty(): any thread, lock-free and wait-free in practice (a per-slot sequence
//   counter: a reader retries a slot only while a writer is in the middle of it), no allocation.
//   empty() is one relaxed load: the lanes skip the lookup while nothing is published, so
//   single-homed traffic pays one load of a line that is written only when an alias comes or goes.
// - publish() / withdraw(): any lane thread, rare (association up, ASCONF, association gone);
//   writers are serialised by a mutex no reader ever takes.
// - No memory is ever freed while readers run: a fixed array of slots (open addressing, linear
//   probing within kMaxProbe slots, tombstones reused by later publishes), so no reclamation
//   scheme (QSBR) is needed and a reader never sees freed memory. A lookup during a publish or
//   withdraw may see the table before or after it (a packet then takes the old way once).
// Bounded: at most capacity() keys; beyond it (or when kMaxProbe slots from a key's home are
// all live) publish() answers kFull and the alias stays local to its lane (counted by the caller).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace poolreg::runtime {

class AliasOwnerTable {
 public:
  static constexpr unsigned kNoLane = ~0u;
  static constexpr std::size_t kMaxProbe = 32;
  static constexpr std::size_t kDefaultCapacity = 1u << 16;  // aliases (2 slots of 32 bytes each: 4 MiB)

  enum class PublishResult : std::uint8_t { kPublished, kHeldByOtherLane, kFull };

  // capacity: keys at most (1 ..); the slot array is the next power of two >= 2 * capacity.
  explicit AliasOwnerTable(std::size_t capacity = kDefaultCapacity);
  AliasOwnerTable(const AliasOwnerTable&) = delete;
  AliasOwnerTable& operator=(const AliasOwnerTable&) = delete;

  // ip: 4 or 16 bytes, network order; port: host order (UDP source port, or the SCTP source port
  // when native).
  PublishResult publish(const std::uint8_t* ip, bool ipv6, std::uint16_t port, bool native, unsigned lane);
  // One holder less of the key on `lane` (nothing when `lane` does not hold it); the key goes with
  // its last holder.
  void withdraw(const std::uint8_t* ip, bool ipv6, std::uint16_t port, bool native, unsigned lane);

  bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }
  // The lane holding the key, kNoLane when none does.
  unsigned lookup(const std::uint8_t* ip, bool ipv6, std::uint16_t port, bool native) const noexcept;

  std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct Key {
    std::uint64_t w[3];
  };
  // state: 0 never used (ends a probe), 1 tombstone, lane + 2 a live key.
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kTombstone = 1;
  struct Slot {
    std::atomic<std::uint32_t> seq{0};  // odd while a writer changes the slot
    std::atomic<std::uint32_t> state{kEmpty};
    std::atomic<std::uint64_t> key[3] = {};
  };
  static Key key_of(const std::uint8_t* ip, bool ipv6, std::uint16_t port, bool native) noexcept;
  std::size_t home(const Key& k) const noexcept;
  // A consistent copy of slot i (state and key).
  std::uint32_t read_slot(std::size_t i, Key& k) const noexcept;
  void write_slot(std::size_t i, std::uint32_t state, const Key& k) noexcept;

  std::size_t capacity_;
  std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  std::mutex writers_;
  std::vector<std::uint32_t> holders_;  // per slot, writers only (under writers_)
  alignas(64) std::atomic<std::size_t> count_{0};
};

}  // namespace poolreg::runtime
