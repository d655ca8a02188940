#include "dataplane/runtime/socket_address.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace poolreg::runtime {

SocketAddress SocketAddress::from(const IpAddress& address, std::uint16_t port) {
  SocketAddress s;
  if (address.is_v4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    std::memcpy(&in.sin_addr, address.data(), 4);
    std::memcpy(&s.storage, &in, sizeof in);
    s.length = sizeof in;
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, address.data(), 16);
    std::memcpy(&s.storage, &in6, sizeof in6);
    s.length = sizeof in6;
  }
  return s;
}

SocketAddress SocketAddress::any_v6(std::uint16_t port) {
  SocketAddress s;
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  in6.sin6_addr = in6addr_any;
  std::memcpy(&s.storage, &in6, sizeof in6);
  s.length = sizeof in6;
  return s;
}

SocketAddress SocketAddress::any_v4(std::uint16_t port) {
  SocketAddress s;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_ANY);
  std::memcpy(&s.storage, &in, sizeof in);
  s.length = sizeof in;
  return s;
}

std::optional<IpAddress> ip_of(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &in.sin_addr, 4);
    return IpAddress::v4(b);
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), &in6.sin6_addr, 16);
    static constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0) {
      return IpAddress::v4({b[12], b[13], b[14], b[15]});
    }
    return IpAddress::v6(b);
  }
  return std::nullopt;
}

std::uint16_t port_of(const sockaddr* address) {
  if (address == nullptr) return 0;
  if (address->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    return ntohs(in.sin_port);
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    return ntohs(in6.sin6_port);
  }
  return 0;
}

socklen_t sockaddr_length(const sockaddr* address) {
  if (address == nullptr) return 0;
  if (address->sa_family == AF_INET) return sizeof(sockaddr_in);
  if (address->sa_family == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

std::string to_string(const sockaddr* address) {
  auto ip = ip_of(address);
  if (!ip) return "?";
  std::string text = ip->is_v4() ? ip->to_string() : "[" + ip->to_string() + "]";
  return text + ":" + std::to_string(port_of(address));
}

}  // namespace poolreg::runtime
