#include "dataplane/control/registrar_results.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "dataplane/control/element_json.hpp"
#include "dataplane/control/operator_arguments.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element_addresses.hpp"

namespace poolreg::control {
namespace {

json pool_header(const PoolHandle& handle, const handlespace::PoolSummary& summary) {
  json header = pool_name_json(handle);
  header["policy"] = std::string(policy_name(summary.policy));
  header["policy_short"] = std::string(policy_short_name(summary.policy));
  header["transport"] = transport_protocol_name(summary.protocol);
  header["transport_use"] = transport_use_name(summary.use);
  header["pe_count"] = summary.pe_count;
  return header;
}

// held: the PE's association was lost and it waits out the handover hold (not offered).
// now: turns a retiring address's retire time into the time it has left.
json view_json(const handlespace::PoolElementView& view, RegistrarId own_id, bool held, TimeNs now) {
  PoolElement element = view.to_pool_element();
  retiring_to_remaining(element, now);
  json pe = pool_element_json(element, own_id);
  pe["association"] = view.association();
  pe["registration_seq"] = view.registration_seq();
  pe["held"] = held;
  return pe;
}

std::string hex16(std::uint16_t v) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "0x%04x", static_cast<unsigned>(v));
  return buffer;
}

[[noreturn]] void unknown_pool(const PoolHandle& handle) {
  throw CommandError(error_code::kNotFound, "unknown pool handle '" + handle.to_display() + "'");
}

// "errors_sent.invalid_values" -> obj["errors_sent"]["invalid_values"]; plain names -> obj[name].
void put_counter(json& obj, std::string_view name, std::uint64_t value) {
  const std::size_t dot = name.find('.');
  if (dot == std::string_view::npos) {
    obj[std::string(name)] = value;
    return;
  }
  json& group = obj[std::string(name.substr(0, dot))];
  if (!group.is_object()) group = json::object();
  group[std::string(name.substr(dot + 1))] = value;
}

std::uint64_t errors_sent_total(const asap::AsapCounters& c) {
  std::uint64_t n = 0;
  for (auto v : c.errors_sent_by_cause) n += v;
  return n;
}

}  // namespace

json pools_result(const handlespace::Handlespace& hs, std::size_t limit) {
  std::vector<std::pair<PoolHandle, json>> rows;
  std::size_t pool_count = 0, pe_count = 0;
  hs.for_each_pool([&](const handlespace::PoolSummary& s) {
    ++pool_count;
    pe_count += s.pe_count;
    rows.emplace_back(*s.handle, pool_header(*s.handle, s));
  });
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json pools = json::array();
  for (std::size_t i = 0; i < rows.size() && i < limit; ++i) pools.push_back(std::move(rows[i].second));
  return {{"pool_count", pool_count}, {"pe_count", pe_count}, {"truncated", rows.size() > limit}, {"pools", std::move(pools)}};
}

