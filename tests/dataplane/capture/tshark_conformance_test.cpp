// Conformance of the testvectors.md positive vectors as tshark 4.0 decodes them, in every
// encapsulation poolreg uses: SCTP over UDP 9899 (RFC 6951), plain SCTP, ASAP over TCP 3863,
// and plain UDP (ASAP 3863 / ENRP 9901). Also negative controls proving the check can fail:
// a TLV whose length runs past the message end is flagged malformed, and a corrupted SCTP CRC32c
// is flagged as a checksum error. Spec refs: parameters.md §1 (ports, PPIDs), design.md (TCP
// mapping: one message per segment, ENRP not decoded by tshark over TCP).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "dataplane/capture/pcap_writer.hpp"
#include "tests/dataplane/capture/rserpool_test_vectors.hpp"
#include "tests/dataplane/capture/temp_dir.hpp"
#include "tests/dataplane/capture/tshark_check.hpp"
#include "tests/dataplane/capture/tshark_fixture.hpp"
#include "tests/dataplane/capture/vector_capture.hpp"

namespace poolreg::testing {
namespace {

using capture::PcapWriter;

class TsharkConformance : public TsharkFixture<::testing::TestWithParam<Encapsulation>> {
 protected:
  TsharkConformance() : TsharkFixture("tshark") {}
};

// Every positive vector decodes as the right protocol and message type with the expected key
// fields, and no frame of the capture carries a malformed mark or an expert item >= note.
TEST_P(TsharkConformance, PositiveVectorsDecodeCleanly) {
  const Encapsulation encap = GetParam();
  const std::string path = dir_.file("vectors.pcap");
  struct Written {
    const RSerPoolVector* vector;
    std::size_t frame;
    std::size_t size;
  };
  std::vector<Written> written;
  std::set<std::string> fields;
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.ok());
    TimeNs ts = kNsPerSec;
    for (const RSerPoolVector& v : positive_vectors()) {
      // tshark 4.0 has no ENRP over TCP (design.md), so TCP carries the ASAP vectors only.
      if (!carries(encap, v.protocol)) continue;
      const auto bytes = bytes_from_hex(v.hex);
      ASSERT_TRUE(bytes) << v.name;
      const std::size_t frame = write_message(w, encap, v.protocol, v.from_registrar, *bytes, ts);
      ASSERT_NE(frame, 0u) << v.name;
      ts += kNsPerMs;
      written.push_back({&v, frame, bytes->size()});
      for (const FieldExpectation& f : v.fields) fields.insert(f.field);
    }
    ASSERT_TRUE(w.flush());
  }
  ASSERT_GE(written.size(), 15u);

  TsharkOptions options;
  options.fields.assign(fields.begin(), fields.end());
  const TsharkReport report = run_tshark(*tshark_, path, options);
  ASSERT_TRUE(report.ok) << report.error;
  const std::size_t extra = encap == Encapsulation::kTcp ? 3 : 0;  // SYN, SYN-ACK, ACK
  EXPECT_EQ(report.frames.size(), written.size() + extra);
  for (const FrameReport* bad : report.problem_frames(ExpertSeverity::kNote)) {
    ADD_FAILURE() << name_of(encap) << ": " << bad->describe();
  }

