// registrar_metrics_text(): the Prometheus exposition of a registrar (declared in
// registrar_commands.hpp). Names follow Prometheus conventions: counters end in _total, units in
// the name (_seconds, _bytes); label values are snake_case.
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/control/counter_tables.hpp"
#include "dataplane/control/operator_arguments.hpp"
#include "dataplane/control/prometheus_text.hpp"
#include "dataplane/control/registrar_commands.hpp"

namespace poolreg::control {
namespace {

void asap_metrics(PrometheusText& t, const asap::AsapCounters& c) {
  t.counter("poolreg_registrations_total", "ASAP registrations accepted for new PEs.", c.registrations);
  t.counter("poolreg_reregistrations_total", "ASAP re-registrations of known PEs.", c.reregistrations);
  t.counter("poolreg_registrations_rejected_total", "ASAP registrations answered with a rejection.",
            c.registrations_rejected);
  t.counter("poolreg_deregistrations_total", "PEs removed by ASAP deregistration.", c.deregistrations);

  t.family("poolreg_resolutions_total", MetricType::kCounter, "ASAP handle resolutions by result.");
  t.sample("poolreg_resolutions_total", c.resolutions, {{"result", "answered"}});
  t.sample("poolreg_resolutions_total", c.resolutions_unknown_pool, {{"result", "unknown_pool"}});
  t.sample("poolreg_resolutions_total", c.resolutions_rate_limited, {{"result", "rate_limited"}});
  t.counter("poolreg_resolution_pes_returned_total", "PEs returned in handle resolution answers.",
            c.resolution_pes_returned);

  t.family("poolreg_errors_sent_total", MetricType::kCounter,
           "ASAP operation errors sent (Error messages and rejections) by RFC 5354 cause.");
  for (std::size_t cause = 0; cause < c.errors_sent_by_cause.size(); ++cause) {
    const std::string name = PrometheusText::sanitize(error_cause_name(static_cast<ErrorCause>(cause)));
    t.sample("poolreg_errors_sent_total", c.errors_sent_by_cause[cause], {{"cause", name}});
  }

  t.family("poolreg_pe_removals_total", MetricType::kCounter, "PEs removed by this registrar, by reason.");
  t.sample("poolreg_pe_removals_total", c.removed_by_deregistration, {{"reason", "deregistration"}});
  t.sample("poolreg_pe_removals_total", c.removed_by_keepalive_timeout, {{"reason", "keepalive_timeout"}});
  t.sample("poolreg_pe_removals_total", c.removed_by_association_loss, {{"reason", "association_loss"}});
  t.sample("poolreg_pe_removals_total", c.removed_by_unreachable_reports, {{"reason", "unreachable_reports"}});
  t.sample("poolreg_pe_removals_total", c.removed_by_operator, {{"reason", "operator"}});

  // Every other ASAP counter under its own name (arrays as labels of one family).
  bool decode_family = false;
  c.for_each([&](std::string_view name, std::uint64_t value) {
    // Exported above under their own names.
    if (name.starts_with("errors_sent.") || name.starts_with("removed_by_") || name.starts_with("resolution") ||
        name == "registrations" || name == "reregistrations" || name == "registrations_rejected" ||
        name == "deregistrations")
      return;
    if (name.starts_with("decode_errors.")) {
      if (!decode_family) {
        t.family("poolreg_asap_decode_errors_total", MetricType::kCounter, "Undecodable ASAP messages by kind.");
        decode_family = true;
      }
      const std::string kind = PrometheusText::sanitize(name.substr(14));
      t.sample("poolreg_asap_decode_errors_total", value, {{"kind", kind}});
      return;
    }
    const std::string metric = "poolreg_asap_" + PrometheusText::sanitize(name) + "_total";
    t.counter(metric, "ASAP counter " + std::string(name) + ".", value);
  });
}

void enrp_metrics(PrometheusText& t, const enrp::EnrpCounters& c) {
  t.family("poolreg_peers", MetricType::kGauge, "ENRP peers by state.");
  for_each_enrp_peer_state(c, [&](std::string_view state, std::uint64_t n) {
    t.sample("poolreg_peers", n, {{"state", state}});
  });
  t.family("poolreg_takeovers_total", MetricType::kCounter, "ENRP takeovers by outcome.");
  t.sample("poolreg_takeovers_total", c.takeovers_started, {{"outcome", "started"}});
  t.sample("poolreg_takeovers_total", c.takeovers_won, {{"outcome", "won"}});
  t.sample("poolreg_takeovers_total", c.takeovers_lost, {{"outcome", "lost"}});
  t.sample("poolreg_takeovers_total", c.takeovers_cancelled, {{"outcome", "cancelled"}});
  t.sample("poolreg_takeovers_total", c.takeovers_completed, {{"outcome", "completed_by_other"}});
  t.counter("poolreg_takeover_pes_total", "PEs taken over from dead peers.", c.takeover_pes_taken);
  t.family("poolreg_sync_bytes_total", MetricType::kCounter, "ENRP handle table sync bytes by direction.");
  t.sample("poolreg_sync_bytes_total", c.sync_bytes_sent, {{"direction", "sent"}});
  t.sample("poolreg_sync_bytes_total", c.sync_bytes_received, {{"direction", "received"}});
  for_each_enrp_counter(c, [&](std::string_view name, std::uint64_t value) {
    if (name.starts_with("sync_bytes_") || name.starts_with("takeovers_") || name == "takeover_pes_taken") return;
    const std::string metric = "poolreg_enrp_" + PrometheusText::sanitize(name) + "_total";
    t.counter(metric, "ENRP counter " + std::string(name) + ".", value);
  });
}

// The process_* family every Prometheus exporter carries (client library conventions).
void process_metrics(PrometheusText& t, const ProcessStats& p) {
  t.family("process_cpu_seconds_total", MetricType::kCounter, "Total user and system CPU time spent in seconds.");
  t.sample("process_cpu_seconds_total", p.cpu_seconds);
  t.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", p.resident_bytes);
  t.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtual_bytes);
  t.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          p.start_time_seconds);
  t.gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(p.open_fds));
  t.gauge("process_max_fds", "Maximum number of open file descriptors (RLIMIT_NOFILE soft limit).",
          static_cast<double>(p.max_fds));
  t.gauge("process_threads", "Threads of the process (control thread, lanes, helpers).",
          static_cast<double>(p.threads));
}

