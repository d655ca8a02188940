#include "dataplane/daemon/service_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <string>

#include "dataplane/runtime/errno_text.hpp"

namespace poolreg::daemon {

void ServiceNotifier::ready(std::string_view status) {
  send(("READY=1\nSTATUS=" + std::string(status)).c_str());
}

void ServiceNotifier::reloading() { send("RELOADING=1\nSTATUS=reloading the configuration"); }

void ServiceNotifier::stopping(std::string_view status) {
  send(("STOPPING=1\nSTATUS=" + std::string(status)).c_str());
}

void ServiceNotifier::send(const char* state) {
  // unset_environment = 0: reloads notify again, so $NOTIFY_SOCKET must stay.
  const int r = sd_notify(0, state);
  if (r >= 0 || failure_logged_) return;  // 0: no $NOTIFY_SOCKET, nobody to tell
  failure_logged_ = true;
  log_.warn("sd_notify to $NOTIFY_SOCKET failed: {} (systemd does not see readiness or state changes)",
            runtime::errno_text(-r));
}

}  // namespace poolreg::daemon
