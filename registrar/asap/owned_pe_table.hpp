// OwnedPeTable: the PEs this registrar monitors with endpoint keep-alives (asap.md 4.4), keyed
// by (pool handle, PE ID). Entries live in a slab (stable uint32 index = keep-alive timer id);
// an open-addressing index (4 bytes per bucket, linear probing, backward-shift deletion) maps
// keys to slab indexes. O(1) average find/insert/erase; allocation only when growing.
//
// The table is a cache of monitoring state, not the truth: the handlespace is. The ASAP server
// revalidates an entry against the handlespace before acting on it (ownership may have moved
// through ENRP meanwhile).
// Single-threaded (the registrar event loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "registrar/common/ids.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::asap {

enum class MonitorState : std::uint8_t {
  kIdle,          // transmission timer armed (keep-alive due after the interval)
  kAwaitingAck,   // keep-alive (H=0) sent, timeout armed
  kAwaitingBind,  // keep-alive H=1 sent over a new association after a takeover, timeout armed
  kOnLane,        // handed to the association's lane (MessageOutput::watch_keepalives); no timer here
};

struct OwnedPe {
  PoolHandle handle;
  PoolElementId id = 0;
  // The association the PE is registered over (kIdle/kAwaitingAck), or the association opened
  // to reach it (kAwaitingBind; kNoConnectionId when connect failed at once).
  ConnectionId association = kNoConnectionId;
  MonitorState state = MonitorState::kIdle;
  bool in_use = false;
  // The keep-alive out now is the probe MAX-BAD-PE-REPORT unreachable reports asked for: its
  // Ack keeps the PE (reports reset), its timeout removes it (counted as an unreachable removal).
  bool unreachable_probe = false;
  // kOnLane: the ticket of the hand-over (KeepAliveWatch::ticket); a lane report with another is stale.
  std::uint32_t ticket = 0;
};

class OwnedPeTable {
 public:
  using Index = std::uint32_t;
  static constexpr Index kNotFound = 0xffffffffu;

  OwnedPeTable();

  Index find(const PoolHandle& handle, PoolElementId id) const noexcept;
  // Returns the index of the existing entry or of a new one (in_use, state kIdle, no association).
  // created tells which.
  Index insert(const PoolHandle& handle, PoolElementId id, bool& created);
  void erase(Index index) noexcept;

  OwnedPe& at(Index index) noexcept { return slab_[index]; }
  const OwnedPe& at(Index index) const noexcept { return slab_[index]; }
  std::size_t size() const noexcept { return size_; }
  // Calls visit(index) for every entry in use (slab order). visit may change the entry's state,
  // not insert or erase.
  template <typename Visit>
  void for_each_index(Visit&& visit) {
    for (Index i = 0; i < slab_.size(); ++i)
      if (slab_[i].in_use) visit(i);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static std::uint64_t hash_of(const PoolHandle& handle, PoolElementId id) noexcept;
  std::size_t bucket_of(std::uint64_t hash) const noexcept { return static_cast<std::size_t>(hash) & (buckets_.size() - 1); }
  void grow();

  std::vector<OwnedPe> slab_;
  std::vector<std::uint64_t> hashes_;  // per slab entry, cached
  std::vector<Index> free_;
  std::vector<std::uint32_t> buckets_;  // slab index or kEmpty
  std::size_t size_ = 0;
};

}  // namespace poolreg::asap
