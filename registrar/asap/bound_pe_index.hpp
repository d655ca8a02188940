// BoundPeIndex: which owned PEs were registered over which association, so that an address
// change of one association (SCTP ADD-IP / DELETE-IP / SET-PRIMARY) reaches its PEs without a
// walk over every monitored PE or the handlespace.
//
// A hint, checked on use: an entry is appended on every accepted registration (and takeover
// bind) and never updated when the PE moves, is deregistered or times out; visit() asks the caller
// whether each entry is still bound there and drops those that are not. Bounded: a connection's
// list is compacted (stale entries dropped through the same check, repeated ones merged) whenever
// it grows past twice its last compacted size, so it stays within about twice the PEs really
// bound to it; erase() drops a connection's list when the association goes.
// add() is O(1) amortized (a re-registration appends a repeat that the next compaction merges,
// O(n log n) per doubling): a search for the PE on every add made registering n PEs over one
// association O(n^2) (10^6 PEs over 16 associations: the control thread's hottest function,
// perf/dataplane/lane_keepalive_results.md).
//
// Single-threaded (the registrar event loop), like AsapServer.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "registrar/common/connection.hpp"
#include "registrar/common/function_ref.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/ids.hpp"

namespace poolreg::asap {

class BoundPeIndex {
 public:
  struct Key {
    PoolHandle handle;
    PoolElementId id = 0;
  };
  // still_bound(key): true when the PE is (still) bound to the connection it was noted for.
  using StillBound = FunctionRef<bool(const Key&)>;

  // Notes that (handle, id) was registered over `c` (a repeat when already noted, merged later).
  void add(ConnectionId c, const PoolHandle& handle, PoolElementId id, StillBound still_bound);
  // Calls visit(key) once for every PE noted for `c` that is still bound there (checked first);
  // entries found stale are dropped. visit may not call add/erase.
  void visit(ConnectionId c, StillBound still_bound, FunctionRef<void(const Key&)> visit);
  void erase(ConnectionId c) { lists_.erase(c); }
  // Entries kept for `c` (stale and repeated ones included).
  std::size_t size(ConnectionId c) const;

 private:
  struct List {
    std::vector<Key> keys;
    std::size_t compact_at = 8;
  };
  static void compact(List& list, StillBound still_bound);
  std::unordered_map<ConnectionId, List> lists_;
};

}  // namespace poolreg::asap
