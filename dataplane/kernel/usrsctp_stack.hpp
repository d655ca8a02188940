// UsrsctpStack: one copy of the usrsctp library and the table of its entry points (UsrsctpApi).
//
// usrsctp keeps its whole SCTP stack in process-global state (one output callback, one timer
// wheel, one set of sockets). To run several independent stacks in one process, one per DPDK
// poll lcore, poolreg loads further private copies of the shared library with
// dlmopen(LM_ID_NEWLM): each lands in its own link-map namespace with its own globals, and, being
// a fresh namespace, its own copy of libc (own malloc heap, own errno). Hence two rules for code
// that talks to a stack through its UsrsctpApi:
// - buffers usrsctp hands out (receive callback data) are freed with api.free, not std::free;
// - after a failing call, read the error with api.last_error(), not errno.
// linked() is the copy the program is linked against (the kernel-socket backend's and the first
// poll lcore's): there api.free is std::free and last_error() is errno.
//
// Limits: glibc offers 16 link-map namespaces (the program's is one) and reserves static TLS for
// the libc of only a few new ones by default (tunable glibc.rtld.nns); load_private() fails
// cleanly with dlerror()'s text when none is left.
//
// A stack serves at most one owner at a time (claim()/release()): two SctpConnEngines on one copy
// would share its one output callback and its timers.
#pragma once

#include <usrsctp.h>

#include <atomic>
#include <memory>
#include <string>

namespace poolreg::kernel {

struct UsrsctpApi {
  decltype(&::usrsctp_init_nothreads) init_nothreads = nullptr;
  decltype(&::usrsctp_finish) finish = nullptr;
  decltype(&::usrsctp_socket) socket = nullptr;
  decltype(&::usrsctp_close) close = nullptr;
  decltype(&::usrsctp_bind) bind = nullptr;
  decltype(&::usrsctp_listen) listen = nullptr;
  decltype(&::usrsctp_connect) connect = nullptr;
  decltype(&::usrsctp_getassocid) getassocid = nullptr;
  decltype(&::usrsctp_sendv) sendv = nullptr;
  decltype(&::usrsctp_setsockopt) setsockopt = nullptr;
  decltype(&::usrsctp_set_non_blocking) set_non_blocking = nullptr;
  decltype(&::usrsctp_conninput) conninput = nullptr;
  decltype(&::usrsctp_handle_timers) handle_timers = nullptr;
  decltype(&::usrsctp_register_address) register_address = nullptr;
  decltype(&::usrsctp_deregister_address) deregister_address = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_sendspace) set_sendspace = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_recvspace) set_recvspace = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_heartbeat_interval_default) set_heartbeat_interval = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_init_rtx_max_default) set_init_rtx_max = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_assoc_rtx_max_default) set_assoc_rtx_max = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_rto_initial_default) set_rto_initial = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_rto_min_default) set_rto_min = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_rto_max_default) set_rto_max = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_init_rto_max_default) set_init_rto_max = nullptr;
  decltype(&::usrsctp_sysctl_set_sctp_blackhole) set_blackhole = nullptr;
  // The allocator and errno of the libc this copy of usrsctp uses.
  void (*free)(void*) = nullptr;
  int* (*errno_location)() = nullptr;
  bool private_heap = false;  // true: usrsctp's buffers come from another heap than std::malloc's

  int last_error() const noexcept { return *errno_location(); }
};

class UsrsctpStack {
 public:
  // The copy the program is linked against.
  static UsrsctpStack& linked();
  // A new private copy (dlmopen LM_ID_NEWLM); nullptr with *error when it cannot be loaded.
  static std::unique_ptr<UsrsctpStack> load_private(std::string* error);
  ~UsrsctpStack();  // dlclose (a private copy); finish the stack before
  UsrsctpStack(const UsrsctpStack&) = delete;
  UsrsctpStack& operator=(const UsrsctpStack&) = delete;

  const UsrsctpApi& api() const noexcept { return api_; }
  bool is_private() const noexcept { return handle_ != nullptr; }
  // One owner at a time: false when already claimed.
  bool claim() noexcept { return !claimed_.exchange(true, std::memory_order_acq_rel); }
  void release() noexcept { claimed_.store(false, std::memory_order_release); }

 private:
  UsrsctpStack() = default;
  UsrsctpApi api_;
  void* handle_ = nullptr;  // dlmopen handle of a private copy
  std::atomic<bool> claimed_{false};
};

}  // namespace poolreg::kernel
