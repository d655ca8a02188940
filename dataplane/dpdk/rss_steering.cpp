#include "dataplane/dpdk/rss_steering.hpp"

#include <rte_thash.h>

#include <cstring>

namespace poolreg::dpdk {
namespace {

// The Microsoft RSS verification key (what most drivers load by default): a key whose bits look
// random, so the source address mixes well; peer_only_key() then clears and sets bands of it.
constexpr std::array<std::uint8_t, 40> kBaseKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// Hash bits are numbered from the most significant (0) to the least (31); the pattern index is
// bits kLow..31. Input bit i reaches them through key bits i + kLow .. i + 31.
constexpr unsigned kLow = 32 - kRssPatternBits;

// Input bit offsets of the UDP 4-tuple fields (source address, destination address, source port,
// destination port, each big-endian), as ports hash them.
constexpr unsigned kV4DstAddr = 32, kV4SrcPort = 64, kV4DstPort = 80, kV4End = 96;
constexpr unsigned kV6DstAddr = 128, kV6SrcPort = 256, kV6DstPort = 272, kV6End = 288;

void set_bits(std::vector<std::uint8_t>& key, unsigned first, unsigned last, bool on) {
  for (unsigned b = first; b <= last && b / 8 < key.size(); ++b) {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (b % 8));
    key[b / 8] =
        on ? static_cast<std::uint8_t>(key[b / 8] | mask) : static_cast<std::uint8_t>(key[b / 8] & ~mask);
  }
}

// Big-endian input bytes → the host-order 32-bit words rte_softrss reads.
std::uint32_t word_at(const std::uint8_t* bytes) noexcept {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         std::uint32_t{bytes[3]};
}

std::uint32_t hash_bytes(const std::vector<std::uint8_t>& key, const std::uint8_t* input,
                         unsigned bytes) noexcept {
  std::uint32_t words[kV6End / 32] = {};
  for (std::size_t w = 0; w < bytes / 4; ++w) words[w] = word_at(input + 4 * w);
  return rte_softrss(words, bytes / 4, key.data());
}

// One table per source byte (address bytes, then the two port bytes): the pattern index that
// byte alone contributes, for each of its 256 values.
std::vector<std::array<std::uint8_t, 256>> byte_tables(const std::vector<std::uint8_t>& key, bool ipv6) {
  const unsigned addr = ipv6 ? 16 : 4;
  const unsigned input_bytes = (ipv6 ? kV6End : kV4End) / 8;
  const unsigned port_at = (ipv6 ? kV6SrcPort : kV4SrcPort) / 8;
  std::vector<std::array<std::uint8_t, 256>> tables(addr + 2);
  for (unsigned k = 0; k < addr + 2; ++k) {
    const unsigned position = k < addr ? k : port_at + (k - addr);
    for (unsigned value = 0; value < 256; ++value) {
      std::uint8_t input[kV6End / 8] = {};
      input[position] = static_cast<std::uint8_t>(value);
      tables[k][value] =
          static_cast<std::uint8_t>(hash_bytes(key, input, input_bytes) & (kRssPatternSize - 1));
    }
  }
  return tables;
}

}  // namespace

std::vector<std::uint8_t> RssSteering::peer_only_key(std::size_t bytes) {
  std::vector<std::uint8_t> key(bytes < kRssKeyMinBytes ? kRssKeyMinBytes : bytes);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = kBaseKey[i % kBaseKey.size()];
  // The destination fields must not reach the pattern index: clear their key bands.
  set_bits(key, kV4DstAddr + kLow, kV4SrcPort - 1 + 31, false);
  set_bits(key, kV4DstPort + kLow, kV4End - 1 + 31, false);
  set_bits(key, kV6DstAddr + kLow, kV6SrcPort - 1 + 31, false);
  set_bits(key, kV6DstPort + kLow, kV6End - 1 + 31, false);
  // What is left for the source port is the band between those (11 bits). All ones there makes
  // the port's low 6 bits map one-to-one onto the index (a triangular matrix with a full
  // diagonal): consecutive ports, as one host or a NAT hands them out, spread evenly over lanes.
  set_bits(key, kV4SrcPort + 31, kV4DstPort + kLow - 1, true);
  set_bits(key, kV6SrcPort + 31, kV6DstPort + kLow - 1, true);
  return key;
}

RssSteering::RssSteering(std::vector<std::uint8_t> key, unsigned lanes, bool v4, bool v6)
    : v4_table_(byte_tables(key, false)),
      v6_table_(byte_tables(key, true)),
      key_(std::move(key)),
      lanes_(lanes == 0 ? 1 : lanes),
      v4_(v4),
      v6_(v6) {}

unsigned RssSteering::lane(const std::uint8_t* ip, bool ipv6, std::uint16_t port) const noexcept {
  const std::vector<ByteTable>& tables = ipv6 ? v6_table_ : v4_table_;
  const unsigned addr = ipv6 ? 16 : 4;
  unsigned index = 0;
  for (unsigned k = 0; k < addr; ++k) index ^= tables[k][ip[k]];
  index ^= tables[addr][port >> 8];
  index ^= tables[addr + 1][port & 0xffu];
  return reta_entry(index, lanes_);
}

std::uint32_t RssSteering::toeplitz(const std::vector<std::uint8_t>& key, const std::uint8_t* src,
                                    const std::uint8_t* dst, bool ipv6, std::uint16_t src_port,
                                    std::uint16_t dst_port) noexcept {
  std::uint8_t input[kV6End / 8] = {};
  const std::size_t addr = ipv6 ? 16 : 4;
  std::memcpy(input, src, addr);
  std::memcpy(input + addr, dst, addr);
  input[2 * addr] = static_cast<std::uint8_t>(src_port >> 8);
  input[2 * addr + 1] = static_cast<std::uint8_t>(src_port);
  input[2 * addr + 2] = static_cast<std::uint8_t>(dst_port >> 8);
  input[2 * addr + 3] = static_cast<std::uint8_t>(dst_port);
  return hash_bytes(key, input, static_cast<unsigned>(2 * addr + 4));
}

}  // namespace poolreg::dpdk