// One series per ENRP peer, labelled by its ID (the last known one for a dead peer, 0x00000000
// for a static peer never heard from) and its configured or learned endpoint.
void peer_metrics(PrometheusText& t, const std::vector<enrp::PeerSnapshot>& peers, TimeNs now) {
  // Labels are string_views: the texts they point to live in the rows (reserved: no reallocation).
  struct Row {
    std::string peer;
    std::string endpoint;
    std::vector<Label> labels;
    const enrp::PeerSnapshot* p = nullptr;
  };
  std::vector<Row> rows;
  rows.reserve(peers.size());
  for (const enrp::PeerSnapshot& p : peers) {
    Row& r = rows.emplace_back();
    r.peer = format_id(p.id != 0 ? p.id : p.last_id);
    r.endpoint = p.endpoint.addresses.empty() ? std::string("-") : p.endpoint.addresses.front().to_string();
    r.endpoint += ":" + std::to_string(p.endpoint.port);
    r.labels = {{"peer", r.peer}, {"endpoint", r.endpoint}};
    r.p = &p;
  }
  t.family("poolreg_peer_up", MetricType::kGauge, "1 while the ENRP peer is alive (or being probed), else 0.");
  for (const Row& r : rows) {
    const bool up = r.p->state == enrp::PeerState::kAlive || r.p->state == enrp::PeerState::kProbing;
    t.sample("poolreg_peer_up", std::string_view(up ? "1" : "0"), r.labels);
  }
  t.family("poolreg_peer_checksum_in_sync", MetricType::kGauge,
           "1 when the peer's last announced checksum equals ours over the PEs it is home of.");
  for (const Row& r : rows) t.sample("poolreg_peer_checksum_in_sync", std::string_view(r.p->in_sync ? "1" : "0"), r.labels);
  t.family("poolreg_peer_pool_elements", MetricType::kGauge, "PEs this registrar holds whose home is the peer.");
  for (const Row& r : rows) t.sample("poolreg_peer_pool_elements", std::to_string(r.p->pe_count), r.labels);
  t.family("poolreg_peer_last_heard_age_seconds", MetricType::kGauge,
           "Seconds since the peer was last heard from (absent: never heard).");
  for (const Row& r : rows) {
    if (r.p->last_heard == 0 || r.p->last_heard > now) continue;
    t.sample("poolreg_peer_last_heard_age_seconds", std::to_string(static_cast<double>(now - r.p->last_heard) / 1e9),
             r.labels);
  }
}

}  // namespace

