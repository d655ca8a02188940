// HandleTableSync: handle table synchronisation with peers and audit repair (enrp.md 4.6,
// ENRP-SYNC-01..03, ENRP-AUD-01), both sides: our requests (a cursor-less "ask again on M=1"
// walk of a peer's table) and our responses (a per-peer continuation cursor into our
// handlespace).
//
// Contract
// - Single-threaded: the control thread that drives EnrpServer, which is the writer of every
//   handlespace shard (this class calls mark_owned_by / purge_marked / snapshot / register_pe).
// - Owns, per peer (by PeerKey): the requester state (running, W flag, purge-at-end, deadline)
//   and the responder cursor; and the sync/audit counters. EnrpServer tells it when a peer
//   entry is reset or erased (forget) or merged into another (transfer), so state never
//   outlives the peer it belongs to.
// - Uses, not owns: the config, the handlespace, the peer table (ID mapping, audit walk), the
//   PeerLinks it sends through, the clock. All must outlive it.
//
// Pacing: the responder sends exactly one bounded response (max elements, max bytes, at least
// one PE) per request; the requester asks again on M=1. A sync of any size therefore costs one
// bounded unit of work per received message and never starves the event loop. The responder
// cursor expires after MAX-TIME-NO-RESPONSE/2 without a follow-up, the requester gives up after
// MAX-TIME-NO-RESPONSE (no purge), so a restarted sync always starts from the beginning.
#pragma once

#include <cstddef>
#include <map>

#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_event.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "registrar/enrp/peer_links.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/enrp_messages.hpp"

namespace poolreg::enrp {

// Our side of a handle table synchronisation with a peer (enrp.md 4.6 request side).
struct RequestSync {
  bool running = false;
  bool own_children_only = true;  // W flag of our requests
  bool purge_at_end = false;      // PEs of the peer were marked: purge the unrefreshed at M=0
  TimeNs deadline = 0;            // no response by then → abort (no purge)
};

// The peer's handle table requests to us (response side continuation cursor).
struct ResponderCursor {
  bool active = false;
  bool own_children_only = false;
  handlespace::SnapshotCursor cursor;
  TimeNs expires_at = 0;  // a request after this restarts the walk from the beginning
};

class HandleTableSync {
 public:
  // What a Handle Table Response did to our request.
  enum class ResponseOutcome : std::uint8_t {
    kNotRunning,  // no sync with that peer was running: ignored (counted as unsolicited)
    kContinued,   // M=1: asked for the next part
    kCompleted,   // M=0: done (unrefreshed marked PEs purged)
    kRejected,    // R=1: the peer does not know us; aborted without purge
  };

  HandleTableSync(const EnrpConfig& config, handlespace::Handlespace& handlespace, PeerTable& peers,
                  PeerLinks& links, const Clock& clock);
  HandleTableSync(const HandleTableSync&) = delete;
  HandleTableSync& operator=(const HandleTableSync&) = delete;

  // ---- requester side ----
  // Asks `peer` for its table (W=own_children_only). With purge_at_end, the PEs we hold with
  // that home are marked now and those not refreshed by the end are purged (audit repair).
  // Nothing happens while a sync with the peer runs or its ID is unknown.
  void start(PeerEntry& peer, bool own_children_only, bool purge_at_end);
  // Aborts a running sync (no purge).
  void abort(PeerKey peer);
  bool running(PeerKey peer) const;
  // `wire_bytes`: size of the received message (counted as sync bytes received). Applies
  // nothing unless a request to that peer is outstanding, and never replaces a PE we own over a
  // live ASAP association.
  // hop_ms: the distance to the sender, added to the DPF PEs' distances (pe_distance.hpp).
  ResponseOutcome on_response(PeerEntry& peer, wire::HandleTableResponse& response, std::size_t wire_bytes,
                              std::uint32_t hop_ms = 0);

  // ---- responder side ----
  // `peer` nullptr: a requester not in the table gets R=1 on `connection` (ENRP-SYNC-02).
  void on_request(PeerEntry* peer, ConnectionId connection, const wire::HandleTableRequest& request);

  // ---- audit ----
  // ENRP-AUD-01: compares the checksum a peer announced in its Presence with our view of the
  // PEs it owns (32-bit toward CK32 peers) and repairs a mismatch by a W=1 sync with purge.
  void audit(PeerEntry& peer, const wire::Presence& presence);
  // Operator "audit now": a W=1 sync with purge with every live peer not already syncing.
  void force_audit();

  // ---- time ----
  // Aborts requests whose MAX-TIME-NO-RESPONSE ran out (counted as timeouts).
  void run_timers(TimeNs now);
  // Earliest request deadline (UINT64_MAX: none).
  TimeNs next_timer_due() const;

  // ---- peer table changes ----
  // The entry was erased or reset to a fresh state: its sync state goes too.
  void forget(PeerKey peer);
  // The entry `from` was merged into `to` (which keeps its key): `from`'s state becomes `to`'s.
  void transfer(PeerKey from, PeerKey to);

  const HandleTableSyncCounters& counters() const noexcept { return counters_; }
  // PE/pool events of applied table entries and purges, audit_mismatch / audit_repaired.
  void set_event_sink(RegistrarEventSink* sink) noexcept { events_ = sink; }

 private:
  struct PeerSync {
    RequestSync request;
    ResponderCursor responder;
  };

  void request_table(PeerEntry& peer, RequestSync& sync);
  // completed: M=0 received (purge `owner`'s unrefreshed marked PEs); false: aborted.
  void finish(RegistrarId owner, RequestSync& sync, bool completed);
  void reject_stranger(ConnectionId connection, const wire::HandleTableRequest& request);

  const EnrpConfig& config_;
  handlespace::Handlespace& hs_;
  PeerTable& peers_;
  PeerLinks& links_;
  const Clock& clock_;

  void publish_audit(RegistrarEventKind kind, RegistrarId peer, std::uint64_t count);

  RegistrarEventSink* events_ = nullptr;
  std::map<PeerKey, PeerSync> state_;
  HandleTableSyncCounters counters_;
};

}  // namespace poolreg::enrp
