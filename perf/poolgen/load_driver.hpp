// LoadDriver: runs one poolgen load on one EventLoop thread.
//
// PEs: PoolgenConfig::pes simulated pool elements (plus the probe PEs) multiplexed over
// pe_associations AsapConnections per registrar. Each PE is one 16-byte PeSlot in a flat vector;
// its PE ID is its index + 1, so every answer (Registration Response, Keep-Alive) finds its slot
// in O(1) without a hash map. The library's PoolElementClient is not used for the PEs because it
// keeps several hundred bytes per PE; AsapConnection (encode/decode, one association) is.
// PUs: PoolUserClient per PU association (pipelined resolutions, FIFO matching).
//
// Schedules (one 1 ms tick): ramp-up registrations at register_rate (token bucket, bounded by
// `window` outstanding per association); mobility as a Poisson process of rate
// alive_PEs / move_interval_s, each event moving a uniformly chosen PE (the same distribution as
// every PE moving after exponential inter-arrival times, with no per-PE timer); deaths at
// die_at_s; resolutions at resolve_rate; probe moves every probe_move_s; at the end of
// duration_s deregistration of everything registered (unless cleanup is off), then stop.
// Contract: loop thread only. Owns its associations; the SctpStack must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/capture/pcap_writer.hpp"
#include "cli/client/asap_connection.hpp"
#include "cli/client/pool_user_client.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "perf/poolgen/timeseries.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

// One simulated PE (kept small: 10^6 of them must fit easily).
struct PeSlot {
  std::uint32_t sent_us = 0;  // when its outstanding request was sent (µs since start)
  std::uint32_t address = 0;  // current user IPv4 address (host order)
  std::uint32_t assoc = 0;    // association index (its own index with assoc_per_pe)
  std::uint16_t port = 0;     // current user transport port
  std::uint8_t state = 0;     // PeState
  std::uint8_t flags = 0;     // kDead ...
};
static_assert(sizeof(PeSlot) == 16);

class LoadDriver {
 public:
  LoadDriver(runtime::EventLoop& loop, kernel::SctpStack* stack, const PoolgenConfig& config);
  ~LoadDriver();
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Connects everything and starts the schedules; the error (a message) on a set-up failure.
  Expected<void, std::string> start();
  // Ends the load phase now (SIGINT): cleanup follows as at the end of the duration.
  void request_stop();
  // True once everything is done (the loop was stopped).
  bool finished() const noexcept { return finished_; }

  const RunStats& stats() const noexcept { return stats_; }
  const PoolgenConfig& config() const noexcept { return config_; }
  // Writes one line per second (--timeseries) and resets the window histograms after it; nullptr
  // = none. The writer must outlive the run.
  void set_timeseries(TimeseriesWriter* writer) noexcept { timeseries_ = writer; }
  // Called every second with fresh stats (progress display).
  void set_on_second(std::function<void(const RunStats&, double elapsed_s, bool final)> fn) {
    on_second_ = std::move(fn);
  }

 private:
  class PeAssociation;
  enum class Phase : std::uint8_t { kLoad, kCleanup, kDone };

  // PE association events.
  void on_pe_up(std::uint32_t a);
  void on_pe_message(std::uint32_t a, ConnectionId from, wire::AsapMessage& m);
  void on_pe_down(std::uint32_t a, client::ClientStatus status);
  // The association's PEs are gone at the registrar: fail over to the other associations (with
  // assoc_per_pe: register the PE again over its own association once it is reconnected).
  void pe_association_lost(std::uint32_t a);
  // assoc_per_pe: opens the next PEs' associations, and reconnects lost ones, at register_rate,
  // at most `window` connecting.
  void pump_connects(double dt);
  // Starts association a's first connect (counted in stats_.pe_assocs).
  bool first_connect(std::uint32_t a);
  // Starts a connect of association a (first or again); with assoc_per_pe it counts in connecting_
  // until connect_done(a) (up or down).
  bool start_connect(std::uint32_t a);
  void connect_done(std::uint32_t a);
  // assoc_per_pe: PE a's association is up; register the PE over it.
  void register_over_own_association(std::uint32_t a);
  // A PE whose first registration can no longer be answered (its association failed first).
  void first_answer_failed(std::uint32_t index);
  // The lane's PE index of a PE ID, or total_pes_ when it is not one of this lane's.
  std::uint32_t index_of(std::uint64_t short_pe_id) const noexcept;
  PoolElementId pe_id_of(std::uint32_t index) const noexcept;
  void add_outstanding(std::uint32_t a);
  void remove_outstanding(std::uint32_t a);
  // A peer that died without ABORT (kill -9 of a usrsctp registrar) is only noticed by SCTP
  // heartbeats after many seconds; requests time out meanwhile. An association whose requests time
  // out while nothing at all arrived on it for a request timeout is declared dead and aborted.
  void check_silent_associations();

  void tick();
  void second();
  void pump_registrations(double dt);
  void pump_moves(double dt);
  void pump_deaths();
  // Resolutions on a fixed schedule (the k-th due k / resolve_rate after the first PU association
  // came up); one finding no PU association with room waits and keeps its intended time
  // (coordinated omission corrected), one due for longer than a request timeout is dropped as
  // skipped.
  void pump_resolutions();
  void pump_cleanup();
  void expire_timeouts();
  void begin_cleanup();
  // Associations still connecting when the load phase ends are connect failures (errors).
  void count_unfinished_connects();
  void finish();

