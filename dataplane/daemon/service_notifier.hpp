// ServiceNotifier: tells systemd (Type=notify, packaging/poolregd.service.in) the daemon's state
// through sd_notify(3): READY=1 once every listener is open, RELOADING=1 ... READY=1 around a
// configuration reload, STOPPING=1 when the shutdown starts, STATUS= a line for `systemctl status`.
//
// Contract: used on the control thread only. Without $NOTIFY_SOCKET (not started by systemd, a
// shell, most tests) every call does nothing. A failed send is logged once (warn) and never stops
// the daemon: readiness is advisory, serving is not.
#pragma once

#include <spdlog/logger.h>

#include <string_view>

namespace poolreg::daemon {

class ServiceNotifier {
 public:
  explicit ServiceNotifier(spdlog::logger& log) : log_(log) {}

  void ready(std::string_view status);
  void reloading();
  void stopping(std::string_view status);

 private:
  void send(const char* state);

  spdlog::logger& log_;
  bool failure_logged_ = false;
};

}  // namespace poolreg::daemon
