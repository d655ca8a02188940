// AssociationIndex: association identity -> first PE of its list in a shard (internal).
//
// Writer-only (the shard's writer). The PEs of one association form a doubly-linked list
// through Pool::assoc_links (AssocLink); this table holds only each list's head, so linking,
// unlinking and removing an association's PEs are O(1) per PE.
// Layout: open addressing, linear probing on mix_id(association), 16-byte entries, load kept
// between 3/8 and 3/4 (doubles when full; freed when empty), deletion by backward shift (no
// tombstones, so probe chains never decay under churn). Association 0 is never stored (it is
// the empty-entry key). Why not std::unordered_map: with one PE per association (how real PEs
// connect) a node per association plus its bucket cost ~3x the 16 bytes of an entry here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "registrar/handlespace/pool.hpp"

namespace poolreg::handlespace {

class AssociationIndex {
 public:
  // Head of the association's list, nullptr when it has no PE in this shard. The pointer is
  // invalidated by set_head() of another association and by erase().
  PeRef* find(std::uint64_t association) noexcept {
    if (entries_.empty()) return nullptr;
    for (std::size_t i = start(association);; i = (i + 1) & mask()) {
      Entry& e = entries_[i];
      if (e.association == association) return &e.head;
      if (e.association == 0) return nullptr;
    }
  }
  // Hint: the line where the probe for `association` starts (never a correctness dependency).
  void prefetch(std::uint64_t association) const noexcept {
    if (!entries_.empty()) __builtin_prefetch(&entries_[start(association)]);
  }
  // Sets the head of `association` (!= 0), inserting it when absent.
  void set_head(std::uint64_t association, PeRef head) {
    if (PeRef* h = find(association)) {
      *h = head;
      return;
    }
    if ((size_ + 1) * 4 > entries_.size() * 3) rehash(entries_.empty() ? kInitialCapacity : entries_.size() * 2);
    place(Entry{association, head});
    ++size_;
  }
  // Removes `association` (no-op when absent).
  void erase(std::uint64_t association) noexcept {
    if (entries_.empty()) return;
    std::size_t i = start(association);
    while (entries_[i].association != association) {
      if (entries_[i].association == 0) return;
      i = (i + 1) & mask();
    }
    // Backward shift: move later entries of the probe run into the hole when their home
    // position allows it, so lookups never need tombstones.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      const Entry& e = entries_[j];
      if (e.association == 0) break;
      const std::size_t home = start(e.association);
      // e may move to i when i lies cyclically within [home, j).
      if (((j - home) & mask()) >= ((j - i) & mask())) {
        entries_[i] = e;
        i = j;
      }
    }
    entries_[i] = Entry{};
    if (--size_ == 0) std::vector<Entry>().swap(entries_);
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept { return entries_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    std::uint64_t association = 0;
    PeRef head;
  };
  static_assert(sizeof(Entry) == 16);
  static constexpr std::size_t kInitialCapacity = 16;

  std::size_t mask() const noexcept { return entries_.size() - 1; }
  std::size_t start(std::uint64_t association) const noexcept {
    return static_cast<std::size_t>(mix_id(association)) & mask();
  }
  void place(const Entry& entry) noexcept {
    std::size_t i = start(entry.association);
    while (entries_[i].association != 0) i = (i + 1) & mask();
    entries_[i] = entry;
  }
  void rehash(std::size_t capacity) {
    std::vector<Entry> old(capacity);
    old.swap(entries_);
    for (const Entry& e : old)
      if (e.association != 0) place(e);
  }

  std::vector<Entry> entries_;  // capacity is 0 or a power of 2
  std::size_t size_ = 0;
};

}  // namespace poolreg::handlespace
