// RemoteEndpointTable: one stable RemoteEndpoint per (peer IP, peer UDP port; 0 = native SCTP) that
// sends us SCTP or that we connect to. A RemoteEndpoint's address is the `sconn_addr` usrsctp knows
// the peer by in AF_CONN mode: usrsctp_conninput(endpoint, ...) for its packets, and usrsctp's
// output callback gets the same pointer back to address the reply (IP, UDP port, path, our address).
//
// Lifetime (why endpoints expire, and when they may): a bare INIT from a new source creates an
// endpoint, since usrsctp needs a conn address to answer with an INIT ACK. usrsctp itself stays
// stateless until COOKIE ECHO, but the state cookie names that conn address, and a valid cookie
// makes usrsctp build the association on it. So an endpoint is
// - in use while an association (an engine Connection) runs on it: retain() / release(); never
//   freed then, nor its aliases;
// - pending otherwise (an INIT answered, an association gone, a connect that failed). A pending
//   endpoint is freed (deregistered from usrsctp, memory released, its aliases dropped) once
//   nothing was received from or sent to it for `expiry_ms`, which the engine sets to usrsctp's
//   cookie life + its longest RTO + a margin: by then every cookie naming it is stale (usrsctp
//   refuses it before looking at the address), and a usrsctp association still winding down
//   (SHUTDOWN ACK retransmitted after the engine forgot the association) would have sent to it.
// Pending endpoints have their own bound (max_pending), apart from the in-use ones: a full pending
// set frees its least recently used endpoint if that one has expired, else evicts an INIT-only one
// (below), else refuses the new peer (counted), so an INIT flood from spoofed sources costs at most
// max_pending endpoints, while associations already up are never touched.
//
// Eviction (an INIT flood must not keep real new peers out until its entries expire): a pending
// endpoint that only ever sent INITs (init_only: no other packet came from it, no association
// ever ran on it, we never connected from it) and that has been quiet for min_init_age_ms may be
// freed for a new peer (its INIT or its COOKIE ECHO) before its expiry. Why that is safe: usrsctp
// handles an INIT without state (the INIT ACK is sent during the conninput call), so what could
// still refer to such an endpoint is only the state cookie of the INIT ACK we sent it. usrsctp
// 0.9.5's AF_CONN cookie names no conn address in its address fields (type SCTP_CONN_ADDRESS,
// address zero: checked on real cookies by sctp_engine_test), and it accepts a COOKIE ECHO only
// on the endpoint the INIT came in on (tested: the same COOKIE ECHO on a new endpoint of the same
// peer builds nothing): after an eviction the peer's COOKIE ECHO comes in on a new endpoint (or
// is refused one) and usrsctp builds nothing on it; the peer starts again with an INIT. An
// evicted endpoint's memory reused for the same peer's new endpoint would be accepted, which is
// right (a live endpoint of that peer). Should a usrsctp store the conn address in its cookies,
// the engine hands usrsctp a COOKIE ECHO only when the address named is the endpoint it came in
// on (state_cookie.hpp), so no association could be built on freed memory either way.
// min_init_age_ms, above the peers' round trip, keeps a real peer's fresh entry until its COOKIE
// ECHO is back. Endpoints that had an association (usrsctp may still wind it down: its
// SHUTDOWN retransmissions address it) or an outgoing connect are never evicted, only expired.
// Expiry work is O(1) per packet (touch moves the endpoint to the young end of an intrusive list)
// plus at most `max_work` endpoints per expire() call (the engine's timer tick); eviction looks at
// most at kEvictionScan of the oldest pending endpoints.
//
// Mobility (RFC 5061 ADD-IP / DELETE-IP / SET-PRIMARY that usrsctp accepted): usrsctp knows an
// association by its one conn address, so a peer that adds an address keeps that endpoint.
// add_alias() makes packets from the added IP (same UDP port) reach the same endpoint, and
// move_to() sends the endpoint's output to another of the peer's addresses (its old one was
// deleted, or it asked for a new primary). Aliases count against kMaxEndpoints and go with their
// endpoint at the latest.
//
// Multi-homing: the addresses a peer listed in its INIT / INIT ACK become aliases of its
// association's endpoint too, and move_to() is how the engine fails our output over to another
// of them (sctp_engine.hpp "Multi-homing"). An alias is counted per holder (an association may
// list it, another of the same endpoint too, or add it by ASCONF): it goes when the last holder
// removes it, so aliases never outlive the associations that named them.
//
// Lane thread only; `now_ms` is the lane's monotonic millisecond clock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dataplane/sctp/sctp_packet_path.hpp"
#include "dataplane/sctp/usrsctp_stack.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::sctp {

