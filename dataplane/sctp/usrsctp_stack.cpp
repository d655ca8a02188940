#include "dataplane/sctp/usrsctp_stack.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace poolreg::sctp {
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
#define POOLREG_USRSCTP_LOOKUP(member, function) get(a.member, #function);
  POOLREG_USRSCTP_ENTRY_POINTS(POOLREG_USRSCTP_LOOKUP)
#undef POOLREG_USRSCTP_LOOKUP
  get(a.free, "free");
  get(a.errno_location, "__errno_location");
  return missing;
}

}  // namespace

UsrsctpStack& UsrsctpStack::linked() {
  static UsrsctpStack* stack = [] {
    auto* s = new UsrsctpStack();  // lives as long as the program (never destroyed: no order issue)
    UsrsctpApi& a = s->api_;
#define POOLREG_USRSCTP_LINKED(member, function) a.member = &::function;
    POOLREG_USRSCTP_ENTRY_POINTS(POOLREG_USRSCTP_LINKED)
#undef POOLREG_USRSCTP_LINKED
    a.free = &std::free;
    a.errno_location = &program_errno;
    a.private_heap = false;
    return s;
  }();
  return *stack;
}

Expected<std::unique_ptr<UsrsctpStack>, std::string> UsrsctpStack::load_private() {
  // The same file the program uses: where the linked usrsctp_init_nothreads lives.
  Dl_info info{};
  const char* file = "libusrsctp.so.2";
  if (::dladdr(reinterpret_cast<void*>(&::usrsctp_init_nothreads), &info) != 0 && info.dli_fname != nullptr)
    file = info.dli_fname;
  void* handle = ::dlmopen(LM_ID_NEWLM, file, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return unexpected(std::string("dlmopen(") + file + "): " + (why ? why : "unknown error"));
  }
  std::unique_ptr<UsrsctpStack> s(new UsrsctpStack());
  s->handle_ = handle;
  // dlsym on the handle also searches its dependencies: free and __errno_location are the ones of
  // the namespace's own libc.
  if (const char* missing = fill(s->api_, [handle](const char* name) { return ::dlsym(handle, name); })) {
    return unexpected(std::string("private usrsctp copy lacks ") + missing);  // ~UsrsctpStack closes the handle
  }
  s->api_.private_heap = true;
  return s;
}

UsrsctpStack::~UsrsctpStack() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

}  // namespace poolreg::sctp