json pool_result(const handlespace::Handlespace& hs, const PoolHandle& handle, RegistrarId own_id, std::size_t limit,
                 TimeNs now) {
  auto summary = hs.pool_summary(handle);
  if (!summary) unknown_pool(handle);
  json result = pool_header(handle, *summary);
  std::vector<std::pair<PoolElementId, json>> pes;
  std::size_t owned = 0, total = 0, held = 0;
  hs.for_each_in_pool(handle, [&](const handlespace::PoolElementView& view) {
    ++total;
    if (view.home() == own_id) ++owned;
    // held() only reads the writer's slot state (no write inside the walk).
    const bool is_held = hs.held(handle, view.id());
    if (is_held) ++held;
    if (pes.size() < limit) pes.emplace_back(view.id(), view_json(view, own_id, is_held, now));
  });
  std::sort(pes.begin(), pes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json list = json::array();
  for (auto& [id, pe] : pes) list.push_back(std::move(pe));
  result["pe_count"] = total;
  result["owned_pe_count"] = owned;
  result["held_pe_count"] = held;
  result["truncated"] = total > pes.size();
  result["pes"] = std::move(list);
  return result;
}

json pe_result(const handlespace::Handlespace& hs, const PoolHandle& handle, PoolElementId id, RegistrarId own_id,
               TimeNs now) {
  auto summary = hs.pool_summary(handle);
  if (!summary) unknown_pool(handle);
  json pe;
  const bool held = hs.held(handle, id);
  if (!hs.lookup(handle, id, [&](const handlespace::PoolElementView& view) { pe = view_json(view, own_id, held, now); }))
    throw CommandError(error_code::kNotFound, "no PE " + format_id(id) + " in pool '" + handle.to_display() + "'");
  json result = pool_header(handle, *summary);
  result["pe"] = std::move(pe);
  return result;
}

json resolve_result(const PoolHandle& handle, std::uint32_t requested, const std::optional<std::vector<PoolElement>>& pes,
                    RegistrarId own_id) {
  if (!pes) unknown_pool(handle);
  json list = json::array();
  for (const auto& pe : *pes) list.push_back(pool_element_json(pe, own_id));
  json result = pool_name_json(handle);
  result["requested"] = requested;
  result["pes"] = std::move(list);
  return result;
}

json peers_result(const std::vector<enrp::PeerSnapshot>& peers, TimeNs now) {
  json rows = json::array();
  for (const auto& p : peers) {
    json addresses = json::array();
    for (const auto& a : p.endpoint.addresses) addresses.push_back(a.to_string());
    json row = {{"id", format_id(p.id)},
                {"state", enrp::peer_state_name(p.state)},
                {"static", p.is_static},
                {"transport", transport_protocol_name(p.endpoint.protocol)},
                {"addresses", std::move(addresses)},
                {"port", p.endpoint.port},
                {"last_heard_ms_ago", p.last_heard != 0 && now >= p.last_heard ? json((now - p.last_heard) / kNsPerMs) : json(nullptr)},
                {"nextgen", p.ng_capabilities.has_value()},
                {"ng_capabilities", p.ng_capabilities ? json(format_id(*p.ng_capabilities)) : json(nullptr)},
                {"checksum16",
                 {{"ours", hex16(p.our_checksum16)},
                  {"theirs", p.their_checksum16 ? json(hex16(*p.their_checksum16)) : json(nullptr)}}},
                {"checksum32",
                 {{"ours", format_id(p.our_checksum32)},
                  {"theirs", p.their_checksum32 ? json(format_id(*p.their_checksum32)) : json(nullptr)}}},
                {"in_sync", p.in_sync},
                {"sync_running", p.sync_running},
                {"mentor", p.mentor},
                {"pe_count", p.pe_count},
                {"taker", p.taker != 0 ? json(format_id(p.taker)) : json(nullptr)},
                {"last_id", p.last_id != 0 ? json(format_id(p.last_id)) : json(nullptr)},
                {"last_pe_count", p.last_pe_count}};
    rows.push_back(std::move(row));
  }
  return {{"peers", std::move(rows)}};
}

json takeover_result(const std::vector<enrp::TakeoverStatus>& takeovers, TimeNs now) {
  json rows = json::array();
  for (const auto& t : takeovers) {
    json outstanding = json::array();
    for (auto id : t.outstanding) outstanding.push_back(format_id(id));
    rows.push_back({{"target", format_id(t.target)},
                    {"ours", t.ours},
                    {"taker", format_id(t.taker)},
                    {"outstanding", std::move(outstanding)},
                    {"expires_in_ms", t.ours && t.expires_at != 0
                                          ? json(t.expires_at > now ? (t.expires_at - now) / kNsPerMs : 0)
                                          : json(nullptr)}});
  }
  return {{"takeovers", std::move(rows)}};
}

json stats_result(const StatsSources& s) {
  json result = json::object();
  result["handlespace"] = {{"pools", s.handlespace.pools},
                           {"pes", s.handlespace.pes},
                           {"owned_pes", s.owned_pes},
                           {"monitored_pes", s.monitored_pes},
                           {"associations", s.associations},
                           {"feedback_dropped", s.handlespace.feedback_dropped}};
  // Counter keys from the descriptor tables (the same /metrics renders): "group.member" nests.
  json asap = json::object();
  if (s.asap != nullptr) s.asap->for_each([&](std::string_view name, std::uint64_t v) { put_counter(asap, name, v); });
  result["asap"] = s.asap != nullptr ? std::move(asap) : json(nullptr);
  if (s.enrp != nullptr) {
    json enrp = json::object();
    for (const auto& f : enrp::enrp_counter_fields()) put_counter(enrp, f.describe.key, s.enrp->*f.field);
    result["enrp"] = std::move(enrp);
  } else {
    result["enrp"] = nullptr;
  }
  if (s.transport) {
    json t = json::object();
    for (const auto& f : runtime::transport_counter_fields()) put_counter(t, f.describe.key, (*s.transport).*f.field);
    result["transport"] = std::move(t);
  } else {
    result["transport"] = nullptr;
  }
  result["resolution_latency"] = s.resolution_latency != nullptr ? histogram_json(*s.resolution_latency) : json(nullptr);
  if (s.events) {
    result["events"] = {{"subscribers", s.events->subscribers}, {"subscriptions", s.events->subscriptions},
                        {"published", s.events->events},         {"queued", s.events->lines_queued},
                        {"dropped", s.events->dropped}};
  } else {
    result["events"] = nullptr;
  }
  if (s.process) {
    result["process"] = {{"cpu_seconds", s.process->cpu_seconds},         {"resident_bytes", s.process->resident_bytes},
                         {"virtual_bytes", s.process->virtual_bytes},     {"start_time_seconds", s.process->start_time_seconds},
                         {"threads", s.process->threads},                 {"open_fds", s.process->open_fds},
                         {"max_fds", s.process->max_fds}};
  } else {
    result["process"] = nullptr;
  }
  if (!s.lanes.empty()) {
    json lanes = json::array();
    for (const LaneStats& lane : s.lanes) {
      json l = {{"lane", lane.lane}, {"backend", lane.backend}};
      if (lane.lcore) l["lcore"] = *lane.lcore;
      for (const CounterSample& c : lane.counters) put_counter(l, c.key(), c.value);
      lanes.push_back(std::move(l));
    }
    result["lanes"] = std::move(lanes);
  } else {
    result["lanes"] = nullptr;
  }
  if (!s.ports.empty()) {
    json ports = json::array();
    for (const PortStats& port : s.ports) {
      json p = {{"port", port.port}, {"name", port.name}};
      for (const CounterSample& c : port.counters) put_counter(p, c.key(), c.value);
      ports.push_back(std::move(p));
    }
    result["ports"] = std::move(ports);
  } else {
    result["ports"] = nullptr;
  }
  return result;
}

json status_result(const StatusInfo& info, TimeNs now, const StatsSources& s, std::optional<bool> enrp_startup_complete) {
  json enrp = {{"enabled", s.enrp != nullptr}};
  if (s.enrp != nullptr) {
    enrp["startup_complete"] = enrp_startup_complete.value_or(false);
    json peers = json::object();
    for (const auto& f : enrp::enrp_counter_fields())
      if (f.describe.kind == MetricKind::kGauge) peers[std::string(f.describe.label_value)] = s.enrp->*f.field;
    enrp["peers"] = std::move(peers);
  }
  json summary = {{"pools", s.handlespace.pools},
                  {"pes", s.handlespace.pes},
                  {"owned_pes", s.owned_pes},
                  {"associations", s.associations}};
  if (s.asap != nullptr) {
    summary["registrations"] = s.asap->registrations;
    summary["reregistrations"] = s.asap->reregistrations;
    summary["deregistrations"] = s.asap->deregistrations;
    std::uint64_t on_lanes = 0;
    for (const LaneStats& lane : s.lanes) on_lanes += lane.value("resolutions_answered");
    summary["resolutions"] = s.asap->resolutions + on_lanes;
    summary["errors_sent"] = errors_sent_total(*s.asap);
  }
  if (s.enrp != nullptr) summary["takeovers_won"] = s.enrp->takeovers_won;
  return {{"registrar_id", format_id(info.registrar_id)},
          {"mode", info.mode},
          {"version", info.version},
          {"pid", static_cast<long long>(::getpid())},
          {"uptime_s", now >= info.started_at ? static_cast<double>(now - info.started_at) / 1e9 : 0.0},
          {"listeners", info.listeners},
          {"cores", info.cores},
          {"shards", info.shards},
          {"control_socket", info.control_socket},
          {"metrics", info.metrics_listen.empty() ? json(nullptr) : json(info.metrics_listen)},
          {"enrp", std::move(enrp)},
          {"summary", std::move(summary)}};
}

json histogram_json(const LatencyHistogram& h) {
  json buckets = json::array();
  for (std::size_t i = 0; i < LatencyHistogram::kCoarseBounds; ++i) {
    const TimeNs le = LatencyHistogram::coarse_bound(i);
    buckets.push_back({{"le_ns", le}, {"count", h.count_at_or_below(le)}});
  }
  const std::uint64_t count = h.count();  // read after the bounds: >= each (counters only grow)
  buckets.push_back({{"le_ns", nullptr}, {"count", count}});
  // The non-empty fine buckets ([upper bound ns, count], ascending): a client subtracts two
  // snapshots to get the latency of an interval (poolctl watch) within one bucket width (3 %).
  json fine = json::array();
  h.for_each_bucket([&](TimeNs le, std::uint64_t n) { fine.push_back(json::array({le, n})); });
  return {{"unit", "ns"},
          {"count", count},
          {"sum_ns", h.sum()},
          {"p50_ns", h.quantile(0.5)},
          {"p90_ns", h.quantile(0.9)},
          {"p99_ns", h.quantile(0.99)},
          {"buckets", std::move(buckets)},
          {"fine", std::move(fine)}};
}

}  // namespace poolreg::control
