#include "cli/poolctl/poolctl_app.hpp"

#include <errno.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <optional>

#include "cli/poolctl/capture_view.hpp"
#include "cli/poolctl/events_view.hpp"
#include "cli/poolctl/result_text.hpp"
#include "cli/poolctl/watch_view.hpp"
#include "config/registrar_config.hpp"
#include "dataplane/control/control_client.hpp"
#include "dataplane/control/operator_arguments.hpp"

namespace poolreg::poolctl {
namespace {

struct Globals {
  std::string socket;
  bool json_output = false;
  int timeout_ms = 5000;
};

using Renderer = std::string (*)(const json&);
// The exit code a successful result stands for (health: 1 when not healthy); nullptr: 0.
using Verdict = int (*)(const json&);

// Sends one command and prints its result; returns the exit code.
int call(const Globals& g, const std::string& cmd, const json& args, Renderer render, std::ostream& out,
         std::ostream& err, Verdict verdict = nullptr) {
  control::ClientError error;
  auto client = control::ControlClient::connect(g.socket, g.timeout_ms, &error);
  if (!client) {
    err << unreachable_message(g.socket, error.sys_errno, error.message) << "\n";
    return kExitUnreachable;
  }
  auto response = client->call(cmd, args, &error);
  if (!response) {
    err << "poolctl: " << cmd << ": no answer from poolregd at " << g.socket << ": " << error.message << "\n";
    return kExitUnreachable;
  }
  const bool ok = (*response)["ok"].is_boolean() && (*response)["ok"].get<bool>();
  if (!ok) {
    const std::string message = response->value("error", std::string("unknown error"));
    if (g.json_output) out << response->dump(2) << "\n";
    err << "poolctl: " << cmd << ": " << message << "\n";
    return kExitDaemonError;
  }
  const json& result = (*response)["result"];
  if (g.json_output) out << result.dump(2) << "\n";
  else out << render(result);
  return verdict != nullptr ? verdict(result) : kExitOk;
}

int verify_verdict(const json& r) {
  const json* v = r.is_object() && r.contains("verify") ? &r["verify"] : nullptr;
  return v != nullptr && v->is_object() && v->value("ok", false) ? kExitOk : kExitDaemonError;
}

int health_verdict(const json& r) {
  return r.is_object() && r.value("healthy", false) ? kExitOk : kExitDaemonError;
}

struct UsageError {
  std::string message;
};

json handle_args(const std::string& handle) {
  if (!control::parse_pool_handle(handle))
    throw UsageError{"bad pool handle '" + handle + "' (1.." + std::to_string(kPoolHandleCapacity) +
                     " bytes of text, or 0x followed by hex bytes)"};
  return json{{"handle", handle}};
}

std::string id_text(const std::string& id) {
  auto v = control::parse_id(id);
  if (!v || *v == 0) throw UsageError{"bad PE ID '" + id + "' (non-zero, decimal or 0x hex)"};
  return control::format_id(*v);
}

}  // namespace

std::string default_socket_path() {
  if (const char* env = std::getenv("POOLCTL_SOCKET"); env != nullptr && *env != '\0') return env;
  return config::effective_control_socket_path(config::ControlSection{});
}

std::string unreachable_message(const std::string& path, int sys_errno, const std::string& reason) {
  std::string hint;
  switch (sys_errno) {
    case ENOENT:
    case ECONNREFUSED: hint = " — is poolregd running?"; break;
    case EACCES:
    case EPERM:
      hint = " — poolctl needs read/write access to the socket: run it as the daemon's user, a member of the "
             "socket's group, or with sudo";
      break;
    case ETIMEDOUT: hint = " — poolregd is not answering"; break;
    default: hint = " — check --socket and that poolregd runs with control.enabled = true"; break;
  }
  return "poolctl: cannot reach poolregd at " + path + ": " + reason + hint;
}

int run_poolctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool interactive) {
  CLI::App app{"poolctl: operator CLI of the poolreg pool registrar (poolregd), over its control socket.\n"
               "Pool handles: text as is, or 0x + hex bytes (as poolctl shows non-printable handles);\n"
               "prefix text: for a text handle that looks like hex. IDs: decimal or 0x hex.\n"
               "Exit codes: 0 ok, 1 error reported by poolregd, 2 usage error, 3 poolregd unreachable.",
               "poolctl"};
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("poolctl ") + POOLREG_VERSION);
  Globals g;
  g.socket = default_socket_path();
  app.add_option("-s,--socket", g.socket, "control socket of poolregd (env POOLCTL_SOCKET)")->capture_default_str();
  app.add_flag("-j,--json", g.json_output, "print the raw JSON result instead of a table");
  app.add_option("-t,--timeout", g.timeout_ms, "milliseconds to wait for poolregd")->capture_default_str()->check(CLI::Range(1, 600000));

  std::function<int()> action;
  std::string handle, id, level;
  std::uint64_t limit = 1000, n = 0, watch_count = 0;
  double interval = 1.0;

  auto* status = app.add_subcommand("status", "registrar ID, mode, uptime, listeners, counters summary");
  status->callback([&] { action = [&] { return call(g, "status", json::object(), render_status, out, err); }; });

  auto* health = app.add_subcommand(
      "health", "ready to serve? exit 0 only when listening, ENRP start-up done and live peers in sync; "
                "else the reasons and exit 1");
  health->callback(
      [&] { action = [&] { return call(g, "health", json::object(), render_health, out, err, health_verdict); }; });

  auto* pools = app.add_subcommand("pools", "list every pool with its policy and PE count");
  pools->add_option("--limit", limit, "most pools to list")->capture_default_str();
  pools->callback([&] { action = [&] { return call(g, "pools", {{"limit", limit}}, render_pools, out, err); }; });

  auto* pool = app.add_subcommand("pool", "one pool and its PEs");
  pool->add_option("handle", handle, "pool handle")->required();
  pool->add_option("--limit", limit, "most PEs to list")->capture_default_str();
  pool->callback([&] {
    action = [&] {
      json args = handle_args(handle);
      args["limit"] = limit;
      return call(g, "pool", args, render_pool, out, err);
    };
  });

  auto* pe = app.add_subcommand("pe", "one PE in detail");
  pe->add_option("handle", handle, "pool handle")->required();
  pe->add_option("id", id, "PE ID (decimal or 0x hex)")->required();
  pe->callback([&] {
    action = [&] {
      json args = handle_args(handle);
      args["id"] = id_text(id);
      return call(g, "pe", args, render_pe, out, err);
    };
  });

  auto* peers = app.add_subcommand("peers", "ENRP peers: state, last heard, checksums, sync");
  peers->callback([&] { action = [&] { return call(g, "peers", json::object(), render_peers, out, err); }; });

  auto* resolve = app.add_subcommand("resolve", "handle resolution through the pool's selection policy");
  resolve->add_option("handle", handle, "pool handle")->required();
  resolve->add_option("-n,--items", n, "PEs to select (0 = the registrar's default, at most 128)")->capture_default_str();
  resolve->callback([&] {
    action = [&] {
      json args = handle_args(handle);
      args["n"] = n;
      return call(g, "resolve", args, render_resolve, out, err);
    };
  });

  auto* dereg = app.add_subcommand("deregister",
                                   "remove a PE (peers are told by ENRP when this registrar owns it); a PE registered "
                                   "here is refused re-registration for asap.deregister_hold_ms (default 300 s, "
                                   "cause 0xa), its association stays open");
  dereg->add_option("handle", handle, "pool handle")->required();
  dereg->add_option("id", id, "PE ID (decimal or 0x hex)")->required();
  dereg->callback([&] {
    action = [&] {
      json args = handle_args(handle);
      args["id"] = id_text(id);
      return call(g, "deregister", args, render_deregister, out, err);
    };
  });

  auto* audit = app.add_subcommand("audit", "start a handle table audit (repair sync) with every live peer");
  bool verify = false;
  audit->add_flag("--verify", verify,
                  "instead: recompute every owner's checksums from the PEs and compare them with the incremental "
                  "ones (exit 1 on a mismatch)");
  audit->callback([&] {
    action = [&] {
      if (verify) return call(g, "audit", {{"verify", true}}, render_audit, out, err, verify_verdict);
      return call(g, "audit", json::object(), render_audit, out, err);
    };
  });

  auto* takeover = app.add_subcommand("takeover-status", "takeovers of dead peers in progress");
  takeover->callback(
      [&] { action = [&] { return call(g, "takeover-status", json::object(), render_takeovers, out, err); }; });

  auto* stats = app.add_subcommand("stats", "every counter and the resolution latency histogram");
  stats->callback([&] { action = [&] { return call(g, "stats", json::object(), render_stats, out, err); }; });

  auto* log_level = app.add_subcommand("log-level", "show or set the daemon's log level");
  log_level->add_option("level", level, "trace, debug, info, warn, error, critical or off (omit to show)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}, CLI::ignore_case));
  log_level->callback([&] {
    action = [&] {
      json args = json::object();
      if (!level.empty()) args["level"] = level;
      return call(g, "log-level", args, render_log_level, out, err);
    };
  });

  auto* reload_cmd = app.add_subcommand(
      "reload",
      "read poolregd's configuration file again (as SIGHUP does) and reopen its log file: the keys that can "
      "change live are applied (registrar.log_level, limits.*, asap keep-alive, idle timeout and rate "
      "limits), other changed keys are refused until a restart; an invalid file changes nothing (exit 1)");
  reload_cmd->callback([&] { action = [&] { return call(g, "reload", json::object(), render_reload, out, err); }; });

  auto* config_cmd = app.add_subcommand("config", "the configuration poolregd runs with, every key");
  config_cmd->callback([&] { action = [&] { return call(g, "config", json::object(), render_config, out, err); }; });

  auto* watch = app.add_subcommand(
      "watch", "live view of pools, rates and the last interval's latency (q or Ctrl-C quits); with --json one "
               "JSON object per refresh and line");
  watch->add_option("-i,--interval", interval, "seconds between refreshes")->capture_default_str()->check(CLI::Range(0.05, 3600.0));
  watch->add_option("-c,--count", watch_count, "stop after this many refreshes (0 = never)")->capture_default_str();
  watch->callback([&] {
    action = [&] {
      WatchOptions w;
      w.socket_path = g.socket;
      w.interval_s = interval;
      w.count = watch_count;
      w.timeout_ms = g.timeout_ms;
      w.json_lines = g.json_output;
      w.interactive = interactive && !g.json_output;  // JSON lines are for programs, never a screen
      return run_watch(w, out, err);
    };
  });

  EventsOptions events_options;
  auto* events = app.add_subcommand(
      "events",
      "live stream of registrar events, one line each: pe_registered, pe_moved, pe_removed (with cause), "
      "pool_created, pool_removed, peer_up, peer_down, peer_dead, takeover_started/won/lost, "
      "audit_mismatch/repaired; with --json the objects as received; Ctrl-C ends it");
  events->add_option("--pool", events_options.pools, "only events of this pool (repeatable; PE and pool events)");
  events->add_option("--kind", events_options.kinds,
                     "only this kind (repeatable): a kind name, or a family pe, pool, peer, takeover, audit, all");
  events->add_option("-c,--count", events_options.count, "stop after this many events (0 = never)")
      ->capture_default_str();
  events->add_option("--timeout-ms", events_options.timeout_ms,
                     "stop after this many milliseconds (0 = never); with --count, fewer events by then is exit 1")
      ->capture_default_str();
  events->callback([&] {
    action = [&] {
      events_options.socket_path = g.socket;
      events_options.connect_timeout_ms = g.timeout_ms;
      events_options.json_lines = g.json_output;
      return run_events(events_options, out, err);
    };
  });

  CaptureOptions capture_options;
  bool capture_stop = false, capture_status = false, capture_no_wait = false;
  auto* capture = app.add_subcommand(
      "capture",
      "capture the DPDK ports' traffic into a pcapng file that poolregd writes (needs poolregd --dpdk; the "
      "file must not exist and poolregd's user must be able to create it): waits until --count frames or "
      "--duration-ms, then prints frames, bytes and drops; --stop ends a running capture, --status shows it");
  capture->add_option("-w,--write", capture_options.file, "the pcapng file to create (relative to this directory)");
  capture->add_option("--port", capture_options.ports, "only this DPDK port id (repeatable; default every port)");
  capture->add_option("--lane", capture_options.lanes, "only frames of this lane (repeatable; default every lane)");
  capture->add_option("--snaplen", capture_options.snaplen, "bytes kept per frame")
      ->capture_default_str()->check(CLI::Range(1, 2048));
  capture->add_option("-c,--count", capture_options.count, "stop after this many frames (0 = no limit)")
      ->capture_default_str();
  capture->add_option("--duration-ms", capture_options.duration_ms, "stop after this many milliseconds")
      ->capture_default_str()->check(CLI::Range(1, 3600000));
  capture->add_flag("--no-wait", capture_no_wait, "return once the capture started");
  capture->add_flag("--stop", capture_stop, "end the running capture");
  capture->add_flag("--status", capture_status, "show the running or last capture");
  capture->callback([&] {
    action = [&] {
      if (capture_stop && capture_status) throw UsageError{"capture: --stop and --status exclude each other"};
      if (capture_stop) capture_options.mode = CaptureOptions::Mode::kStop;
      else if (capture_status) capture_options.mode = CaptureOptions::Mode::kStatus;
      else if (capture_options.file.empty()) throw UsageError{"capture: -w FILE names the pcapng file to create"};
      capture_options.socket_path = g.socket;
      capture_options.timeout_ms = g.timeout_ms;
      capture_options.json_output = g.json_output;
      capture_options.wait = !capture_no_wait;
      return run_capture(capture_options, out, err);
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a missing subcommand before words it could not place: name those instead
    // of "A subcommand is required" when the user typed an unknown command or option.
    const std::vector<std::string> unknown = app.remaining();
    if (e.get_exit_code() != 0 && !unknown.empty()) {
      err << "poolctl: unknown " << (unknown.front().starts_with('-') ? "option " : "command ") << unknown.front()
          << "\nRun with --help for the commands and options.\n";
      return kExitUsage;
    }
    const int rc = app.exit(e, out, err);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  try {
    return action();
  } catch (const UsageError& e) {
    err << "poolctl: " << e.message << "\n";
    return kExitUsage;
  }
}

}  // namespace poolreg::poolctl
