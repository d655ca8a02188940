// Kernel steering of a kernel lanes' SO_REUSEPORT group (dataplane/kernel/reuseport_steering.hpp):
// - the cBPF program, run by a small interpreter here on hand-made IP/UDP headers, returns
//   runtime::steer_lane for IPv4 (with and without options) and IPv6, and an index beyond the
//   group (the kernel's own hash) for IPv6 with extension headers and for other versions;
// - on loopback, a group of 2 and of 4 UdpPacketSource sockets with the program attached gets
//   every datagram of many client sockets (different source ports) on socket
//   steer_lane(client address, client port, n): no datagram lands on another lane's socket; for
//   IPv4 on an IPv4 group, and for IPv4 (v4-mapped) and IPv6 on a dual-stack wildcard group;
// - verify_reuseport_steering() passes on such a group.
#include "dataplane/kernel/reuseport_steering.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "dataplane/kernel/udp_packet_source.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::kernel {
namespace {

// A classic BPF interpreter for what the program uses; `net` is the packet from its network
// header on (SKF_NET_OFF + k reads net[k]). A load out of bounds ends the program with 0, as
// in the kernel. nullopt: an instruction this interpreter does not know.
std::optional<std::uint32_t> run(const std::vector<sock_filter>& program, const std::vector<std::uint8_t>& net) {
  std::uint32_t a = 0, x = 0;
  auto load = [&](std::int64_t k, unsigned size, std::uint32_t& out) {
    const std::int64_t off = k - SKF_NET_OFF;
    if (k >= 0 || off < 0 || off + size > static_cast<std::int64_t>(net.size())) return false;
    out = 0;
    for (unsigned i = 0; i < size; ++i) out = (out << 8) | net[static_cast<std::size_t>(off) + i];
    return true;
  };
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& f = program[pc];
    const auto k = static_cast<std::int32_t>(f.k);
    const unsigned size = BPF_SIZE(f.code) == BPF_W ? 4 : BPF_SIZE(f.code) == BPF_H ? 2 : 1;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS) {
          if (!load(k, size, a)) return 0u;
        } else if (BPF_MODE(f.code) == BPF_IND) {
          if (!load(static_cast<std::int64_t>(k) + x, size, a)) return 0u;
        } else {
          return std::nullopt;
        }
        break;
      case BPF_LDX:
        if (BPF_MODE(f.code) != BPF_MSH) return std::nullopt;
        if (!load(k, 1, x)) return 0u;
        x = (x & 0xf) * 4;
        break;
      case BPF_ALU: {
        const std::uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        switch (BPF_OP(f.code)) {
          case BPF_XOR: a ^= v; break;
          case BPF_MUL: a *= v; break;
          case BPF_RSH: a >>= v; break;
          case BPF_MOD: if (v == 0) return 0u; a %= v; break;
          case BPF_ADD: a += v; break;
          default: return std::nullopt;
        }
        break;
      }
      case BPF_JMP:
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
        } else if (BPF_OP(f.code) == BPF_JEQ && BPF_SRC(f.code) == BPF_K) {
          pc += (a == f.k) ? f.jt : f.jf;
        } else {
          return std::nullopt;
        }
        break;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) != BPF_TAX) return std::nullopt;
        x = a;
        break;
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;  // fell off the end
}

std::vector<std::uint8_t> ipv4_udp(const std::array<std::uint8_t, 4>& src, std::uint16_t port, unsigned options_words) {
  std::vector<std::uint8_t> p(20 + 4 * options_words + 8 + 12, 0);
  p[0] = static_cast<std::uint8_t>(0x40 | (5 + options_words));
  p[9] = 17;
  std::memcpy(&p[12], src.data(), 4);
  p[16] = 127;
  p[19] = 1;
  for (unsigned i = 0; i < 4 * options_words; ++i) p[20 + i] = 1;  // NOP options
  const std::size_t udp = 20 + 4 * options_words;
  p[udp] = static_cast<std::uint8_t>(port >> 8);
  p[udp + 1] = static_cast<std::uint8_t>(port);
  p[udp + 2] = 0x26;  // destination 9899
  p[udp + 3] = 0xab;
  return p;
}

