// parse_native_ipv4 / parse_native_sctp: the framing of native SCTP (IP protocol 132) as raw IP
// sockets and DPDK frames carry it. Packets are built here byte by byte: an IPv4 header with and
// without options, every truncation, wrong protocol, fragments, bad CRC32c; the CRC is checked
// against the RFC 3720 B.4 value of 32 zero bytes through sctp_crc_ok's own arithmetic.
#include "dataplane/sctp/native_sctp_packet.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "registrar/common/crc32c.hpp"

namespace poolreg::sctp {
namespace {

using Bytes = std::vector<std::uint8_t>;

// An SCTP packet from port `src` to `dst` with one DATA-less chunk (a COOKIE ACK), CRC set.
Bytes sctp_packet(std::uint16_t src, std::uint16_t dst) {
  Bytes p = {static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src), static_cast<std::uint8_t>(dst >> 8),
             static_cast<std::uint8_t>(dst), 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
             11, 0, 0, 4};  // COOKIE ACK chunk
  set_sctp_crc(p);
  return p;
}

// An IPv4 header (with `options` bytes of options, a multiple of 4) from 192.0.2.1 to 192.0.2.2
// around `payload`.
Bytes ipv4(const Bytes& payload, std::size_t options = 0, std::uint8_t protocol = kIpProtocolSctp) {
  const std::size_t header = 20 + options;
  const std::size_t total = header + payload.size();
  Bytes p(header, 0);
  p[0] = static_cast<std::uint8_t>(0x40 | (header / 4));
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total);
  p[8] = 64;
  p[9] = protocol;
  p[12] = 192, p[13] = 0, p[14] = 2, p[15] = 1;
  p[16] = 192, p[17] = 0, p[18] = 2, p[19] = 2;
  for (std::size_t i = 20; i < header; ++i) p[i] = 1;  // NOP options
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

TEST(NativeSctpPacket, CrcMatchesTheKnownValue) {
  // RFC 3720 B.4: CRC-32C of 32 zero bytes is 0x8a9136aa; sctp_crc_ok zeroes bytes 8..11 itself,
  // so a 32-byte packet of zeros with that value in the field (LSB first) is correct.
  Bytes zeros(32, 0);
  EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
  zeros[8] = 0xaa, zeros[9] = 0x36, zeros[10] = 0x91, zeros[11] = 0x8a;
  EXPECT_TRUE(sctp_crc_ok(zeros));
  zeros[11] ^= 1;
  EXPECT_FALSE(sctp_crc_ok(zeros));
}

TEST(NativeSctpPacket, Ipv4WithoutOptions) {
  const Bytes packet = ipv4(sctp_packet(2000, 3863));
  const NativePacket p = parse_native_ipv4(packet, true);
  ASSERT_EQ(p.drop, NativeDrop::kNone);
  EXPECT_FALSE(p.from.ipv6);
  EXPECT_EQ(p.from.src_port, 0);  // native: no UDP port
  EXPECT_EQ(p.from.src_ip[0], 192);
  EXPECT_EQ(p.from.src_ip[3], 1);
  EXPECT_EQ(p.from.dst_ip[3], 2);
  EXPECT_EQ(p.src_port, 2000);
  EXPECT_EQ(p.dst_port, 3863);
  EXPECT_EQ(p.sctp.size(), 16u);
  EXPECT_EQ(p.sctp.data(), packet.data() + 20);
}

TEST(NativeSctpPacket, Ipv4WithOptionsSkipsThem) {
  for (std::size_t options : {4u, 8u, 40u}) {
    const Bytes packet = ipv4(sctp_packet(7, 9901), options);
    const NativePacket p = parse_native_ipv4(packet, true);
    ASSERT_EQ(p.drop, NativeDrop::kNone) << options;
    EXPECT_EQ(p.sctp.data(), packet.data() + 20 + options);
    EXPECT_EQ(p.src_port, 7);
    EXPECT_EQ(p.dst_port, 9901);
  }
}

TEST(NativeSctpPacket, EveryTruncationIsRefused) {
  const Bytes packet = ipv4(sctp_packet(2000, 3863), 8);
  for (std::size_t n = 0; n < packet.size(); ++n) {
    const NativePacket p = parse_native_ipv4(std::span<const std::uint8_t>(packet.data(), n), true);
    EXPECT_NE(p.drop, NativeDrop::kNone) << n;
  }
  // The header says fewer bytes than a common header after the IP header.
  Bytes short_total = ipv4(Bytes(8, 0));
  EXPECT_EQ(parse_native_ipv4(short_total, false).drop, NativeDrop::kTruncated);
  EXPECT_EQ(parse_native_sctp(std::span<const std::uint8_t>(short_total.data() + 20, 8), false, short_total.data(),
                              nullptr, false)
                .drop,
            NativeDrop::kTruncated);
}

TEST(NativeSctpPacket, TrailingBytesBeyondTotalLengthAreLeftOut) {
  Bytes packet = ipv4(sctp_packet(2000, 3863));
  packet.push_back(0xee);  // link padding
  const NativePacket p = parse_native_ipv4(packet, true);
  ASSERT_EQ(p.drop, NativeDrop::kNone);
  EXPECT_EQ(p.sctp.size(), 16u);
}

TEST(NativeSctpPacket, MalformedHeaders) {
  const Bytes sctp = sctp_packet(2000, 3863);
  Bytes udp = ipv4(sctp, 0, 17);
  EXPECT_EQ(parse_native_ipv4(udp, true).drop, NativeDrop::kMalformed);
  Bytes v6 = ipv4(sctp);
  v6[0] = 0x65;
  EXPECT_EQ(parse_native_ipv4(v6, true).drop, NativeDrop::kMalformed);
  Bytes ihl = ipv4(sctp);
  ihl[0] = 0x44;  // 16-byte header
  EXPECT_EQ(parse_native_ipv4(ihl, true).drop, NativeDrop::kMalformed);
  Bytes long_ihl = ipv4(sctp);
  long_ihl[0] = 0x4f;  // 60-byte header, longer than the packet's total
  EXPECT_EQ(parse_native_ipv4(long_ihl, true).drop, NativeDrop::kTruncated);
  Bytes fragment = ipv4(sctp);
  fragment[6] = 0x20;  // more fragments
  EXPECT_EQ(parse_native_ipv4(fragment, true).drop, NativeDrop::kMalformed);
  Bytes offset = ipv4(sctp);
  offset[7] = 0x01;  // fragment offset 8
  EXPECT_EQ(parse_native_ipv4(offset, true).drop, NativeDrop::kMalformed);
  Bytes dont_fragment = ipv4(sctp);
  dont_fragment[6] = 0x40;  // DF alone is fine
  EXPECT_EQ(parse_native_ipv4(dont_fragment, true).drop, NativeDrop::kNone);
}

TEST(NativeSctpPacket, BadCrcIsRefusedOnlyWhenChecked) {
  Bytes packet = ipv4(sctp_packet(2000, 3863));
  packet[20 + 13] ^= 0x01;  // a chunk byte changed after the CRC was set
  EXPECT_EQ(parse_native_ipv4(packet, true).drop, NativeDrop::kBadCrc);
  EXPECT_EQ(parse_native_ipv4(packet, false).drop, NativeDrop::kNone);
}

TEST(NativeSctpPacket, Ipv6PayloadAlone) {
  const Bytes sctp = sctp_packet(4000, 3863);
  std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8};
  src[15] = 9;
  const NativePacket p = parse_native_sctp(sctp, true, src, nullptr, true);
  ASSERT_EQ(p.drop, NativeDrop::kNone);
  EXPECT_TRUE(p.from.ipv6);
  EXPECT_EQ(p.from.src_ip[0], 0x20);
  EXPECT_EQ(p.from.src_ip[15], 9);
  EXPECT_EQ(p.from.dst_ip[15], 0);  // unknown
  EXPECT_EQ(p.src_port, 4000);
}

}  // namespace
}  // namespace poolreg::sctp
