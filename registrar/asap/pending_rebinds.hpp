// PendingRebinds: registrations parked while the PE's old binding is probed (break-before-make
// moves, issue 14 item 2). A PE bound here to a live association registers over another one;
// before refusing it with cause 0x4 (SEC-02) the registrar asks the old association with a
// keep-alive. Each entry keeps the new association, the old one, the raw Registration (run again
// once the probe decides) and the deadline.
//
// Contract: single-threaded (the registrar event loop that drives AsapServer); time comes in as
// arguments. At most `max_entries` entries (park() answers kFull beyond); one entry per PE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/connection.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/pe_key.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::asap {

class PendingRebinds {
 public:
  struct Entry {
    PoolHandle handle;
    PoolElementId id = 0;
    ConnectionId from = kNoConnectionId;  // the new association: it gets the answer
    ConnectionId old = kNoConnectionId;   // the association being probed
    std::vector<std::uint8_t> message;    // the Registration as received
    TimeNs deadline = 0;
  };
  enum class Park : std::uint8_t {
    kParked,    // a new entry: the caller sends the probe
    kReplaced,  // the PE already had one; it is now in *displaced (probe already out)
    kFull,      // max_entries reached: nothing stored
  };

  explicit PendingRebinds(std::size_t max_entries) : max_(max_entries) {}

  Park park(Entry entry, Entry* displaced);
  // The PE's entry, removed; nullopt when there is none.
  std::optional<Entry> take(const PoolHandle& handle, PoolElementId id);
  // The PE's entry when its probed association is `old`, removed.
  std::optional<Entry> take_if_probing(const PoolHandle& handle, PoolElementId id, ConnectionId old);
  // Entries whose deadline is <= now, earliest first, removed and appended to `out`.
  void take_due(TimeNs now, std::vector<Entry>& out);
  // Entries whose probed association is `old`, removed and appended to `out`.
  void take_probing(ConnectionId old, std::vector<Entry>& out);
  std::optional<TimeNs> next_due() const;
  // True when a registration of the PE is parked (its probe is out).
  bool probing(const PoolHandle& handle, PoolElementId id) const {
    return by_pe_.count(Key{handle, id}) != 0;
  }
  std::size_t size() const noexcept { return by_pe_.size(); }
  bool empty() const noexcept { return by_pe_.empty(); }

 private:
  using Key = PeKey;
  using KeyHash = PeKeyHash;
  struct Slot {
    Entry entry;
    std::uint64_t order = 0;  // key of its place in by_deadline_
  };
  std::optional<Entry> erase(std::unordered_map<Key, Slot, KeyHash>::iterator it);

  std::unordered_map<Key, Slot, KeyHash> by_pe_;
  // (deadline, arrival) -> PE: deadlines in order even when the probe time changes live.
  std::map<std::pair<TimeNs, std::uint64_t>, Key> by_deadline_;
  // probed association -> its PEs' keys (an association closing decides them at once).
  std::unordered_multimap<ConnectionId, Key> by_old_;
  std::uint64_t arrivals_ = 0;
  std::size_t max_;
};

}  // namespace poolreg::asap
