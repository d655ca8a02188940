#include "dataplane/kernel/usrsctp_stack.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <type_traits>

namespace poolreg::kernel {
namespace {

int* program_errno() { return &errno; }

// Fills every entry point through `lookup(name)`; the first missing name is returned (or null).
template <typename Lookup>
const char* fill(UsrsctpApi& a, Lookup lookup) {
  const char* missing = nullptr;
  auto get = [&](auto& slot, const char* name) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(lookup(name));
    if (slot == nullptr && missing == nullptr) missing = name;
  };
  get(a.init_nothreads, "usrsctp_init_nothreads");
  get(a.finish, "usrsctp_finish");
  get(a.socket, "usrsctp_socket");
  get(a.close, "usrsctp_close");
  get(a.bind, "usrsctp_bind");
  get(a.listen, "usrsctp_listen");
  get(a.connect, "usrsctp_connect");
  get(a.getassocid, "usrsctp_getassocid");
  get(a.sendv, "usrsctp_sendv");
  get(a.setsockopt, "usrsctp_setsockopt");
  get(a.set_non_blocking, "usrsctp_set_non_blocking");
  get(a.conninput, "usrsctp_conninput");
  get(a.handle_timers, "usrsctp_handle_timers");
  get(a.register_address, "usrsctp_register_address");
  get(a.deregister_address, "usrsctp_deregister_address");
  get(a.set_sendspace, "usrsctp_sysctl_set_sctp_sendspace");
  get(a.set_recvspace, "usrsctp_sysctl_set_sctp_recvspace");
  get(a.set_heartbeat_interval, "usrsctp_sysctl_set_sctp_heartbeat_interval_default");
  get(a.set_init_rtx_max, "usrsctp_sysctl_set_sctp_init_rtx_max_default");
  get(a.set_assoc_rtx_max, "usrsctp_sysctl_set_sctp_assoc_rtx_max_default");
  get(a.set_rto_initial, "usrsctp_sysctl_set_sctp_rto_initial_default");
  get(a.set_rto_min, "usrsctp_sysctl_set_sctp_rto_min_default");
  get(a.set_rto_max, "usrsctp_sysctl_set_sctp_rto_max_default");
  get(a.set_init_rto_max, "usrsctp_sysctl_set_sctp_init_rto_max_default");
  get(a.set_blackhole, "usrsctp_sysctl_set_sctp_blackhole");
  get(a.free, "free");
  get(a.errno_location, "__errno_location");
  return missing;
}

}  // namespace

UsrsctpStack& UsrsctpStack::linked() {
  static UsrsctpStack* stack = [] {
    auto* s = new UsrsctpStack();  // lives as long as the program (never destroyed: no order issue)
    UsrsctpApi& a = s->api_;
    a.init_nothreads = &::usrsctp_init_nothreads;
    a.finish = &::usrsctp_finish;
    a.socket = &::usrsctp_socket;
    a.close = &::usrsctp_close;
    a.bind = &::usrsctp_bind;
    a.listen = &::usrsctp_listen;
    a.connect = &::usrsctp_connect;
    a.getassocid = &::usrsctp_getassocid;
    a.sendv = &::usrsctp_sendv;
    a.setsockopt = &::usrsctp_setsockopt;
    a.set_non_blocking = &::usrsctp_set_non_blocking;
    a.conninput = &::usrsctp_conninput;
    a.handle_timers = &::usrsctp_handle_timers;
    a.register_address = &::usrsctp_register_address;
    a.deregister_address = &::usrsctp_deregister_address;
    a.set_sendspace = &::usrsctp_sysctl_set_sctp_sendspace;
    a.set_recvspace = &::usrsctp_sysctl_set_sctp_recvspace;
    a.set_heartbeat_interval = &::usrsctp_sysctl_set_sctp_heartbeat_interval_default;
    a.set_init_rtx_max = &::usrsctp_sysctl_set_sctp_init_rtx_max_default;
    a.set_assoc_rtx_max = &::usrsctp_sysctl_set_sctp_assoc_rtx_max_default;
    a.set_rto_initial = &::usrsctp_sysctl_set_sctp_rto_initial_default;
    a.set_rto_min = &::usrsctp_sysctl_set_sctp_rto_min_default;
    a.set_rto_max = &::usrsctp_sysctl_set_sctp_rto_max_default;
    a.set_init_rto_max = &::usrsctp_sysctl_set_sctp_init_rto_max_default;
    a.set_blackhole = &::usrsctp_sysctl_set_sctp_blackhole;
    a.free = &std::free;
    a.errno_location = &program_errno;
    a.private_heap = false;
    return s;
  }();
  return *stack;
}

std::unique_ptr<UsrsctpStack> UsrsctpStack::load_private(std::string* error) {
  // The same file the program uses: where the linked usrsctp_init_nothreads lives.
  Dl_info info{};
  const char* file = "libusrsctp.so.2";
  if (::dladdr(reinterpret_cast<void*>(&::usrsctp_init_nothreads), &info) != 0 && info.dli_fname != nullptr)
    file = info.dli_fname;
  void* handle = ::dlmopen(LM_ID_NEWLM, file, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    if (error) *error = std::string("dlmopen(") + file + "): " + (why ? why : "unknown error");
    return nullptr;
  }
  std::unique_ptr<UsrsctpStack> s(new UsrsctpStack());
  s->handle_ = handle;
  // dlsym on the handle also searches its dependencies: free and __errno_location are the ones of
  // the namespace's own libc.
  if (const char* missing = fill(s->api_, [handle](const char* name) { return ::dlsym(handle, name); })) {
    if (error) *error = std::string("private usrsctp copy lacks ") + missing;
    return nullptr;  // ~UsrsctpStack closes the handle
  }
  s->api_.private_heap = true;
  return s;
}

UsrsctpStack::~UsrsctpStack() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

}  // namespace poolreg::kernel
