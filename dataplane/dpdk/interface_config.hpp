// InterfaceConfig: who we are on one DPDK port: our MAC, the IPv4/IPv6 addresses we answer for
// (ARP, ICMP echo, neighbour solicitation, SCTP over UDP and native), the accepted VLAN, the
// SCTP-over-UDP port (RFC 6951) and whether native SCTP is taken. Built once at start-up; read-only afterwards (shared by every lcore).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace poolreg::dpdk {

using MacAddress = std::array<std::uint8_t, 6>;
using Ipv6Bytes = std::array<std::uint8_t, 16>;

struct InterfaceConfig {
  MacAddress mac{};
  std::vector<std::uint32_t> ipv4;  // network byte order, as in the IPv4 header
  std::vector<Ipv6Bytes> ipv6;
  // 0 = untagged frames only (tagged ones are dropped and counted); otherwise frames tagged with
  // exactly this VLAN id are accepted (and untagged ones still are), other tags are dropped.
  std::uint16_t vlan_id = 0;
  std::uint16_t sctp_udp_port = 9899;  // host order
  // Native SCTP (IP protocol 132) frames to our addresses go to the engine; false: dropped as
  // unsupported_protocol (asap.sctp_native and enrp.sctp_native both off).
  bool sctp_native = false;
  std::uint16_t mtu = 1500;

  bool owns_ipv4(std::uint32_t be_address) const noexcept {
    for (std::uint32_t a : ipv4)
      if (a == be_address) return true;
    return false;
  }
  bool owns_ipv6(const std::uint8_t* address) const noexcept {
    for (const Ipv6Bytes& a : ipv6)
      if (std::memcmp(a.data(), address, 16) == 0) return true;
    return false;
  }
  // ff02::1:ffXX:XXXX for one of our addresses (neighbour solicitations are sent there).
  bool owns_solicited_node(const std::uint8_t* address) const noexcept {
    static constexpr std::uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    if (std::memcmp(address, kPrefix, 13) != 0) return false;
    for (const Ipv6Bytes& a : ipv6)
      if (std::memcmp(a.data() + 13, address + 13, 3) == 0) return true;
    return false;
  }
};

}  // namespace poolreg::dpdk