  for (const Written& wr : written) {
    const RSerPoolVector& v = *wr.vector;
    SCOPED_TRACE(std::string(name_of(encap)) + ": " + v.name);
    const FrameReport* f = report.frame(static_cast<int>(wr.frame));
    ASSERT_NE(f, nullptr) << "frame " << wr.frame << " missing";
    const bool asap = v.protocol == VectorProtocol::kAsap;
    const std::string last = asap ? ":asap" : ":enrp";
    EXPECT_TRUE(ends_with(f->protocols, last)) << f->describe();
    ASSERT_FALSE(f->messages.empty()) << f->describe();
    const DecodedMessage& m = f->messages.front();
    EXPECT_EQ(m.protocol, asap ? RSerPoolProtocol::kAsap : RSerPoolProtocol::kEnrp) << f->describe();
    EXPECT_EQ(m.type, v.type) << f->describe();
    EXPECT_EQ(m.flags, v.flags) << f->describe();
    EXPECT_EQ(m.length, static_cast<int>(wr.size)) << f->describe();
    for (const DecodedMessage& other : f->messages) EXPECT_EQ(other.protocol, m.protocol) << f->describe();
    EXPECT_TRUE(f->malformed.empty()) << f->describe();
    for (const FieldExpectation& fe : v.fields) {
      EXPECT_EQ(joined(f->field(fe.field)), fe.value) << fe.field << " in " << f->describe();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllEncapsulations, TsharkConformance,
                         ::testing::Values(Encapsulation::kSctpOverUdp, Encapsulation::kSctp,
                                           Encapsulation::kTcp, Encapsulation::kUdp),
                         [](const ::testing::TestParamInfo<Encapsulation>& info) {
                           return std::string(name_of(info.param));
                         });

class TsharkNegativeControl : public TsharkFixture<::testing::Test> {
 protected:
  TsharkNegativeControl() : TsharkFixture("tshark-neg") {}
};

// A Registration whose Pool Element TLV claims 128 bytes in a 64-byte message: tshark must
// flag it malformed in every encapsulation, and the good copy next to it must stay clean.
TEST_F(TsharkNegativeControl, TlvLengthPastEndIsFlaggedMalformed) {
  auto good = bytes_from_hex(positive_vectors().front().hex);
  ASSERT_TRUE(good);
  ASSERT_EQ(good->size(), 64u);
  std::vector<std::uint8_t> broken = *good;
  ASSERT_EQ(broken[18], 0x00);
  ASSERT_EQ(broken[19], 0x30);  // Pool Element TLV length 48 ...
  broken[19] = 0x80;            // ... now 128: past the end of the message

  const std::string path = dir_.file("broken.pcap");
  std::vector<std::size_t> broken_frames;
  std::vector<std::size_t> good_frames;
  {
    PcapWriter w(path);
    TimeNs ts = kNsPerSec;
    for (Encapsulation e :
         {Encapsulation::kSctpOverUdp, Encapsulation::kSctp, Encapsulation::kTcp, Encapsulation::kUdp}) {
      broken_frames.push_back(write_message(w, e, VectorProtocol::kAsap, false, broken, ts += kNsPerMs));
      good_frames.push_back(write_message(w, e, VectorProtocol::kAsap, false, *good, ts += kNsPerMs));
    }
    ASSERT_TRUE(w.flush());
  }
  const TsharkReport report = run_tshark(*tshark_, path);
  ASSERT_TRUE(report.ok) << report.error;
  for (std::size_t n : broken_frames) {
    const FrameReport* f = report.frame(static_cast<int>(n));
    ASSERT_NE(f, nullptr);
    EXPECT_FALSE(f->malformed.empty()) << f->describe();
    EXPECT_FALSE(f->problems(ExpertSeverity::kError).empty()) << f->describe();
    EXPECT_FALSE(f->well_formed()) << f->describe();
  }
  for (std::size_t n : good_frames) {
    const FrameReport* f = report.frame(static_cast<int>(n));
    ASSERT_NE(f, nullptr);
    EXPECT_TRUE(f->well_formed(ExpertSeverity::kNote)) << f->describe();
  }
  EXPECT_EQ(report.problem_frames().size(), broken_frames.size());
}

// Flipping a bit of the stored CRC32c makes tshark report a checksum error: proves the harness
// really validates SCTP checksums (and that PcapWriter's checksums pass only because they are right).
TEST_F(TsharkNegativeControl, CorruptedSctpChecksumIsFlagged) {
  const auto msg = bytes_from_hex(positive_vectors().front().hex);
  ASSERT_TRUE(msg);
  const std::string path = dir_.file("crc.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.write_sctp(pe_endpoint(), registrar_asap_endpoint(), capture::kPpidAsap, *msg, kNsPerSec));
    ASSERT_TRUE(
        w.write_sctp(pe_endpoint(), registrar_asap_endpoint(), capture::kPpidAsap, *msg, 2 * kNsPerSec));
  }
  // File header 24 + record header 16 + Ethernet 14 + IPv4 20 + SCTP checksum offset 8.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f);
    const std::streamoff crc_at = 24 + 16 + 14 + 20 + 8;
    f.seekg(crc_at);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(crc_at);
    f.write(&c, 1);
    ASSERT_TRUE(f);
  }
  const TsharkReport report = run_tshark(*tshark_, path);
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_EQ(report.frames.size(), 2u);
  EXPECT_FALSE(report.frames[0].problems(ExpertSeverity::kError).empty()) << report.frames[0].describe();
  EXPECT_TRUE(report.frames[1].well_formed(ExpertSeverity::kNote)) << report.frames[1].describe();
}

TEST(TsharkCheck, MissingFileIsAnErrorNotACrash) {
  const auto tshark = find_tshark();
  if (!tshark) GTEST_SKIP() << "tshark not found on PATH";
  const TsharkReport report = run_tshark(*tshark, "/nonexistent-dir-for-poolreg-test/none.pcap");
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.error.empty());
  EXPECT_TRUE(report.frames.empty());
}

TEST(TsharkCheck, EmptyCaptureHasNoFrames) {
  const auto tshark = find_tshark();
  if (!tshark) GTEST_SKIP() << "tshark not found on PATH";
  TempDir dir("tshark-empty");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("empty.pcap");
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.ok());
  }
  const TsharkReport report = run_tshark(*tshark, path);
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_TRUE(report.frames.empty());
}

TEST(TsharkCheck, MissingExecutableIsAnError) {
  const TsharkReport report = run_tshark("/nonexistent-dir-for-poolreg-test/tshark", "/dev/null");
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.error.empty());
}

}  // namespace
}  // namespace poolreg::testing
