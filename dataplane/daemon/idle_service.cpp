// IdleService: log the endpoints, wait for a shutdown signal.
#include "dataplane/daemon/idle_service.hpp"

#include <string.h>

#include "dataplane/daemon/listen_summary.hpp"

namespace poolreg::daemon {

int IdleService::run(ShutdownSignals& signals) {
  auto& log = context_.logger;
  const std::string id = format_registrar_id(context_.config.registrar.mode, context_.registrar_id);
  log.info("poolregd {} listening: {}", id, describe_listeners(context_.config));
  log.warn("protocol service not built in yet: no socket is open (placeholder service)");
  for (;;) {
    if (auto sig = signals.wait_for(std::chrono::milliseconds(1000))) {
      log.info("poolregd {} stopping on {}", id,
               sigabbrev_np(*sig) ? std::string("SIG") + sigabbrev_np(*sig) : std::to_string(*sig));
      return 0;
    }
  }
}

}  // namespace poolreg::daemon
