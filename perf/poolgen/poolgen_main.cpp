// poolgen: RSerPool load generator. Drives one or more registrars (loopback unless --allow-remote) with simulated PEs
// (registration ramp, keep-alives, mobility churn, silent deaths) and PUs (handle resolutions,
// unreachable reports), shows live progress and writes a final report. See perf/poolgen/README.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "perf/poolgen/descriptor_limit.hpp"
#include "perf/poolgen/generator_lanes.hpp"
#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/real_address_fleet.hpp"
#include "perf/poolgen/run_report.hpp"
#include "perf/poolgen/timeseries.hpp"
#include "perf/poolgen/verdict.hpp"
#include "cli/client/registrar_address.hpp"

namespace poolreg::poolgen {
namespace {

int run(int argc, char** argv) {
  PoolgenConfig config;
  // The scenario file is applied first; flags given on the command line override it.
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--scenario" || a == "-s") {
      if (auto loaded = load_scenario(argv[i + 1], config); !loaded) {
        std::cerr << "poolgen: " << loaded.error() << "\n";
        return 1;
      }
    }
  }
  CLI::App app{
      "poolgen: RSerPool load generator (ASAP PEs and PUs against registrars; loopback unless --allow-remote).\n"
      "Simulated PEs register at a target rate, answer keep-alives, move (re-register with a new address), some\n"
      "die silently; simulated PUs resolve handles and report PEs unreachable; probe PEs measure move-to-visible\n"
      "latency. Stops after --duration (deregistering everything unless --no-cleanup).\n"
      "Exit codes: 0 ok; 1 usage or set-up error; 2 the run counted errors (including an association that never\n"
      "came up, on SCTP or TCP, and request timeouts); 3 no errors but an SLO gate (--max-p99-ms, --min-rate-ratio)\n"
      "failed.\n"
      "Example: poolgen -s perf/poolgen/scenarios/smoke.toml --registrar 127.0.0.1:3863/9899 --report r.json",
      "poolgen"};
  std::string scenario_path;
  std::vector<std::string> registrars;
  std::string transport;
  std::string mode;
  std::string progress;
  std::vector<std::string> policies;
  bool no_cleanup = false;
  bool tcp = false;
  std::vector<std::string> p99_gates;
  app.add_option("-s,--scenario", scenario_path, "Scenario TOML file (perf/poolgen/scenarios); flags override it");
  app.add_option("-r,--registrar", registrars,
                 std::string("Registrar ") + client::kRegistrarAddressSyntax +
                     " (repeatable; loopback only unless --allow-remote; default 127.0.0.1:3863/9899)");
  app.add_flag("--allow-remote", config.allow_remote,
               "Accept registrars outside 127.0.0.0/8 and ::1 (another machine or network namespace)");
  app.add_option("--transport", transport, "ASAP transport: sctp (usrsctp over UDP) or tcp")
      ->check(CLI::IsMember({"sctp", "tcp"}));
  app.add_flag("--tcp", tcp, "ASAP over TCP (= --transport tcp, as poolreg-pe/poolreg-pu)");
  app.add_option("--pe-assocs", config.pe_associations, "PE associations per registrar")->capture_default_str();
  app.add_option("--pu-assocs", config.pu_associations, "PU associations per registrar")->capture_default_str();
  app.add_option("--threads", config.threads,
                 "Generator lanes: threads, each with its own usrsctp copy, UDP socket and share of the PEs, PUs, "
                 "associations and rates")
      ->check(CLI::Range(1u, kMaxThreads))
      ->capture_default_str();
  app.add_flag("--assoc-per-pe", config.assoc_per_pe,
               "Every simulated PE opens its own association (at --register-rate, at most --window connecting "
               "per lane) and registers over it; --pe-assocs is then not used. One registrar only");
  app.add_option("-n,--pes", config.pes, "Simulated PEs")->capture_default_str();
  app.add_option("-p,--pools", config.pools, "Pools the PEs are spread over")->capture_default_str();
  app.add_option("--pool-prefix", config.pool_prefix, "Pool handle prefix (handles PREFIX0.., PREFIXprobe-K)")
      ->capture_default_str();
  app.add_option("--policy", policies, "Pool policies cycled over the pools (rr, wrr, lu, ...)")->delimiter(',');
  app.add_option("--register-rate", config.register_rate, "Ramp-up: new registrations per second")
      ->capture_default_str();
  app.add_option("--window", config.window, "Outstanding PE requests per association")->capture_default_str();
  app.add_option("--life-ms", config.life_ms, "Registration life announced by the PEs")->capture_default_str();
  app.add_option("--move-interval", config.move_interval_s,
                 "Mean seconds between moves of one PE (exponential; 0 = no mobility)")
      ->capture_default_str();
  app.add_option("--address-mode", mode,
                 "spread: PEs use/move to random 127.0.0.0/8 addresses (registrar needs --set "
                 "asap.address_check=false); association: 127.0.0.1 and moves change the port")
      ->check(CLI::IsMember({"spread", "association"}));
  app.add_option(
      "--pe-addresses", config.pe_addresses,
      "Real-address mobility (PREFIX/N, IPv4 hosts configured on this host, e.g. 10.99.0.0/16): every PE "
      "holds its own association bound to two of its three addresses (prefix + 2 + 3i ..) and moves "
      "alternately by ASCONF ADD-IP + re-registration + DELETE-IP and by a new association from the new "
      "address, with the registrar's address check on; each PE in its own pool, resolved after each move "
      "until the new address shows (move_to_visible). One registrar, SCTP over UDP, --pus/--probes not "
      "used. run_scenarios.sh mobility-real sets up a namespace for it");
  app.add_option("--dead-fraction", config.dead_fraction, "Fraction of PEs that stop answering keep-alives")
      ->capture_default_str();
  app.add_option("--die-at", config.die_at_s, "Seconds after start when PEs begin to die (-1 = after ramp-up)")
      ->capture_default_str();
  app.add_option("--die-spread", config.die_spread_s, "Deaths are spread over this many seconds")
      ->capture_default_str();
  app.add_option("--pus", config.pus, "Simulated PUs (0 = no resolutions)")->capture_default_str();
  app.add_option("--resolve-rate", config.resolve_rate, "Handle resolutions per second (all PUs)")
      ->capture_default_str();
  app.add_option("--items", config.items, "Handle Resolution Option items (0 = option not sent)")
      ->capture_default_str();
  app.add_option("--unreachable-fraction", config.unreachable_fraction,
                 "Fraction of returned PEs reported with Endpoint Unreachable")
      ->capture_default_str();
  app.add_option("--probes", config.probes, "Move-to-visible probe PEs (each in its own pool)")->capture_default_str();
  app.add_option("--probe-move-every", config.probe_move_s, "Seconds between probe moves")->capture_default_str();
  app.add_option("-d,--duration", config.duration_s, "Load phase in seconds (then cleanup and exit)")
      ->capture_default_str();
  app.add_flag("--sctp-native", config.sctp_native,
               "SCTP over native IP protocol 132 (raw IP sockets: root or CAP_NET_RAW) instead of over UDP");
  app.add_flag("--no-cleanup", no_cleanup, "Do not deregister at the end (associations are still closed)");
  app.add_option("--timeout-ms", config.request_timeout_ms, "Request timeout")->capture_default_str();
  app.set_version_flag("--version", std::string("poolgen ") + POOLREG_VERSION);
  app.add_option("--report", config.report_path, "Write the final report as JSON to this file");
  app.add_option("--timeseries", config.timeseries_path,
                 "Write one JSON line per second to this file (rates, p50/p99/p99.9 of that second, errors)");
  app.add_option("--max-p99-ms", p99_gates,
                 "SLO gate OP=MS (repeatable): exit 3 when OP's p99 is above MS ms or OP has no samples; OP: "
                 "registration, reregistration, deregistration, resolution, resolution_raw, move_to_visible "
                 "(or register, move, deregister, resolve, m2v)");
  app.add_option("--min-rate-ratio", config.min_rate_ratio,
                 "SLO gate: exit 3 when an operation with a target rate (resolutions; a ramp-up of >= 1 s) "
                 "achieved less than R x its target")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--pcap", config.pcap_path, "Write a sample of the generated messages to this pcap file");
  app.add_option("--pcap-every", config.pcap_every, "Sample every Nth generated message")->capture_default_str();
  app.add_option("--progress", progress, "auto (ANSI on a tty, plain lines otherwise), ansi, plain, off")
      ->check(CLI::IsMember({"auto", "ansi", "plain", "off"}));
  app.add_option("--seed", config.seed, "Random seed")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help/--version: 0; usage errors: the documented 1
  }
  if (!registrars.empty()) {
    config.registrars.clear();
    for (const auto& r : registrars) {
      auto t = parse_registrar(r);
      if (!t) {
        std::cerr << "poolgen: " << t.error() << "\n";
        return 1;
      }
      config.registrars.push_back(*t);
    }
  }
  if (tcp) transport = "tcp";
  for (const auto& text : p99_gates) {
    auto gate = parse_latency_gate(text);
    if (!gate) {
      std::cerr << "poolgen: " << gate.error() << "\n";
      return 1;
    }
    config.max_p99.push_back(*gate);
  }
  if (transport == "tcp") config.transport = client::ClientTransport::kTcp;
  if (transport == "sctp") config.transport = client::ClientTransport::kSctp;
  if (mode == "spread") config.address_mode = AddressMode::kSpread;
  if (mode == "association") config.address_mode = AddressMode::kAssociation;
  if (progress == "auto") config.progress = ProgressMode::kAuto;
  if (progress == "ansi") config.progress = ProgressMode::kAnsi;
  if (progress == "plain") config.progress = ProgressMode::kPlain;
  if (progress == "off") config.progress = ProgressMode::kOff;
  if (!policies.empty()) {
    config.policies.clear();
    for (const auto& p : policies) {
      auto type = policy_from_name(p);
      if (!type || !policy_has_wire_codec(*type)) {
        std::cerr << "poolgen: unknown policy '" << p << "'\n";
        return 1;
      }
      config.policies.push_back(*type);
    }
  }
  if (no_cleanup) config.cleanup = false;
  if (auto valid = validate(config); !valid) {
    std::cerr << "poolgen: " << valid.error() << "\n";
    return 1;
  }

  if (auto raised = ensure_descriptors(descriptors_needed(config)); !raised) {
    std::cerr << "poolgen: " << raised.error() << "\n";
    return 1;
  } else if (!raised->empty()) {
    std::cerr << "poolgen: " << *raised << "\n";
  }
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  const bool ansi = config.progress == ProgressMode::kAnsi || (config.progress == ProgressMode::kAuto && tty);
  ProgressDisplay display(config, ansi, stdout);
  std::unique_ptr<TimeseriesWriter> timeseries;
  if (!config.timeseries_path.empty()) {
    auto opened = TimeseriesWriter::open(config.timeseries_path, config);
    if (!opened) {
      std::cerr << "poolgen: " << opened.error() << "\n";
      return 1;
    }
    timeseries = std::move(*opened);
  }
  // Memory before anything of the load exists (the lanes' usrsctp copies included in what follows).
  const std::uint64_t vmrss_before = process_vmrss_bytes();
  LaneProgress progress_fn;
  if (config.progress != ProgressMode::kOff) {
    progress_fn = [&display](const RunStats& s, double elapsed) { display.update(s, elapsed, false); };
  }
  auto ran = config.pe_addresses.empty() ? run_generator_lanes(config, timeseries.get(), progress_fn)
                                         : run_real_address_fleet(config, timeseries.get(), progress_fn);
  if (!ran) {
    std::cerr << "poolgen: " << ran.error() << "\n";
    return 1;
  }
  RunStats& final_stats = *ran;
  if (vmrss_before != 0) final_stats.vmrss_before_setup_bytes = vmrss_before;
  if (config.progress != ProgressMode::kOff) display.update(final_stats, final_stats.total_s, true);
  const Verdict verdict = judge(config, final_stats);
  std::fputs(report_text(config, final_stats, verdict).c_str(), stdout);
  std::fflush(stdout);
  for (const std::string& w : verdict.warnings) std::fprintf(stderr, "poolgen: warning: %s\n", w.c_str());
  if (!config.report_path.empty()) {
    std::ofstream out(config.report_path);
    out << report_json(config, final_stats, verdict).dump(2) << "\n";
    if (!out) {
      std::cerr << "poolgen: cannot write " << config.report_path << "\n";
      return 1;
    }
  }
  const auto& c = final_stats.c;
  if (c.registrations_ok == 0 && config.pes > 0) {
    if (c.connects == 0) {
      std::fprintf(stderr, "poolgen: no registration succeeded: no association came up (%llu connect failures). Is a "
                           "registrar listening at %s?%s\n",
                   static_cast<unsigned long long>(c.connect_failures), config.registrars.front().text.c_str(),
                   config.transport == client::ClientTransport::kSctp
                       ? " Over SCTP the UDPPORT of -r ADDR:PORT/UDPPORT must be its asap.udp_encapsulation_port."
                       : "");
    } else if (c.registrations_failed > 0 && config.address_mode == AddressMode::kSpread) {
      std::fprintf(stderr,
                   "poolgen: no registration succeeded. If the registrar rejected them with cause 0x3/0xa, start "
                   "it with --set asap.address_check=false or use --address-mode association.\n");
    }
  }
  return verdict.exit_code;
}

}  // namespace
}  // namespace poolreg::poolgen

int main(int argc, char** argv) { return poolreg::poolgen::run(argc, argv); }
