// poolreg-pu: resolves a pool handle at a registrar (ASAP PU side) and prints the pool elements as
// a table or JSON; can repeat (pipelined when --interval-ms 0) and report PEs unreachable.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/tools/tool_common.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/control/element_json.hpp"
#include "dataplane/runtime/event_loop.hpp"

namespace poolreg::tools {
namespace {

struct PuArgs {
  ConnectionArgs connection;
  std::string pool;
  std::uint32_t items = 0;
  std::uint32_t repeat = 1;
  std::uint32_t interval_ms = 1000;
  std::vector<std::uint64_t> unreachable;
  bool json = false;
};

// The schema's resolution form (dataplane/control/poolreg-json.schema.json, $defs resolution):
// the same names and PE objects as `poolctl resolve --json`, plus this PU's status and latency.
nlohmann::json result_json(const client::ResolutionResult& r) {
  nlohmann::json j = control::pool_name_json(r.handle);
  j["status"] = client::to_string(r.status);
  j["requested"] = r.items_requested;
  if (r.status == client::ClientStatus::kRejected) {
    j["cause"] = r.error_code;
    j["cause_name"] = std::string(error_cause_name(r.cause()));
  }
  if (r.ok()) {
    j["latency_ms"] = to_ms(r.latency);
    if (r.policy) j["policy"] = control::policy_json(*r.policy);
    nlohmann::json pes = nlohmann::json::array();
    for (const PoolElement& pe : r.elements) pes.push_back(control::pool_element_json(pe));
    j["pes"] = std::move(pes);
  }
  return j;
}

void print_table(const client::ResolutionResult& r) {
  if (!r.ok()) {
    if (r.status == client::ClientStatus::kRejected) {
      std::printf("pool %s: error cause 0x%x (%s)\n", r.handle.to_display().c_str(), r.error_code,
                  std::string(error_cause_name(r.cause())).c_str());
    } else {
      std::printf("pool %s: %s\n", r.handle.to_display().c_str(), client::to_string(r.status));
    }
    return;
  }
  std::printf("pool %s: %zu PE(s), policy %s, %.3f ms\n", r.handle.to_display().c_str(), r.elements.size(),
              r.policy ? std::string(policy_name(r.policy->type)).c_str() : "-", to_ms(r.latency));
  if (r.elements.empty()) return;
  std::printf("  %-18s %-18s %-9s %-36s %s\n", "PE ID", "HOME PR", "TRANSPORT", "ADDRESSES:PORT", "POLICY");
  for (const PoolElement& pe : r.elements) {
    std::string transport = transport_name(pe.user_transport.protocol);
    if (pe.user_transport.use == TransportUse::kDataPlusControl) transport += "+ctl";
    std::printf("  %-18s %-18s %-9s %-36s %s\n", hex_id(pe.id).c_str(), hex_id(pe.home_registrar).c_str(),
                transport.c_str(),
                format_addresses(pe.user_transport.addresses, pe.user_transport.port).c_str(),
                format_policy(pe.policy).c_str());
  }
}

int run(int argc, char** argv) {
  PuArgs args;
  CLI::App app{
      "poolreg-pu: act as an RSerPool pool user (ASAP PU side).\n"
      "Resolves a pool handle at a registrar and prints the pool elements it returns (ID, home PR,\n"
      "transport, addresses:port, policy values) or the registrar's error cause.\n"
      "Exit code: 0 every resolution answered with PEs; 2 the registrar refused one (e.g. cause 0x9,\n"
      "unknown pool); 1 usage error, connection error or timeout.\n"
      "Example: poolreg-pu --registrar 127.0.0.1:3863 --pool EchoPool -n 5 --json",
      "poolreg-pu"};
  app.set_version_flag("--version", std::string("poolreg-pu ") + POOLREG_VERSION);
  add_connection_options(app, args.connection);
  app.add_option("--pool,-p", args.pool, "Pool handle (text) to resolve")->required();
  app.add_option("-n,--items", args.items,
                 "PEs wanted per answer (0 = registrar default, no Handle Resolution Option sent; "
                 "4294967295 = as many as allowed)")
      ->capture_default_str();
  app.add_option("--repeat", args.repeat, "Number of resolutions")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000'000u));
  app.add_option("--interval-ms", args.interval_ms,
                 "Pause between resolutions; 0 = send all at once (pipelined, answers matched FIFO)")
      ->capture_default_str();
  app.add_option("--report-unreachable", args.unreachable,
                 "Send Endpoint Unreachable for this PE ID (repeatable) before resolving");
  app.add_flag("--json", args.json, "JSON output (an object; an array with --repeat > 1)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help/--version: 0; usage errors: the documented 1
  }
  auto options = client_options(args.connection);
  if (!options) {
    std::cerr << "poolreg-pu: " << options.error() << "\n";
    return 1;
  }
  auto handle = PoolHandle::from_string(args.pool);
  if (!handle) {
    std::cerr << "poolreg-pu: bad pool handle\n";
    return 1;
  }

  runtime::EventLoop loop;
  auto stack = make_stack(args.connection);
  if (!stack) {
    std::cerr << "poolreg-pu: cannot start SCTP: " << stack.error() << "\n";
    return 1;
  }
  client::PoolUserClient pu(loop, stack->get(), *options);
  const auto connect_limit = std::chrono::milliseconds(args.connection.connect_timeout_ms + 1000);
  const client::ClientStatus cs = client::connect_and_wait(pu, connect_limit);
  if (cs != client::ClientStatus::kOk) {
    std::cerr << "poolreg-pu: cannot connect to " << args.connection.registrar << " over "
              << transport_name(args.connection) << ": " << client::to_string(cs) << ": "
              << connect_failure_text(args.connection, pu.connection().connect_error(), pu.connection().tls_error()) << "\n";
    return 1;
  }
  for (std::uint64_t id : args.unreachable) {
    const client::ClientStatus s = pu.report_unreachable(*handle, id);
    if (!args.json)
      std::printf("reported unreachable pool=%s id=%s: %s\n", handle->to_display().c_str(),
                  hex_id(id).c_str(), client::to_string(s));
  }

  nlohmann::json all = nlohmann::json::array();
  int code = 0;
  std::uint32_t answered = 0;
  auto on_result = [&](const client::ResolutionResult& r) {
    ++answered;
    if (r.status == client::ClientStatus::kRejected)
      code = std::max(code, 2);
    else if (!r.ok() && code == 0)
      code = 1;
    if (args.json)
      all.push_back(result_json(r));
    else
      print_table(r);
  };
  bool lost = false;
  client::PoolUserEvents events;
  events.on_connection_lost = [&](client::ClientStatus, runtime::CloseReason reason) {
    lost = true;
    if (!args.json) std::printf("connection lost: %s\n", runtime::to_string(reason));
  };
  pu.set_events(events);
  const auto per_request_limit = std::chrono::milliseconds(args.connection.timeout_ms + 1000);
  if (args.interval_ms == 0) {
    for (std::uint32_t i = 0; i < args.repeat; ++i) pu.resolve(*handle, args.items, on_result);
    // Requests time out one request timeout after being sent; the margin covers sending them all.
    client::run_until(
        loop, [&] { return answered == args.repeat; },
        per_request_limit + std::chrono::milliseconds(args.repeat / 10));
  } else {
    for (std::uint32_t i = 0; i < args.repeat && !lost; ++i) {
      const std::uint32_t before = answered;
      pu.resolve(*handle, args.items, on_result);
      client::run_until(
          loop, [&] { return answered > before; }, per_request_limit);
      if (i + 1 < args.repeat)
        client::run_until(
            loop, [&] { return lost; }, std::chrono::milliseconds(args.interval_ms));
    }
  }
  if (answered < args.repeat && code == 0) code = 1;
  if (args.json) {
    std::cout << (args.repeat == 1 && all.size() == 1 ? all[0] : all).dump(2) << "\n";
  } else if (args.repeat > 1) {
    const auto& c = pu.counters();
    std::printf(
        "summary resolutions=%llu answered=%llu rejected=%llu timeouts=%llu latency avg=%.3fms min=%.3fms "
        "max=%.3fms\n",
        static_cast<unsigned long long>(c.resolutions_sent),
        static_cast<unsigned long long>(c.resolutions_answered),
        static_cast<unsigned long long>(c.resolutions_rejected), static_cast<unsigned long long>(c.timeouts),
        to_ms(c.resolution_latency.mean()), to_ms(c.resolution_latency.min), to_ms(c.resolution_latency.max));
  }
  client::close_and_wait(pu, std::chrono::seconds(2));
  return code;
}

}  // namespace
}  // namespace poolreg::tools

int main(int argc, char** argv) { return poolreg::tools::run(argc, argv); }
