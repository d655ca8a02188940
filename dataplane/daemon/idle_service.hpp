// IdleService: the stand-in service poolregd runs until the protocol Application lands.
// It opens no socket: it logs the endpoints the configuration describes, then waits for SIGINT or
// SIGTERM and returns exit code 0.
//
// Shape to keep for the real Application (so main.cpp changes by one line):
//   explicit X(const DaemonContext&);   int run(ShutdownSignals&);   // returns the exit code
// run() is called once, on the main thread.
#pragma once

#include "dataplane/daemon/daemon_context.hpp"
#include "dataplane/daemon/shutdown_signals.hpp"

namespace poolreg::daemon {

class IdleService {
 public:
  explicit IdleService(const DaemonContext& context) : context_(context) {}
  int run(ShutdownSignals& signals);

 private:
  DaemonContext context_;
};

}  // namespace poolreg::daemon
