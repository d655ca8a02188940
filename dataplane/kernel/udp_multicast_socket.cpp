#include "dataplane/kernel/udp_multicast_socket.hpp"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "dataplane/runtime/socket_address.hpp"

namespace poolreg::kernel {

namespace {

// The message of a failed system call (errno).
Unexpected<std::string> fail(const char* what) {
  return unexpected(std::string(what) + ": " + std::strerror(errno));
}

Expected<void, std::string> configure_v4(int fd, const UdpMulticastConfig& c) {
  in_addr iface{};
  std::memcpy(&iface, c.interface_address.data(), 4);
  const int ttl = c.ttl;
  const unsigned char loop = c.loopback ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0) return fail("IP_MULTICAST_TTL");
  if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
    return fail("IP_MULTICAST_LOOP");
  if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof iface) != 0)
    return fail("IP_MULTICAST_IF");
  if (c.receive) {
    ip_mreq mreq{};
    std::memcpy(&mreq.imr_multiaddr, c.group.data(), 4);
    mreq.imr_interface = iface;
    if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
      return fail("IP_ADD_MEMBERSHIP");
    }
  }
  return {};
}

Expected<void, std::string> configure_v6(int fd, const UdpMulticastConfig& c) {
  const int hops = c.ttl;
  const unsigned loop = c.loopback ? 1 : 0;
  const unsigned ifindex = c.interface_index;
  if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0) {
    return fail("IPV6_MULTICAST_HOPS");
  }
  if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop) != 0) {
    return fail("IPV6_MULTICAST_LOOP");
  }
  if (ifindex != 0 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) != 0) {
    return fail("IPV6_MULTICAST_IF");
  }
  if (c.receive) {
    ipv6_mreq mreq{};
    std::memcpy(&mreq.ipv6mr_multiaddr, c.group.data(), 16);
    mreq.ipv6mr_interface = ifindex;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq) != 0)
      return fail("IPV6_JOIN_GROUP");
  }
  return {};
}

}  // namespace

Expected<std::unique_ptr<UdpMulticastSocket>, std::string> UdpMulticastSocket::open(
    runtime::EventLoop& loop, const UdpMulticastConfig& config, ReceiveCallback on_receive) {
  if (!config.group.is_multicast()) return unexpected("not a multicast group: " + config.group.to_string());
  if (config.ttl < 1 || config.ttl > 255) return unexpected(std::string("TTL must be 1..255"));
  const bool v4 = config.group.is_v4();
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  const int on = 1;
  // Several receivers (e.g. PEs and PUs on one host) share the group port.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  // Receivers bind the group address itself so unrelated unicast traffic to the port stays out;
  // senders bind an ephemeral port.
  runtime::SocketAddress bind_to = config.receive ? runtime::SocketAddress::from(config.group, config.port)
                                         : (v4 ? runtime::SocketAddress::any_v4(0) : runtime::SocketAddress::any_v6(0));
  Expected<void, std::string> configured;
  if (::bind(fd, bind_to.get(), bind_to.length) != 0)
    configured = fail("bind");
  else
    configured = v4 ? configure_v4(fd, config) : configure_v6(fd, config);
  if (!configured) {
    ::close(fd);
    return unexpected(configured.error());
  }
  std::unique_ptr<UdpMulticastSocket> s(new UdpMulticastSocket(loop, fd, config, std::move(on_receive)));
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  s->local_port_ = runtime::port_of(reinterpret_cast<sockaddr*>(&local));
  if (s->on_receive_) {  // also send-only sockets: they receive unicast replies on their port
    UdpMulticastSocket* raw = s.get();
    if (!loop.add_fd(fd, EPOLLIN, [raw](std::uint32_t) { raw->on_readable(); })) return fail("epoll");
  }
  return s;
}

UdpMulticastSocket::UdpMulticastSocket(runtime::EventLoop& loop, int fd, const UdpMulticastConfig& config,
                                       ReceiveCallback on_receive)
    : loop_(loop), fd_(fd), config_(config), on_receive_(std::move(on_receive)) {}

UdpMulticastSocket::~UdpMulticastSocket() {
  loop_.remove_fd(fd_);
  ::close(fd_);
}

bool UdpMulticastSocket::send(std::span<const std::uint8_t> datagram) {
  return send_to(config_.group, config_.port, datagram);
}

bool UdpMulticastSocket::send_to(const IpAddress& address, std::uint16_t port, std::span<const std::uint8_t> datagram) {
  runtime::SocketAddress to = runtime::SocketAddress::from(address, port);
  ssize_t n = ::sendto(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL, to.get(), to.length);
  if (n != static_cast<ssize_t>(datagram.size())) {
    ++send_errors_;
    return false;
  }
  ++sent_;
  return true;
}

void UdpMulticastSocket::on_readable() {
  std::vector<std::uint8_t> buffer(config_.max_datagram);
  // Bounded per event; level-triggered epoll brings us back for the rest.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    if (static_cast<std::size_t>(n) > buffer.size()) continue;  // truncated: not a whole message
    auto ip = runtime::ip_of(reinterpret_cast<sockaddr*>(&from));
    if (!ip) continue;
    ++received_;
    if (on_receive_) {
      on_receive_(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)), *ip,
                  runtime::port_of(reinterpret_cast<sockaddr*>(&from)));
    }
  }
}

}  // namespace poolreg::kernel
