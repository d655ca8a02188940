// poolregd command line: CLI11 definitions and the mapping of short flags onto --set overrides.
#include "dataplane/daemon/daemon_options.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "config/config_text.hpp"

#ifndef POOLREG_VERSION
#define POOLREG_VERSION "unknown"
#endif

namespace poolreg::daemon {

std::optional<int> parse_daemon_options(int argc, const char* const* argv, DaemonOptions* options) {
  CLI::App app{
      "poolregd: RSerPool pool registrar (ASAP RFC 5352, ENRP RFC 5353).\n"
      "Without -c it runs on the embedded default configuration (config/poolregd.toml).\n"
      "Signals: SIGINT/SIGTERM stop; SIGHUP reopens the log file and reloads the configuration\n"
      "(live keys applied, others refused and logged, an invalid file changes nothing).\n"
      "Exit codes: 0 = stopped by SIGINT/SIGTERM or check passed, 1 = configuration or start-up error,\n"
      "2 = usage error (unknown option, bad option value) or --dpdk --check-config found problems.",
      "poolregd"};
  std::vector<std::string> sets;
  std::vector<std::string> listen;
  std::string log_level;
  std::string id;
  std::string mode;
  std::string lanes;
  bool version = false;

  app.add_option("-c,--config", options->config_path,
                 "TOML configuration file (default: the embedded default)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", sets,
                 "Override one key, SECTION.KEY=VALUE (TOML value; bare text is a string). Repeatable, "
                 "applied in order after the file")
      ->type_name("KEY=VALUE");
  app.add_flag("--print-config", options->print_config,
               "Print the effective configuration as TOML (every key) and exit");
  app.add_flag("--check-config", options->check_config,
               "Load and validate the configuration, print every error as file:line:column, exit 0 if valid; "
               "with [tls] also load the certificate, key and CA files (a missing file or a key that does not "
               "match its certificate exits 1); "
               "with --dpdk also check the EAL arguments, cores, ports, memory and hugepages against this host "
               "(exit 2 listing every problem)");
  app.add_flag("--print-dpdk-setup", options->print_dpdk_setup,
               "Print what poolreg-dpdk-setup prepares (hugepages, hugepage_size_kb, huge_dir, pci= per device) "
               "as KEY=VALUE lines and exit");
  app.add_option("--log-level", log_level, "Same as --set registrar.log_level=LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--id", id, "Same as --set registrar.id=ID (decimal or 0x hex; 0 = random)")
      ->type_name("ID");
  app.add_option("--lanes", lanes,
                 "Same as --set registrar.lanes=N: SCTP lanes on kernel sockets (threads, 0 = every CPU but one)")
      ->type_name("N");
  std::string user;
  std::string group;
  app.add_option("--user", user,
                 "Same as --set registrar.user=USER: started as root, switch to USER (name or uid) once the "
                 "sockets are bound, keeping only the capabilities still needed")
      ->type_name("USER");
  app.add_option("--group", group, "Same as --set registrar.group=GROUP (name or gid; default: USER's primary group)")
      ->type_name("GROUP");
  app.add_option("--mode", mode, "Same as --set registrar.mode=MODE")
      ->check(CLI::IsMember({"rfc", "nextgen"}));
  app.add_option("--listen", listen,
                 "Same as --set asap.listen=[ADDR, ...] (repeatable: all given addresses)")
      ->type_name("ADDR");
  std::vector<std::string> peer_udp;
  app.add_option("--sctp-remote-udp-port", options->sctp_udp.default_remote,
                 "UDP encapsulation port (RFC 6951) of remote SCTP endpoints this registrar connects to "
                 "(ENRP peers, PEs after a takeover) when not learned from an association (default 9899)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--sctp-peer-udp-port", peer_udp,
                 "SCTPPORT=UDPPORT: remote UDP encapsulation port for associations to that SCTP port "
                 "(registrars sharing one host, each with its own usrsctp UDP port; per ENRP peer: udp_port in "
                 "enrp.peers, which wins). Repeatable")
      ->type_name("SCTPPORT=UDPPORT");
  bool dpdk = false;
  std::vector<std::string> eal_args;
  app.add_flag("--dpdk", dpdk,
               "Same as --set dpdk.enabled=true: SCTP on a DPDK port (usrsctp AF_CONN), TCP on kernel sockets. "
               "EAL arguments follow a '--', e.g. poolregd --dpdk --listen 10.0.0.1 -- -l 0-1 --vdev=net_tap0");
  app.add_flag("--version", version, "Print the version and exit");

  // Everything after a "--" is EAL arguments (they start with '-', so they are split off before
  // CLI11 sees them); they replace dpdk.eal_args.
  int own = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      own = i;
      for (int k = i + 1; k < argc; ++k) eal_args.emplace_back(argv[k]);
      break;
    }
  }
  try {
    app.parse(own, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; CLI11's own codes (105, 109, ...) are not ours
  }
  if (version) {
    std::printf("poolregd %s\n", POOLREG_VERSION);
    return 0;
  }

  for (const auto& p : peer_udp) {
    unsigned sctp = 0, udp = 0;
    char tail = 0;
    if (std::sscanf(p.c_str(), "%u=%u%c", &sctp, &udp, &tail) != 2 || sctp == 0 || sctp > 65535 || udp == 0 ||
        udp > 65535) {
      std::fprintf(stderr, "poolregd: --sctp-peer-udp-port %s: expected SCTPPORT=UDPPORT (1..65535)\n", p.c_str());
      return 2;
    }
    options->sctp_udp.by_sctp_port.emplace_back(static_cast<std::uint16_t>(sctp), static_cast<std::uint16_t>(udp));
  }
  for (const auto& s : sets) {
    auto o = config::parse_override(s);
    if (!o) {
      std::fprintf(stderr, "poolregd: --set: %s\n", o.error().c_str());
      return 2;
    }
    options->overrides.push_back(*o);
  }
  if (!mode.empty()) options->overrides.push_back({"registrar.mode", mode});
  if (!lanes.empty()) options->overrides.push_back({"registrar.lanes", lanes});
  if (!id.empty()) options->overrides.push_back({"registrar.id", id});
  if (!listen.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < listen.size(); ++i) list += (i ? ", " : "") + config::toml_quote(listen[i]);
    options->overrides.push_back({"asap.listen", list + "]"});
  }
  if (!log_level.empty()) options->overrides.push_back({"registrar.log_level", log_level});
  if (!user.empty()) options->overrides.push_back({"registrar.user", config::toml_quote(user)});
  if (!group.empty()) options->overrides.push_back({"registrar.group", config::toml_quote(group)});
  if (dpdk) options->overrides.push_back({"dpdk.enabled", "true"});
  if (!eal_args.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < eal_args.size(); ++i) list += (i ? ", " : "") + config::toml_quote(eal_args[i]);
    options->overrides.push_back({"dpdk.eal_args", list + "]"});
  }
  return std::nullopt;
}

}  // namespace poolreg::daemon