std::vector<std::uint8_t> ipv6_udp(const std::array<std::uint8_t, 16>& src, std::uint16_t port, std::uint8_t next) {
  std::vector<std::uint8_t> p(40 + 8 + 12, 0);
  p[0] = 0x60;
  p[6] = next;
  p[7] = 64;
  std::memcpy(&p[8], src.data(), 16);
  p[39] = 1;
  p[40] = static_cast<std::uint8_t>(port >> 8);
  p[41] = static_cast<std::uint8_t>(port);
  return p;
}

TEST(ReuseportSteeringProgram, ComputesSteerLaneForIpv4AndIpv6) {
  for (unsigned lanes : {1u, 2u, 3u, 4u, 16u}) {
    const auto program = reuseport_steering_program(lanes);
    for (std::uint32_t seed = 1; seed < 400; ++seed) {
      const std::uint16_t port = static_cast<std::uint16_t>(seed * 2654435761u >> 8);
      const std::array<std::uint8_t, 4> v4 = {static_cast<std::uint8_t>(seed), static_cast<std::uint8_t>(seed * 7),
                                              static_cast<std::uint8_t>(seed >> 3), static_cast<std::uint8_t>(seed * 13)};
      const unsigned want4 = runtime::steer_lane(v4.data(), false, port, lanes);
      EXPECT_EQ(run(program, ipv4_udp(v4, port, 0)), std::optional<std::uint32_t>(want4)) << lanes << " " << port;
      EXPECT_EQ(run(program, ipv4_udp(v4, port, 3)), std::optional<std::uint32_t>(want4)) << "with IPv4 options";
      std::array<std::uint8_t, 16> v6{};
      for (unsigned i = 0; i < 16; ++i) v6[i] = static_cast<std::uint8_t>(seed * (i + 3) + i);
      const unsigned want6 = runtime::steer_lane(v6.data(), true, port, lanes);
      EXPECT_EQ(run(program, ipv6_udp(v6, port, 17)), std::optional<std::uint32_t>(want6)) << lanes << " " << port;
    }
  }
}

TEST(ReuseportSteeringProgram, FallsBackToTheKernelHashForWhatItCannotRead) {
  const auto program = reuseport_steering_program(4);
  std::array<std::uint8_t, 16> v6{};
  v6[15] = 1;
  EXPECT_EQ(run(program, ipv6_udp(v6, 40000, 0)), std::optional<std::uint32_t>(0xFFFFFFFFu));   // hop-by-hop
  EXPECT_EQ(run(program, ipv6_udp(v6, 40000, 44)), std::optional<std::uint32_t>(0xFFFFFFFFu));  // fragment
  auto other = ipv4_udp({10, 0, 0, 1}, 40000, 0);
  other[0] = 0x55;
  EXPECT_EQ(run(program, other), std::optional<std::uint32_t>(0xFFFFFFFFu));
}

TEST(SteerLane, SequentialPortsOfOneAddressSpreadOverTheLanes) {
  const std::uint8_t nat[4] = {192, 0, 2, 7};
  for (unsigned lanes : {2u, 3u, 4u}) {
    std::vector<unsigned> used(lanes, 0);
    for (std::uint16_t port = 50000; port < 50000 + 64 * lanes; ++port) ++used[runtime::steer_lane(nat, false, port, lanes)];
    for (unsigned k : used) EXPECT_GT(k, 40u) << lanes << " lanes";
  }
}

// A group of `n` UdpPacketSource sockets on `address` (none: the wildcard) with the program.
struct Group {
  std::vector<std::unique_ptr<KernelLaneCounters>> counters;
  std::vector<std::unique_ptr<UdpPacketSource>> sockets;
  std::uint16_t port = 0;
};

Group open_group(unsigned n, const std::optional<IpAddress>& address) {
  Group g;
  for (unsigned i = 0; i < n; ++i) {
    g.counters.push_back(std::make_unique<KernelLaneCounters>());
    auto opened = UdpPacketSource::open(address, g.port, *g.counters.back());
    EXPECT_TRUE(opened) << opened.error();
    if (!opened) return g;
    g.sockets.push_back(std::move(*opened));
    g.port = g.sockets.back()->port();
  }
  auto attached = attach_reuseport_steering(g.sockets.front()->fd(), n);
  EXPECT_TRUE(attached) << attached.error();
  return g;
}

