#include "dataplane/kernel/udp_packet_source.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dataplane/kernel/receive_batch.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "dataplane/runtime/errno_text.hpp"

namespace poolreg::kernel {
namespace {

constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The destination of one datagram in the socket's family (IPv4 peers of a dual-stack socket as
// v4-mapped IPv6).
socklen_t fill_destination(sockaddr_storage& out, const sctp::SctpPeer& to, bool ipv6_socket) {
  std::memset(&out, 0, sizeof out);
  if (ipv6_socket) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(to.udp_port);
    if (to.ipv6) {
      std::memcpy(&a->sin6_addr, to.ip, 16);
    } else {
      std::memcpy(&a->sin6_addr, kV4MappedPrefix, 12);
      std::memcpy(reinterpret_cast<std::uint8_t*>(&a->sin6_addr) + 12, to.ip, 4);
    }
    return sizeof(sockaddr_in6);
  }
  if (to.ipv6) return 0;  // an IPv4 socket cannot reach it
  auto* a = reinterpret_cast<sockaddr_in*>(&out);
  a->sin_family = AF_INET;
  a->sin_port = htons(to.udp_port);
  std::memcpy(&a->sin_addr, to.ip, 4);
  return sizeof(sockaddr_in);
}

}  // namespace

Expected<std::unique_ptr<UdpPacketSource>, std::string> UdpPacketSource::open(const std::optional<IpAddress>& address,
                                                                              std::uint16_t port,
                                                                              KernelLaneCounters& counters) {
  runtime::SocketAddress bind_to = address ? runtime::SocketAddress::from(*address, port) : runtime::SocketAddress::any_v6(port);
  int fd = ::socket(bind_to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0 && !address) {  // no IPv6 on this host
    bind_to = runtime::SocketAddress::any_v4(port);
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  }
  if (fd < 0) return unexpected(std::string("UDP socket: ") + runtime::errno_text(errno));
  const int on = 1, off = 0;
  // One SO_REUSEPORT group: every lane's socket on the same port, the kernel spreads peers.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (bind_to.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  const int buffer = 4 << 20;  // bursts of many peers: do not drop in the kernel
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  if (::bind(fd, bind_to.get(), bind_to.length) != 0) {
    const int e = errno;
    ::close(fd);
    return unexpected("UDP bind to " + runtime::to_string(bind_to.get()) + ": " + runtime::errno_text(e));
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  return std::unique_ptr<UdpPacketSource>(new UdpPacketSource(
      fd, runtime::port_of(reinterpret_cast<sockaddr*>(&local)), bind_to.family() == AF_INET6, counters));
}

Expected<void, std::string> UdpPacketSource::check_port_free(const std::optional<IpAddress>& address,
                                                             std::uint16_t port) {
  if (port == 0) return {};
  runtime::SocketAddress probe = address ? runtime::SocketAddress::from(*address, port) : runtime::SocketAddress::any_v6(port);
  int fd = ::socket(probe.family(), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0 && !address) {
    probe = runtime::SocketAddress::any_v4(port);
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  }
  if (fd < 0) return unexpected(std::string("UDP socket: ") + runtime::errno_text(errno));
  const int off = 0;
  if (probe.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  const bool free = ::bind(fd, probe.get(), probe.length) == 0;
  const int e = errno;
  ::close(fd);
  if (!free) return unexpected("UDP port " + std::to_string(port) + " (" + runtime::to_string(probe.get()) + "): " + runtime::errno_text(e));
  return {};
}

UdpPacketSource::UdpPacketSource(int fd, std::uint16_t port, bool ipv6_socket, KernelLaneCounters& counters)
    : fd_(fd),
      port_(port),
      ipv6_socket_(ipv6_socket),
      counters_(counters),
      rx_buffers_(kBurst * kMaxDatagram),
      tx_buffers_(kBurst * kMaxDatagram) {
  for (unsigned i = 0; i < kBurst; ++i) {
    rx_iov_[i] = iovec{rx_buffers_.data() + i * kMaxDatagram, kMaxDatagram};
    tx_iov_[i] = iovec{tx_buffers_.data() + i * kMaxDatagram, 0};
  }
}

UdpPacketSource::~UdpPacketSource() {
  if (fd_ >= 0) ::close(fd_);
}

unsigned UdpPacketSource::read_batch() { return receive_batch(fd_, rx_msgs_, rx_iov_, rx_from_); }

bool UdpPacketSource::parse(unsigned i, sctp::SctpPacketFrom& from) const {
  const mmsghdr& m = rx_msgs_[i];
  counters_.rx_packets.add();
  counters_.rx_bytes.add(m.msg_len);
  if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0 || m.msg_len > kMaxDatagram) {
    counters_.drop_truncated.add();
    return false;
  }
  if (m.msg_len < 12) {  // SCTP common header
    counters_.drop_too_short.add();
    return false;
  }
  const auto* sa = reinterpret_cast<const sockaddr*>(&rx_from_[i]);
  if (sa->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
    const auto* ip = reinterpret_cast<const std::uint8_t*>(&a->sin6_addr);
    if (std::memcmp(ip, kV4MappedPrefix, 12) == 0) {
      from.ipv6 = false;
      std::memcpy(from.src_ip, ip + 12, 4);
    } else {
      from.ipv6 = true;
      std::memcpy(from.src_ip, ip, 16);
    }
    from.src_port = ntohs(a->sin6_port);
  } else if (sa->sa_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(sa);
    from.ipv6 = false;
    std::memcpy(from.src_ip, &a->sin_addr, 4);
    from.src_port = ntohs(a->sin_port);
  } else {
    counters_.drop_too_short.add();
    return false;
  }
  // Our address is the kernel's business on the way back (dst_ip stays unspecified).
  from.path_index = 0;
  return true;
}

bool UdpPacketSource::send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) {
  if (length > kMaxDatagram || to.udp_port == 0) {  // port 0: a native peer, not ours to reach
    counters_.drop_tx_failed.add();
    return false;
  }
  if (tx_count_ == kBurst) flush();
  const unsigned i = tx_count_;
  const socklen_t to_len = fill_destination(tx_to_[i], to, ipv6_socket_);
  if (to_len == 0) {
    counters_.drop_tx_failed.add();
    return false;
  }
  std::memcpy(tx_iov_[i].iov_base, packet, length);
  tx_iov_[i].iov_len = length;
  msghdr& h = tx_msgs_[i].msg_hdr;
  h = msghdr{};
  h.msg_name = &tx_to_[i];
  h.msg_namelen = to_len;
  h.msg_iov = &tx_iov_[i];
  h.msg_iovlen = 1;
  ++tx_count_;
  return true;
}

void UdpPacketSource::flush() {
  unsigned done = 0;
  // Bounded: a datagram the kernel refuses is dropped (SCTP retransmits), the rest go on.
  for (int attempt = 0; attempt < 2 * static_cast<int>(kBurst) && done < tx_count_; ++attempt) {
    const int n = ::sendmmsg(fd_, tx_msgs_.data() + done, tx_count_ - done, MSG_DONTWAIT);
    if (n > 0) {
      for (unsigned k = done; k < done + static_cast<unsigned>(n); ++k) {
        counters_.tx_packets.add();
        counters_.tx_bytes.add(tx_iov_[k].iov_len);
      }
      done += static_cast<unsigned>(n);
    } else {
      counters_.drop_tx_failed.add();  // the first of the rest failed: skip it
      ++done;
    }
  }
  if (done < tx_count_) counters_.drop_tx_failed.add(tx_count_ - done);
  tx_count_ = 0;
}

}  // namespace poolreg::kernel
