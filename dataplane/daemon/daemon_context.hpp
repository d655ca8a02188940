// DaemonContext: what main() hands to the service it runs (the protocol Application): the
// validated configuration, where it came from (to read it again on a reload), the registrar ID
// chosen at start, the logger and the command-line-only SCTP/UDP port hints. The service borrows them for its lifetime; main() owns them.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config_loader.hpp"
#include "config/registrar_config.hpp"
#include "registrar/common/ids.hpp"

namespace poolreg::daemon {

// Remote UDP encapsulation ports (RFC 6951) for outgoing SCTP associations; no ASAP/ENRP
// parameter carries them (see transport_output.hpp). Command-line only (--sctp-remote-udp-port,
// --sctp-peer-udp-port), needed when several registrars share one host.
struct SctpUdpPorts {
  std::uint16_t default_remote = 9899;                                 // RFC 6951 port
  std::vector<std::pair<std::uint16_t, std::uint16_t>> by_sctp_port;  // remote SCTP port -> UDP port
};

struct DaemonContext {
  const config::RegistrarConfig& config;
  RegistrarId registrar_id;
  spdlog::logger& logger;
  SctpUdpPorts sctp_udp{};
  // The file given with -c ("" = the embedded default) and the command-line --set overrides
  // (short flags included): a reload loads the same way, so the command line keeps winning.
  std::string config_path{};
  std::vector<config::ConfigOverride> overrides{};
};

}  // namespace poolreg::daemon
