// Tests dataplane/capture/pcap_writer.hpp byte by byte (no tshark needed): file header, the
// Ethernet/IPv4/IPv6 framing, checksums, SCTP DATA chunk layout, TSN/SSN and TCP sequencing.
#include "dataplane/capture/pcap_writer.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "registrar/common/crc32c.hpp"
#include "tests/dataplane/capture/pcap_test_reader.hpp"
#include "tests/dataplane/capture/temp_dir.hpp"

namespace poolreg::capture {
namespace {

using testing::PcapFile;
using testing::read_be16;
using testing::read_be32;
using testing::read_pcap;
using testing::TempDir;

const Endpoint kPe{IpAddress::v4(0x0a000002), 40000};
const Endpoint kPr{IpAddress::v4(0x0a000001), kAsapPort};
// ASAP Handle Resolution for "EchoPool" (testvectors.md), 16 bytes.
const std::vector<std::uint8_t> kHr = {0x05, 0x00, 0x00, 0x10, 0x00, 0x09, 0x00, 0x0c,
                                       0x45, 0x63, 0x68, 0x6f, 0x50, 0x6f, 0x6f, 0x6c};
// A 6-byte message, to exercise chunk padding.
const std::vector<std::uint8_t> kOdd = {1, 2, 3, 4, 5, 6};

constexpr std::size_t kEth = 14;
constexpr std::size_t kIp4 = 20;

std::uint16_t pseudo_checksum(const std::vector<std::uint8_t>& frame, std::size_t ip_at, std::size_t l4_at,
                              std::uint8_t proto) {
  std::vector<std::uint8_t> buf(frame.begin() + static_cast<std::ptrdiff_t>(ip_at + 12),
                                frame.begin() + static_cast<std::ptrdiff_t>(ip_at + 20));
  const std::size_t l4_len = frame.size() - l4_at;
  buf.push_back(0);
  buf.push_back(proto);
  buf.push_back(static_cast<std::uint8_t>(l4_len >> 8));
  buf.push_back(static_cast<std::uint8_t>(l4_len));
  buf.insert(buf.end(), frame.begin() + static_cast<std::ptrdiff_t>(l4_at), frame.end());
  return internet_checksum(buf);  // 0 when the stored checksum is right
}

// Checks the SCTP packet at `at` (to the end of the frame): CRC32c and one DATA chunk.
void expect_sctp_data(const std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t sport,
                      std::uint16_t dport, std::uint32_t ppid, const std::vector<std::uint8_t>& msg) {
  ASSERT_GE(f.size(), at + 28 + msg.size());
  EXPECT_EQ(read_be16(f, at), sport);
  EXPECT_EQ(read_be16(f, at + 2), dport);
  EXPECT_NE(read_be32(f, at + 4), 0u);
  std::vector<std::uint8_t> packet(f.begin() + static_cast<std::ptrdiff_t>(at), f.end());
  const std::uint32_t stored =
      static_cast<std::uint32_t>(packet[8]) | static_cast<std::uint32_t>(packet[9]) << 8 |
      static_cast<std::uint32_t>(packet[10]) << 16 | static_cast<std::uint32_t>(packet[11]) << 24;
  packet[8] = packet[9] = packet[10] = packet[11] = 0;
  EXPECT_EQ(stored, crc32c(packet));
  EXPECT_EQ(f[at + 12], 0);     // DATA
  EXPECT_EQ(f[at + 13], 0x03);  // B + E
  EXPECT_EQ(read_be16(f, at + 14), 16 + msg.size());
  EXPECT_EQ(read_be16(f, at + 20), 0);  // stream 0
  EXPECT_EQ(read_be32(f, at + 24), ppid);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), f.begin() + static_cast<std::ptrdiff_t>(at + 28)));
  const std::size_t padded = (msg.size() + 3) / 4 * 4;
  EXPECT_EQ(f.size(), at + 28 + padded);
  for (std::size_t i = at + 28 + msg.size(); i < f.size(); ++i) EXPECT_EQ(f[i], 0) << "padding at " << i;
}

void expect_ipv4(const std::vector<std::uint8_t>& f, std::uint8_t proto, std::uint32_t src = 0x0a000002,
                 std::uint32_t dst = 0x0a000001) {
  ASSERT_GE(f.size(), kEth + kIp4);
  EXPECT_EQ(read_be16(f, 12), 0x0800);
  EXPECT_EQ(f[kEth], 0x45);
  EXPECT_EQ(read_be16(f, kEth + 2), f.size() - kEth);
  EXPECT_EQ(f[kEth + 9], proto);
  EXPECT_EQ(internet_checksum({f.data() + kEth, kIp4}), 0) << "IPv4 header checksum";
  EXPECT_EQ(read_be32(f, kEth + 12), src);
  EXPECT_EQ(read_be32(f, kEth + 16), dst);
}

