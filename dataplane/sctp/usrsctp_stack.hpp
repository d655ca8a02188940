// UsrsctpStack: one copy of the usrsctp library and the table of its entry points (UsrsctpApi).
//
// usrsctp keeps its whole SCTP stack in process-global state (one output callback, one timer
// wheel, one set of sockets). To run several independent stacks in one process, one per lane
// (a DPDK poll lcore or a kernel lane thread), poolreg loads further private copies of the shared library with
// dlmopen(LM_ID_NEWLM): each lands in its own link-map namespace with its own globals, and, being
// a fresh namespace, its own copy of libc (own malloc heap, own errno). Hence two rules for code
// that talks to a stack through its UsrsctpApi:
// - buffers usrsctp hands out (receive callback data) are freed with api.free, not std::free;
// - after a failing call, read the error with api.last_error(), not errno.
// linked() is the copy the program is linked against (lane 0's, or a client's one engine): there
// api.free is std::free and last_error() is errno.
//
// Limits: glibc offers 16 link-map namespaces (the program's is one) and reserves static TLS for
// the libc of only a few new ones by default (tunable glibc.rtld.nns); load_private() fails
// cleanly with dlerror()'s text when none is left (kLaneCeilingHint says what to do about it).
//
// A stack serves at most one owner at a time (claim()/release()): two SctpEngines on one copy
// would share its one output callback and its timers.
//
// Threads: linked() and load_private() on any thread (start-up); a stack's api is called only by
// the one thread that runs its engine. claim()/release() are atomic.
#pragma once

#include <usrsctp.h>

#include <atomic>
#include <memory>
#include <string>

#include "registrar/common/expected.hpp"

namespace poolreg::sctp {

// Every usrsctp entry point poolreg calls, as X(UsrsctpApi member, usrsctp function): the one
// list the struct, the linked copy's table and a private copy's lookups are made from.
#define POOLREG_USRSCTP_ENTRY_POINTS(X)                                     \
  X(init_nothreads, usrsctp_init_nothreads)                                 \
  X(finish, usrsctp_finish)                                                 \
  X(socket, usrsctp_socket)                                                 \
  X(close, usrsctp_close)                                                   \
  X(bind, usrsctp_bind)                                                     \
  X(listen, usrsctp_listen)                                                 \
  X(connect, usrsctp_connect)                                               \
  X(getassocid, usrsctp_getassocid)                                         \
  X(sendv, usrsctp_sendv)                                                   \
  X(setsockopt, usrsctp_setsockopt)                                         \
  X(getsockopt, usrsctp_getsockopt)                                         \
  X(set_non_blocking, usrsctp_set_non_blocking)                             \
  X(conninput, usrsctp_conninput)                                           \
  X(handle_timers, usrsctp_handle_timers)                                   \
  X(register_address, usrsctp_register_address)                             \
  X(deregister_address, usrsctp_deregister_address)                         \
  X(set_sendspace, usrsctp_sysctl_set_sctp_sendspace)                       \
  X(set_recvspace, usrsctp_sysctl_set_sctp_recvspace)                       \
  X(set_heartbeat_interval, usrsctp_sysctl_set_sctp_heartbeat_interval_default) \
  X(set_init_rtx_max, usrsctp_sysctl_set_sctp_init_rtx_max_default)         \
  X(set_assoc_rtx_max, usrsctp_sysctl_set_sctp_assoc_rtx_max_default)       \
  X(set_path_rtx_max, usrsctp_sysctl_set_sctp_path_rtx_max_default)         \
  X(set_rto_initial, usrsctp_sysctl_set_sctp_rto_initial_default)           \
  X(set_rto_min, usrsctp_sysctl_set_sctp_rto_min_default)                   \
  X(set_rto_max, usrsctp_sysctl_set_sctp_rto_max_default)                   \
  X(set_init_rto_max, usrsctp_sysctl_set_sctp_init_rto_max_default)         \
  X(set_valid_cookie_life, usrsctp_sysctl_set_sctp_valid_cookie_life_default) \
  X(set_blackhole, usrsctp_sysctl_set_sctp_blackhole)                       \
  X(enable_crc32c_offload, usrsctp_enable_crc32c_offload)                 \
  X(get_stat, usrsctp_get_stat)

struct UsrsctpApi {
#define POOLREG_USRSCTP_MEMBER(member, function) decltype(&::function) member = nullptr;
  POOLREG_USRSCTP_ENTRY_POINTS(POOLREG_USRSCTP_MEMBER)
#undef POOLREG_USRSCTP_MEMBER
  // The allocator and errno of the libc this copy of usrsctp uses.
  void (*free)(void*) = nullptr;
  int* (*errno_location)() = nullptr;
  bool private_heap = false;  // true: usrsctp's buffers come from another heap than std::malloc's

  int last_error() const noexcept { return *errno_location(); }
};

// What to tell an operator when a private copy cannot be loaded: the glibc limits behind it.
inline constexpr const char* kLaneCeilingHint =
    "glibc has 16 link-map namespaces and static TLS for only a few (raise with "
    "GLIBC_TUNABLES=glibc.rtld.nns=<n>, at most 16), or use fewer lanes";

class UsrsctpStack {
 public:
  // The copy the program is linked against.
  static UsrsctpStack& linked();
  // A new private copy (dlmopen LM_ID_NEWLM), or why it cannot be loaded (dlerror()'s text).
  static Expected<std::unique_ptr<UsrsctpStack>, std::string> load_private();
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

}  // namespace poolreg::sctp