  bool send_registration(std::uint32_t index, bool move);
  bool send_deregistration(std::uint32_t index);
  template <typename Message>
  bool send_pe(std::uint32_t a, const Message& m, ConnectionId via = kNoConnectionId);
  void sample_pcap(std::uint32_t a, bool to_registrar, std::span<const std::uint8_t> bytes);

  void probe_move(std::uint32_t k);
  void probe_resolve(std::uint32_t k);

  void on_registration_response(const wire::RegistrationResponse& m);
  void on_deregistration_response(const wire::DeregistrationResponse& m);
  void on_keep_alive(std::uint32_t a, ConnectionId from, const wire::EndpointKeepAlive& m);
  void pe_gone(std::uint32_t index);

  std::uint32_t pool_of(std::uint32_t index) const noexcept;
  PolicyParams policy_of(std::uint32_t index) const;
  std::uint32_t new_address(std::uint32_t assoc);
  std::uint16_t new_port();
  std::uint32_t now_us() const noexcept;
  int pick_pe_association();
  client::PoolUserClient* pick_pu(std::size_t registrar_preference, bool any);
  void record_rss();
  void error(const std::string& cause) { stats_.error(cause); }
  // One sample into the run's histogram `which` and into this second's window.
  void record(LatencyHistogram LatencySet::*which, TimeNs ns) {
    (stats_.*which).record(ns);
    (stats_.window.*which).record(ns);
  }

  runtime::EventLoop& loop_;
  kernel::SctpStack* stack_;
  PoolgenConfig config_;
  RunStats stats_;
  std::mt19937_64 rng_;
  std::vector<PoolHandle> pools_;  // config.pools load pools, then one per probe PE
  std::vector<PeSlot> pes_;        // probes first [0, probes), then the load PEs
  std::vector<std::uint32_t> local_v4_;  // per registrar: our IPv4 address towards it (host order)
  std::uint32_t probes_ = 0;
  std::uint32_t total_pes_ = 0;

  std::vector<std::unique_ptr<PeAssociation>> pe_assocs_;
  std::vector<std::unique_ptr<client::PoolUserClient>> pus_;
  std::vector<std::uint16_t> pu_registrar_;
  std::vector<std::uint64_t> pu_reconnect_at_;
  std::vector<std::uint64_t> pu_answers_seen_;  // answered+rejected at the last check
  std::vector<std::uint64_t> pu_timeouts_seen_;
  std::vector<TimeNs> pu_quiet_since_;  // when its answer count last changed

  // Request timeouts: (sent_us, index) in send order.
  std::deque<std::pair<std::uint32_t, std::uint32_t>> deadlines_;
  std::deque<std::uint32_t> retry_;  // PEs to register again (association lost)
  // Lost PE associations to reconnect: (due, index), due times ascending (always now + 1 s).
  std::deque<std::pair<TimeNs, std::uint32_t>> reconnects_;
  std::uint64_t outstanding_total_ = 0;  // sum of the PE associations' outstanding
  std::uint32_t next_connect_ = 0;       // assoc_per_pe: next association to open
  std::uint32_t connecting_ = 0;         // assoc_per_pe: first connects not yet up or failed
  double connect_tokens_ = 0;

  TimeNs start_ = 0;
  TimeNs last_tick_ = 0;
  TimeNs load_end_ = 0;
  TimeNs cleanup_deadline_ = 0;
  Phase phase_ = Phase::kLoad;
  std::uint32_t next_new_ = 0;
  std::uint32_t first_answers_ = 0;  // PEs whose first registration got any answer
  std::uint32_t death_cursor_ = 0;
  std::uint32_t cleanup_cursor_ = 0;
  std::size_t assoc_cursor_ = 0;
  std::size_t pu_cursor_ = 0;
  std::uint64_t resolution_seq_ = 0;
  double reg_tokens_ = 0;
  double move_tokens_ = 0;
  double res_due_ns_ = 0;  // intended send time of the next resolution (ns since start_)
  bool pu_ever_up_ = false;  // the resolution schedule starts when the first PU association is up
  runtime::EventLoop::TimerId tick_timer_ = runtime::EventLoop::kNoTimer;
  runtime::EventLoop::TimerId second_timer_ = runtime::EventLoop::kNoTimer;
  runtime::EventLoop::TimerId probe_timer_ = runtime::EventLoop::kNoTimer;
  struct Probe {
    TimeNs moved_at = 0;  // 0 = no move being watched
    std::uint32_t address = 0;
    std::uint16_t port = 0;
    bool resolving = false;
  };
  std::vector<Probe> probe_state_;

  std::unique_ptr<capture::PcapWriter> pcap_;
  std::uint64_t pcap_seen_ = 0;
  std::vector<std::uint8_t> pcap_buffer_;
  std::function<void(const RunStats&, double, bool)> on_second_;
  TimeseriesWriter* timeseries_ = nullptr;
  bool timeseries_failed_ = false;
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::poolgen