// The table's key of a peer: family, IP (16 bytes), UDP port (2 bytes, big-endian).
struct EndpointKey {
  std::array<std::uint8_t, 19> bytes{};
  bool operator==(const EndpointKey&) const = default;
};

struct RemoteEndpoint {
  SctpPeer address;
  void* owner = nullptr;  // the table's owner (the SctpEngine), for usrsctp's output callback
  // usrsctp reported the AF_CONN path to `address` unreachable (SCTP_ADDR_UNREACHABLE) and has
  // not reported it available again: packets from an alias then move our output there.
  bool path_failed = false;
  // The address (family of `address`) whose path usrsctp last reported unreachable.
  std::array<std::uint8_t, 16> failed_ip{};
  // Unique for the table's life (never reused, unlike the address of a freed endpoint): what
  // caches keyed by peer compare.
  std::uint64_t serial = 0;

  // The table's bookkeeping (RemoteEndpointTable only; the engine reads `associations`).
  EndpointKey key;                      // where the table holds it (move_to does not change it)
  std::vector<EndpointKey> alias_keys;  // its aliases, dropped with it
  // Engine associations running on it (retain / release): 0 = pending. The first one after none
  // starts the endpoint's output afresh (an earlier association's failover or move does not
  // carry over).
  std::uint32_t associations = 0;
  // Only INITs came from it and nothing ever ran on it: evictable (see the table's "Eviction").
  bool init_only = false;
  std::uint64_t last_used_ms = 0;       // last packet received from / sent to it
  RemoteEndpoint* older = nullptr;      // pending list (least recently used first)
  RemoteEndpoint* newer = nullptr;
};

class RemoteEndpointTable {
 public:
  static constexpr std::size_t kMaxEndpoints = 1u << 20;

  // api: the usrsctp copy the endpoints are registered with; owner: stored in every endpoint;
  // max_pending: bound of the endpoints without an association (>= 1); expiry_ms: idle time after
  // which a pending endpoint may be freed.
  // min_init_age_ms: how long an INIT-only pending endpoint is kept at least before it may be
  // evicted for a new peer (nullopt: never evicted, only expired).
  RemoteEndpointTable(const UsrsctpApi& api, void* owner, std::size_t max_pending, std::uint64_t expiry_ms,
                      std::optional<std::uint64_t> min_init_age_ms = std::nullopt);
  // Pending endpoints looked at (oldest first) for an INIT-only one to evict.
  static constexpr int kEvictionScan = 8;
  RemoteEndpointTable(const RemoteEndpointTable&) = delete;
  RemoteEndpointTable& operator=(const RemoteEndpointTable&) = delete;

  // Before usrsctp_finish(): tells usrsctp the addresses are gone (the memory stays until the
  // table is destroyed, after usrsctp_finish(), so no association can name a freed endpoint).
  void deregister_all();

