#include "dataplane/kernel/raw_sctp_source.hpp"

#include <linux/filter.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dataplane/kernel/receive_batch.hpp"
#include "dataplane/runtime/errno_text.hpp"

namespace poolreg::kernel {
namespace {

// A send-only socket accepts nothing: "return 0" drops every packet before it is queued.
bool attach_drop_all(int fd) {
  sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
  sock_fprog program{1, &drop_all};
  return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0;
}

int open_raw(int family) { return ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP); }

}  // namespace

bool host_kernel_sctp_loaded() {
  std::error_code ec;
  return std::filesystem::exists("/sys/module/sctp", ec) || std::filesystem::exists("/proc/net/sctp", ec);
}

Expected<std::unique_ptr<RawSctpSource>, std::string> RawSctpSource::open(std::uint8_t path_index, bool receive,
                                                                          KernelLaneCounters& counters) {
  const int fd4 = open_raw(AF_INET);
  if (fd4 < 0) return unexpected("raw IPv4 socket for SCTP (IP protocol 132): " + runtime::errno_text(errno));
  int fd6 = open_raw(AF_INET6);  // none on a host without IPv6: IPv4 only
  const int buffer = 4 << 20;
  for (int fd : {fd4, fd6}) {
    if (fd < 0) continue;
    if (!receive && !attach_drop_all(fd)) {
      const int e = errno;
      ::close(fd4);
      if (fd6 >= 0) ::close(fd6);
      return unexpected("raw SCTP socket: SO_ATTACH_FILTER: " + runtime::errno_text(e));
    }
    ::setsockopt(fd, SOL_SOCKET, receive ? SO_RCVBUF : SO_SNDBUF, &buffer, sizeof buffer);
  }
  const int on = 1;  // an IPv6 packet's destination address (IPv4 packets carry their header)
  if (receive && fd6 >= 0) ::setsockopt(fd6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  return std::unique_ptr<RawSctpSource>(new RawSctpSource(fd4, fd6, path_index, counters));
}

RawSctpSource::RawSctpSource(int fd4, int fd6, std::uint8_t path_index, KernelLaneCounters& counters)
    : fd4_(fd4), fd6_(fd6), path_index_(path_index), counters_(counters), rx_buffers_(kBurst * kMaxPacket) {
  for (unsigned i = 0; i < kBurst; ++i) rx_iov_[i] = iovec{rx_buffers_.data() + i * kMaxPacket, kMaxPacket};
}

RawSctpSource::~RawSctpSource() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}


bool RawSctpSource::usable(const sctp::NativePacket& p) {
  switch (p.drop) {
    case sctp::NativeDrop::kNone:
      return true;
    case sctp::NativeDrop::kTruncated:
      counters_.native_drop_truncated.add();
      return false;
    case sctp::NativeDrop::kMalformed:
      counters_.native_drop_malformed.add();
      return false;
    case sctp::NativeDrop::kBadCrc:
      counters_.native_drop_bad_crc.add();
      return false;
  }
  return false;
}

bool RawSctpSource::send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) {
  sockaddr_storage dst{};
  socklen_t dst_len = 0;
  int fd = -1;
  if (to.ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&dst);
    a->sin6_family = AF_INET6;  // sin6_port must be 0 on a raw socket (or the protocol)
    std::memcpy(&a->sin6_addr, to.ip, 16);
    dst_len = sizeof(sockaddr_in6);
    fd = fd6_;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&dst);
    a->sin_family = AF_INET;
    std::memcpy(&a->sin_addr, to.ip, 4);
    dst_len = sizeof(sockaddr_in);
    fd = fd4_;
  }
  if (fd < 0 || length > kMaxPacket ||
      ::sendto(fd, packet, length, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&dst), dst_len) != length) {
    counters_.native_drop_tx_failed.add();
    return false;
  }
  counters_.native_out.add();
  return true;
}

}  // namespace poolreg::kernel
