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
#include "registrar/common/ip_address.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg::asap {

struct Association {
  // Change the peer's addresses or port only through AssociationTable (upsert,
  // replace_addresses): the table indexes SCTP ASAP peers by endpoint.
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
  void erase(ConnectionId id) noexcept;
  // The association's peer addresses after an ADD-IP / DELETE-IP / set-primary; returns the
  // addresses it had. No-op (empty result) for an unknown id.
  std::vector<IpAddress> replace_addresses(ConnectionId id, std::vector<IpAddress> addresses);
  // The SCTP ASAP association whose peer is `endpoint` (its port and one of its addresses),
  // accepted or opened by us; kNoConnectionId when there is none. Takeover uses it (issue 14
  // item 6): a PE that already holds an association with this registrar (it reconnected, or
  // another of its PEs was taken over first) gets its Keep-Alive there, because SCTP allows one
  // association between two endpoints and a second connect fails.
  ConnectionId find_sctp_asap_peer(const TransportEndpoint& endpoint) const noexcept;
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
  struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
  };
  struct EndpointHash {
    std::size_t operator()(const Endpoint& e) const noexcept { return IpAddressHash{}(e.address) ^ (e.port * 0x9e3779b97f4a7c15ULL); }
  };
  static bool indexed(const ConnectionPeer& peer) noexcept {
    return peer.kind == TransportProtocol::kSctp && peer.protocol == WireProtocol::kAsap && peer.port != 0;
  }
  void index(ConnectionId id, const ConnectionPeer& peer);
  void unindex(ConnectionId id, const ConnectionPeer& peer) noexcept;

  std::unordered_map<ConnectionId, Association> table_;
  // SCTP ASAP peers' (address, port) -> association. One association per endpoint pair in SCTP;
  // should two claim one (a stale entry racing a new one), the latest wins.
  std::unordered_map<Endpoint, ConnectionId, EndpointHash> by_endpoint_;
};

}  // namespace poolreg::asap