  // Finds or creates the endpoint of a packet's sender (an alias leads to the endpoint it names)
  // and marks it used now. nullptr: refused (pending set full of endpoints that have not expired,
  // or kMaxEndpoints reached), counted in refused(). outgoing: for a connect() of our own, which
  // retains the endpoint at once: not held to the pending bound (a flood must not keep the
  // registrar from reaching its ENRP peers), only to kMaxEndpoints.
  // init: the packet is an INIT (a new endpoint is init_only; any other packet clears it).
  RemoteEndpoint* get(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port, std::uint64_t now_ms,
                      bool outgoing = false, bool init = false);
  // Something was sent to e: it stays at least expiry_ms more.
  void touch(RemoteEndpoint& e, std::uint64_t now_ms);
  // An association runs on e from now on / no longer (release: e turns pending when it was the
  // last one, and expires expiry_ms later).
  void retain(RemoteEndpoint& e);
  void release(RemoteEndpoint& e, std::uint64_t now_ms);
  // Frees up to max_work pending endpoints idle for expiry_ms or longer, oldest first. Returns
  // how many it freed.
  std::size_t expire(std::uint64_t now_ms, std::size_t max_work);
  // Marks every pending endpoint used at now_ms (the engine's clock starts: see SctpEngine::start_clock).
  void restamp_pending(std::uint64_t now_ms);

  std::size_t size() const noexcept { return table_.size(); }
  // True when (ip, udp_port) has an endpoint of its own (not an alias).
  bool has_own(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port) const {
    return table_.count(key_of(ip, ipv6, udp_port)) != 0;
  }
  std::size_t alias_count() const noexcept { return aliases_.size(); }
  std::size_t pending_count() const noexcept { return pending_; }
  std::uint64_t expired() const noexcept { return expired_; }  // pending endpoints freed
  std::uint64_t refused() const noexcept { return refused_; }  // new peers refused by get()
  std::uint64_t evicted() const noexcept { return evicted_; }  // INIT-only endpoints freed early
  std::uint64_t expiry_ms() const noexcept { return expiry_ms_; }

  // Packets from `ip` at e's UDP port reach `e` from now on (one more holder when it already
  // does). False (nothing changes) when that address already has an endpoint of its own (usrsctp
  // knows it under another conn address), leads to another endpoint, or the table is full. A
  // true answer is paired with one remove_alias() by the same holder.
  bool add_alias(RemoteEndpoint& e, const IpAddress& ip);
  // One holder less of the alias `ip` of e's UDP port (when it leads to `e`); the alias goes
  // with its last holder.
  void remove_alias(RemoteEndpoint& e, const IpAddress& ip);
  // True when packets from `ip` at e's UDP port reach `e` (its own key or an alias of it).
  bool leads_to(const RemoteEndpoint& e, const IpAddress& ip) const;
  // e's packets go to `ip` (same UDP port, same path) from now on. Packets still coming from its
  // first address keep reaching it (the table keeps it under that key).
  static void move_to(RemoteEndpoint& e, const IpAddress& ip);

 private:
  struct KeyHash {
    std::size_t operator()(const EndpointKey& k) const noexcept;
  };
  static EndpointKey key_of(const std::uint8_t* ip, bool ipv6, std::uint16_t port);
  void link_newest(RemoteEndpoint& e);
  void unlink(RemoteEndpoint& e);
  // Deregisters and frees a pending endpoint and its aliases.
  void free_endpoint(RemoteEndpoint& e);
  // An INIT-only pending endpoint quiet for min_init_age_ms among the oldest few, or nullptr.
  RemoteEndpoint* evictable(std::uint64_t now_ms) const noexcept;
  bool idle(const RemoteEndpoint& e, std::uint64_t now_ms) const noexcept {
    return now_ms >= e.last_used_ms && now_ms - e.last_used_ms >= expiry_ms_;
  }

  const UsrsctpApi& api_;
  void* owner_;
  std::size_t max_pending_;
  std::uint64_t expiry_ms_;
  std::optional<std::uint64_t> min_init_age_ms_;
  std::unordered_map<EndpointKey, std::unique_ptr<RemoteEndpoint>, KeyHash> table_;
  struct Alias {
    RemoteEndpoint* endpoint = nullptr;
    std::uint32_t holders = 0;
  };
  std::unordered_map<EndpointKey, Alias, KeyHash> aliases_;
  RemoteEndpoint* oldest_ = nullptr;  // pending list ends
  RemoteEndpoint* newest_ = nullptr;
  std::size_t pending_ = 0;
  std::uint64_t next_serial_ = 1;
  std::uint64_t expired_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace poolreg::sctp
