// EnrpServer: the registrar-to-registrar protocol logic (RFC 5353, shared/spec/enrp.md,
// next-gen extensions of shared/spec/nextgen.md).
//
// Contract
// - No sockets, no threads. Every method is called by the registrar's control thread (the
//   daemon's event loop), which must be the writer of EVERY handlespace shard: the server calls
//   register_pe/deregister/change_owner/mark/purge/snapshot/expire_due/checksum directly, and
//   lookup() from this writer thread (safe: the writer never frees what it can still reach).
// - Time comes from the Clock; the daemon calls run_timers(now) whenever now >=
//   next_timer_due() (and may call it more often).
// - Output goes through MessageOutput (WireProtocol::kEnrp): connect() opens the association
//   (SCTP, or TCP in next-gen TCP mode) to a peer's ENRP endpoint, messages sent before it is
//   up are queued by the transport. The daemon reports association events with
//   on_connection_up / on_connection_closed and delivers every received ENRP message (SCTP
//   PPID 12 or one TCP frame) with on_message; multicast UDP Presence with
//   on_multicast_message.
// - The ASAP server tells it about owned-PE changes through OwnedPeListener (Handle Updates)
//   and is told through PeMonitor to probe PEs this PR just became home of (takeover, accepted
//   takeover suggestion).
// - Owns: the peer table, PeerLinks, HandleTableSync, TakeoverCoordinator (each owning its own
//   state), accepted takeover suggestions, start-up/mentor state and the remaining counters.
//   The handlespace, output, clock, PeMonitor and multicast sender must outlive it.
//
// Design notes
// - Peer identity: the table is keyed by a stable PeerKey; IDs are learned from messages.
//   RFC peers send 32-bit IDs; they are mapped to full 64-bit IDs through the peer table (and
//   our own ID) whenever possible (nextgen.md section 2).
// - Per-peer wire mode: extension TLVs (Extended-IDs, Extended-PE-ID) are used toward a peer
//   only while its latest Presence advertised ID64; Presence itself is always encoded in
//   next-gen form when next_gen is on (NG-Capabilities first; RFC peers skip the leading
//   extension TLVs — Rp), with PE-Checksum-32 only toward CK32 peers.
// - The façade owns peer identity, liveness, Presence, Handle Updates, lists and start-up; it
//   delegates by responsibility, each part owning its state: PeerLinks (connections, sending),
//   HandleTableSync (table sync and audit repair, paced one bounded response per request),
//   TakeoverCoordinator (takeover of dead peers). It tells the parts when a peer entry is reset,
//   erased or merged, and drops the entries of peers whose takeover finished.
// - SEC-04: see EnrpConfig::allow_dynamic_peers. SEC-05: DEL only from the PE's current owner;
//   Takeover Server only from a peer in the table.
// - Identity (issue 17): a message is from the peer its transport origin shows (our connection
//   to it, or its endpoint's address and port: message_origin.hpp); a sender ID that is not
//   what that origin announced is dropped and counted, whatever table entry the ID names. No
//   peer update (Handle Update ADD, Handle Table Response) replaces a PE we own over a live
//   ASAP association, and a Handle Table Response with no request outstanding changes nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/registrar_event.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/enrp/update_coalescer.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "registrar/enrp/enrp_multicast.hpp"
#include "registrar/enrp/handle_table_sync.hpp"
#include "registrar/enrp/message_origin.hpp"
#include "registrar/enrp/peer_links.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/enrp/takeover_coordinator.hpp"
#include "registrar/enrp/takeover_process.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/enrp_messages.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::enrp {

// One row of peers() (control socket "enrp peers").
struct PeerSnapshot {
  RegistrarId id = 0;
  TransportEndpoint endpoint;
  PeerState state = PeerState::kUnknown;
  bool is_static = false;
  TimeNs last_heard = 0;
  std::optional<std::uint32_t> ng_capabilities;
  // Checksums in the form a capture shows them (big-endian reading of the wire bytes).
  std::optional<std::uint16_t> their_checksum16;  // last announced by the peer
  std::uint16_t our_checksum16 = 0;               // ours over the PEs we hold with that home
  std::optional<std::uint32_t> their_checksum32;
  std::uint32_t our_checksum32 = 0;
  bool in_sync = false;        // announced == ours (32-bit toward CK32 peers)
  bool sync_running = false;
  bool mentor = false;
  std::size_t pe_count = 0;    // PEs we hold with that home
  RegistrarId taker = 0;       // foreign takeover of this peer we acked
  // The peer's current ID, or for a static peer dropped as dead (id 0 until heard again) the ID
  // it had; 0 = never known. For display (logs, poolctl), never for identity.
  RegistrarId last_id = 0;
  std::size_t last_pe_count = 0;  // PEs it was home of when presumed dead (0 while not dead)
};

