// UnreachableReporters: who reported a PE unreachable in the current round (issue 17). A reporter
// is the source address a report came from (an association's first address: the SCTP primary
// path, the one TCP address; unknown connections all count as one reporter with the
// unspecified address), so one host counts once per PE however many associations it opens.
// The per-PE count itself stays in the handlespace (report_unreachable); this only decides
// whether a report is counted there.
//
// Contract: single-threaded (the registrar event loop that drives AsapServer). Memory is bounded:
// at most `max_reporters` addresses per PE (a round ends at MAX-BAD-PE-REPORT, so more are never
// needed) and at most `max_pes` PEs; beyond that an arbitrary old round is dropped (its
// reporters may then count once more, as before this table existed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/pe_key.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::asap {

class UnreachableReporters {
 public:
  UnreachableReporters(std::size_t max_reporters, std::size_t max_pes);

  // True when `reporter` has not reported this PE in the current round (the caller counts the
  // report); it is remembered from now on. False for a repeated reporter, or once the round
  // already holds max_reporters addresses.
  bool first_report(const PoolHandle& handle, PoolElementId id, const IpAddress& reporter);
  // The PE's count started over (the handlespace returned 1: a new or re-registered PE): the
  // round restarts with `reporter` alone.
  void restart(const PoolHandle& handle, PoolElementId id, const IpAddress& reporter);
  // Ends the PE's round (PE removed, or it answered a probe).
  void forget(const PoolHandle& handle, PoolElementId id);

  std::size_t size() const noexcept { return rounds_.size(); }

 private:
  using Key = PeKey;
  using KeyHash = PeKeyHash;

  std::unordered_map<Key, std::vector<IpAddress>, KeyHash> rounds_;
  std::size_t max_reporters_;
  std::size_t max_pes_;
};

// The reporter address of a report over an association with these peer addresses: IPv4-mapped
// IPv6 is read as IPv4 (a dual-stack TCP socket must not make one host two reporters).
IpAddress reporter_address(const std::vector<IpAddress>& peer_addresses) noexcept;

}  // namespace poolreg::asap
