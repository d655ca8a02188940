// AddressQuotas: how many accepted associations and owned PEs each source address holds, for
// limits.max_associations_per_address and limits.max_pes_per_address (issue 17: one host must not
// take every association slot or the whole handlespace). The source address of an association is
// its first peer address, IPv4-mapped IPv6 read as IPv4 (reporter_address(), the same address
// Endpoint Unreachable reports are counted by), so a dual-stack socket does not make one host two.
//
// Contract: single-threaded (the registrar event loop that drives AsapServer). AsapServer adds an
// association when it accepts it, a PE when one is bound to an association, and removes them in
// the same places; an association removed with PEs still counted takes its PEs with it. Calls for
// a connection never added (associations we opened ourselves, unannounced connections) are no-ops.
// Memory: one entry per counted association and one per address that has any.
#pragma once

#include <cstddef>
#include <unordered_map>

#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/message_output.hpp"

namespace poolreg::asap {

class AddressQuotas {
 public:
  // Associations counted for the source address of `peer`.
  std::size_t associations_of(const ConnectionPeer& peer) const noexcept;
  // PEs counted for the source address of connection `c` (0 when `c` is not counted).
  std::size_t pes_of(ConnectionId c) const noexcept;

  void add_association(ConnectionId c, const ConnectionPeer& peer);
  void remove_association(ConnectionId c) noexcept;
  void add_pe(ConnectionId c) noexcept;
  void remove_pe(ConnectionId c) noexcept;

  std::size_t addresses() const noexcept { return by_address_.size(); }

 private:
  struct Counts {
    std::size_t associations = 0;
    std::size_t pes = 0;
  };
  struct Member {
    IpAddress address;
    std::size_t pes = 0;  // of this association, so that removing it returns them
  };
  void drop_if_empty(const IpAddress& a) noexcept;

  std::unordered_map<ConnectionId, Member> members_;
  std::unordered_map<IpAddress, Counts, IpAddressHash> by_address_;
};

}  // namespace poolreg::asap
