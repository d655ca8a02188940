// JSON results of the control commands, built from the registrar objects. The shapes are the
// control protocol's public contract (dataplane/control/README.md documents each one); poolctl
// renders them as tables.
//
// Contract: call on the daemon's event-loop thread (the handlespace writer and online QSBR
// reader, owner of AsapServer/EnrpServer). Not-found cases throw CommandError(not_found) so a
// handler can return the value directly.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/control/command_registry.hpp"
#include "dataplane/control/element_json.hpp"
#include "dataplane/control/event_stream_counters.hpp"
#include "dataplane/control/process_stats.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/asap/asap_counters.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/counter_descriptor.hpp"
#include "registrar/common/latency_histogram.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/enrp/takeover_process.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::control {

inline constexpr std::size_t kDefaultPoolListLimit = 1000;

// PEs, policies and transports inside these results: element_json.hpp (one form for every tool).

// pools: {"pool_count":N,"pe_count":M,"truncated":bool,"pools":[{"handle","handle_hex",
//   "policy","policy_short","transport","transport_use","pe_count"}...]} sorted by handle,
// at most `limit` rows.
json pools_result(const handlespace::Handlespace& hs, std::size_t limit = kDefaultPoolListLimit);
// pool <handle>: {"handle","handle_hex","policy","policy_short","transport","transport_use",
//   "pe_count","owned_pe_count","truncated","pes":[pe + "association","registration_seq"]}
// `now` (the registrar's clock) gives kept graceful addresses their "retire_in_ms".
json pool_result(const handlespace::Handlespace& hs, const PoolHandle& handle, RegistrarId own_id,
                 std::size_t limit = kDefaultPoolListLimit, TimeNs now = 0);
// pe <handle> <id>: {"handle","handle_hex","policy",..., "pe":{pe + "association",
//   "registration_seq"[, "address_types"]}}
json pe_result(const handlespace::Handlespace& hs, const PoolHandle& handle, PoolElementId id, RegistrarId own_id,
               TimeNs now = 0);
// resolve: {"handle","handle_hex","requested":N,"pes":[pe...]}; not_found when `pes` is nullopt.
json resolve_result(const PoolHandle& handle, std::uint32_t requested,
                    const std::optional<std::vector<PoolElement>>& pes, RegistrarId own_id);
// peers: {"peers":[{"id","state","static","transport","addresses","port","last_heard_ms_ago"|null,
//   "nextgen","ng_capabilities"|null,"checksum16":{"ours","theirs"|null},"checksum32":{...},
//   "in_sync","sync_running","mentor","pe_count","taker"|null}...]}
json peers_result(const std::vector<enrp::PeerSnapshot>& peers, TimeNs now);
// takeover-status: {"takeovers":[{"target","ours","taker","outstanding":[ids],
//   "expires_in_ms"|null}...]}
json takeover_result(const std::vector<enrp::TakeoverStatus>& takeovers, TimeNs now);

// One SCTP lane's counters as the daemon read them from the lane, each with the descriptor the
// lane's counter table gives it (registrar/common/counter_descriptor.hpp), whichever backend
// runs it (the control folder depends on neither): a kernel lane (kernel::KernelLaneCounters) or
// a DPDK poll lcore (dpdk::LcoreCounters). The lane's own counters (runtime::LaneCounters) come
// first and are named alike on both; the backend's packet-path counters and drops follow.
// "resolutions_answered" counts Handle Resolutions answered on the lane with PEs: they never
// reach AsapServer.
struct LaneStats {
  unsigned lane = 0;                  // index among the lanes, 0..n-1
  std::string backend;                // "kernel" | "dpdk"
  std::optional<unsigned> lcore;      // DPDK: the poll lcore running the lane
  std::vector<CounterSample> counters;  // descriptors from the backend's tables (never null)
  // The lane's Handle Resolution latency (LaneCounters::resolution_latency, a snapshot): every
  // SCTP resolution of the lane's associations, answered there or forwarded (then the ring hops
  // and the control thread are included). null: not measured.
  std::shared_ptr<const LatencyHistogram> resolution_latency;
  // The counter with stats key `name` (0 when the lane has none).
  std::uint64_t value(std::string_view name) const noexcept {
    for (const CounterSample& c : counters)
      if (c.descriptor->key == name && c.label_value.empty()) return c.value;
    return 0;
  }
};

