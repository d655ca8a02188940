#include "dataplane/kernel/reuseport_steering.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "dataplane/runtime/socket_address.hpp"
#include "dataplane/runtime/errno_text.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::kernel {
namespace {

constexpr std::uint32_t kFallback = 0xFFFFFFFFu;  // >= the group's size: the kernel's own hash
constexpr std::uint8_t kIpProtoUdp = 17;

sock_filter stmt(std::uint16_t code, std::uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}
constexpr std::uint32_t net(std::int32_t offset) { return static_cast<std::uint32_t>(SKF_NET_OFF + offset); }

}  // namespace

std::vector<sock_filter> reuseport_steering_program(unsigned lanes) {
  if (lanes == 0) lanes = 1;
  // Jump offsets count from the next instruction (the numbers on the left); the tests run the
  // program against runtime::steer_lane for IPv4, IPv6 and the fallbacks.
  return {
      /*  0 */ stmt(BPF_LD | BPF_B | BPF_ABS, net(0)),                // A = version << 4 | IHL
      /*  1 */ stmt(BPF_ALU | BPF_RSH | BPF_K, 4),                   // A = IP version
      /*  2 */ jump(BPF_JMP | BPF_JEQ | BPF_K, 4, 16, 0),            // IPv4 -> 19
      /*  3 */ jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 24),            // neither -> 28
      // IPv6: the UDP header right after the fixed header only.
      /*  4 */ stmt(BPF_LD | BPF_B | BPF_ABS, net(6)),                // A = next header
      /*  5 */ jump(BPF_JMP | BPF_JEQ | BPF_K, kIpProtoUdp, 0, 22),  // not UDP -> 28
      /*  6 */ stmt(BPF_LD | BPF_W | BPF_ABS, net(8)),                // source address, word 0
      /*  7 */ stmt(BPF_MISC | BPF_TAX, 0),
      /*  8 */ stmt(BPF_LD | BPF_W | BPF_ABS, net(12)),               // word 1
      /*  9 */ stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      /* 10 */ stmt(BPF_MISC | BPF_TAX, 0),
      /* 11 */ stmt(BPF_LD | BPF_W | BPF_ABS, net(16)),               // word 2
      /* 12 */ stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      /* 13 */ stmt(BPF_MISC | BPF_TAX, 0),
      /* 14 */ stmt(BPF_LD | BPF_W | BPF_ABS, net(20)),               // word 3
      /* 15 */ stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      /* 16 */ stmt(BPF_MISC | BPF_TAX, 0),                          // X = XOR of the words
      /* 17 */ stmt(BPF_LD | BPF_H | BPF_ABS, net(40)),               // A = UDP source port
      /* 18 */ stmt(BPF_JMP | BPF_JA, 4),                            // -> 23
      // IPv4 (options allowed: the UDP header follows the IHL).
      /* 19 */ stmt(BPF_LDX | BPF_B | BPF_MSH, net(0)),               // X = 4 * IHL
      /* 20 */ stmt(BPF_LD | BPF_H | BPF_IND, net(0)),                // A = UDP source port
      /* 21 */ stmt(BPF_MISC | BPF_TAX, 0),
      /* 22 */ stmt(BPF_LD | BPF_W | BPF_ABS, net(12)),               // A = source address
      // A ^ X = the address words ^ the port; then runtime::steer_hash's multiply and shift.
      /* 23 */ stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
      /* 24 */ stmt(BPF_ALU | BPF_MUL | BPF_K, runtime::kSteerLaneMultiplier),
      /* 25 */ stmt(BPF_ALU | BPF_RSH | BPF_K, 16),
      /* 26 */ stmt(BPF_ALU | BPF_MOD | BPF_K, lanes),
      /* 27 */ stmt(BPF_RET | BPF_A, 0),                             // the lane = the socket's index
      /* 28 */ stmt(BPF_RET | BPF_K, kFallback),                     // the kernel's own hash
  };
}

Expected<void, std::string> attach_reuseport_steering(int fd, unsigned lanes) {
  std::vector<sock_filter> program = reuseport_steering_program(lanes);
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
    return unexpected(std::string("SO_ATTACH_REUSEPORT_CBPF: ") + runtime::errno_text(errno));
  return {};
}

void detach_reuseport_steering(int fd) {
  int unused = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof unused);
}

Expected<void, std::string> verify_reuseport_steering(const std::vector<int>& fds, const IpAddress& to,
                                                      std::uint16_t port) {
  const unsigned lanes = static_cast<unsigned>(fds.size());
  if (lanes <= 1) return {};
  const runtime::SocketAddress target = runtime::SocketAddress::from(to, port);
  std::vector<bool> seen(lanes, false);
  unsigned covered = 0;
  static constexpr char kMagic[8] = {'p', 'r', 'g', 's', 't', 'e', 'e', 'r'};
  // Probe sources on the target's own address: the program sees the address steer_lane is given.
  for (int attempt = 0; attempt < 2048 && covered < lanes; ++attempt) {
    const int c = ::socket(target.family(), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (c < 0) return unexpected(std::string("probe socket: ") + runtime::errno_text(errno));
    const runtime::SocketAddress local = runtime::SocketAddress::from(to, 0);
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::bind(c, local.get(), local.length) != 0 || ::getsockname(c, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      const int e = errno;
      ::close(c);
      return unexpected("probe bind to " + runtime::to_string(local.get()) + ": " + runtime::errno_text(e));
    }
    const std::uint16_t from_port = runtime::port_of(reinterpret_cast<sockaddr*>(&bound));
    const unsigned expected = runtime::steer_lane(to.data(), !to.is_v4(), from_port, lanes);
    if (seen[expected]) {
      ::close(c);
      continue;
    }
    char probe[10];
    std::memcpy(probe, kMagic, 8);
    probe[8] = static_cast<char>(from_port >> 8);
    probe[9] = static_cast<char>(from_port);
    if (::sendto(c, probe, sizeof probe, 0, target.get(), target.length) != static_cast<ssize_t>(sizeof probe)) {
      const int e = errno;
      ::close(c);
      return unexpected("probe to " + runtime::to_string(target.get()) + ": " + runtime::errno_text(e));
    }
    ::close(c);
    // Wait for it on any socket of the group (others' datagrams that come by are dropped: the
    // lanes have not started, their peers retransmit).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    int arrived = -1;
    while (arrived < 0 && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> pfds;
      for (int fd : fds) pfds.push_back(pollfd{fd, POLLIN, 0});
      if (::poll(pfds.data(), pfds.size(), 50) <= 0) continue;
      for (unsigned i = 0; i < lanes && arrived < 0; ++i) {
        if ((pfds[i].revents & POLLIN) == 0) continue;
        char buffer[16];
        sockaddr_storage from{};
        socklen_t from_len;
        for (;;) {
          from_len = sizeof from;
          const ssize_t n = ::recvfrom(fds[i], buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                                       &from_len);
          if (n < 0) break;
          if (n == static_cast<ssize_t>(sizeof probe) && std::memcmp(buffer, probe, sizeof probe) == 0) {
            arrived = static_cast<int>(i);
            break;
          }
        }
      }
    }
    if (arrived < 0) return unexpected("probe from port " + std::to_string(from_port) + " did not arrive");
    if (static_cast<unsigned>(arrived) != expected)
      return unexpected("probe from port " + std::to_string(from_port) + " for lane " + std::to_string(expected) +
                        " arrived on lane " + std::to_string(arrived) + "'s socket");
    seen[expected] = true;
    ++covered;
  }
  if (covered < lanes) return unexpected(std::string("no probe port found for every lane"));
  return {};
}

}  // namespace poolreg::kernel
