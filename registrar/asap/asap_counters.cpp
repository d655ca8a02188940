#include "registrar/asap/asap_counters.hpp"

#include <string>

namespace poolreg::asap {

namespace {
std::string snake(std::string_view text) {
  std::string out;
  for (char c : text) out.push_back((c == ' ' || c == '/' || c == '-') ? '_' : c);
  return out;
}
}  // namespace

void AsapCounters::for_each(FunctionRef<void(std::string_view, std::uint64_t)> visit) const {
  visit("messages_received", messages_received);
  visit("registrations", registrations);
  visit("reregistrations", reregistrations);
  visit("registrations_rejected", registrations_rejected);
  visit("addresses_filtered", addresses_filtered);
  visit("deregistrations", deregistrations);
  visit("deregistrations_unknown", deregistrations_unknown);
  visit("deregistrations_refused", deregistrations_refused);
  visit("resolutions", resolutions);
  visit("resolutions_unknown_pool", resolutions_unknown_pool);
  visit("resolutions_rate_limited", resolutions_rate_limited);
  visit("resolution_pes_returned", resolution_pes_returned);
  visit("resolutions_truncated", resolutions_truncated);
  visit("keepalives_sent", keepalives_sent);
  visit("keepalives_home_sent", keepalives_home_sent);
  visit("keepalive_acks", keepalive_acks);
  visit("keepalive_acks_unknown", keepalive_acks_unknown);
  visit("keepalive_acks_wrong_association", keepalive_acks_wrong_association);
  visit("keepalive_timeouts", keepalive_timeouts);
  visit("rebind_probes", rebind_probes);
  visit("rebind_probes_answered", rebind_probes_answered);
  visit("pe_rebinds", pe_rebinds);
  visit("rebind_old_closed", rebind_old_closed);
  visit("rebind_dropped", rebind_dropped);
  visit("rebind_displaced", rebind_displaced);
  visit("rebind_probes_refused_full", rebind_probes_refused_full);
  visit("takeover_monitors", takeover_monitors);
  visit("takeover_existing_associations", takeover_existing_associations);
  visit("takeover_bound", takeover_bound);
  visit("takeover_kept_for_life", takeover_kept_for_life);
  visit("connects_failed", connects_failed);
  visit("unreachable_reports", unreachable_reports);
  visit("unreachable_unknown_pe", unreachable_unknown_pe);
  visit("unreachable_rate_limited", unreachable_rate_limited);
  visit("unreachable_repeated_reporter", unreachable_repeated_reporter);
  visit("unreachable_probes", unreachable_probes);
  visit("unreachable_probes_kept", unreachable_probes_kept);
  visit("unreachable_probes_removed", unreachable_probes_removed);
  visit("removed_by_deregistration", removed_by_deregistration);
  visit("removed_by_keepalive_timeout", removed_by_keepalive_timeout);
  visit("removed_by_association_loss", removed_by_association_loss);
  visit("removed_by_unreachable_reports", removed_by_unreachable_reports);
  visit("removed_by_operator", removed_by_operator);
  visit("associations_up", associations_up);
  visit("associations_closed", associations_closed);
  visit("associations_aborted", associations_aborted);
  visit("associations_refused", associations_refused);
  visit("associations_refused_per_address", associations_refused_per_address);
  visit("registrations_refused_per_association", registrations_refused_per_association);
  visit("registrations_refused_per_address", registrations_refused_per_address);
  visit("registrations_refused_operator_hold", registrations_refused_operator_hold);
  visit("associations_idle_closed", associations_idle_closed);
  visit("associations_silent_closed", associations_silent_closed);
  visit("association_teardown_passes", association_teardown_passes);
  visit("association_addresses_added", association_addresses_added);
  visit("association_addresses_removed", association_addresses_removed);
  visit("association_primary_changes", association_primary_changes);
  visit("address_changes_unknown_association", address_changes_unknown_association);
  visit("pe_transports_followed", pe_transports_followed);
  visit("pe_addresses_pruned", pe_addresses_pruned);
  visit("pe_address_prunes_skipped_last", pe_address_prunes_skipped_last);
  for (std::size_t c = 0; c < errors_sent_by_cause.size(); ++c) {
    if (errors_sent_by_cause[c] == 0) continue;
    visit("errors_sent." + snake(error_cause_name(static_cast<ErrorCause>(c))), errors_sent_by_cause[c]);
  }
  visit("error_messages_received", error_messages_received);
  visit("unrecognized_parameter_reports", unrecognized_parameter_reports);
  for (std::size_t k = 0; k < decode_errors_by_kind.size(); ++k) {
    if (decode_errors_by_kind[k] == 0) continue;
    visit("decode_errors." + snake(wire::decode_error_kind_name(static_cast<wire::DecodeErrorKind>(k))),
          decode_errors_by_kind[k]);
  }
  visit("silently_dropped", silently_dropped);
  visit("unexpected_messages", unexpected_messages);
  visit("pe_pu_messages_ignored", pe_pu_messages_ignored);
  visit("server_announces_ignored", server_announces_ignored);
  visit("send_failures", send_failures);
}

}  // namespace poolreg::asap
