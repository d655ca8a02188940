// EnrpCounters: operator-visible statistics of the ENRP server (poolctl stats, telemetry).
// Plain integers, written only by the control thread that drives EnrpServer.
//
// Each slice is owned by the component that does the work (HandleTableSync,
// TakeoverCoordinator); EnrpServer owns the rest and assembles the whole struct on read
// (EnrpServer::counters()). Field names are the operator names: they are what
// dataplane/control prints, so a slice keeps them flat (inherited, not nested).
// Every field has a descriptor (stats key, Prometheus family, help, label) in enrp_counters.cpp,
// enrp_counter_fields(): `poolctl stats` and /metrics read only that table.
#pragma once

#include <cstdint>
#include <span>

#include "registrar/common/counter_descriptor.hpp"

namespace poolreg::enrp {

// Handle table synchronisation and audit (owned by HandleTableSync).
struct HandleTableSyncCounters {
  std::uint64_t sync_requests_sent = 0;
  std::uint64_t sync_requests_received = 0;
  std::uint64_t sync_responses_sent = 0;
  std::uint64_t sync_responses_received = 0;
  std::uint64_t sync_rejects_sent = 0;
  std::uint64_t sync_pes_sent = 0;
  std::uint64_t sync_pes_received = 0;
  std::uint64_t sync_bytes_sent = 0;
  std::uint64_t sync_bytes_received = 0;
  std::uint64_t sync_completed = 0;
  std::uint64_t sync_timeouts = 0;
  std::uint64_t sync_pes_purged = 0;
  // Responses from a peer we had no request outstanding with: ignored, nothing applied.
  std::uint64_t sync_responses_unsolicited = 0;
  // PEs in a response that name a PE we own over a live ASAP association: not taken.
  std::uint64_t sync_pes_refused_owned_live = 0;

  // Audit (Presence checksum comparison).
  std::uint64_t audits = 0;
  std::uint64_t audit_mismatches = 0;
};

// Takeover of dead peers (owned by TakeoverCoordinator).
struct TakeoverCounters {
  std::uint64_t takeovers_started = 0;
  std::uint64_t takeovers_won = 0;        // finished by us (all acks, expiry or nobody to ask)
  std::uint64_t takeovers_lost = 0;       // cancelled for a lower-ID competitor
  std::uint64_t takeovers_cancelled = 0;  // target came back (Presence)
  std::uint64_t takeovers_completed = 0;  // Takeover Server received from another PR
  std::uint64_t takeover_pes_taken = 0;
};

struct EnrpCounters : HandleTableSyncCounters, TakeoverCounters {
  // Presence (heartbeat, replies, "we are alive" bursts).
  std::uint64_t presence_sent = 0;
  std::uint64_t presence_received = 0;
  std::uint64_t multicast_presence_sent = 0;
  std::uint64_t multicast_presence_received = 0;

  // Handle Updates.
  std::uint64_t updates_sent = 0;
  // Owned-PE Handle Updates replaced by a later one within enrp.update_coalesce_ms (not sent).
  std::uint64_t updates_coalesced = 0;
  std::uint64_t updates_received = 0;
  std::uint64_t updates_applied = 0;
  std::uint64_t updates_ignored = 0;   // own-home ADD, DEL from a non-owner, unknown PE, refused
  // ADDs for a PE we own over a live ASAP association (the ENRP twin of ASAP cause 0x4; also
  // counted in updates_ignored).
  std::uint64_t updates_refused_owned_live = 0;
  std::uint64_t takeover_suggestions_sent = 0;
  std::uint64_t takeover_suggestions_accepted = 0;

  // Lists, errors, security.
  std::uint64_t list_requests_received = 0;
  std::uint64_t list_responses_received = 0;
  std::uint64_t errors_sent = 0;
  std::uint64_t errors_received = 0;
  std::uint64_t decode_failures = 0;
  std::uint64_t rejected_unknown_peer = 0;  // SEC-04
  // A message whose sender ID is not the one its transport origin announced (a connection or
  // address that is not that peer's): dropped (SEC-04, issue 17).
  std::uint64_t rejected_identity_mismatch = 0;
  std::uint64_t rejected_not_owner = 0;     // SEC-05
  std::uint64_t own_id_ignored = 0;         // ENRP-PEER-05
  std::uint64_t send_failures = 0;         // counted by PeerLinks
  std::uint64_t pes_expired = 0;            // peer-owned PEs whose registration life ran out
  std::uint64_t graceful_addresses_retired = 0;  // PEs whose kept graceful addresses ended (RFC 8653)

  // Peers by state (refreshed whenever the table changes state).
  std::uint64_t peers_unknown = 0;
  std::uint64_t peers_alive = 0;
  std::uint64_t peers_probing = 0;
  std::uint64_t peers_dead = 0;
};

// Every field of EnrpCounters with its descriptor, in the order stats and /metrics list them.
// The peers_* fields are gauges (poolreg_peers{state}, stats key peers.<state>).
std::span<const DescribedField<EnrpCounters>> enrp_counter_fields() noexcept;

}  // namespace poolreg::enrp
