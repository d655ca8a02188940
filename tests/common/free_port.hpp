// A free port on 127.0.0.1 for tests that start daemons (no project dependency): bind port 0,
// read the number back, release it. Racy by nature (another process may take it before the
// daemon binds), which the tests accept: they pick fresh numbers per run. Within one test
// process a number is handed out once: the kernel may give a just-released port again, and two
// daemons of one cluster were once both given the same ENRP port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <set>

namespace poolreg::test_ports {

// One bind of port 0 for the socket type: SOCK_STREAM for TCP, SOCK_DGRAM for UDP. usrsctp's
// SCTP ports live in its own namespace; a free TCP number is as good as any for them. 0 when
// none could be bound.
inline std::uint16_t bound_free_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// As bound_free_port, but never a number this process was given before (of either type).
inline std::uint16_t free_port(int type) {
  static std::mutex mutex;
  static std::set<std::uint16_t> given;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const std::uint16_t port = bound_free_port(type);
    if (port == 0) continue;
    const std::lock_guard<std::mutex> lock(mutex);
    if (given.insert(port).second) return port;
  }
  return 0;
}

}  // namespace poolreg::test_ports