// Sends one datagram from each of `clients` fresh sockets on `from` to the group and checks the
// socket each arrives on.
void expect_steered(Group& g, const IpAddress& from, unsigned clients) {
  const unsigned n = static_cast<unsigned>(g.sockets.size());
  ASSERT_GT(n, 1u);
  std::vector<unsigned> expected_count(n, 0);
  sockaddr_storage to{};
  socklen_t to_len;
  const int family = from.is_v4() ? AF_INET : AF_INET6;
  if (from.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(g.port);
    std::memcpy(&a->sin_addr, from.data(), 4);
    to_len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(g.port);
    std::memcpy(&a->sin6_addr, from.data(), 16);
    to_len = sizeof(sockaddr_in6);
  }
  std::vector<int> fds;
  for (unsigned c = 0; c < clients; ++c) {
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    std::uint8_t datagram[16] = {};
    ASSERT_EQ(::sendto(fd, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&to), to_len),
              static_cast<ssize_t>(sizeof datagram));
  }
  unsigned got = 0, cross = 0;
  for (int round = 0; round < 300 && got < clients; ++round) {
    std::vector<pollfd> p;
    for (auto& s : g.sockets) p.push_back(pollfd{s->fd(), POLLIN, 0});
    ::poll(p.data(), p.size(), 10);
    for (unsigned lane = 0; lane < n; ++lane) {
      g.sockets[lane]->receive([&](const sctp::SctpPacketFrom& f, const std::uint8_t*, std::uint16_t) {
        ++got;
        EXPECT_EQ(f.ipv6, !from.is_v4());
        const unsigned owner = runtime::steer_lane(f.src_ip, f.ipv6, f.src_port, n);
        ++expected_count[owner];
        if (owner != lane) {
          ++cross;
          ADD_FAILURE() << "port " << f.src_port << " of lane " << owner << " arrived on lane " << lane;
        }
      });
    }
  }
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(got, clients);
  EXPECT_EQ(cross, 0u);
  for (unsigned lane = 0; lane < n; ++lane) EXPECT_GT(expected_count[lane], 0u) << "lane " << lane << " got nothing";
}

TEST(ReuseportSteering, EveryDatagramArrivesOnItsLanesSocketIpv4) {
  const IpAddress loopback = IpAddress::v4({127, 0, 0, 1});
  for (unsigned n : {2u, 4u}) {
    Group g = open_group(n, loopback);
    ASSERT_EQ(g.sockets.size(), n);
    expect_steered(g, loopback, 200);
  }
}

TEST(ReuseportSteering, DualStackGroupSteersIpv4AndIpv6) {
  const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (probe < 0) GTEST_SKIP() << "no IPv6";
  ::close(probe);
  Group g = open_group(4, std::nullopt);
  ASSERT_EQ(g.sockets.size(), 4u);
  expect_steered(g, IpAddress::v4({127, 0, 0, 1}), 200);  // v4-mapped on the AF_INET6 sockets: skb is IPv4
  std::array<std::uint8_t, 16> v6_loopback{};
  v6_loopback[15] = 1;
  const int v6 = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 lo{};
  lo.sin6_family = AF_INET6;
  lo.sin6_addr = in6addr_loopback;
  const bool have_v6_loopback = ::bind(v6, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0;
  ::close(v6);
  if (!have_v6_loopback) GTEST_SKIP() << "no ::1";
  expect_steered(g, IpAddress::v6(v6_loopback), 200);
}

TEST(ReuseportSteering, VerifyPassesOnASteeredGroup) {
  const IpAddress loopback = IpAddress::v4({127, 0, 0, 1});
  Group g = open_group(4, loopback);
  ASSERT_EQ(g.sockets.size(), 4u);
  std::vector<int> fds;
  for (auto& s : g.sockets) fds.push_back(s->fd());
  auto verified = verify_reuseport_steering(fds, loopback, g.port);
  EXPECT_TRUE(verified) << verified.error();
  // Lanes in the wrong order are caught.
  std::swap(fds[0], fds[1]);
  EXPECT_FALSE(verify_reuseport_steering(fds, loopback, g.port));
}

}  // namespace
}  // namespace poolreg::kernel
