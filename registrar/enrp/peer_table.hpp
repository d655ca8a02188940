// PeerTable / PeerEntry: the ENRP server's view of the other registrars (enrp.md section 3).
// Owned by EnrpServer and lent to HandleTableSync and TakeoverCoordinator; single-threaded (the
// control thread). Entries live in a node-based map,
// so a PeerEntry& stays valid until that entry is erased.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg::enrp {

// Stable handle of a table entry (IDs may be 0 or change; keys never do).
using PeerKey = std::uint32_t;

enum class PeerState : std::uint8_t {
  kUnknown,  // static peer never heard from (ID possibly 0)
  kAlive,    // heard within MAX-TIME-LAST-HEARD
  kProbing,  // MAX-TIME-LAST-HEARD ran out, Presence R=1 sent, MAX-TIME-NO-RESPONSE armed
  kDead,     // presumed dead (static peers stay in the table in this state)
};

const char* peer_state_name(PeerState state) noexcept;

// ENRP-PEER-05: an ID is ours (0 never is).
constexpr bool is_own_id(RegistrarId id, RegistrarId own_id) noexcept { return id != 0 && id == own_id; }

struct PeerEntry {
  PeerKey key = 0;
  RegistrarId id = 0;          // 0 until learned
  bool is_static = false;
  TransportEndpoint endpoint;  // ENRP endpoint (empty addresses = unknown, cannot connect)
  ConnectionId connection = kNoConnectionId;  // where we send to this peer
  TimeNs next_connect_allowed = 0;

  PeerState state = PeerState::kUnknown;
  TimeNs last_heard = 0;
  TimeNs deadline = 0;  // liveness timer (MAX-TIME-LAST-HEARD / MAX-TIME-NO-RESPONSE); 0 = none

  std::optional<std::uint32_t> ng_capabilities;  // from its latest Presence; nullopt = RFC peer
  std::optional<std::uint16_t> announced_checksum16;  // big-endian reading of the wire bytes
  std::optional<std::uint32_t> announced_checksum32;
  bool list_synced = false;  // we sent it a List Request once

  // Another PR announced a takeover of this peer and we acked it (written by
  // TakeoverCoordinator; EnrpServer clears it when the peer is heard again). Sync state lives in
  // HandleTableSync, our own takeovers in TakeoverCoordinator, both keyed by `key` / `id`.
  RegistrarId taker = 0;

  // What is known of a static peer's previous incarnation once it was dropped as dead (its `id`
  // is 0 again until heard): its ID and the PEs it was home of when presumed dead. For logs and
  // poolctl only: never matched against messages and never a takeover target (`id` is).
  RegistrarId last_id = 0;
  std::size_t last_pe_count = 0;

  // A peer_up event was raised for the current up period (cleared with peer_down / peer_dead),
  // kept whether anyone listens or not, so a later subscriber sees transitions only.
  bool reported_up = false;
};

class PeerTable {
 public:
  PeerEntry& add();
  void erase(PeerKey key) { entries_.erase(key); }

  PeerEntry* find(PeerKey key);
  const PeerEntry* find(PeerKey key) const;
  PeerEntry* find_by_id(RegistrarId id);
  // Matches the short (32-bit) form too: RFC peers send 32-bit IDs.
  PeerEntry* find_by_short_id(std::uint32_t id);
  PeerEntry* find_by_connection(ConnectionId connection);
  // The full ID behind an ID read from the wire: RFC peers send 32-bit IDs, mapped here to our
  // own ID or a table entry's 64-bit ID when the low 32 bits match (nextgen.md section 2);
  // otherwise (and for 0 and real 64-bit IDs) `wire_id` itself.
  RegistrarId resolve_wire_id(RegistrarId wire_id, RegistrarId own_id);
  // The static peer whose configured ENRP endpoint is (one of `addresses`, `port`). Address
  // AND port: several registrars may share one address (one host, NAT), so an address alone
  // does not say which peer a message is from. `port` must be the peer's ENRP listening port
  // (an SCTP association's remote port, or the port announced in its Server Information),
  // never a TCP connection's ephemeral source port. Port 0 matches nothing.
  PeerEntry* find_static_by_endpoint(std::span<const IpAddress> addresses, std::uint16_t port);

  std::size_t size() const noexcept { return entries_.size(); }
  std::map<PeerKey, PeerEntry>& entries() noexcept { return entries_; }
  const std::map<PeerKey, PeerEntry>& entries() const noexcept { return entries_; }

 private:
  std::map<PeerKey, PeerEntry> entries_;
  PeerKey next_key_ = 1;
};

}  // namespace poolreg::enrp
