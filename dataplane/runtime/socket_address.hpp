// SocketAddress: conversions between IpAddress + port and struct sockaddr (IPv4 / IPv6).
// Used by the socket code of dataplane/kernel and dataplane/tcp, and by the tools; any thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "registrar/common/ip_address.hpp"

namespace poolreg::runtime {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static SocketAddress from(const IpAddress& address, std::uint16_t port);
  // IPv6 any address ("::") with the port.
  static SocketAddress any_v6(std::uint16_t port);
  static SocketAddress any_v4(std::uint16_t port);

  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
};

// nullopt for families other than AF_INET / AF_INET6. IPv4-mapped IPv6 addresses become IPv4.
std::optional<IpAddress> ip_of(const sockaddr* address);
std::uint16_t port_of(const sockaddr* address);
// Size of the sockaddr for its family (0 when unknown).
socklen_t sockaddr_length(const sockaddr* address);
std::string to_string(const sockaddr* address);

}  // namespace poolreg::runtime
