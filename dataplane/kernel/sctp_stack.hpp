// SctpStack: owns the process's usrsctp stack (usrsctp_init ... usrsctp_finish) with UDP
// encapsulation (RFC 6951). The program's (linked) usrsctp is one stack with process-wide
// callbacks, so at most one SctpStack may exist at a time, and not beside a DPDK engine on the
// linked copy (create() refuses: UsrsctpStack::linked().claim()); it is still an explicit
// object that main() creates and passes to every KernelTransport that needs SCTP (no hidden global
// initialisation). Several KernelTransports may share one stack (e.g. a server and a client in one
// test process: an association from the stack to itself over 127.0.0.1 works because all packets
// go out as UDP to our own encapsulation port).
//
// Threads: usrsctp_init (threaded mode) starts usrsctp's own timer thread and UDP receive threads.
// We use it rather than usrsctp_init_nothreads because only the threaded mode opens and reads the
// UDP encapsulation socket (nothreads is meant for AF_CONN, where the application feeds packets;
// that path belongs to the DPDK backend). Application code never runs on those threads: the
// transport registers a socket upcall that only marks the socket ready and writes an eventfd; the
// event-loop thread then reads the socket (see kernel_transport.hpp).
//
// Lifetime: create() on the main thread, after EventLoop::watch_signals() if signals are handled
// through the loop (usrsctp's threads inherit the signal mask). Destroy it after every
// KernelTransport using it: the destructor calls usrsctp_finish(), retrying for up to ~2 s while
// usrsctp tears down associations. If usrsctp still refuses (seen with usrsctp 0.9.5 under ASan
// timing: an endpoint whose peer shut down gracefully is sometimes never released), its threads
// keep running until process exit and no new SctpStack can be created in this process.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/sctp/usrsctp_tunables.hpp"

namespace poolreg::kernel {

// The UsrsctpTunables are applied after init.
struct SctpStackConfig : sctp::UsrsctpTunables {
  // Local UDP encapsulation port. 0 = pick a free port (clients, tests).
  std::uint16_t udp_port = 9899;
  bool debug_output = false;                   // usrsctp debug printf to stderr
};

class SctpUpcallSink;  // internal (sctp_upcall_sink.hpp)

class SctpStack {
 public:
  // nullptr with *error set when another SctpStack exists, the UDP port is in use, or init fails.
  static std::unique_ptr<SctpStack> create(const SctpStackConfig& config, std::string* error = nullptr);
  ~SctpStack();
  SctpStack(const SctpStack&) = delete;
  SctpStack& operator=(const SctpStack&) = delete;

  std::uint16_t udp_port() const noexcept { return udp_port_; }
  const SctpStackConfig& config() const noexcept { return config_; }

  // Internal, for KernelTransport: keeps upcall targets alive until the stack is destroyed,
  // because a usrsctp thread may still be inside an upcall while a socket is being closed.
  void retain(std::shared_ptr<SctpUpcallSink> sink);

 private:
  SctpStack(const SctpStackConfig& config, std::uint16_t udp_port);

  SctpStackConfig config_;
  std::uint16_t udp_port_;
  std::mutex retained_mutex_;
  std::vector<std::shared_ptr<SctpUpcallSink>> retained_;
};

}  // namespace poolreg::kernel
