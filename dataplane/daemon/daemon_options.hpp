// DaemonOptions: poolregd's command line (CLI11), turned into config overrides.
//
// Contract: parse_daemon_options() is called once from main(). Short flags are sugar for --set
// and are applied after every --set, in this order: --mode, --id, --listen, --log-level, --dpdk, the EAL
// arguments after '--' (dpdk.eal_args).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.hpp"
#include "dataplane/daemon/daemon_context.hpp"

namespace poolreg::daemon {

struct DaemonOptions {
  std::string config_path;                        // empty = embedded default
  std::vector<config::ConfigOverride> overrides;  // --set and the short flags, in apply order
  bool print_config = false;
  bool check_config = false;
  bool print_dpdk_setup = false;  // --print-dpdk-setup: the plan poolreg-dpdk-setup reads
  SctpUdpPorts sctp_udp;                          // --sctp-remote-udp-port, --sctp-peer-udp-port
};

// Parses argv. Returns an exit code when the process should stop now (--help, --version: 0;
// usage error: non-zero, message already printed); nullopt to go on with *options filled in.
std::optional<int> parse_daemon_options(int argc, const char* const* argv, DaemonOptions* options);

}  // namespace poolreg::daemon
