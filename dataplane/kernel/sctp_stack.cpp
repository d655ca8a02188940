#include "dataplane/kernel/sctp_stack.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <usrsctp.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <thread>

#include "dataplane/kernel/sctp_upcall_sink.hpp"
#include "dataplane/sctp/usrsctp_stack.hpp"

namespace poolreg::kernel {

namespace {

void debug_printf(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  std::vfprintf(stderr, format, ap);
  va_end(ap);
}

// Binds a UDP socket to check the port is free (or to find a free one when port == 0). usrsctp
// itself only logs when its bind fails, so we check first. Returns 0 on failure.
std::uint16_t probe_udp_port(std::uint16_t port, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::string("socket: ") + std::strerror(errno);
    return 0;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
    if (error) *error = "UDP port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return 0;
  }
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  ::close(fd);
  return ntohs(in.sin_port);
}

}  // namespace

std::unique_ptr<SctpStack> SctpStack::create(const SctpStackConfig& config, std::string* error) {
  // The linked usrsctp copy is one stack: this one, or a DPDK engine's (usrsctp_stack.hpp).
  if (!sctp::UsrsctpStack::linked().claim()) {
    if (error) *error = "the program's usrsctp already runs a stack (an SctpStack or a DPDK engine)";
    return nullptr;
  }
  std::uint16_t port = probe_udp_port(config.udp_port, error);
  if (port == 0) {
    sctp::UsrsctpStack::linked().release();
    return nullptr;
  }
  usrsctp_init(port, nullptr, config.debug_output ? debug_printf : nullptr);
  sctp::apply_usrsctp_tunables(config);
  return std::unique_ptr<SctpStack>(new SctpStack(config, port));
}

SctpStack::SctpStack(const SctpStackConfig& config, std::uint16_t udp_port) : config_(config), udp_port_(udp_port) {}

SctpStack::~SctpStack() {
  // usrsctp_finish() refuses while endpoints are still being torn down; give them time.
  bool finished = false;
  for (int i = 0; i < 200 && !finished; ++i) {
    if (usrsctp_finish() == 0) {
      finished = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Every socket was closed before we got here, and an upcall only runs for a live socket, so
  // after this wait no usrsctp thread can still be inside an upcall: the sinks can go.
  {
    std::lock_guard<std::mutex> lock(retained_mutex_);
    retained_.clear();
  }
  // Not finished (seen with usrsctp 0.9.5 under ASan timing after a peer-initiated graceful
  // shutdown: an endpoint is never released): usrsctp's threads keep running until exit, so the
  // process cannot init usrsctp again; keep it marked as existing.
  if (finished) sctp::UsrsctpStack::linked().release();
}

void SctpStack::retain(std::shared_ptr<SctpUpcallSink> sink) {
  std::lock_guard<std::mutex> lock(retained_mutex_);
  retained_.push_back(std::move(sink));
}

}  // namespace poolreg::kernel
