// RSS that agrees with lane ownership (issue 15 item 3): the Toeplitz key and redirection table
// poolregd programs into a port, and the lane function that predicts where the port puts a peer.
//
// Every association must be handled by one lane (its usrsctp copy), so its owner must be a
// function of the peer alone: frames the peer sends to any of our addresses and associations
// the control lcore opens must agree on it. A NIC's Toeplitz hash covers the destination (our
// address and port) too. It is linear over GF(2), though: an input bit i flips hash bit j
// exactly when key bit i + j is set. The port picks the queue by RETA[hash mod RETA size]; our
// RETA repeats a 64-entry pattern, so only the hash's low 6 bits choose the lane. peer_only_key()
// clears the key bits through which the destination address and port reach those 6 bits (for
// IPv4 and IPv6 4-tuples), so lane = f(source address, source port): the same for every one of
// our addresses and ports, computable before a packet arrives (rss_lane()).
//
// Only SCTP over UDP is predicted this way, per family, when the port hashes that family's UDP
// 4-tuple (RTE_ETH_RSS_NONFRAG_IPV{4,6}_UDP). Native SCTP (protocol 132) keeps software
// steering (runtime::steer_lane): NICs differ there (some do not hash it, some add the
// verification tag), so no function of the peer predicts the queue everywhere.
//
// Pure computation (no ethdev calls): start-up builds it from what the port accepted
// (eal_runtime.cpp); poll lcores and the control lcore then only read it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace poolreg::dpdk {

// Lanes a predicted RETA can serve: the pattern has this many entries (every RETA size DPDK
// ports report is a multiple of 64).
inline constexpr unsigned kRssPatternBits = 6;
inline constexpr unsigned kRssPatternSize = 1u << kRssPatternBits;
inline constexpr std::size_t kRssKeyMinBytes = 40;  // an IPv6 4-tuple (36 bytes) + 4

class RssSteering {
 public:
  // A Toeplitz key of `bytes` (>= kRssKeyMinBytes) whose hash bits below 2^kRssPatternBits do not
  // depend on the destination address or port of an IPv4 or IPv6 UDP 4-tuple.
  static std::vector<std::uint8_t> peer_only_key(std::size_t bytes);
  // RETA entry i of a table of `size` entries (a multiple of kRssPatternSize) for `lanes` lanes.
  static std::uint16_t reta_entry(std::size_t i, unsigned lanes) noexcept {
    return static_cast<std::uint16_t>((i % kRssPatternSize) % lanes);
  }

  // key: what the port hashes with; v4 / v6: whether it hashes that family's UDP 4-tuple.
  RssSteering(std::vector<std::uint8_t> key, unsigned lanes, bool v4, bool v6);

  // Whether frames of this family are predicted (else: software steering).
  bool predicts(bool ipv6) const noexcept { return ipv6 ? v6_ : v4_; }
  unsigned lanes() const noexcept { return lanes_; }
  const std::vector<std::uint8_t>& key() const noexcept { return key_; }

  // The lane the port delivers a UDP datagram from `ip` (network order, 4 or 16 bytes) :
  // `port` (host order) to, whatever our address and port. Only when predicts(ipv6).
  unsigned lane(const std::uint8_t* ip, bool ipv6, std::uint16_t port) const noexcept;

  // The Toeplitz hash a port computes over a full UDP 4-tuple with key `key` (addresses network
  // order, ports host order): for tests and the benchmark, which play the NIC with it.
  static std::uint32_t toeplitz(const std::vector<std::uint8_t>& key, const std::uint8_t* src,
                                const std::uint8_t* dst, bool ipv6, std::uint16_t src_port,
                                std::uint16_t dst_port) noexcept;

 private:
  // The pattern index is linear in the input bytes (Toeplitz is), so it is the XOR of one table
  // entry per source byte: byte_index_[k][value] for source address byte k (IPv4: 0..3, IPv6:
  // 0..15) then the two source port bytes. A few loads per frame instead of a bit loop.
  using ByteTable = std::array<std::uint8_t, 256>;
  std::vector<ByteTable> v4_table_;  // 6 tables
  std::vector<ByteTable> v6_table_;  // 18 tables
  std::vector<std::uint8_t> key_;
  unsigned lanes_;
  bool v4_;
  bool v6_;
};

}  // namespace poolreg::dpdk
