// receive_batch(): one non-blocking recvmmsg of up to N datagrams / raw packets into a source's
// fixed receive slots (message headers, one iovec each, a source-address slot each). Shared by
// the kernel packet sources (udp_packet_source.hpp, raw_sctp_source.hpp), which differ in what
// they read from the bytes, not in how they read them.
//
// Threading: the caller's thread; touches only the arrays it is given.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>

namespace poolreg::kernel {

// Returns the number of messages read (0: nothing waiting, or an error). iov[i] must point at
// slot i's buffer already; msgs[i].msg_len and msg_flags tell each message's length and MSG_TRUNC.
template <std::size_t N, typename Name>
unsigned receive_batch(int fd, std::array<mmsghdr, N>& msgs, std::array<iovec, N>& iov, std::array<Name, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    msghdr& h = msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &names[i];
    h.msg_namelen = sizeof names[i];
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    msgs[i].msg_len = 0;
  }
  const int n = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(N), MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<unsigned>(n) : 0;
}

// The same with one ancillary-data buffer per slot (control[i], e.g. for IPV6_PKTINFO): each
// message's msg_control / msg_controllen tell what the kernel put there.
template <std::size_t N, typename Name, typename Control>
unsigned receive_batch(int fd, std::array<mmsghdr, N>& msgs, std::array<iovec, N>& iov,
                       std::array<Name, N>& names, std::array<Control, N>& control) {
  for (std::size_t i = 0; i < N; ++i) {
    msghdr& h = msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &names[i];
    h.msg_namelen = sizeof names[i];
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    h.msg_control = control[i].data();
    h.msg_controllen = control[i].size();
    msgs[i].msg_len = 0;
  }
  const int n = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(N), MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<unsigned>(n) : 0;
}

}  // namespace poolreg::kernel
