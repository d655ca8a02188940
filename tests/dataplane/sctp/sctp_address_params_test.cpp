// read_listed_addresses(): the IPv4 / IPv6 Address parameters of an INIT / INIT ACK in a raw SCTP
// packet (RFC 9260 §3.3.2, §3.3.3), built here byte by byte; malformed chunks are errors, never
// reads outside the packet. Every truncation of a valid packet is tried.
#include "dataplane/sctp/sctp_address_params.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace poolreg::sctp {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A packet from SCTP port `port` holding one chunk of `type` with `params` (already encoded).
// The chunk length leaves out the last parameter's padding, as RFC 9260 says; `pad_packet` adds
// that padding after the chunk.
Bytes handshake(std::uint8_t type, const Bytes& params, std::uint16_t port = 7, bool pad_packet = true) {
  const std::size_t chunk_length = kSctpInitFixedSize + params.size();
  Bytes p(12 + chunk_length + (pad_packet ? (4 - chunk_length % 4) % 4 : 0), 0);
  p[0] = static_cast<std::uint8_t>(port >> 8);
  p[1] = static_cast<std::uint8_t>(port);
  p[2] = 3863 >> 8;
  p[3] = 3863 & 0xff;
  p[12] = type;
  p[14] = static_cast<std::uint8_t>(chunk_length >> 8);
  p[15] = static_cast<std::uint8_t>(chunk_length);
  for (std::size_t i = 16; i < 32; ++i) p[i] = static_cast<std::uint8_t>(i);  // tag, a_rwnd, streams, TSN
  std::copy(params.begin(), params.end(), p.begin() + 32);
  return p;
}

Bytes v4_param(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return Bytes{0, kSctpParamIpv4Address, 0, 8, a, b, c, d};
}

Bytes v6_param(std::uint8_t last, std::uint8_t first = 0x20) {
  Bytes p(20, 0);
  p[1] = kSctpParamIpv6Address;
  p[3] = 20;
  p[4] = first;
  p[19] = last;
  return p;
}

// Any other parameter, e.g. a State Cookie of `n` bytes (padded to 4 unless it is the last).
Bytes other_param(std::uint8_t type, std::size_t n, bool padded = true) {
  Bytes p(4 + n + (padded ? (4 - n % 4) % 4 : 0), 0);
  p[1] = type;
  p[2] = static_cast<std::uint8_t>((4 + n) >> 8);
  p[3] = static_cast<std::uint8_t>(4 + n);
  std::fill_n(p.begin() + 4, n, 0xab);
  return p;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& b : parts) out.insert(out.end(), b.begin(), b.end());
  return out;
}

IpAddress v6(std::uint8_t last, std::uint8_t first = 0x20) {
  std::array<std::uint8_t, 16> b{};
  b[0] = first;
  b[15] = last;
  return IpAddress::v6(b);
}

TEST(SctpAddressParams, InitListsIpv4AndIpv6InOrder) {
  const Bytes p =
      handshake(kSctpChunkInit,
                cat({v4_param(127, 0, 0, 1), other_param(12, 4), v6_param(2), v4_param(192, 0, 2, 2)}), 4711);
  ASSERT_TRUE(starts_with_handshake_chunk(p));
  auto r = read_listed_addresses(p);
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->chunk, HandshakeChunk::kInit);
  EXPECT_EQ(r->peer_port, 4711);
  EXPECT_EQ(r->addresses,
            (std::vector<IpAddress>{IpAddress::v4(0x7f000001u), v6(2), IpAddress::v4({192, 0, 2, 2})}));
  EXPECT_EQ(r->skipped, 0u);
}

TEST(SctpAddressParams, InitAckWithUnpaddedCookieLast) {
  // The State Cookie comes last with 5 bytes: the chunk length leaves out its 3 padding bytes.
  const Bytes p = handshake(kSctpChunkInitAck, cat({v4_param(10, 0, 0, 1), other_param(7, 5, false)}));
  EXPECT_EQ(p.size() % 4, 0u);
  auto r = read_listed_addresses(p);
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->chunk, HandshakeChunk::kInitAck);
  EXPECT_EQ(r->addresses, std::vector<IpAddress>{IpAddress::v4({10, 0, 0, 1})});
  // The same without the padding in the packet either: still readable (usrsctp judges the packet).
  auto unpadded = read_listed_addresses(
      handshake(kSctpChunkInitAck, cat({v4_param(10, 0, 0, 1), other_param(7, 5, false)}), 7, false));
  ASSERT_TRUE(unpadded);
  EXPECT_EQ(unpadded->addresses.size(), 1u);
}

