#include "dataplane/control/registrar_commands.hpp"

#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "dataplane/control/health_report.hpp"
#include "dataplane/control/operator_arguments.hpp"
#include "registrar/handlespace/checksum_audit.hpp"

namespace poolreg::control {
namespace {

constexpr std::uint32_t kMaxOperatorResolve = 128;  // handlespace::kMaxResolveItems

enrp::EnrpServer& need_enrp(const RegistrarBindings& b) {
  if (b.enrp == nullptr) throw CommandError(error_code::kUnavailable, "ENRP is not running on this registrar");
  return *b.enrp;
}

std::string normalize_level(std::string level) {
  std::transform(level.begin(), level.end(), level.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (level == "warning") level = "warn";
  if (level == "err") level = "error";
  return level;
}

// audit --verify: the checksum self-audit on oneTBB workers while this (the writer) thread waits.
json verify_result(const handlespace::Handlespace& hs, spdlog::logger* logger) {
  const auto start = std::chrono::steady_clock::now();
  const handlespace::ChecksumAuditReport r = handlespace::audit_checksums(hs, handlespace::AuditExecution::kParallel);
  const double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  json mismatches = json::array();
  for (const auto& m : r.mismatches) {
    mismatches.push_back({{"owner", format_id(m.owner)},
                          {"kept_pes", m.kept.pes},
                          {"counted_pes", m.counted.pes},
                          {"kept_checksum16", m.kept.acc.checksum16()},
                          {"counted_checksum16", m.counted.acc.checksum16()},
                          {"kept_checksum32", m.kept.acc.checksum32()},
                          {"counted_checksum32", m.counted.acc.checksum32()}});
  }
  if (logger != nullptr) {
    if (r.ok())
      logger->info("audit --verify: checksums of {} owner(s) over {} PEs agree with a recomputation ({:.1f} ms)",
                   r.owners, r.pes_walked, elapsed_ms);
    else
      logger->error("audit --verify: {} of {} owner(s) have incremental checksums that differ from a recomputation",
                    r.mismatches.size(), r.owners);
  }
  return json{{"verify",
               {{"ok", r.ok()},
                {"shards", r.shards},
                {"pes", r.pes_walked},
                {"owners", r.owners},
                {"elapsed_ms", std::round(elapsed_ms * 10) / 10},
                {"mismatches", std::move(mismatches)}}}};
}

}  // namespace

bool valid_log_level(const std::string& level) {
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  const std::string l = normalize_level(level);
  return std::any_of(std::begin(kLevels), std::end(kLevels), [&](const char* n) { return l == n; });
}

StatsSources stats_sources(const RegistrarBindings& b) {
  StatsSources s;
  s.handlespace = b.handlespace->counters();
  s.asap = &b.asap->counters();
  s.associations = b.asap->associations();
  s.owned_pes = b.handlespace->pe_count_of_owner(b.status.registrar_id);
  s.monitored_pes = b.asap->monitored_pes();
  s.enrp = b.enrp != nullptr ? &b.enrp->counters() : nullptr;
  if (b.transport != nullptr) s.transport = b.transport->counters();
  if (b.lanes) s.lanes = b.lanes();
  if (b.events) s.events = b.events();
  if (b.ports) s.ports = b.ports();
  s.process = read_process_stats();
  if (b.enrp != nullptr) s.peers = b.enrp->peers();
  if (b.resolution_latency != nullptr) {
    auto merged = std::make_shared<LatencyHistogram>(*b.resolution_latency);
    for (const LaneStats& lane : s.lanes)
      if (lane.resolution_latency) merged->merge(*lane.resolution_latency);
    s.resolution_latency = std::move(merged);
  }
  return s;
}

HealthInputs health_inputs(const RegistrarBindings& b) {
  HealthInputs in;
  in.listeners = b.status.listeners;
  if (b.enrp != nullptr) {
    in.enrp_startup_complete = b.enrp->startup_complete();
    in.peers = b.enrp->peers();
  }
  return in;
}

std::string registrar_metrics_text(const RegistrarBindings& b) {
  return registrar_metrics_text(b.status, b.clock->now(), stats_sources(b));
}

void register_registrar_commands(CommandRegistry& registry, const RegistrarBindings& bindings) {
  if (bindings.handlespace == nullptr || bindings.asap == nullptr || bindings.clock == nullptr)
    throw std::invalid_argument("register_registrar_commands: handlespace, asap and clock are required");
  const RegistrarBindings b = bindings;  // copied into every handler (pointers + small strings)
  const RegistrarId own = b.status.registrar_id;

  registry.add_command(
      "status",
      [b](const json&) {
        std::optional<bool> startup;
        if (b.enrp != nullptr) startup = b.enrp->startup_complete();
        return status_result(b.status, b.clock->now(), stats_sources(b), startup);
      },
      "registrar ID, mode, uptime, listeners, counters summary");
  registry.add_command(
      "health", [b](const json&) { return health_json(evaluate_health(health_inputs(b))); },
      "ready to serve: listening, ENRP start-up complete, live peers in sync (healthy + reasons)");
  registry.add_command(
      "pools",
      [b](const json& args) { return pools_result(*b.handlespace, uint_arg(args, "limit").value_or(kDefaultPoolListLimit)); },
      "every pool: handle, policy, transport, PE count (args: limit)");
  registry.add_command(
      "pool",
      [b, own](const json& args) {
        return pool_result(*b.handlespace, handle_arg(args), own, uint_arg(args, "limit").value_or(kDefaultPoolListLimit),
                           b.clock->now());
      },
      "one pool and its PEs (args: handle | handle_hex, limit)");
  registry.add_command(
      "pe",
      [b, own](const json& args) {
        return pe_result(*b.handlespace, handle_arg(args), id_arg(args, "id"), own, b.clock->now());
      },
      "one PE (args: handle, id)");
  registry.add_command(
      "peers", [b](const json&) { return peers_result(need_enrp(b).peers(), b.clock->now()); },
      "ENRP peers with state, checksums, sync");
  registry.add_command(
      "resolve",
      [b, own](const json& args) {
        const PoolHandle handle = handle_arg(args);
        const std::uint64_t n = uint_arg(args, "n").value_or(0);
        const std::uint32_t items = static_cast<std::uint32_t>(std::min<std::uint64_t>(n, kMaxOperatorResolve));
        return resolve_result(handle, items, b.asap->operator_resolve(handle, items), own);
      },
      "handle resolution through the pool policy (args: handle, n; n 0 = registrar default)");
  registry.add_command(
      "deregister",
      [b](const json& args) {
        const PoolHandle handle = handle_arg(args);
        const PoolElementId id = id_arg(args, "id");
        if (!b.asap->operator_deregister(handle, id))
          throw CommandError(error_code::kNotFound,
                             "no PE " + format_id(id) + " in pool '" + handle.to_display() + "'");
        json r{{"handle", handle.to_display()}, {"id", format_id(id)}, {"removed", true}};
        if (const TimeNs until = b.asap->deregister_held_until(handle, id); until > b.clock->now())
          r["reregistration_refused_ms"] = (until - b.clock->now()) / kNsPerMs;
        return r;
      },
      "remove a PE (ENRP Handle Update DEL when owned); a PE registered here is refused re-registration for "
      "asap.deregister_hold_ms (args: handle, id)",
      CommandKind::kMutating);
  registry.add_command(
      "audit",
      [b](const json& args) {
        if (args.is_object() && args.value("verify", false)) return verify_result(*b.handlespace, b.logger);
        auto& enrp = need_enrp(b);
        enrp.force_audit();
        json syncing = json::array();
        std::size_t peers = 0;
        for (const auto& p : enrp.peers()) {
          ++peers;
          if (p.sync_running) syncing.push_back(format_id(p.id));
        }
        return json{{"started", true}, {"peers", peers}, {"syncing", std::move(syncing)}};
      },
      "start a handle table audit/repair sync with every live peer; with verify: recompute every "
      "owner's checksums from the PEs and compare them with the incremental ones (args: verify)",
      CommandKind::kMutating);
  registry.add_command(
      "takeover-status", [b](const json&) { return takeover_result(need_enrp(b).takeover_status(), b.clock->now()); },
      "takeovers in progress (ours and acknowledged foreign ones)");
  registry.add_command("stats", [b](const json&) { return stats_result(stats_sources(b)); },
                       "every counter and the resolution latency histogram");
  registry.add_command(
      "log-level",
      [b](const json& args) {
        if (b.logger == nullptr) throw CommandError(error_code::kUnavailable, "no logger to adjust");
        const auto name = spdlog::level::to_string_view(b.logger->level());
        const std::string previous = normalize_level(std::string(name.data(), name.size()));
        auto it = args.find("level");
        if (it == args.end() || it->is_null()) return json{{"level", previous}, {"previous", previous}};
        if (!it->is_string() || !valid_log_level(it->get<std::string>()))
          throw CommandError(error_code::kBadRequest,
                             "bad log level (trace, debug, info, warn, error, critical, off)");
        const std::string level = normalize_level(it->get<std::string>());
        b.logger->set_level(spdlog::level::from_str(level));
        if (b.on_log_level) b.on_log_level(level);
        return json{{"level", level}, {"previous", previous}};
      },
      "show or set the log level (args: level)",
      CommandKind::kMutating);
  registry.add_command(
      "reload",
      [b](const json&) {
        if (!b.reload) throw CommandError(error_code::kUnavailable, "reload is not available");
        const ReloadReport r = b.reload();
        if (!r.reloaded) {
          std::string message = "configuration not reloaded, the running one stays: " + r.source + ":";
          for (const auto& e : r.errors) message += " " + e + ";";
          message.pop_back();
          throw CommandError(error_code::kInvalidConfig, message);
        }
        return reload_result(r);
      },
      "read the configuration file again: apply the keys that can change live, list the refused ones",
      CommandKind::kMutating);
  registry.add_command(
      "config",
      [b](const json&) {
        if (!b.running_config) throw CommandError(error_code::kUnavailable, "config is not available");
        auto [source, values] = b.running_config();
        return config_result(source, values);
      },
      "the running configuration, every key");
  // Start / stop are mutating (logged with who asked); status is read-only, polled by poolctl.
  auto capture = [b](const CaptureRequest& request) {
    if (!b.capture)
      throw CommandError(error_code::kUnavailable,
                         "capture needs the DPDK backend (poolregd --dpdk); on kernel sockets capture on the host "
                         "interface with dumpcap or tcpdump");
    return capture_state_json(b.capture(request));
  };
  registry.add_command(
      "capture",
      [capture](const json& args) {
        CaptureRequest request = parse_capture_request(args);
        if (request.action == CaptureRequest::Action::kStatus)
          throw CommandError(error_code::kBadRequest, "capture needs \"action\": start or stop (capture-status reads)");
        return capture(request);
      },
      "start or stop a pcapng capture of the DPDK ports' traffic (args: action start|stop, file, ports, lanes, "
      "snaplen, count, duration_ms)",
      CommandKind::kMutating);
  registry.add_command(
      "capture-status", [capture](const json&) { return capture(CaptureRequest{}); },
      "the running or last capture: file, frames, bytes, dropped, elapsed_ms, ended");
  if (!b.test_commands) return;
  registry.add_command(
      "test-corrupt-view",
      [b](const json& args) {
        const PoolHandle handle = handle_arg(args);
        const PoolElementId id = id_arg(args, "id");
        if (!need_enrp(b).corrupt_view_for_test(handle, id))
          throw CommandError(error_code::kNotFound,
                             "no PE " + format_id(id) + " in pool '" + handle.to_display() + "'");
        return json{{"handle", handle.to_display()}, {"id", format_id(id)}, {"removed", true}};
      },
      "TEST ONLY: delete a PE locally without a Handle Update (the audit must repair it) (args: handle, id)",
      CommandKind::kMutating);
}

}  // namespace poolreg::control
