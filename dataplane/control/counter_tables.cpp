#include "dataplane/control/counter_tables.hpp"

namespace poolreg::control {

void for_each_enrp_counter(const enrp::EnrpCounters& c, CounterVisitor visit) {
  visit("presence_sent", c.presence_sent);
  visit("presence_received", c.presence_received);
  visit("multicast_presence_sent", c.multicast_presence_sent);
  visit("multicast_presence_received", c.multicast_presence_received);
  visit("updates_sent", c.updates_sent);
  visit("updates_coalesced", c.updates_coalesced);
  visit("updates_received", c.updates_received);
  visit("updates_applied", c.updates_applied);
  visit("updates_ignored", c.updates_ignored);
  visit("updates_refused_owned_live", c.updates_refused_owned_live);
  visit("takeover_suggestions_sent", c.takeover_suggestions_sent);
  visit("takeover_suggestions_accepted", c.takeover_suggestions_accepted);
  visit("sync_requests_sent", c.sync_requests_sent);
  visit("sync_requests_received", c.sync_requests_received);
  visit("sync_responses_sent", c.sync_responses_sent);
  visit("sync_responses_received", c.sync_responses_received);
  visit("sync_rejects_sent", c.sync_rejects_sent);
  visit("sync_pes_sent", c.sync_pes_sent);
  visit("sync_pes_received", c.sync_pes_received);
  visit("sync_bytes_sent", c.sync_bytes_sent);
  visit("sync_bytes_received", c.sync_bytes_received);
  visit("sync_completed", c.sync_completed);
  visit("sync_timeouts", c.sync_timeouts);
  visit("sync_pes_purged", c.sync_pes_purged);
  visit("sync_responses_unsolicited", c.sync_responses_unsolicited);
  visit("sync_pes_refused_owned_live", c.sync_pes_refused_owned_live);
  visit("audits", c.audits);
  visit("audit_mismatches", c.audit_mismatches);
  visit("takeovers_started", c.takeovers_started);
  visit("takeovers_won", c.takeovers_won);
  visit("takeovers_lost", c.takeovers_lost);
  visit("takeovers_cancelled", c.takeovers_cancelled);
  visit("takeovers_completed", c.takeovers_completed);
  visit("takeover_pes_taken", c.takeover_pes_taken);
  visit("list_requests_received", c.list_requests_received);
  visit("list_responses_received", c.list_responses_received);
  visit("errors_sent", c.errors_sent);
  visit("errors_received", c.errors_received);
  visit("decode_failures", c.decode_failures);
  visit("rejected_unknown_peer", c.rejected_unknown_peer);
  visit("rejected_not_owner", c.rejected_not_owner);
  visit("rejected_identity_mismatch", c.rejected_identity_mismatch);
  visit("own_id_ignored", c.own_id_ignored);
  visit("send_failures", c.send_failures);
  visit("pes_expired", c.pes_expired);
}

void for_each_enrp_peer_state(const enrp::EnrpCounters& c, CounterVisitor visit) {
  visit("unknown", c.peers_unknown);
  visit("alive", c.peers_alive);
  visit("probing", c.peers_probing);
  visit("dead", c.peers_dead);
}

void for_each_transport_counter(const runtime::TransportCounters& c, CounterVisitor visit) {
  visit("connections_accepted", c.connections_accepted);
  visit("connections_opened", c.connections_opened);
  visit("connect_failures", c.connect_failures);
  visit("connections_closed", c.connections_closed);
  visit("messages_received", c.messages_received);
  visit("bytes_received", c.bytes_received);
  visit("messages_sent", c.messages_sent);
  visit("bytes_sent", c.bytes_sent);
  visit("messages_queued", c.messages_queued);
  visit("send_dropped_queue_full", c.send_dropped_queue_full);
  visit("send_failed", c.send_failed);
  visit("framing_errors", c.framing_errors);
  visit("wrong_ppid", c.wrong_ppid);
  visit("unknown_ppid", c.unknown_ppid);
  visit("oversize_messages", c.oversize_messages);
  visit("notifications", c.notifications);
  visit("mptcp_fallbacks", c.mptcp_fallbacks);
  visit("accept_pauses", c.accept_pauses);
  visit("partial_frame_budget_resets", c.partial_frame_budget_resets);
  visit("first_message_timeouts", c.first_message_timeouts);
}

}  // namespace poolreg::control
