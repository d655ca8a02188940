#include "dataplane/runtime/lane_counters.hpp"

#include <array>

namespace poolreg::runtime {

const char* asap_type_name(std::size_t type) noexcept {
  static constexpr const char* kNames[kAsapTypeSlots] = {"other",
                                                         "registration",
                                                         "deregistration",
                                                         "registration_response",
                                                         "deregistration_response",
                                                         "handle_resolution",
                                                         "handle_resolution_response",
                                                         "endpoint_keep_alive",
                                                         "endpoint_keep_alive_ack",
                                                         "endpoint_unreachable",
                                                         "server_announce",
                                                         "cookie",
                                                         "cookie_echo",
                                                         "business_card",
                                                         "error"};
  return type < kAsapTypeSlots ? kNames[type] : "other";
}

namespace {
// Stats key (the field's name), metric, help, in declaration order.
constexpr std::array kLaneFields = std::to_array<DescribedField<LaneCounters, Counter>>({
    {{"rx_packets", "poolreg_lane_rx_packets_total",
      "Packets the lane read from its source (DPDK frames or kernel UDP datagrams), every kind."},
     &LaneCounters::rx_packets},
    {{"rx_bytes", "poolreg_lane_rx_bytes_total",
      "Bytes of the packets the lane read from its source.", CounterUnit::kBytes},
     &LaneCounters::rx_bytes},
    {{"tx_packets", "poolreg_lane_tx_packets_total",
      "Packets the lane sent (SCTP over UDP, and on DPDK ARP/ICMP answers)."},
     &LaneCounters::tx_packets},
    {{"tx_bytes", "poolreg_lane_tx_bytes_total",
      "Bytes of the packets the lane sent.", CounterUnit::kBytes},
     &LaneCounters::tx_bytes},
    {{"sctp_packets_in", "poolreg_lane_sctp_packets_in_total",
      "SCTP packets handed to the lane's SCTP engine (its own and those steered in)."},
     &LaneCounters::sctp_packets_in},
    {{"sctp_steered_out", "poolreg_lane_sctp_steered_out_total",
      "SCTP packets read by this lane but owned by another lane's association and handed to it; high values mean RSS does not match the steering."},
     &LaneCounters::sctp_steered_out},
    {{"steered_in", "poolreg_lane_steered_in_total",
      "Packets taken from this lane's inbox (steered here by other lanes)."},
     &LaneCounters::steered_in},
    {{"asap_messages_in", "poolreg_lane_asap_messages_in_total",
      "Whole ASAP messages received on this lane's associations."},
     &LaneCounters::asap_messages_in},
    {{"enrp_messages_in", "poolreg_lane_enrp_messages_in_total",
      "Whole ENRP messages received on this lane's associations."},
     &LaneCounters::enrp_messages_in},
    {{"messages_out", "poolreg_lane_messages_out_total",
      "ASAP/ENRP messages the lane handed to its SCTP engine for sending."},
     &LaneCounters::messages_out},
    {{"loop_iterations", "poolreg_lane_loop_iterations_total",
      "Iterations of the lane's poll loop; a lane whose rate stops growing is stuck."},
     &LaneCounters::loop_iterations},
    {{"resolutions_answered", "poolreg_lane_resolutions_answered_total",
      "Handle Resolutions answered on this lane with PEs (not counted in poolreg_resolutions_total)."},
     &LaneCounters::resolutions_answered},
    {{"resolutions_unknown_pool", "poolreg_lane_resolutions_unknown_pool_total",
      "Handle Resolutions answered on this lane with cause 0x9 because the pool does not exist."},
     &LaneCounters::resolutions_unknown_pool},
    {{"resolutions_rate_limited", "poolreg_lane_resolutions_rate_limited_total",
      "Handle Resolutions answered on this lane with cause 0x9 by the per-association rate limit (asap.hr_rate_limit)."},
     &LaneCounters::resolutions_rate_limited},
    {{"resolutions_truncated", "poolreg_lane_resolutions_truncated_total",
      "Handle Resolution answers of this lane cut to fewer PEs so they fit one message."},
     &LaneCounters::resolutions_truncated},
    {{"resolution_pes_returned", "poolreg_lane_resolution_pes_returned_total",
      "PEs listed in the Handle Resolution answers of this lane."},
     &LaneCounters::resolution_pes_returned},
    {{"resolutions_forwarded", "poolreg_lane_resolutions_forwarded_total",
      "Handle Resolutions this lane forwarded to the control thread (decode errors, parameters to report)."},
     &LaneCounters::resolutions_forwarded},
    {{"resolutions_after_write_forwarded", "poolreg_lane_resolutions_after_write_forwarded_total",
      "Handle Resolutions this lane handed to the control thread behind a message of the same association "
      "that was not applied yet (a Registration, say), so that they see it (order per association)."},
     &LaneCounters::resolutions_after_write_forwarded},
    {{"sctp_paths_unreachable", "poolreg_lane_sctp_paths_unreachable_total",
      "SCTP associations whose path to the peer's current address usrsctp reported unreachable (path max "
      "retransmissions reached)."},
     &LaneCounters::sctp_paths_unreachable},
    {{"sctp_path_failovers", "poolreg_lane_sctp_path_failovers_total",
      "Times the lane sent an SCTP association's packets to another address its multi-homed peer listed, "
      "after its path failed."},
     &LaneCounters::sctp_path_failovers},
    {{"sctp_endpoints_refused", "poolreg_lane_sctp_endpoints_refused_total",
      "SCTP packets from a new peer dropped because the lane's pending peers (limits.max_pending_sctp_peers) "
      "were all younger than their cookie life: an INIT flood, or the bound too low."},
     &LaneCounters::sctp_endpoints_refused},
    {{"sctp_endpoints_expired", "poolreg_lane_sctp_endpoints_expired_total",
      "SCTP peers without an association (an INIT answered, an association gone) forgotten after their "
      "cookie life."},
     &LaneCounters::sctp_endpoints_expired},
    {{"sctp_pending_endpoints", "poolreg_lane_sctp_pending_endpoints",
      "SCTP peers without an association the lane keeps now (at most limits.max_pending_sctp_peers).",
      CounterUnit::kCount, MetricKind::kGauge},
     &LaneCounters::sctp_pending_endpoints},
    {{"sctp_endpoints_evicted", "poolreg_lane_sctp_endpoints_evicted_total",
      "SCTP peers that only sent INITs, forgotten before their cookie life to make room for a new peer "
      "while the pending peers were full (an INIT flood)."},
     &LaneCounters::sctp_endpoints_evicted},
    {{"sctp_cookies_for_other_endpoint", "poolreg_lane_sctp_cookies_for_other_endpoint_total",
      "SCTP COOKIE ECHOs dropped because their cookie was issued to another peer endpoint (one forgotten "
      "since, or the peer answered from another address or port than its INIT's)."},
     &LaneCounters::sctp_cookies_for_other_endpoint},
    {{"sctp_bad_crc32c", "poolreg_lane_sctp_bad_crc32c_total",
      "SCTP packets the lane's engine dropped for a CRC32c mismatch (those their source had not checked, "
      "e.g. SCTP over UDP; native ones count as native_drop_bad_crc or sctp_bad_checksum)."},
     &LaneCounters::sctp_bad_crc32c},
    {{"sctp_bad_vtag", "poolreg_lane_sctp_bad_vtag_total",
      "SCTP packets usrsctp dropped because their verification tag was not their association's (spoofed or "
      "stale packets)."},
     &LaneCounters::sctp_bad_vtag},
    {{"sctp_alias_steered", "poolreg_lane_sctp_alias_steered_total",
      "SCTP packets this lane handed to the lane that holds their source address as another address of a "
      "multi-homed (or ADD-IP) peer's association."},
     &LaneCounters::sctp_alias_steered},
    {{"sctp_aliases_published", "poolreg_lane_sctp_aliases_published_total",
      "Addresses of this lane's multi-homed (or ADD-IP) SCTP peers published for the other lanes to hand "
      "their packets here."},
     &LaneCounters::sctp_aliases_published},
    {{"sctp_alias_publish_refused", "poolreg_lane_sctp_alias_publish_refused_total",
      "Peer addresses this lane could not publish for the other lanes (held by another lane, or the shared "
      "table full): their packets reach the association only when they arrive on this lane."},
     &LaneCounters::sctp_alias_publish_refused},
    {{"sctp_paths_inactive_at_up", "poolreg_lane_sctp_paths_inactive_at_up_total",
      "SCTP associations that came up on a path usrsctp held unreachable (handshake retransmitted more "
      "than Path.Max.Retrans times); a heartbeat was sent at once so data flows."},
     &LaneCounters::sctp_paths_inactive_at_up},
    {{"keepalives_sent", "poolreg_lane_keepalives_sent_total",
      "ASAP Endpoint Keep-Alives the lane sent for the PEs it monitors (asap.keepalive_on_lanes); not in "
      "poolreg_asap_keepalives_sent_total, which counts the control thread's."},
     &LaneCounters::keepalives_sent},
    {{"keepalive_acks", "poolreg_lane_keepalive_acks_total",
      "Endpoint Keep-Alive Acks the lane consumed itself (a PE it monitors, on its association); they never "
      "reach the control thread."},
     &LaneCounters::keepalive_acks},
    {{"keepalive_acks_forwarded", "poolreg_lane_keepalive_acks_forwarded_total",
      "Endpoint Keep-Alive Acks the lane left to the control thread (PE not monitored here, another "
      "association, malformed)."},
     &LaneCounters::keepalive_acks_forwarded},
    {{"keepalive_timeouts", "poolreg_lane_keepalive_timeouts_total",
      "Keep-Alives the lane sent that went unanswered (asap.keepalive_timeout_ms); each is reported to the "
      "control thread, which removes the PE (also in poolreg_asap_keepalive_timeouts_total)."},
     &LaneCounters::keepalive_timeouts},
    {{"keepalive_not_ours", "poolreg_lane_keepalive_not_ours_total",
      "PEs the lane stopped monitoring because the handlespace no longer showed them ours over their "
      "association (ENRP takeover, rebind)."},
     &LaneCounters::keepalive_not_ours},
    {{"keepalive_send_failures", "poolreg_lane_keepalive_send_failures_total",
      "Keep-Alives the lane's SCTP engine did not take: its queue full (the PE's timeout runs as for a lost "
      "one), or the association gone (the entry is dropped; the control thread handles the close)."},
     &LaneCounters::keepalive_send_failures},
    {{"keepalive_batches", "poolreg_lane_keepalive_batches_total",
      "Sends of several Keep-Alives due in the same timer tick for PEs on the same association (one engine "
      "call, bundled into as few SCTP packets as usrsctp packs them; asap.keepalive_batch)."},
     &LaneCounters::keepalive_batches},
    {{"keepalive_watched", "poolreg_lane_keepalive_watched",
      "PEs whose endpoint keep-alives this lane runs now.", CounterUnit::kCount, MetricKind::kGauge},
     &LaneCounters::keepalive_watched},

});
}  // namespace

std::span<const DescribedField<LaneCounters, Counter>> lane_counter_fields() noexcept { return kLaneFields; }

}  // namespace poolreg::runtime
