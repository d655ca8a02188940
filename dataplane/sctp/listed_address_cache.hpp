// ListedAddressCache: the addresses a peer listed in its INIT / INIT ACK (sctp_address_params.hpp),
// kept from the handshake packet until its association comes up a round trip later, keyed by
// the peer (its RemoteEndpoint's serial: IP + UDP port, never reused when an endpoint expires)
// and its SCTP port.
//
// Why bounded: INITs cost a sender nothing, so an INIT flood must not grow memory. At most
// kMaxEntries entries (the oldest goes first), each at most kMaxListedAddresses addresses, and an
// entry older than kLifetimeMs is never handed out. take() removes the entry. A newer handshake
// chunk from the same peer and port replaces the older one's list.
//
// Lane thread only (one per SctpEngine); `now_ms` is the lane's monotonic millisecond clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "registrar/common/ip_address.hpp"

namespace poolreg::sctp {

class ListedAddressCache {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  // Longer than a handshake with a few COOKIE ECHO retransmissions takes, far shorter than any
  // association lives.
  static constexpr std::uint64_t kLifetimeMs = 30000;

  // `peer` identifies the peer (RemoteEndpoint::serial). An empty list forgets what was kept for
  // the peer and port.
  void remember(std::uint64_t peer, std::uint16_t peer_port, std::vector<IpAddress> addresses,
                std::uint64_t now_ms);
  // The list kept for the peer and port (and forgets it); empty when none or expired.
  std::vector<IpAddress> take(std::uint64_t peer, std::uint16_t peer_port, std::uint64_t now_ms);
  // Every entry kept counts as stored at now_ms (the engine's clock starts: SctpEngine::start_clock).
  void restamp(std::uint64_t now_ms);

  std::size_t size() const noexcept { return entries_.size(); }
  // Entries dropped before their association came up (bound reached or expired).
  std::uint64_t evicted() const noexcept { return evicted_; }

 private:
  struct Key {
    std::uint64_t peer = 0;
    std::uint16_t port = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    std::vector<IpAddress> addresses;
    std::uint64_t stored_ms = 0;
    std::uint64_t sequence = 0;  // which order_ item is this entry's current one
  };
  struct Order {
    Key key;
    std::uint64_t sequence = 0;
  };
  bool expired(const Entry& e, std::uint64_t now_ms) const noexcept {
    return now_ms - e.stored_ms >= kLifetimeMs;
  }
  // Drops the oldest order_ items while there are too many or they are expired or superseded.
  void trim(std::uint64_t now_ms);

  std::unordered_map<Key, Entry, KeyHash> entries_;
  // Insertion order; items whose entry was taken or replaced are stale and skipped. Never longer
  // than kMaxEntries, so entries_ (one live item each) is not either.
  std::deque<Order> order_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t evicted_ = 0;
};

}  // namespace poolreg::sctp
