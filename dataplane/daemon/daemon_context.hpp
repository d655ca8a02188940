// DaemonContext: what main() hands to the service it runs (the placeholder IdleService now; the
// protocol Application later): the validated configuration, the registrar ID chosen at start,
// and the logger. The service borrows all three for its lifetime; main() owns them.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "config/registrar_config.hpp"
#include "registrar/common/ids.hpp"

namespace poolreg::daemon {

struct DaemonContext {
  const config::RegistrarConfig& config;
  RegistrarId registrar_id;
  spdlog::logger& logger;
};

}  // namespace poolreg::daemon
