// AsapCounters: everything the ASAP server counts, with names an operator understands
// (poolctl stats, telemetry). Plain values; single-threaded writer (the event loop). Readers on
// other threads must go through the daemon's own snapshotting. Every field has a descriptor
// (registrar/common/counter_descriptor.hpp) in asap_counters.cpp: its stats key, Prometheus
// family, help text and label; for_each_sample() walks them, `poolctl stats` and /metrics read
// only that walk.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "registrar/common/counter_descriptor.hpp"
#include "registrar/common/error_cause.hpp"
#include "registrar/common/function_ref.hpp"
#include "registrar/wire/decode_error.hpp"

namespace poolreg::asap {

inline constexpr std::size_t kErrorCauseSlots = 11;      // 0x0 .. 0xa
inline constexpr std::size_t kDecodeErrorKindSlots = 32;  // DecodeErrorKind values

struct AsapCounters {
  std::uint64_t messages_received = 0;
  // Registration
  std::uint64_t registrations = 0;          // accepted, new PE
  std::uint64_t reregistrations = 0;        // accepted, PE already known
  std::uint64_t registrations_rejected = 0; // answered with R=1
  std::uint64_t addresses_filtered = 0;     // PE addresses dropped by the scope/ownership filter
  // Deregistration
  std::uint64_t deregistrations = 0;          // PE removed
  std::uint64_t deregistrations_unknown = 0;  // PE not found (still answered)
  std::uint64_t deregistrations_refused = 0;  // owner check failed (0x4)
  // Handle resolution
  std::uint64_t resolutions = 0;               // answered with PEs (pool known)
  std::uint64_t resolutions_unknown_pool = 0;  // answered 0x9 because the pool does not exist
  std::uint64_t resolutions_rate_limited = 0;  // answered 0x9 because of the HR rate limit
  std::uint64_t resolution_pes_returned = 0;
  std::uint64_t resolutions_truncated = 0;     // fewer PEs sent so the answer fits one message
  // Keep-alive
  std::uint64_t keepalives_sent = 0;         // H=0
  std::uint64_t keepalives_home_sent = 0;    // H=1 (takeover / suggestion)
  std::uint64_t keepalive_acks = 0;
  std::uint64_t keepalive_acks_unknown = 0;  // Ack for a PE we do not monitor
  std::uint64_t keepalive_acks_wrong_association = 0;
  std::uint64_t keepalive_timeouts = 0;
  // Keep-alives on lanes (issue 16 item 2; the lanes count their Keep-Alives, Acks and timeouts).
  std::uint64_t keepalive_lane_watches = 0;      // PEs handed to a lane
  std::uint64_t keepalive_lane_takebacks = 0;    // taken back (probe, re-registration elsewhere, reload)
  std::uint64_t keepalive_lane_timeouts = 0;     // of keepalive_timeouts: reported by a lane
  std::uint64_t keepalive_lane_not_ours = 0;     // a lane found the PE no longer ours there
  std::uint64_t keepalive_lane_reports_stale = 0;  // a report for a watch already replaced
  // Break-before-make rebind (issue 14 item 2): probes of an old binding started; their
  // outcomes: Ack (registration refused 0x4), no Ack in time (PE rebound: pe_rebinds), the old
  // association closed meanwhile (rebound at once), the new one closed first (dropped), a newer
  // registration from a third association (older refused), no room (refused at once).
  std::uint64_t rebind_probes = 0;
  std::uint64_t rebind_probes_answered = 0;
  std::uint64_t pe_rebinds = 0;
  std::uint64_t rebind_old_closed = 0;
  std::uint64_t rebind_dropped = 0;
  std::uint64_t rebind_displaced = 0;
  std::uint64_t rebind_probes_refused_full = 0;
  // Handover hold (issue 14 item 3): PEs held when their association was lost; held PEs
  // registered again within the hold (no DEL, one update); held PEs removed at the hold's end.
  std::uint64_t pe_held = 0;
  std::uint64_t pe_hold_resumed = 0;
  std::uint64_t pe_hold_expired = 0;
  // RFC 8653 (issue 14 item 5): Graceful-Replacement addresses kept (retiring) on a move.
  std::uint64_t graceful_addresses_kept = 0;
  std::uint64_t takeover_monitors = 0;       // monitor_as_new_home calls
  std::uint64_t takeover_existing_associations = 0;  // ... whose Keep-Alive went over an association the PE already had
  std::uint64_t takeover_bound = 0;          // PEs bound to the new association by their Ack
  std::uint64_t takeover_kept_for_life = 0;  // TCP / unreachable PEs kept until their life ends
  std::uint64_t connects_failed = 0;
  // Endpoint unreachable
  std::uint64_t unreachable_reports = 0;
  std::uint64_t unreachable_unknown_pe = 0;
  std::uint64_t unreachable_rate_limited = 0;
  std::uint64_t unreachable_repeated_reporter = 0;  // same source address again: not counted
  // MAX-BAD-PE-REPORT reached for a PE registered here over a live association: probed with a
  // keep-alive instead of removed; kept when it answered, removed when it did not.
  std::uint64_t unreachable_probes = 0;
  std::uint64_t unreachable_probes_kept = 0;
  std::uint64_t unreachable_probes_removed = 0;
  // PE removals by reason (every removal this server made)
  std::uint64_t removed_by_deregistration = 0;
  std::uint64_t removed_by_keepalive_timeout = 0;
  std::uint64_t removed_by_association_loss = 0;
  std::uint64_t removed_by_unreachable_reports = 0;  // at the threshold, or after a failed probe
  std::uint64_t removed_by_operator = 0;
  // Associations
  std::uint64_t associations_up = 0;
  std::uint64_t associations_closed = 0;
  std::uint64_t associations_aborted = 0;
  std::uint64_t associations_refused = 0;      // over asap max_associations: aborted at once
  std::uint64_t associations_refused_per_address = 0;  // over max_associations_per_address: aborted
  // Registrations of new PEs refused with cause 0x6 by a per-client quota (issue 17).
  std::uint64_t registrations_refused_per_association = 0;  // max_pes_per_association
  std::uint64_t registrations_refused_per_address = 0;      // max_pes_per_address
  // Re-registrations refused (cause 0xa) while an operator's deregister holds (deregister_hold).
  std::uint64_t registrations_refused_operator_hold = 0;
  std::uint64_t associations_idle_closed = 0;  // no PE, nothing received for the idle timeout
  std::uint64_t associations_silent_closed = 0;  // no whole message within first_message_timeout
  // Removal passes that continued a lost association's teardown after its first pass (large
  // associations are removed teardown_batch PEs per event-loop pass).
  std::uint64_t association_teardown_passes = 0;
  // Association address changes (SCTP ADD-IP / DELETE-IP / SET-PRIMARY accepted by the stack)
  std::uint64_t association_addresses_added = 0;
  std::uint64_t association_addresses_removed = 0;
  std::uint64_t association_primary_changes = 0;
  std::uint64_t address_changes_unknown_association = 0;  // for a connection the server does not know
  std::uint64_t pe_transports_followed = 0;               // owned PEs updated (and sent to ENRP)
  std::uint64_t pe_addresses_pruned = 0;                  // user addresses gone with the association's
  std::uint64_t pe_address_prunes_skipped_last = 0;       // would have left a PE without an address
  // Errors and odd traffic
  std::array<std::uint64_t, kErrorCauseSlots> errors_sent_by_cause{};  // ASAP Error + R=1 causes
  std::uint64_t error_messages_received = 0;
  std::uint64_t unrecognized_parameter_reports = 0;  // extra Errors 0x1 for 11-bit TLVs
  std::array<std::uint64_t, kDecodeErrorKindSlots> decode_errors_by_kind{};
  std::uint64_t silently_dropped = 0;        // unknown TLV with action bits 00
  std::uint64_t unexpected_messages = 0;     // PR->PE/PU types received by a PR
  std::uint64_t pe_pu_messages_ignored = 0;  // Cookie, Cookie Echo, Business Card
  std::uint64_t server_announces_ignored = 0;
  std::uint64_t send_failures = 0;

  // Calls visit(name, value) for every counter, arrays expanded
  // ("errors_sent.invalid_values", "decode_errors.tlv_truncated", ...). Zero entries of the
  // arrays are skipped.
  void for_each(FunctionRef<void(std::string_view, std::uint64_t)> visit) const;
  // Every counter with its descriptor, in table order: each plain field, every error cause
  // (zero or not: a Prometheus series should exist before its first increment) and the decode
  // error kinds seen so far. label_value is the cause / kind for the two arrays, else empty.
  void for_each_sample(
      FunctionRef<void(const CounterDescriptor&, std::string_view label_value, std::uint64_t)> visit) const;
};

// The descriptors of AsapCounters' plain fields (table order = for_each order), and of its two
// arrays (label "cause" / "kind", values from counter_label_value(error_cause_name / decode_error_kind_name)).
std::span<const DescribedField<AsapCounters>> asap_counter_fields() noexcept;
const CounterDescriptor& asap_errors_sent_descriptor() noexcept;
const CounterDescriptor& asap_decode_errors_descriptor() noexcept;

}  // namespace poolreg::asap
