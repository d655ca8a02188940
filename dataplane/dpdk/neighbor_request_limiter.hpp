// NeighborRequestLimiter: at most one ARP request / neighbour solicitation per next hop and
// interval. Every frame to an unresolved next hop asks for it (PacketProcessor::send_sctp); with a
// gateway, all off-link peers share that next hop, so a burst of replies after start would send a
// burst of identical requests. The limiter remembers the last kSlots next hops asked for and when
// (caller's clock, e.g. TSC cycles); a request for one of them within `interval` is suppressed
// (the caller counts it). Bounded: a fixed array, the oldest slot is reused. Owned and used by one
// poll lcore's PacketProcessor only (no lock).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace poolreg::dpdk {

class NeighborRequestLimiter {
 public:
  static constexpr std::size_t kSlots = 16;

  // interval: in the units of the `now` values given to allow() (0: never suppress).
  explicit NeighborRequestLimiter(std::uint64_t interval = 0) noexcept : interval_(interval) {}
  void set_interval(std::uint64_t interval) noexcept { interval_ = interval; }

  // True when a request for `next_hop` (4 or 16 bytes) may go out at `now` (and records it).
  bool allow(const std::uint8_t* next_hop, bool ipv6, std::uint64_t now) noexcept {
    std::array<std::uint8_t, 17> key{};
    key[0] = ipv6 ? 6 : 4;
    std::memcpy(key.data() + 1, next_hop, ipv6 ? 16 : 4);
    Slot* oldest = &slots_[0];
    for (Slot& s : slots_) {
      if (s.used && s.key == key) {
        if (now - s.asked < interval_) return false;
        s.asked = now;
        return true;
      }
      if (!s.used || (oldest->used && s.asked < oldest->asked)) oldest = &s;
    }
    *oldest = Slot{key, now, true};
    return true;
  }

 private:
  struct Slot {
    std::array<std::uint8_t, 17> key{};
    std::uint64_t asked = 0;
    bool used = false;
  };
  std::array<Slot, kSlots> slots_{};
  std::uint64_t interval_;
};

}  // namespace poolreg::dpdk