TEST(SctpAddressParams, WildcardMulticastBroadcastAndDuplicatesAreSkipped) {
  const Bytes p = handshake(
      kSctpChunkInit, cat({v4_param(0, 0, 0, 0), v4_param(224, 0, 0, 1), v4_param(255, 255, 255, 255),
                           v6_param(0, 0), v6_param(1, 0xff), v4_param(10, 0, 0, 1), v4_param(10, 0, 0, 1)}));
  auto r = read_listed_addresses(p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->addresses, std::vector<IpAddress>{IpAddress::v4({10, 0, 0, 1})});
  EXPECT_EQ(r->skipped, 6u);
}

TEST(SctpAddressParams, AtMostTheBoundIsKept) {
  Bytes params;
  for (std::uint8_t i = 1; i <= kMaxListedAddresses + 5; ++i) {
    const Bytes one = v4_param(10, 0, 0, i);
    params.insert(params.end(), one.begin(), one.end());
  }
  auto r = read_listed_addresses(handshake(kSctpChunkInit, params));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->addresses.size(), kMaxListedAddresses);
  EXPECT_EQ(r->addresses.back(), IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(kMaxListedAddresses)}));
  EXPECT_EQ(r->skipped, 5u);
}

TEST(SctpAddressParams, OtherChunksListNothing) {
  Bytes data = handshake(kSctpChunkInit, v4_param(10, 0, 0, 1));
  data[12] = 0;  // DATA
  EXPECT_FALSE(starts_with_handshake_chunk(data));
  auto r = read_listed_addresses(data);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->chunk, HandshakeChunk::kNone);
  EXPECT_TRUE(r->addresses.empty());
  // A bare common header: no chunk at all.
  auto header_only = read_listed_addresses(std::span<const std::uint8_t>(data.data(), 12));
  ASSERT_TRUE(header_only);
  EXPECT_EQ(header_only->chunk, HandshakeChunk::kNone);
  EXPECT_FALSE(read_listed_addresses(std::span<const std::uint8_t>(data.data(), 11)));
}

TEST(SctpAddressParams, MalformedChunksAreErrors) {
  const Bytes good = handshake(kSctpChunkInit, cat({v4_param(10, 0, 0, 1), v6_param(3)}));
  auto with = [&](std::size_t at, std::uint8_t value) {
    Bytes b = good;
    b[at] = value;
    return read_listed_addresses(b);
  };
  // Chunk length (bytes 14..15) below the fixed part, and beyond the packet.
  EXPECT_EQ(with(15, 16).error(), AddressParamError::kShortChunk);
  EXPECT_EQ(with(14, 1).error(), AddressParamError::kChunkOverrun);
  // First parameter (at 32): length 0, 3, an IPv4 parameter of length 12, one past the chunk.
  EXPECT_EQ(with(35, 0).error(), AddressParamError::kBadParameterLength);
  EXPECT_EQ(with(35, 3).error(), AddressParamError::kBadParameterLength);
  EXPECT_EQ(with(35, 12).error(), AddressParamError::kBadParameterLength);
  EXPECT_EQ(with(34, 1).error(), AddressParamError::kParameterOverrun);
  // The chunk ends two bytes into a parameter header.
  Bytes cut = good;
  cut[15] = static_cast<std::uint8_t>(cut[15] - 26);  // 20 fixed + 8 IPv4 + 2 of the IPv6 header
  EXPECT_EQ(read_listed_addresses(cut).error(), AddressParamError::kParameterOverrun);
}

TEST(SctpAddressParams, EveryTruncationIsAnErrorOrReadsWithinTheBytes) {
  const Bytes good =
      handshake(kSctpChunkInitAck, cat({v6_param(9), v4_param(10, 0, 0, 1), other_param(7, 9, false)}));
  for (std::size_t n = 0; n < good.size(); ++n) {
    // A copy of exactly n bytes: the sanitizers see any read past it.
    const Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = read_listed_addresses(part);
    if (n < 12) {
      EXPECT_FALSE(r) << n;
    } else if (n == 12) {
      EXPECT_TRUE(r && r->chunk == HandshakeChunk::kNone) << n;
    } else if (n < good.size() - 3) {
      EXPECT_FALSE(r) << n;  // the chunk length points past the bytes
    }
  }
}

TEST(SctpAddressParams, MergeKeepsTheFirstAndOrderWithoutDuplicates) {
  const IpAddress a = IpAddress::v4({127, 0, 0, 1});
  const IpAddress b = IpAddress::v4({127, 0, 0, 2});
  const std::vector<IpAddress> listed{b, a, v6(1), b};
  EXPECT_EQ(merge_addresses(a, listed), (std::vector<IpAddress>{a, b, v6(1)}));
  EXPECT_EQ(merge_addresses(a, {}), std::vector<IpAddress>{a});
}

}  // namespace
}  // namespace poolreg::sctp
