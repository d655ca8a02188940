#include "registrar/asap/asap_counters.hpp"

#include <array>
#include <string>

namespace poolreg::asap {

namespace {

// One row per plain field: stats key (the field's name), metric, help, label. Rows of one family
// (resolutions by result, removals by reason) repeat the family's help.
constexpr std::array kFields = std::to_array<DescribedField<AsapCounters>>({
    {{"messages_received", "poolreg_asap_messages_received_total",
      "Whole ASAP messages the registrar received from PEs and PUs over SCTP and TCP (every type); the base rate against which errors and drops are judged."},
     &AsapCounters::messages_received},
    {{"registrations", "poolreg_registrations_total",
      "ASAP Registrations accepted for PEs this registrar did not know; a sudden burst means PEs restarted or failed over to this registrar."},
     &AsapCounters::registrations},
    {{"reregistrations", "poolreg_reregistrations_total",
      "ASAP Registrations of PEs already registered (lifetime refresh, mobility, policy change); the steady background of a healthy pool."},
     &AsapCounters::reregistrations},
    {{"registrations_rejected", "poolreg_registrations_rejected_total",
      "ASAP Registrations answered with a rejection (R=1, any cause; the causes are in poolreg_errors_sent_total); non-zero means PEs are not getting into their pool."},
     &AsapCounters::registrations_rejected},
    {{"addresses_filtered", "poolreg_asap_addresses_filtered_total",
      "PE transport addresses dropped from registrations by the address scope and ownership checks (asap.address_check); explains PEs listed with fewer addresses than they sent."},
     &AsapCounters::addresses_filtered},
    {{"deregistrations", "poolreg_deregistrations_total",
      "PEs removed by an ASAP Deregistration from their own PE."},
     &AsapCounters::deregistrations},
    {{"deregistrations_unknown", "poolreg_asap_deregistrations_unknown_total",
      "ASAP Deregistrations for a PE not in the handlespace (answered anyway); usually a PE retrying after it was already removed."},
     &AsapCounters::deregistrations_unknown},
    {{"deregistrations_refused", "poolreg_asap_deregistrations_refused_total",
      "ASAP Deregistrations refused because another association owns the PE (cause 0x4); a misbehaving or spoofing client."},
     &AsapCounters::deregistrations_refused},
    {{"resolutions", "poolreg_resolutions_total",
      "ASAP Handle Resolutions answered by the control thread (SCTP lanes count theirs in poolreg_lane_resolutions_*), by result: PUs looking up pools.", CounterUnit::kCount, MetricKind::kCounter, "result", "answered"},
     &AsapCounters::resolutions},
    {{"resolutions_unknown_pool", "poolreg_resolutions_total",
      "ASAP Handle Resolutions answered by the control thread (SCTP lanes count theirs in poolreg_lane_resolutions_*), by result: PUs looking up pools.", CounterUnit::kCount, MetricKind::kCounter, "result", "unknown_pool"},
     &AsapCounters::resolutions_unknown_pool},
    {{"resolutions_rate_limited", "poolreg_resolutions_total",
      "ASAP Handle Resolutions answered by the control thread (SCTP lanes count theirs in poolreg_lane_resolutions_*), by result: PUs looking up pools.", CounterUnit::kCount, MetricKind::kCounter, "result", "rate_limited"},
     &AsapCounters::resolutions_rate_limited},
    {{"resolution_pes_returned", "poolreg_resolution_pes_returned_total",
      "PEs listed in Handle Resolution answers of the control thread; divided by answered resolutions it is the mean answer size."},
     &AsapCounters::resolution_pes_returned},
    {{"resolutions_truncated", "poolreg_asap_resolutions_truncated_total",
      "Handle Resolution answers cut to fewer PEs so they fit one message (asap.max_message_bytes); PUs see fewer PEs than requested."},
     &AsapCounters::resolutions_truncated},
    {{"keepalives_sent", "poolreg_asap_keepalives_sent_total",
      "ASAP Endpoint Keep-Alives sent to PEs this registrar monitors (H=0); the cost of PE monitoring."},
     &AsapCounters::keepalives_sent},
    {{"keepalives_home_sent", "poolreg_asap_keepalives_home_sent_total",
      "ASAP Endpoint Keep-Alives with the Home bit (H=1) telling a PE this registrar became its home (after a takeover)."},
     &AsapCounters::keepalives_home_sent},
    {{"keepalive_acks", "poolreg_asap_keepalive_acks_total",
      "ASAP Endpoint Keep-Alive Acks received: PEs proving they are alive."},
     &AsapCounters::keepalive_acks},
    {{"keepalive_acks_unknown", "poolreg_asap_keepalive_acks_unknown_total",
      "Keep-Alive Acks for a PE this registrar does not monitor (already removed or never registered here)."},
     &AsapCounters::keepalive_acks_unknown},
    {{"keepalive_acks_wrong_association", "poolreg_asap_keepalive_acks_wrong_association_total",
      "Keep-Alive Acks that arrived over another association than the PE's; ignored, a sign of PE mobility or spoofing."},
     &AsapCounters::keepalive_acks_wrong_association},
    {{"keepalive_timeouts", "poolreg_asap_keepalive_timeouts_total",
      "Monitored PEs that did not answer a Keep-Alive in time (asap.keepalive_timeout_ms); each one is removed."},
     &AsapCounters::keepalive_timeouts},
    {{"rebind_probes", "poolreg_asap_rebind_probes_total",
      "A registration for a PE bound to another association started a probe of the old binding (keep-alive + heartbeat) before rebinding; PE mobility or a hijack attempt."},
     &AsapCounters::rebind_probes},
    {{"rebind_probes_answered", "poolreg_asap_rebind_probes_answered_total",
      "Rebind probes the old binding answered: the PE is alive there, so the new registration was refused with cause 0x4."},
     &AsapCounters::rebind_probes_answered},
    {{"pe_rebinds", "poolreg_asap_pe_rebinds_total",
      "PEs rebound to a new association because their old binding stayed silent during the probe (moved PEs)."},
     &AsapCounters::pe_rebinds},
    {{"rebind_old_closed", "poolreg_asap_rebind_old_closed_total",
      "Rebind probes ended because the old association closed meanwhile; the PE was rebound at once."},
     &AsapCounters::rebind_old_closed},
    {{"rebind_dropped", "poolreg_asap_rebind_dropped_total",
      "Rebind probes dropped because the new association closed before the probe ended."},
     &AsapCounters::rebind_dropped},
    {{"rebind_displaced", "poolreg_asap_rebind_displaced_total",
      "Pending rebinds displaced by a newer registration of the same PE from a third association (the older one refused)."},
     &AsapCounters::rebind_displaced},
    {{"rebind_probes_refused_full", "poolreg_asap_rebind_probes_refused_full_total",
      "Registrations refused at once because no rebind probe slot was free; many PEs moving at the same time."},
     &AsapCounters::rebind_probes_refused_full},
    {{"takeover_monitors", "poolreg_asap_takeover_monitors_total",
      "PEs of a dead registrar this registrar started monitoring as their new home after an ENRP takeover."},
     &AsapCounters::takeover_monitors},
    {{"takeover_existing_associations", "poolreg_asap_takeover_existing_associations_total",
      "Taken-over PEs whose Keep-Alive went over an association the PE already had with this registrar (no new association needed)."},
     &AsapCounters::takeover_existing_associations},
    {{"takeover_bound", "poolreg_asap_takeover_bound_total",
      "Taken-over PEs bound to a new association by their Keep-Alive Ack: the takeover reached them."},
     &AsapCounters::takeover_bound},
    {{"takeover_kept_for_life", "poolreg_asap_takeover_kept_for_life_total",
      "Taken-over PEs this registrar cannot reach (TCP, or connect failed) kept until their registration life ends."},
     &AsapCounters::takeover_kept_for_life},
    {{"connects_failed", "poolreg_asap_connects_failed_total",
      "Associations to taken-over PEs that could not be opened; those PEs stay unreachable to keep-alives."},
     &AsapCounters::connects_failed},
    {{"unreachable_reports", "poolreg_asap_unreachable_reports_total",
      "ASAP Endpoint Unreachable reports from PUs that could not reach a PE; rising means PEs fail while still registered."},
     &AsapCounters::unreachable_reports},
    {{"unreachable_unknown_pe", "poolreg_asap_unreachable_unknown_pe_total",
      "Endpoint Unreachable reports for a PE not in the handlespace (already removed)."},
     &AsapCounters::unreachable_unknown_pe},
    {{"unreachable_rate_limited", "poolreg_asap_unreachable_rate_limited_total",
      "Endpoint Unreachable reports dropped by the rate limit (asap.max_eu_rate); a PU flooding reports."},
     &AsapCounters::unreachable_rate_limited},
    {{"unreachable_repeated_reporter", "poolreg_asap_unreachable_repeated_reporter_total",
      "Endpoint Unreachable reports not counted because the same source address reported that PE before."},
     &AsapCounters::unreachable_repeated_reporter},
    {{"unreachable_probes", "poolreg_asap_unreachable_probes_total",
      "PEs that reached MAX-BAD-PE-REPORT over a live association and were probed with a keep-alive instead of removed."},
     &AsapCounters::unreachable_probes},
    {{"unreachable_probes_kept", "poolreg_asap_unreachable_probes_kept_total",
      "Probed PEs that answered and were kept: the reports were wrong (network between PU and PE)."},
     &AsapCounters::unreachable_probes_kept},
    {{"unreachable_probes_removed", "poolreg_asap_unreachable_probes_removed_total",
      "Probed PEs that did not answer and were removed."},
     &AsapCounters::unreachable_probes_removed},
    {{"removed_by_deregistration", "poolreg_pe_removals_total",
      "PEs this registrar removed from the handlespace, by reason; a rise in anything but deregistration means PEs are failing.", CounterUnit::kCount, MetricKind::kCounter, "reason", "deregistration"},
     &AsapCounters::removed_by_deregistration},
    {{"removed_by_keepalive_timeout", "poolreg_pe_removals_total",
      "PEs this registrar removed from the handlespace, by reason; a rise in anything but deregistration means PEs are failing.", CounterUnit::kCount, MetricKind::kCounter, "reason", "keepalive_timeout"},
     &AsapCounters::removed_by_keepalive_timeout},
    {{"removed_by_association_loss", "poolreg_pe_removals_total",
      "PEs this registrar removed from the handlespace, by reason; a rise in anything but deregistration means PEs are failing.", CounterUnit::kCount, MetricKind::kCounter, "reason", "association_loss"},
     &AsapCounters::removed_by_association_loss},
    {{"removed_by_unreachable_reports", "poolreg_pe_removals_total",
      "PEs this registrar removed from the handlespace, by reason; a rise in anything but deregistration means PEs are failing.", CounterUnit::kCount, MetricKind::kCounter, "reason", "unreachable_reports"},
     &AsapCounters::removed_by_unreachable_reports},
    {{"removed_by_operator", "poolreg_pe_removals_total",
      "PEs this registrar removed from the handlespace, by reason; a rise in anything but deregistration means PEs are failing.", CounterUnit::kCount, MetricKind::kCounter, "reason", "operator"},
     &AsapCounters::removed_by_operator},
    {{"associations_up", "poolreg_asap_associations_up_total",
      "ASAP associations and TCP connections from PEs/PUs that came up."},
     &AsapCounters::associations_up},
    {{"associations_closed", "poolreg_asap_associations_closed_total",
      "ASAP associations and connections closed gracefully."},
     &AsapCounters::associations_closed},
    {{"associations_aborted", "poolreg_asap_associations_aborted_total",
      "ASAP associations and connections aborted or lost; their PEs are removed after the hold time."},
     &AsapCounters::associations_aborted},
    {{"associations_refused", "poolreg_asap_associations_refused_total",
      "Associations aborted at once because limits.max_associations was reached; raise the limit or find the client opening them."},
     &AsapCounters::associations_refused},
    {{"associations_refused_per_address", "poolreg_asap_associations_refused_per_address_total",
      "Associations aborted because one address exceeded limits.max_associations_per_address."},
     &AsapCounters::associations_refused_per_address},
    {{"registrations_refused_per_association", "poolreg_asap_registrations_refused_per_association_total",
      "Registrations of new PEs refused (cause 0x6) by limits.max_pes_per_association."},
     &AsapCounters::registrations_refused_per_association},
    {{"registrations_refused_per_address", "poolreg_asap_registrations_refused_per_address_total",
      "Registrations of new PEs refused (cause 0x6) by limits.max_pes_per_address."},
     &AsapCounters::registrations_refused_per_address},
    {{"registrations_refused_operator_hold", "poolreg_asap_registrations_refused_operator_hold_total",
      "Re-registrations refused (cause 0xa) because an operator deregistered the PE within asap.deregister_hold_ms."},
     &AsapCounters::registrations_refused_operator_hold},
    {{"associations_idle_closed", "poolreg_asap_associations_idle_closed_total",
      "Associations without PEs closed after asap.association_idle_timeout_ms of silence."},
     &AsapCounters::associations_idle_closed},
    {{"associations_silent_closed", "poolreg_asap_associations_silent_closed_total",
      "Connections closed because they sent no whole message within limits.first_message_timeout_ms."},
     &AsapCounters::associations_silent_closed},
    {{"association_teardown_passes", "poolreg_asap_association_teardown_passes_total",
      "Extra event-loop passes spent removing the PEs of a large lost association (removed in batches)."},
     &AsapCounters::association_teardown_passes},
    {{"association_addresses_added", "poolreg_asap_association_addresses_added_total",
      "Addresses added to PE associations (SCTP ADD-IP); PE mobility."},
     &AsapCounters::association_addresses_added},
    {{"association_addresses_removed", "poolreg_asap_association_addresses_removed_total",
      "Addresses removed from PE associations (SCTP DELETE-IP); PE mobility."},
     &AsapCounters::association_addresses_removed},
    {{"association_primary_changes", "poolreg_asap_association_primary_changes_total",
      "Primary address changes of PE associations (SCTP SET-PRIMARY)."},
     &AsapCounters::association_primary_changes},
    {{"address_changes_unknown_association", "poolreg_asap_address_changes_unknown_association_total",
      "SCTP address changes reported for a connection the ASAP server does not know; ignored."},
     &AsapCounters::address_changes_unknown_association},
    {{"pe_transports_followed", "poolreg_asap_pe_transports_followed_total",
      "Owned PEs whose stored transport followed their association's address change (and were sent to ENRP peers)."},
     &AsapCounters::pe_transports_followed},
    {{"pe_addresses_pruned", "poolreg_asap_pe_addresses_pruned_total",
      "PE user addresses removed because their association lost that address."},
     &AsapCounters::pe_addresses_pruned},
    {{"pe_address_prunes_skipped_last", "poolreg_asap_pe_address_prunes_skipped_last_total",
      "Address prunes skipped because they would have left a PE without any address."},
     &AsapCounters::pe_address_prunes_skipped_last},
    {{"error_messages_received", "poolreg_asap_error_messages_received_total",
      "ASAP Error messages received from PEs/PUs: a peer did not understand something this registrar sent."},
     &AsapCounters::error_messages_received},
    {{"unrecognized_parameter_reports", "poolreg_asap_unrecognized_parameter_reports_total",
      "Extra ASAP Errors (cause 0x1) sent for unknown parameters a message carried with report action bits."},
     &AsapCounters::unrecognized_parameter_reports},
    {{"silently_dropped", "poolreg_asap_silently_dropped_total",
      "Unknown parameters skipped without a report (action bits 00), as RFC 5354 requires."},
     &AsapCounters::silently_dropped},
    {{"unexpected_messages", "poolreg_asap_unexpected_messages_total",
      "ASAP messages of types only a registrar sends (answers, announces) received by this registrar; ignored."},
     &AsapCounters::unexpected_messages},
    {{"pe_pu_messages_ignored", "poolreg_asap_pe_pu_messages_ignored_total",
      "PE-PU messages (Cookie, Cookie Echo, Business Card) sent to the registrar by mistake; ignored."},
     &AsapCounters::pe_pu_messages_ignored},
    {{"server_announces_ignored", "poolreg_asap_server_announces_ignored_total",
      "ASAP Server Announces of other registrars received; a registrar ignores them."},
     &AsapCounters::server_announces_ignored},
    {{"send_failures", "poolreg_asap_send_failures_total",
      "ASAP messages the transport refused to send (connection gone, queue full, too big); answers that never left."},
     &AsapCounters::send_failures},
});

constexpr CounterDescriptor kErrorsSent{
    "errors_sent", "poolreg_errors_sent_total",
    "ASAP operation errors this registrar sent (Error messages and rejections), by RFC 5354 cause; "
    "tells which misconfiguration or limit PEs and PUs run into.",
    CounterUnit::kCount, MetricKind::kCounter, "cause"};
constexpr CounterDescriptor kDecodeErrors{
    "decode_errors", "poolreg_asap_decode_errors_total",
    "ASAP messages that failed the strict TLV decoding, by kind (only kinds seen); a client with a "
    "broken or incompatible encoder.",
    CounterUnit::kCount, MetricKind::kCounter, "kind"};

}  // namespace

std::span<const DescribedField<AsapCounters>> asap_counter_fields() noexcept { return kFields; }
const CounterDescriptor& asap_errors_sent_descriptor() noexcept { return kErrorsSent; }
const CounterDescriptor& asap_decode_errors_descriptor() noexcept { return kDecodeErrors; }

void AsapCounters::for_each_sample(
    FunctionRef<void(const CounterDescriptor&, std::string_view label_value, std::uint64_t)> visit) const {
  for (const DescribedField<AsapCounters>& f : kFields) visit(f.describe, {}, this->*f.field);
  for (std::size_t c = 0; c < errors_sent_by_cause.size(); ++c) {
    const std::string cause = counter_label_value(error_cause_name(static_cast<ErrorCause>(c)));
    visit(kErrorsSent, cause, errors_sent_by_cause[c]);
  }
  for (std::size_t k = 0; k < decode_errors_by_kind.size(); ++k) {
    if (decode_errors_by_kind[k] == 0) continue;
    const std::string kind = counter_label_value(wire::decode_error_kind_name(static_cast<wire::DecodeErrorKind>(k)));
    visit(kDecodeErrors, kind, decode_errors_by_kind[k]);
  }
}

void AsapCounters::for_each(FunctionRef<void(std::string_view, std::uint64_t)> visit) const {
  for_each_sample([&](const CounterDescriptor& d, std::string_view label_value, std::uint64_t value) {
    if (label_value.empty()) {
      visit(d.key, value);
    } else if (value != 0) {
      visit(std::string(d.key) + "." + std::string(label_value), value);
    }
  });
}

}  // namespace poolreg::asap
