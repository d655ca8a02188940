// A free port on 127.0.0.1 for tests that start daemons (no project dependency): bind port 0,
// read the number back, release it. Racy by nature (another process may take it before the
// daemon binds), which the tests accept: they pick fresh numbers per run.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace poolreg::test_ports {

// For the socket type: SOCK_STREAM for TCP, SOCK_DGRAM for UDP. usrsctp's SCTP ports live in its
// own namespace; a free TCP number is as good as any for them. 0 when none could be bound.
inline std::uint16_t free_port(int type) {
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

}  // namespace poolreg::test_ports
