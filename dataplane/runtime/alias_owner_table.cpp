#include "dataplane/runtime/alias_owner_table.hpp"

#include <cstring>

namespace poolreg::runtime {

AliasOwnerTable::AliasOwnerTable(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
  std::size_t slots = 2;
  while (slots < 2 * capacity_) slots <<= 1;
  mask_ = slots - 1;
  slots_ = std::make_unique<Slot[]>(slots);
  holders_.assign(slots, 0);
}

AliasOwnerTable::Key AliasOwnerTable::key_of(const std::uint8_t* ip, bool ipv6, std::uint16_t port,
                                             bool native) noexcept {
  Key k{};
  std::uint8_t bytes[16] = {};
  std::memcpy(bytes, ip, ipv6 ? 16 : 4);
  std::memcpy(&k.w[0], bytes, 8);
  std::memcpy(&k.w[1], bytes + 8, 8);
  // Never all zero with the family bit set, so a key differs from a slot that was never written.
  k.w[2] =
      std::uint64_t{port} | (std::uint64_t{ipv6 ? 1u : 2u} << 16) | (std::uint64_t{native ? 1u : 0u} << 18);
  return k;
}

std::size_t AliasOwnerTable::home(const Key& k) const noexcept {
  std::uint64_t h = k.w[0] * 0x9E3779B97F4A7C15ull;
  h ^= k.w[1] + 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
  h ^= k.w[2] * 0x165667B19E3779F9ull;
  h ^= h >> 29;
  return static_cast<std::size_t>(h) & mask_;
}

std::uint32_t AliasOwnerTable::read_slot(std::size_t i, Key& k) const noexcept {
  // A sequence lock without fences (TSan does not model them): the writer's field stores are
  // releases, so a reader whose acquire load saw one of them also sees the odd sequence number
  // stored before it, and its second sequence load (after acquire loads) cannot move up.
  const Slot& s = slots_[i];
  for (;;) {
    const std::uint32_t before = s.seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;  // a writer is in the middle of this slot (a few stores)
    const std::uint32_t state = s.state.load(std::memory_order_acquire);
    for (int w = 0; w < 3; ++w) k.w[w] = s.key[w].load(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) == before) return state;
  }
}

void AliasOwnerTable::write_slot(std::size_t i, std::uint32_t state, const Key& k) noexcept {
  Slot& s = slots_[i];
  const std::uint32_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  s.state.store(state, std::memory_order_release);
  for (int w = 0; w < 3; ++w) s.key[w].store(k.w[w], std::memory_order_release);
  s.seq.store(seq + 2, std::memory_order_release);
}

unsigned AliasOwnerTable::lookup(const std::uint8_t* ip, bool ipv6, std::uint16_t port,
                                 bool native) const noexcept {
  const Key k = key_of(ip, ipv6, port, native);
  const std::size_t start = home(k);
  for (std::size_t probe = 0; probe < kMaxProbe; ++probe) {
    Key seen;
    const std::uint32_t state = read_slot((start + probe) & mask_, seen);
    if (state == kEmpty) return kNoLane;
    if (state == kTombstone) continue;
    if (seen.w[0] == k.w[0] && seen.w[1] == k.w[1] && seen.w[2] == k.w[2]) return state - 2;
  }
  return kNoLane;
}

AliasOwnerTable::PublishResult AliasOwnerTable::publish(const std::uint8_t* ip, bool ipv6, std::uint16_t port,
                                                        bool native, unsigned lane) {
  const Key k = key_of(ip, ipv6, port, native);
  const std::size_t start = home(k);
  std::lock_guard<std::mutex> hold(writers_);
  std::size_t free_slot = mask_ + 1;  // none yet
  for (std::size_t probe = 0; probe < kMaxProbe; ++probe) {
    const std::size_t i = (start + probe) & mask_;
    Key seen;
    const std::uint32_t state = read_slot(i, seen);
    if (state == kEmpty) {
      if (free_slot > mask_) free_slot = i;
      break;  // the key is not further on
    }
    if (state == kTombstone) {
      if (free_slot > mask_) free_slot = i;
      continue;
    }
    if (seen.w[0] == k.w[0] && seen.w[1] == k.w[1] && seen.w[2] == k.w[2]) {
      if (state - 2 != lane) return PublishResult::kHeldByOtherLane;
      ++holders_[i];
      return PublishResult::kPublished;
    }
  }
  if (free_slot > mask_ || count_.load(std::memory_order_relaxed) >= capacity_) return PublishResult::kFull;
  write_slot(free_slot, lane + 2, k);
  holders_[free_slot] = 1;
  count_.fetch_add(1, std::memory_order_release);
  return PublishResult::kPublished;
}

void AliasOwnerTable::withdraw(const std::uint8_t* ip, bool ipv6, std::uint16_t port, bool native,
                               unsigned lane) {
  const Key k = key_of(ip, ipv6, port, native);
  const std::size_t start = home(k);
  std::lock_guard<std::mutex> hold(writers_);
  for (std::size_t probe = 0; probe < kMaxProbe; ++probe) {
    const std::size_t i = (start + probe) & mask_;
    Key seen;
    const std::uint32_t state = read_slot(i, seen);
    if (state == kEmpty) return;
    if (state == kTombstone) continue;
    if (seen.w[0] != k.w[0] || seen.w[1] != k.w[1] || seen.w[2] != k.w[2]) continue;
    if (state - 2 != lane) return;
    if (--holders_[i] != 0) return;
    // A slot followed by a never-used one ends every probe through it: it (and the tombstones
    // before it) can become never-used again, so misses stay short after churn.
    Key none{};
    Key next;
    if (read_slot((i + 1) & mask_, next) == kEmpty) {
      write_slot(i, kEmpty, none);
      for (std::size_t j = (i - 1) & mask_; read_slot(j, next) == kTombstone; j = (j - 1) & mask_)
        write_slot(j, kEmpty, none);
    } else {
      write_slot(i, kTombstone, none);
    }
    count_.fetch_sub(1, std::memory_order_release);
    return;
  }
}

}  // namespace poolreg::runtime
