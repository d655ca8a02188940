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

// The PE associations' set-up (every run; the figures that matter with --assoc-per-pe). Each PE
// association counts once: attempted when its first connect starts, up when it first comes up,
// failed when it had not come up by the end of the load phase (refused, timed out, or still
// connecting), so at the end attempted == up + failed. Reconnects are in RunCounters.
struct AssociationStats {
  std::uint64_t attempted = 0;
  std::uint64_t up = 0;
  std::uint64_t failed = 0;
  std::uint64_t up_at_load_end = 0;  // connected when the load phase ended
  TimeNs first_attempt_ns = 0;       // steady clock of the first connect (0 = none)
  TimeNs last_up_ns = 0;             // steady clock when the last association first came up
  // Associations up per second from the first connect to the last first-up; 0 before two points.
  double setup_rate_per_s() const noexcept {
    if (up == 0 || last_up_ns <= first_attempt_ns || first_attempt_ns == 0) return 0;
    return static_cast<double>(up) * 1e9 / static_cast<double>(last_up_ns - first_attempt_ns);
  }
};

// The real-address mode's moves by kind (--pe-addresses, real_address_fleet.hpp): started,
// visible (the new address listed at the registrar), and move_to_visible per kind (the run's
// move_to_visible holds both).
struct RealMoveStats {
  struct Kind {
    std::uint64_t started = 0;
    std::uint64_t visible = 0;
    LatencyHistogram move_to_visible;
  };
  Kind asconf;           // make-before-break: ADD-IP, re-registration, DELETE-IP
  Kind new_association;  // break-before-make: abort, new association from the new address
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
  // VmRSS (/proc/self/status) of the whole process before any PE association was opened and once
  // every PE had its first answer (the last lane's ramp end with several lanes; the end of the load
  // phase when the ramp never finished); includes usrsctp.
  std::uint64_t vmrss_before_setup_bytes = 0;
  std::uint64_t vmrss_after_setup_bytes = 0;
  AssociationStats pe_assocs;
  RealMoveStats real_moves;  // --pe-addresses only
  std::uint32_t lanes = 1;  // generator lanes merged into these stats (merge_lane into a total starting at 0)

  std::uint64_t error_count = 0;  // sum of `errors`

  void error(const std::string& cause) {
    ++errors[cause];
    ++error_count;
  }
};

// Adds one lane's stats to `total` (--threads): counters, histograms, errors and PE gauges are
// summed; times are the longest lane's (ramp_seconds 0 when a lane never finished its ramp);
// memory is the process's, so RSS figures are the largest any lane read and the start the
// smallest; association set-up spans the earliest attempt to the latest first-up.
void merge_lane(RunStats& total, const RunStats& lane);

// VmRSS of /proc/self/status in bytes, the whole process (every lane, usrsctp included); 0 when
// unreadable.
std::uint64_t process_vmrss_bytes();

// Process memory per simulated PE / per association up: (after - before) / n, 0 when n is 0 or
// nothing was measured.
double bytes_per(std::uint64_t before, std::uint64_t after, std::uint64_t n) noexcept;

}  // namespace poolreg::poolgen
