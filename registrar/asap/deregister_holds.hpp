// DeregisterHolds: PEs an operator removed (`poolctl deregister`) whose re-registration this
// registrar refuses until a deadline (asap.deregister_hold_ms, issue 17): without it a live PE
// re-registers at once and the operator's removal does not stick. Its association is left alone:
// other PEs over it (a load-balancer front) keep being served.
//
// Contract: single-threaded (the registrar event loop that drives AsapServer); time comes in as
// arguments. Memory is bounded by max_entries: when full, the hold that ends first is dropped.
#pragma once

#include <cstddef>
#include <map>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::asap {

class DeregisterHolds {
 public:
  explicit DeregisterHolds(std::size_t max_entries) : max_(max_entries) {}

  // Refuse (handle, id) until `until`.
  void hold(const PoolHandle& handle, PoolElementId id, TimeNs until);
  // True while (handle, id) is held at `now`; an expired hold is forgotten here.
  bool held(const PoolHandle& handle, PoolElementId id, TimeNs now);
  // The deadline of (handle, id)'s hold, 0 when there is none.
  TimeNs until(const PoolHandle& handle, PoolElementId id) const;
  std::size_t size() const noexcept { return holds_.size(); }

 private:
  struct Key {
    PoolHandle handle;
    PoolElementId id = 0;
    friend bool operator<(const Key& a, const Key& b) noexcept {
      if (a.id != b.id) return a.id < b.id;
      return a.handle < b.handle;
    }
  };
  std::map<Key, TimeNs> holds_;
  std::size_t max_;
};

}  // namespace poolreg::asap