class EnrpServer final : public OwnedPeListener {
 public:
  EnrpServer(const EnrpConfig& config, handlespace::Handlespace& handlespace, MessageOutput& output,
             const Clock& clock, PeMonitor& pe_monitor, EnrpMulticast* multicast = nullptr);
  ~EnrpServer() override;
  EnrpServer(const EnrpServer&) = delete;
  EnrpServer& operator=(const EnrpServer&) = delete;

  // Connects to the static peers (Presence R=1 with receiver ID 0 until known), starts the
  // heartbeat and the mentor discovery window (ENRP-START-01).
  void start();
  // A configuration reload's static peer list (issue 18 item 2): a new endpoint is added and
  // contacted at once (Presence R=1); a static peer no longer listed is forgotten as a dynamic
  // peer would be (its sync state dropped; the PEs it owns stay until their registration life
  // ends or it announces them again as a peer we accept). Listed ones are kept as they are.
  // Returns (added, removed).
  std::pair<std::size_t, std::size_t> set_static_peers(const std::vector<EnrpStaticPeer>& peers);
  // A configuration reload's timers: heartbeat interval (a shorter one takes effect at once),
  // MAX-TIME-LAST-HEARD / MAX-TIME-NO-RESPONSE (deadlines set from then on), takeover expiry
  // (takeovers started from then on), mentor discovery (only while the start-up window is open)
  // and the update damping window. Everything else of `next` is ignored.
  void apply_live_timers(const EnrpConfig& next);

  // ---- transport events ----
  void on_connection_up(ConnectionId connection, const ConnectionPeer& peer);
  // One whole ENRP message received on an association/connection. srtt_us: the connection's
  // smoothed RTT measured with it (runtime MessageInfo::srtt_us; 0 = not measured): the DPF PEs
  // of a Handle Update ADD or Handle Table Response get half of it (rounded to
  // config.distance_step_ms) added to their distance.
  void on_message(ConnectionId connection, std::span<const std::uint8_t> message, std::uint32_t srtt_us = 0);
  // One UDP multicast datagram (only Presence is processed, never answered with R reply).
  void on_multicast_message(const IpAddress& from, std::uint16_t port, std::span<const std::uint8_t> message);
  void on_connection_closed(ConnectionId connection);

  // ---- time ----
  void run_timers(TimeNs now);
  // Earliest time run_timers has something to do (UINT64_MAX: nothing scheduled).
  TimeNs next_timer_due() const;