TEST(PcapWriter, FileHeaderIsClassicNanosecondPcap) {
  TempDir dir("capture");
  ASSERT_TRUE(dir.ok());
  {
    PcapWriter w(dir.file("h.pcap"));
    ASSERT_TRUE(w.ok());
  }
  const auto f = read_pcap(dir.file("h.pcap"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->magic, 0xa1b23c4du);
  EXPECT_EQ(f->version_major, 2);
  EXPECT_EQ(f->version_minor, 4);
  EXPECT_GE(f->snaplen, 65535u + 14u);
  EXPECT_EQ(f->link_type, 1u);
  EXPECT_TRUE(f->records.empty());
}

TEST(PcapWriter, SctpOverUdpFrameLayoutAndChecksums) {
  TempDir dir("capture");
  const std::string path = dir.file("u.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_sctp_over_udp(kPe, kPr, kPpidAsap, kHr, 1'500'000'000));
    EXPECT_EQ(w.frames_written(), 1u);
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 1u);
  const auto& r = f->records[0];
  EXPECT_EQ(r.ts_sec, 1u);
  EXPECT_EQ(r.ts_nsec, 500'000'000u);
  EXPECT_EQ(r.orig_len, r.data.size());
  const auto& d = r.data;
  expect_ipv4(d, 17);
  const std::size_t udp = kEth + kIp4;
  EXPECT_EQ(read_be16(d, udp), kSctpUdpEncapsulationPort);
  EXPECT_EQ(read_be16(d, udp + 2), kSctpUdpEncapsulationPort);
  EXPECT_EQ(read_be16(d, udp + 4), d.size() - udp);
  EXPECT_EQ(pseudo_checksum(d, kEth, udp, 17), 0) << "UDP checksum";
  expect_sctp_data(d, udp + 8, 40000, kAsapPort, kPpidAsap, kHr);
}

TEST(PcapWriter, UdpEncapsulationPortsAreConfigurable) {
  TempDir dir("capture");
  const std::string path = dir.file("p.pcap");
  {
    PcapWriterOptions o;
    o.udp_encapsulation_src_port = 10000;
    o.udp_encapsulation_dst_port = 10001;
    PcapWriter w(path, o);
    ASSERT_TRUE(w.write_sctp_over_udp(kPe, kPr, kPpidAsap, kHr, 0));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 1u);
  EXPECT_EQ(read_be16(f->records[0].data, kEth + kIp4), 10000);
  EXPECT_EQ(read_be16(f->records[0].data, kEth + kIp4 + 2), 10001);
}

TEST(PcapWriter, PlainSctpPadsOddMessages) {
  TempDir dir("capture");
  const std::string path = dir.file("s.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_sctp(kPe, kPr, kPpidEnrp, kOdd, 0));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 1u);
  expect_ipv4(f->records[0].data, 132);
  expect_sctp_data(f->records[0].data, kEth + kIp4, 40000, kAsapPort, kPpidEnrp, kOdd);
}

TEST(PcapWriter, TsnAndSsnGrowPerDirectionAndTagsMatchAssociation) {
  TempDir dir("capture");
  const std::string path = dir.file("t.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_sctp(kPe, kPr, kPpidAsap, kHr, 0));
    ASSERT_TRUE(w.write_sctp(kPe, kPr, kPpidAsap, kHr, 1));
    ASSERT_TRUE(w.write_sctp(kPr, kPe, kPpidAsap, kHr, 2));
    ASSERT_TRUE(w.write_sctp(kPe, kPr, kPpidAsap, kHr, 3));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 4u);
  const std::size_t s = kEth + kIp4;
  auto tag = [&](int i) { return read_be32(f->records[static_cast<std::size_t>(i)].data, s + 4); };
  auto tsn = [&](int i) { return read_be32(f->records[static_cast<std::size_t>(i)].data, s + 16); };
  auto ssn = [&](int i) { return read_be16(f->records[static_cast<std::size_t>(i)].data, s + 22); };
  EXPECT_EQ(tsn(1), tsn(0) + 1);
  EXPECT_EQ(tsn(3), tsn(1) + 1);
  EXPECT_EQ(ssn(0), 0);
  EXPECT_EQ(ssn(1), 1);
  EXPECT_EQ(ssn(3), 2);
  EXPECT_EQ(ssn(2), 0);  // the other direction counts on its own
  EXPECT_EQ(tag(0), tag(1));
  EXPECT_EQ(tag(0), sctp_verification_tag(kPe, kPr, false));
  EXPECT_EQ(tag(2), sctp_verification_tag(kPr, kPe, false));
  EXPECT_NE(tag(0), tag(2));
  // Each side starts its TSNs at its own tag (the one its peer puts in packets to it).
  EXPECT_EQ(tsn(0), tag(2));
  EXPECT_EQ(tsn(2), tag(0));
  EXPECT_NE(sctp_verification_tag(kPe, kPr, true), sctp_verification_tag(kPe, kPr, false));
}

TEST(PcapWriter, BundleHoldsConsecutiveDataChunks) {
  TempDir dir("capture");
  const std::string path = dir.file("b.pcap");
  {
    PcapWriter w(path);
    const std::span<const std::uint8_t> msgs[] = {kOdd, kHr};
    ASSERT_TRUE(w.write_sctp_bundle(kPe, kPr, kPpidAsap, msgs, 0, false));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 1u);
  const auto& d = f->records[0].data;
  const std::size_t c1 = kEth + kIp4 + 12;
  const std::size_t c2 = c1 + 16 + 8;  // 6 bytes padded to 8
  ASSERT_EQ(d.size(), c2 + 16 + kHr.size());
  EXPECT_EQ(read_be16(d, c1 + 2), 22);
  EXPECT_EQ(d[c2], 0);
  EXPECT_EQ(read_be16(d, c2 + 2), 32);
  EXPECT_EQ(read_be32(d, c2 + 4), read_be32(d, c1 + 4) + 1);    // TSN
  EXPECT_EQ(read_be16(d, c2 + 10), read_be16(d, c1 + 10) + 1);  // SSN
}

TEST(PcapWriter, TcpWritesHandshakeOnceThenSequencedSegments) {
  TempDir dir("capture");
  const std::string path = dir.file("tcp.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_tcp(kPe, kPr, kHr, 0));
    EXPECT_EQ(w.frames_written(), 4u);
    ASSERT_TRUE(w.write_tcp(kPr, kPe, kOdd, 1));
    ASSERT_TRUE(w.write_tcp(kPe, kPr, kHr, 2));
    EXPECT_EQ(w.frames_written(), 6u);
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 6u);
  const std::size_t t = kEth + kIp4;
  auto seq = [&](int i) { return read_be32(f->records[static_cast<std::size_t>(i)].data, t + 4); };
  auto ack = [&](int i) { return read_be32(f->records[static_cast<std::size_t>(i)].data, t + 8); };
  auto flags = [&](int i) { return f->records[static_cast<std::size_t>(i)].data[t + 13]; };
  EXPECT_EQ(flags(0), 0x02);  // SYN
  EXPECT_EQ(flags(1), 0x12);  // SYN+ACK
  EXPECT_EQ(flags(2), 0x10);  // ACK
  EXPECT_EQ(flags(3), 0x18);  // PSH+ACK
  EXPECT_EQ(ack(1), seq(0) + 1);
  EXPECT_EQ(seq(2), seq(0) + 1);
  EXPECT_EQ(ack(2), seq(1) + 1);
  EXPECT_EQ(seq(3), seq(0) + 1);
  EXPECT_EQ(ack(3), seq(1) + 1);
  EXPECT_EQ(seq(4), seq(1) + 1);
  EXPECT_EQ(ack(4), seq(3) + kHr.size());
  EXPECT_EQ(seq(5), seq(3) + kHr.size());
  EXPECT_EQ(ack(5), seq(4) + kOdd.size());
  for (int i = 0; i < 6; ++i) {
    const auto& d = f->records[static_cast<std::size_t>(i)].data;
    const bool from_pr = i == 1 || i == 4;
    expect_ipv4(d, 6, from_pr ? 0x0a000001 : 0x0a000002, from_pr ? 0x0a000002 : 0x0a000001);
    EXPECT_EQ(pseudo_checksum(d, kEth, t, 6), 0) << "TCP checksum of frame " << i;
  }
  const auto& data = f->records[3].data;
  EXPECT_TRUE(std::equal(kHr.begin(), kHr.end(), data.begin() + static_cast<std::ptrdiff_t>(t + 20)));
}

TEST(PcapWriter, TcpWithoutHandshakeAndWithAcks) {
  TempDir dir("capture");
  const std::string path = dir.file("tcp2.pcap");
  PcapWriterOptions o;
  o.tcp_handshake = false;
  o.tcp_ack_each_segment = true;
  {
    PcapWriter w(path, o);
    ASSERT_TRUE(w.write_tcp(kPe, kPr, kHr, 0));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 2u);
  const std::size_t t = kEth + kIp4;
  EXPECT_EQ(f->records[0].data[t + 13], 0x18);
  EXPECT_EQ(f->records[1].data[t + 13], 0x10);
  EXPECT_EQ(read_be32(f->records[1].data, t + 8), read_be32(f->records[0].data, t + 4) + kHr.size());
}

TEST(PcapWriter, RawLinkTypeHasNoEthernetHeader) {
  TempDir dir("capture");
  const std::string path = dir.file("raw.pcap");
  {
    PcapWriterOptions o;
    o.link_type = LinkType::kRaw;
    PcapWriter w(path, o);
    ASSERT_TRUE(w.write_udp(kPe, Endpoint{kPr.address, kAsapPort}, kHr, 0));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->link_type, 101u);
  ASSERT_EQ(f->records.size(), 1u);
  const auto& d = f->records[0].data;
  ASSERT_EQ(d.size(), kIp4 + 8 + kHr.size());
  EXPECT_EQ(d[0], 0x45);
  EXPECT_EQ(internet_checksum({d.data(), kIp4}), 0);
  EXPECT_EQ(read_be16(d, kIp4 + 2), kAsapPort);
}

TEST(PcapWriter, Ipv6Endpoints) {
  TempDir dir("capture");
  const std::string path = dir.file("v6.pcap");
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  const Endpoint a{IpAddress::v6(loop), 40000};
  const Endpoint b{IpAddress::v6(loop), kAsapPort};
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_sctp_over_udp(a, b, kPpidAsap, kHr, 0));
  }
  const auto f = read_pcap(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->records.size(), 1u);
  const auto& d = f->records[0].data;
  EXPECT_EQ(read_be16(d, 12), 0x86dd);
  EXPECT_EQ(d[kEth] >> 4, 6);
  EXPECT_EQ(read_be16(d, kEth + 4), d.size() - kEth - 40);
  EXPECT_EQ(d[kEth + 6], 17);
  expect_sctp_data(d, kEth + 40 + 8, 40000, kAsapPort, kPpidAsap, kHr);
}