std::string registrar_metrics_text(const StatusInfo& info, TimeNs now, const StatsSources& s) {
  PrometheusText t;
  t.family("poolreg_info", MetricType::kGauge, "Registrar identity (value is always 1).");
  const std::string id = format_id(info.registrar_id);
  t.sample("poolreg_info", std::string_view("1"), {{"registrar_id", id}, {"mode", info.mode}, {"version", info.version}});
  t.gauge("poolreg_uptime_seconds", "Seconds since the registrar started.",
          now >= info.started_at ? static_cast<double>(now - info.started_at) / 1e9 : 0.0);
  t.gauge("poolreg_pools", "Pools in the handlespace.", static_cast<double>(s.handlespace.pools));
  t.gauge("poolreg_pool_elements", "PEs in the handlespace (own and peers').", static_cast<double>(s.handlespace.pes));
  t.gauge("poolreg_owned_pool_elements", "PEs this registrar is home of.", static_cast<double>(s.owned_pes));
  t.gauge("poolreg_monitored_pool_elements", "Owned PEs under ASAP keep-alive monitoring.",
          static_cast<double>(s.monitored_pes));
  t.gauge("poolreg_associations", "ASAP associations and TCP connections.", static_cast<double>(s.associations));
  t.counter("poolreg_selection_feedback_dropped_total", "Selection feedback lost because a queue was full.",
            s.handlespace.feedback_dropped);
  if (s.events) {
    t.gauge("poolreg_event_subscribers", "Live event stream subscribers (poolctl events) now.",
            static_cast<double>(s.events->subscribers));
    t.counter("poolreg_events_published_total", "Registrar events published while someone subscribed.",
              s.events->events);
    t.counter("poolreg_events_queued_total", "Event lines queued to event stream subscribers.",
              s.events->lines_queued);
    t.counter("poolreg_events_dropped_total",
              "Event lines dropped because a subscriber's queue was full (it reads too slowly).", s.events->dropped);
  }
  if (s.asap != nullptr) asap_metrics(t, *s.asap);
  if (s.enrp != nullptr) enrp_metrics(t, *s.enrp);
  if (s.transport) {
    for_each_transport_counter(*s.transport, [&](std::string_view name, std::uint64_t value) {
      const std::string metric = "poolreg_transport_" + PrometheusText::sanitize(name) + "_total";
      t.counter(metric, "Transport counter " + std::string(name) + ".", value);
    });
  }
  // SCTP lanes of either backend: poolreg_lane_<counter>_total{lane="i"} (one family per counter;
  // a counter named *_total keeps its one suffix), and poolreg_lane_info{lane,backend[,lcore]} = 1
  // saying which backend runs lane i (and on which DPDK lcore).
  if (!s.lanes.empty()) {
    t.family("poolreg_lane_info", MetricType::kGauge, "An SCTP lane and what runs it (value is always 1).");
    for (const LaneStats& lane : s.lanes) {
      const std::string index = std::to_string(lane.lane);
      const std::string lcore = lane.lcore ? std::to_string(*lane.lcore) : std::string();
      std::vector<Label> labels = {{"lane", index}, {"backend", lane.backend}};
      if (lane.lcore) labels.emplace_back("lcore", lcore);
      t.sample("poolreg_lane_info", std::string_view("1"), labels);
    }
    for (const auto& [name, value] : s.lanes.front().counters) {
      std::string metric = "poolreg_lane_" + PrometheusText::sanitize(name);
      if (!metric.ends_with("_total")) metric += "_total";
      t.family(metric, MetricType::kCounter, "Lane counter " + name + ".");
      for (const LaneStats& lane : s.lanes) t.sample(metric, lane.value(name), {{"lane", std::to_string(lane.lane)}});
    }
  }
  if (!s.peers.empty()) peer_metrics(t, s.peers, now);
  if (s.process) process_metrics(t, *s.process);
  if (s.resolution_latency != nullptr)
    t.histogram_seconds("poolreg_resolution_latency_seconds",
                        "Handle resolution latency from request received to answer sent (SCTP: on its lane, end to end; "
                        "TCP: on the control thread).", *s.resolution_latency);
  return t.take();
}

}  // namespace poolreg::control
