// Hand-built test frames (independent of frame_builder.cpp: own byte layout and own Internet
// checksum), so the parser and the builders are checked against an outside reference.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace poolreg::dpdk::test {

using Bytes = std::vector<std::uint8_t>;

inline const std::uint8_t kOurMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
inline const std::uint8_t kPeerMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
inline const std::uint8_t kOurIp[4] = {10, 99, 0, 1};
inline const std::uint8_t kPeerIp[4] = {10, 99, 0, 2};
inline const std::uint8_t kOurIp6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline const std::uint8_t kPeerIp6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

inline std::uint16_t internet_checksum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
inline void append(Bytes& b, const std::uint8_t* p, std::size_t n) { b.insert(b.end(), p, p + n); }

inline Bytes ethernet(const std::uint8_t* dst, const std::uint8_t* src, std::uint16_t type) {
  Bytes b;
  append(b, dst, 6);
  append(b, src, 6);
  b.push_back(static_cast<std::uint8_t>(type >> 8));
  b.push_back(static_cast<std::uint8_t>(type));
  return b;
}

inline Bytes arp_request(const std::uint8_t* target_ip) {
  static const std::uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Bytes b = ethernet(kBroadcast, kPeerMac, 0x0806);
  const std::uint8_t head[8] = {0, 1, 0x08, 0, 6, 4, 0, 1};
  append(b, head, 8);
  append(b, kPeerMac, 6);
  append(b, kPeerIp, 4);
  const std::uint8_t zero[6] = {};
  append(b, zero, 6);
  append(b, target_ip, 4);
  b.resize(60, 0);  // Ethernet padding
  return b;
}

// IPv4 header + l4 bytes (checksum of the IP header filled in).
inline Bytes ipv4_frame(std::uint8_t protocol, const Bytes& l4, const std::uint8_t* dst_ip = kOurIp,
                        std::uint16_t frag = 0x4000) {
  Bytes b = ethernet(kOurMac, kPeerMac, 0x0800);
  const std::size_t ip = b.size();
  b.resize(ip + 20, 0);
  b[ip] = 0x45;
  put16(b, ip + 2, static_cast<std::uint16_t>(20 + l4.size()));
  put16(b, ip + 6, frag);
  b[ip + 8] = 64;
  b[ip + 9] = protocol;
  std::memcpy(&b[ip + 12], kPeerIp, 4);
  std::memcpy(&b[ip + 16], dst_ip, 4);
  put16(b, ip + 10, internet_checksum(&b[ip], 20));
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

inline Bytes icmp_echo_request(std::size_t data_bytes = 24) {
  Bytes l4(8 + data_bytes, 0);
  l4[0] = 8;
  put16(l4, 4, 0x1234);
  put16(l4, 6, 7);
  for (std::size_t i = 0; i < data_bytes; ++i) l4[8 + i] = static_cast<std::uint8_t>(i);
  put16(l4, 2, internet_checksum(l4.data(), l4.size()));
  return l4;
}

// A plausible SCTP packet (common header + a DATA-like chunk); contents are opaque to the parser.
inline Bytes sctp_packet(std::size_t bytes = 48) {
  Bytes p(bytes, 0);
  put16(p, 0, 40000);
  put16(p, 2, 3863);
  for (std::size_t i = 12; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(i * 7);
  return p;
}

// UDP datagram with the IPv4 pseudo-header checksum (0 = leave the checksum 0).
inline Bytes udp_v4(const Bytes& payload, std::uint16_t dst_port = 9899, bool checksum = true,
                    const std::uint8_t* dst_ip = kOurIp) {
  Bytes u(8, 0);
  put16(u, 0, 50000);
  put16(u, 2, dst_port);
  put16(u, 4, static_cast<std::uint16_t>(8 + payload.size()));
  u.insert(u.end(), payload.begin(), payload.end());
  if (checksum) {
    std::uint32_t sum = 0;
    sum += get16(kPeerIp) + get16(kPeerIp + 2) + get16(dst_ip) + get16(dst_ip + 2) + 17 + u.size();
    std::uint16_t c = internet_checksum(u.data(), u.size(), sum);
    put16(u, 6, c == 0 ? 0xffff : c);
  }
  return u;
}

inline Bytes ipv6_frame(std::uint8_t next, const Bytes& l4, const std::uint8_t* dst = kOurIp6,
                        const std::uint8_t* dst_mac = kOurMac, std::uint8_t hop_limit = 64) {
  Bytes b = ethernet(dst_mac, kPeerMac, 0x86dd);
  const std::size_t ip = b.size();
  b.resize(ip + 40, 0);
  b[ip] = 0x60;
  put16(b, ip + 4, static_cast<std::uint16_t>(l4.size()));
  b[ip + 6] = next;
  b[ip + 7] = hop_limit;
  std::memcpy(&b[ip + 8], kPeerIp6, 16);
  std::memcpy(&b[ip + 24], dst, 16);
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// Fills the ICMPv6/UDP checksum of an IPv6 frame built by ipv6_frame (l4 checksum at offset).
inline void fix_ipv6_l4_checksum(Bytes& f, std::size_t checksum_offset_in_l4) {
  const std::size_t ip = 14, l4 = ip + 40;
  const std::size_t len = f.size() - l4;
  f[l4 + checksum_offset_in_l4] = f[l4 + checksum_offset_in_l4 + 1] = 0;
  std::uint32_t sum = 0;
  for (int i = 0; i < 32; i += 2) sum += get16(&f[ip + 8 + i]);
  sum += static_cast<std::uint32_t>(len) + f[ip + 6];
  std::uint16_t c = internet_checksum(&f[l4], len, sum);
  if (c == 0 && f[ip + 6] == 17) c = 0xffff;
  put16(f, l4 + checksum_offset_in_l4, c);
}

}  // namespace poolreg::dpdk::test
