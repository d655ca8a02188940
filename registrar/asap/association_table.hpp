// AssociationTable: what the ASAP server keeps per SCTP association / TCP connection: the peer
// (addresses for the ASAP-REG-06 filter and the ASAP transport), how many owned PEs reference
// it, the rate-limit buckets (SEC-01) and the negotiated next-gen capabilities.
// Single-threaded (the registrar event loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "registrar/asap/rate_limiter.hpp"
#include "registrar/common/message_output.hpp"

namespace poolreg::asap {

struct Association {
  ConnectionPeer peer;
  // Owned PEs registered over this association (bound), and monitor entries that reference it
  // (bound + takeover keep-alives H=1 waiting for their Ack).
  std::size_t registered_pes = 0;
  std::size_t monitor_refs = 0;
  TokenBucket hr_bucket;
  TokenBucket eu_bucket;
  // NG-Capabilities flags of the peer's latest Registration / Handle Resolution (nullopt: the
  // latest one carried none, so it is treated as an RFC peer — nextgen.md 1).
  std::optional<std::uint32_t> ng_capabilities;
  // Opened by us (monitor_as_new_home) rather than accepted.
  bool opened_by_us = false;
  // Last time a message arrived on it (or it came up): the idle timeout counts from here.
  TimeNs last_activity = 0;
  // A whole ASAP message arrived (or the transport reported activity): until then the shorter
  // first_message_timeout applies (issue 17: a connection that says nothing holds a slot).
  bool message_seen = false;
};

class AssociationTable {
 public:
  // Adds or refreshes (peer info replaced, counters and buckets kept).
  Association& upsert(ConnectionId id, const ConnectionPeer& peer, TimeNs now, const RateLimit& hr,
                      const RateLimit& eu);
  Association* find(ConnectionId id) noexcept;
  const Association* find(ConnectionId id) const noexcept;
  void erase(ConnectionId id) noexcept { table_.erase(id); }
  std::size_t size() const noexcept { return table_.size(); }
  bool empty() const noexcept { return table_.empty(); }
  // Every association id whose entry satisfies pred (collected first, so the caller may erase).
  template <typename Pred>
  std::vector<ConnectionId> select(Pred pred) const {
    std::vector<ConnectionId> ids;
    for (const auto& [id, a] : table_)
      if (pred(a)) ids.push_back(id);
    return ids;
  }

 private:
  std::unordered_map<ConnectionId, Association> table_;
};

}  // namespace poolreg::asap