// One DPDK port's NIC statistics (dataplane/dpdk/port_stats.hpp: ethdev stats and xstats with
// their descriptors), read by the daemon on the control lcore.
struct PortStats {
  std::uint16_t port = 0;  // ethdev port id
  std::string name;        // device name (e.g. net_af_packet0)
  std::vector<CounterSample> counters;
};

// Everything the stats / status / metrics builders read. Null pointers are "not running".
struct StatsSources {
  handlespace::HandlespaceCounters handlespace;
  const asap::AsapCounters* asap = nullptr;
  std::size_t associations = 0;
  std::size_t owned_pes = 0;      // PEs whose home is this registrar (Handlespace::pe_count_of_owner)
  std::size_t monitored_pes = 0;  // PEs under keep-alive monitoring (AsapServer::monitored_pes)
  const enrp::EnrpCounters* enrp = nullptr;
  std::optional<runtime::TransportCounters> transport;
  // Every Handle Resolution the registrar answered, from request received to answer sent: the
  // control thread's (TCP) merged with every lane's (SCTP); the two sets are disjoint
  // (ProtocolRouter does not record what came through a lane). null: not measured.
  std::shared_ptr<const LatencyHistogram> resolution_latency;
  std::optional<ProcessStats> process;           // the daemon's CPU, memory, descriptors
  std::vector<enrp::PeerSnapshot> peers;          // ENRP peers (per-peer metrics); empty: ENRP off
  std::vector<LaneStats> lanes;  // one per SCTP lane (kernel lanes or DPDK poll lcores); empty: none
  std::optional<EventStreamCounters> events;     // the live event stream (poolctl events); nullopt: off
  std::vector<PortStats> ports;  // one per DPDK port; empty: not DPDK
};
// stats: {"handlespace":{"pools","pes","owned_pes","monitored_pes","associations","feedback_dropped"},
//   "asap":{counter:value, "errors_sent":{cause:n}, "decode_errors":{kind:n}},
//   "enrp":{counter:value,"peers":{"alive":n,...}}|null, "transport":{...}|null,
//   "resolution_latency":histogram_json|null (lanes and control thread merged),
//   "process":{"cpu_seconds","resident_bytes","virtual_bytes","start_time_seconds","threads",
//   "open_fds","max_fds"}|null,
//   "lanes":[{"lane":i, "backend":"kernel"|"dpdk", "lcore":n (DPDK only), counter:value...}...]|null,
//   "events":{"subscribers","subscriptions","published","queued","dropped"}|null}
//   "ports":[{"port":id, "name":device, counter:value..., "xstats":{name:value}}...]|null}
// Counter keys come from the descriptor tables (registrar/common/counter_descriptor.hpp), the
// same ones /metrics renders.
json stats_result(const StatsSources& sources);
// A latency histogram in the coarse log2 view (LatencyHistogram::coarse_bound: 1 us .. 2^20 us):
// {"unit":"ns","count":N,"sum_ns":S,"p50_ns":..,"p90_ns":..,"p99_ns":..,
//  "buckets":[{"le_ns":1000,"count":cumulative},...,{"le_ns":null,"count":N}],
//  "fine":[[le_ns, count],...]}  (the non-empty fine buckets, not cumulative: for interval deltas)
// The quantiles come from the fine buckets (<= 1.6 % error), not from the coarse ones.
json histogram_json(const LatencyHistogram& histogram);

// Static facts for `status`, filled in by the daemon.
struct StatusInfo {
  RegistrarId registrar_id = 0;
  std::string mode = "rfc";       // "rfc" | "nextgen"
  std::string version;            // POOLREG_VERSION
  TimeNs started_at = 0;          // loop clock at start
  std::vector<std::string> listeners;  // e.g. "ASAP SCTP 127.0.0.1:3863"
  unsigned cores = 0;
  std::size_t shards = 0;
  std::string control_socket;
  std::string metrics_listen;     // "" = metrics off
};
// status: {"registrar_id","mode","version","pid","uptime_s","listeners":[...],"cores","shards",
//   "control_socket","metrics":addr|null,"enrp":{"enabled","startup_complete","peers":{state:n}},
//   "summary":{"pools","pes","owned_pes","associations","registrations","reregistrations",
//   "deregistrations","resolutions","errors_sent","takeovers_won"}}; "resolutions" includes the
//   ones answered on DPDK poll lcores.
json status_result(const StatusInfo& info, TimeNs now, const StatsSources& sources, std::optional<bool> enrp_startup_complete);

}  // namespace poolreg::control
