// registrar_metrics_text(): the Prometheus exposition of a registrar (declared in
// registrar_commands.hpp). Names follow Prometheus conventions: counters end in _total, units in
// the name (_seconds, _bytes); label values are snake_case. The counters of the counter structs
// (ASAP, ENRP, transport, lanes, DPDK ports) come from their descriptor tables
// (registrar/common/counter_descriptor.hpp); what is written here by hand are gauges, identity,
// peers, process and the latency histogram.
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/control/counter_exposition.hpp"
#include "dataplane/control/operator_arguments.hpp"
#include "dataplane/control/prometheus_text.hpp"
#include "dataplane/control/registrar_commands.hpp"

namespace poolreg::control {
namespace {

// Every counter of the counter structs, from their descriptor tables (names, help, labels): the
// same tables the `stats` command reads (registrar_results.cpp).
void described_counters(PrometheusText& t, const StatsSources& s) {
  CounterExposition e;
  if (s.asap != nullptr) {
    s.asap->for_each_sample([&e](const CounterDescriptor& d, std::string_view label_value, std::uint64_t value) {
      e.add(d, label_value, value);
    });
  }
  if (s.enrp != nullptr)
    for (const auto& f : enrp::enrp_counter_fields()) e.add(f.describe, {}, s.enrp->*f.field);
  if (s.transport)
    for (const auto& f : runtime::transport_counter_fields()) e.add(f.describe, {}, (*s.transport).*f.field);
  for (const LaneStats& lane : s.lanes) {
    const CounterExposition::OwnedLabels labels = {{"lane", std::to_string(lane.lane)}};
    for (const CounterSample& c : lane.counters) e.add(c, labels);
  }
  for (const PortStats& port : s.ports) {
    const CounterExposition::OwnedLabels labels = {{"port", std::to_string(port.port)}};
    for (const CounterSample& c : port.counters) e.add(c, labels);
  }
  e.write(t);
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
  // SCTP lanes of either backend: poolreg_lane_info{lane,backend[,lcore]} = 1 saying which
  // backend runs lane i (and on which DPDK lcore); their counters carry lane="i".
  if (!s.lanes.empty()) {
    t.family("poolreg_lane_info", MetricType::kGauge,
             "An SCTP lane and what runs it (value is always 1): joins poolreg_lane_* series to backend and lcore.");
    for (const LaneStats& lane : s.lanes) {
      const std::string index = std::to_string(lane.lane);
      const std::string lcore = lane.lcore ? std::to_string(*lane.lcore) : std::string();
      std::vector<Label> labels = {{"lane", index}, {"backend", lane.backend}};
      if (lane.lcore) labels.emplace_back("lcore", lcore);
      t.sample("poolreg_lane_info", std::string_view("1"), labels);
    }
  }
  if (!s.ports.empty()) {
    t.family("poolreg_dpdk_port_info", MetricType::kGauge,
             "A DPDK port in use and its device name (value is always 1): joins poolreg_dpdk_port_* to the device.");
    for (const PortStats& port : s.ports) {
      const std::string id = std::to_string(port.port);
      t.sample("poolreg_dpdk_port_info", std::string_view("1"), std::vector<Label>{{"port", id}, {"name", port.name}});
    }
  }
  described_counters(t, s);
  if (!s.peers.empty()) peer_metrics(t, s.peers, now);
  if (s.process) process_metrics(t, *s.process);
  if (s.resolution_latency != nullptr)
    t.histogram_seconds("poolreg_resolution_latency_seconds",
                        "Handle resolution latency from request received to answer sent (SCTP: on its lane, end to end; "
                        "TCP: on the control thread).", *s.resolution_latency);
  return t.take();
}

}  // namespace poolreg::control