TEST(PcapWriter, MixedFamiliesAreRefusedWithoutWriting) {
  TempDir dir("capture");
  PcapWriter w(dir.file("mix.pcap"));
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  const Endpoint v6{IpAddress::v6(loop), 1};
  EXPECT_FALSE(w.write_sctp(kPe, v6, kPpidAsap, kHr, 0));
  EXPECT_EQ(w.error(), PcapWriteError::kFamilyMismatch);
  EXPECT_EQ(w.frames_written(), 0u);
  // Not sticky: a good write afterwards succeeds.
  EXPECT_TRUE(w.write_sctp(kPe, kPr, kPpidAsap, kHr, 0));
  EXPECT_TRUE(w.ok());
}

TEST(PcapWriter, OversizedMessageIsRefused) {
  TempDir dir("capture");
  PcapWriter w(dir.file("big.pcap"));
  const std::vector<std::uint8_t> big(70000, 0);
  EXPECT_FALSE(w.write_sctp(kPe, kPr, kPpidAsap, big, 0));
  EXPECT_EQ(w.error(), PcapWriteError::kTooLarge);
  EXPECT_FALSE(w.write_tcp(kPe, kPr, big, 0));
  EXPECT_EQ(w.frames_written(), 0u);
}

TEST(PcapWriter, OpenFailureIsReported) {
  PcapWriter w("/nonexistent-dir-for-poolreg-test/x.pcap");
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.error(), PcapWriteError::kOpenFailed);
  EXPECT_FALSE(w.write_sctp(kPe, kPr, kPpidAsap, kHr, 0));
  EXPECT_EQ(w.error(), PcapWriteError::kOpenFailed);
}

TEST(PcapWriter, WritesAfterCloseFail) {
  TempDir dir("capture");
  PcapWriter w(dir.file("c.pcap"));
  w.close();
  EXPECT_FALSE(w.write_udp(kPe, kPr, kHr, 0));
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace poolreg::capture
