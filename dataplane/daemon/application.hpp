// Application: the protocol service poolregd runs.
//
// What it builds from the RegistrarConfig, in named steps (Runtime::build: handlespace, then
// build_lanes + the kernel transport, listeners, protocol logic, announce, start_lanes,
// start_operator_side), all on the main thread, which is also the event-loop ("control") thread,
// the writer of every handlespace shard and a QSBR reader:
//   QsbrDomain + Handlespace (limits, shard count) + ReaderContext (online while the loop runs,
//   quiescent once per loop iteration), EventLoop; SCTP on lanes (build_lanes): the kernel lanes
//   (dataplane/kernel/kernel_lanes.hpp: registrar.lanes threads, each a UDP socket of one
//   SO_REUSEPORT group on asap.udp_encapsulation_port and its own usrsctp copy) or, in DPDK mode
//   ([dpdk] enabled, poolregd --dpdk), the poll lcores (dataplane/dpdk/dpdk_backend.hpp); both
//   reached through the same runtime::LaneTransport and, with registrar.resolve_on_lanes,
//   answering Handle Resolutions on the lanes. TCP (ASAP, ENRP) stays on this thread's
//   KernelTransport; a runtime::CombinedTransport joins the two for the protocol logic:
//   the ASAP SCTP + ASAP TCP listeners and the ENRP SCTP (and TCP) listener, TransportOutput
//   (MessageOutput), AsapServer, EnrpServer (when [enrp].enabled), ProtocolRouter
//   (MessageHandler: ASAP -> AsapServer, ENRP -> EnrpServer, wrong PPID -> abort), optional ENRP
//   multicast socket and ASAP Server Announce sender.
// The loop: run_once(timeout up to the next protocol timer, at most 100 ms), then the protocol
// timers (AsapServer/EnrpServer run_timers at their next_timer_due), selection feedback drain,
// QSBR reclaim every 100 ms, Server Announce start once ENRP start-up is over.
//
// Start-up logs "poolregd <id> listening: ..." with the ports really bound. SIGINT/SIGTERM
// (ShutdownSignals' fd in the loop) stop it: listeners and associations are closed gracefully,
// run() returns 0. SIGHUP (same fd) and the control command `reload` reopen the log file and
// reload the configuration on the loop thread (config_reload.hpp: live keys applied, the others
// refused and logged; an invalid file changes nothing). Start-up failures (port in use, usrsctp
// init) are logged and return 1.
//
// Shape: explicit Application(const DaemonContext&); int run(ShutdownSignals&); run() once, on
// the main thread.
#pragma once

#include <memory>

#include "dataplane/daemon/daemon_context.hpp"
#include "dataplane/daemon/shutdown_signals.hpp"

namespace poolreg::daemon {

class Application {
 public:
  explicit Application(const DaemonContext& context);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  int run(ShutdownSignals& signals);

  struct Runtime;  // the objects built by run() (application.cpp)

 private:
  DaemonContext context_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace poolreg::daemon