  // ---- OwnedPeListener (from ASAP) ----
  void on_owned_pe_registered(const PoolHandle& handle, const PoolElement& pe) override;
  void on_owned_pe_transport_changed(const PoolHandle& handle, const PoolElement& pe) override;
  void on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) override;

  // Where peer, takeover, audit and the PE/pool events of ENRP-applied writes go (poolctl
  // events); null (the default) = nowhere. Raised on this (the control) thread where the change
  // happens; nothing is built unless the sink wants that kind. Passed on to the parts.
  void set_event_sink(RegistrarEventSink* sink) noexcept;

  // ---- status and control ----
  RegistrarId own_id() const noexcept { return config_.own_id; }
  // True once the mentor's table arrived completely (M=0) or the discovery window ran out.
  bool startup_complete() const noexcept { return startup_complete_; }
  std::vector<PeerSnapshot> peers() const;
  // Starts a W=1 table sync (audit repair) with every live peer not already syncing.
  void force_audit();
  std::vector<TakeoverStatus> takeover_status() const;
  // Our latest won takeovers, oldest first (bounded; see TakeoverCoordinator::recent_wins).
  const std::deque<WonTakeover>& recent_takeover_wins() const noexcept { return takeover_.recent_wins(); }
  // Assembled on every call from the parts' counters (the reference stays valid; read it again
  // for fresh values).
  const EnrpCounters& counters() const noexcept;
  // Presence checksum value we announce (big-endian reading of the wire bytes).
  std::uint16_t announced_checksum16() const;

  // The latest message dropped because its sender ID did not fit its transport origin (for the
  // daemon's rate-limited log line); nullopt when none so far.
  const std::optional<IdentityMismatch>& last_identity_mismatch() const noexcept { return last_mismatch_; }

  // Test-only: silently delete PEs from the local handlespace (no Handle Update) so that the
  // audit must repair the view. Returns whether the PE existed.
  bool corrupt_view_for_test(const PoolHandle& handle, PoolElementId id);

 private:
  struct SuggestionKey {
    PoolHandle handle;
    PoolElementId id;
    friend bool operator<(const SuggestionKey& a, const SuggestionKey& b) noexcept {
      if (a.id != b.id) return a.id < b.id;
      return a.handle < b.handle;
    }
  };

  // Message handlers (sync and takeover messages go to their parts).
  // hop_ms: the distance to the sender (distance_from_srtt of the connection's SRTT).
  void handle_unicast(ConnectionId connection, std::span<const std::uint8_t> bytes, std::uint32_t hop_ms);
  void handle_presence(PeerEntry& peer, const wire::Presence& m, bool via_multicast, bool is_new,
                       std::span<const IpAddress> sources);
  void handle_update(PeerEntry& peer, const wire::HandleUpdate& m, std::uint32_t hop_ms);
  void handle_table_response(PeerEntry& peer, wire::HandleTableResponse& m, std::size_t wire_bytes,
                             std::uint32_t hop_ms);
  void handle_list_request(PeerEntry& peer, const wire::ListRequest& m);
  void handle_list_response(PeerEntry& peer, const wire::ListResponse& m);
  void handle_init_takeover(PeerEntry& peer, const wire::InitTakeover& m);

  // Peer management. identify(): the peer `origin` shows, provided `sender` is the ID that
  // origin announced; nullptr for a stranger (SEC-04) and, with `mismatch` set, for an origin
  // that is another peer or a claimed ID whose peer is elsewhere (issue 17).
  PeerEntry* identify(const MessageOrigin& origin, RegistrarId sender, bool is_presence, bool& is_new,
                      bool& mismatch);
  void note_identity_mismatch(const MessageOrigin& origin, RegistrarId sender);
  PeerEntry* find_static_by_origin(const MessageOrigin& origin);
  void mark_alive(PeerEntry& peer);
  void peer_dead(PeerEntry& peer);
  void drop_peer(PeerEntry& peer);
  // A takeover finished (ours won, or another PR's announced): the target's entry goes.
  void drop_taken_over(std::optional<RegistrarId> target);
  void refresh_state_counters();
  // peer_up / peer_down / peer_dead for `peer` (no-op unless the sink wants the kind).
  void publish_peer(RegistrarEventKind kind, const PeerEntry& peer);
  void maybe_choose_mentor(PeerEntry& peer);

  // Sending.
  void send_presence(PeerEntry& peer, bool reply_required);
  void send_presence_to_all();
  void send_multicast_presence();
  wire::Presence build_presence(const PeerEntry* peer, bool reply_required) const;
  void send_error(ConnectionId connection, std::span<const std::uint8_t> bytes, const wire::DecodeError& error);
  // Owned-PE updates through the damping window (config_.update_coalesce); flush: the held
  // ones whose window ended (all = every held one, before a Presence).
  void offer_update(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action);
  void flush_coalesced_updates(bool all);
  void send_update(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action);

  // IDs.
  RegistrarId resolve_id(RegistrarId wire_id) { return peers_.resolve_wire_id(wire_id, config_.own_id); }
  bool is_self(RegistrarId id) const noexcept { return is_own_id(id, config_.own_id); }
  TimeNs jittered_heartbeat();

  // Declared first: the parts below keep references to it.
  EnrpConfig config_;
  handlespace::Handlespace& hs_;
  const Clock& clock_;
  PeMonitor& pe_monitor_;
  EnrpMulticast* multicast_;
  RegistrarEventSink* events_ = nullptr;

  PeerTable peers_;
  PeerLinks links_;
  HandleTableSync sync_;
  TakeoverCoordinator takeover_;
  std::map<SuggestionKey, TimeNs> suggestions_accepted_;  // PE → until (registration life)
  UpdateCoalescer coalescer_;  // Handle Updates of owned PEs held for damping
  // The façade's own counters; counters() copies the parts' slices in on every read.
  mutable EnrpCounters counters_;
  std::optional<IdentityMismatch> last_mismatch_;

  bool started_ = false;
  bool startup_complete_ = false;
  TimeNs startup_deadline_ = 0;
  std::optional<PeerKey> mentor_;
  TimeNs next_heartbeat_ = 0;
  std::uint64_t rng_state_ = 0;
};

}  // namespace poolreg::enrp
