// RunStats: what one poolgen run counted and measured; filled by LoadDriver on the loop thread,
// read by the progress display and the final report (run_report.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "registrar/common/latency_histogram.hpp"

namespace poolreg::poolgen {

struct RunCounters {
  // PE side. "registrations" are first registrations (incl. re-registrations after an
  // association loss, also counted in failovers); "reregistrations" are moves.
  std::uint64_t registrations_sent = 0;
  std::uint64_t registrations_ok = 0;
  std::uint64_t registrations_failed = 0;  // rejected by the registrar
  std::uint64_t registrations_timeout = 0;
  std::uint64_t registrations_lost = 0;  // association ended while pending
  std::uint64_t reregistrations_sent = 0;
  std::uint64_t reregistrations_ok = 0;
  std::uint64_t reregistrations_failed = 0;
  std::uint64_t reregistrations_timeout = 0;
  std::uint64_t reregistrations_lost = 0;
  std::uint64_t deregistrations_sent = 0;
  std::uint64_t deregistrations_ok = 0;
  std::uint64_t deregistrations_failed = 0;
  std::uint64_t deregistrations_timeout = 0;
  std::uint64_t moves_skipped = 0;  // chosen PE busy/dead/not registered
  std::uint64_t failovers = 0;      // PEs re-registered after their association ended
  std::uint64_t pes_died = 0;       // stopped answering keep-alives
  std::uint64_t keepalives_received = 0;
  std::uint64_t keepalives_answered = 0;
  std::uint64_t keepalives_ignored = 0;  // dead PEs
  std::uint64_t keepalives_unknown = 0;
  std::uint64_t home_flag_keepalives = 0;  // H=1 (a takeover registrar)
  // PU side.
  std::uint64_t resolutions_sent = 0;
  std::uint64_t resolutions_ok = 0;
  std::uint64_t resolutions_unknown_pool = 0;
  std::uint64_t resolutions_rejected_other = 0;
  std::uint64_t resolutions_timeout = 0;
  std::uint64_t resolutions_failed_other = 0;  // connection lost, send failure ...
  std::uint64_t resolutions_skipped = 0;       // due but never sent: no PU association had room
                                               // for longer than the backlog allows (see LoadDriver)
  std::uint64_t elements_received = 0;
  std::uint64_t unreachable_reports = 0;
  // Move-to-visible probes.
  std::uint64_t probe_moves = 0;
  std::uint64_t probe_visible = 0;
  std::uint64_t probe_gave_up = 0;
  std::uint64_t probe_cut_by_end = 0;  // still moving when the load phase ended: not a failure
  std::uint64_t probe_resolutions = 0;
  // Associations and protocol.
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t connections_lost = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t asap_errors = 0;
  std::uint64_t unexpected_messages = 0;
  std::uint64_t pcap_messages = 0;
};

// The latency histograms of one run, or of one second of it (the timeseries window). resolution
// is measured from the intended send time (the schedule at resolve_rate: coordinated omission
// corrected), resolution_raw from the moment the request was really sent.
struct LatencySet {
  LatencyHistogram registration;
  LatencyHistogram reregistration;
  LatencyHistogram deregistration;
  LatencyHistogram resolution;
  LatencyHistogram resolution_raw;
  LatencyHistogram move_to_visible;

  // The operation names of the report (`latency.NAME`), in report order.
  static constexpr std::array<std::string_view, 6> kNames{
      "registration", "reregistration", "deregistration", "resolution", "resolution_raw", "move_to_visible"};
  // The histogram named `name` (one of kNames); nullptr for any other name.
  const LatencyHistogram* find(std::string_view name) const noexcept {
    const std::array<const LatencyHistogram*, 6> all{&registration, &reregistration, &deregistration,
                                                     &resolution,   &resolution_raw, &move_to_visible};
    for (std::size_t i = 0; i < kNames.size(); ++i)
      if (kNames[i] == name) return all[i];
    return nullptr;
  }
  void reset() noexcept {
    for (LatencyHistogram* h : {&registration, &reregistration, &deregistration, &resolution, &resolution_raw,
                                &move_to_visible})
      h->reset();
  }
};

struct RunStats : LatencySet {
  RunCounters c;
  LatencySet window;  // this second's samples (reset by the timeseries writer every second)
  std::map<std::string, std::uint64_t> errors;  // cause text → count

  // Gauges.
  std::uint64_t pes_registered = 0;  // accepted and not deregistered/lost (includes dead ones)
  std::uint64_t pes_alive = 0;       // registered and answering keep-alives
  std::uint64_t peak_pes_registered = 0;
  std::uint64_t load_end_registered = 0;  // the two gauges above when the load phase ended
  std::uint64_t load_end_alive = 0;
  double ramp_seconds = 0;  // time until every PE had its first answer (0 = not reached)
  double elapsed_s = 0;     // load phase length (from start to end of load)
  double total_s = 0;       // including cleanup
  // Memory.
  std::uint64_t rss_start_bytes = 0;
  std::uint64_t rss_peak_bytes = 0;
  std::uint64_t rss_loaded_bytes = 0;  // RSS when all PEs were registered (ramp end)
  std::size_t pe_slot_bytes = 0;       // sizeof the per-PE record in poolgen

  std::uint64_t error_count = 0;  // sum of `errors`

  void error(const std::string& cause) {
    ++errors[cause];
    ++error_count;
  }
};

}  // namespace poolreg::poolgen
