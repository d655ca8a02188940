// TcpFrameReader: framing of ASAP/ENRP over TCP by the header Length (nextgen.md §6.2), driven by
// a fake byte source (no sockets).
#include "dataplane/tcp/tcp_frame_reader.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "tests/dataplane/runtime/recording_handler.hpp"

namespace poolreg::tcp {
namespace {

using runtime::testing::make_message;

// Hands out a byte stream in scripted chunk sizes; then EAGAIN, or 0 (EOF) when closed.
class FakeByteSource {
 public:
  FakeByteSource(std::vector<std::uint8_t> bytes, std::deque<std::size_t> chunks, bool eof_at_end)
      : bytes_(std::move(bytes)), chunks_(std::move(chunks)), eof_(eof_at_end) {}
  ssize_t read(std::uint8_t* buf, std::size_t cap) {
    if (pos_ == bytes_.size()) {
      if (eof_) return 0;
      errno = EAGAIN;
      return -1;
    }
    std::size_t n = chunks_.empty() ? bytes_.size() - pos_ : chunks_.front();
    if (!chunks_.empty()) chunks_.pop_front();
    n = std::min({n, cap, bytes_.size() - pos_});
    std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::deque<std::size_t> chunks_;
  bool eof_;
  std::size_t pos_ = 0;
};

std::vector<std::vector<std::uint8_t>> drain(TcpFrameReader& r, TcpFrameReader::Status* last) {
  std::vector<std::vector<std::uint8_t>> out;
  std::span<const std::uint8_t> m;
  TcpFrameReader::Status st;
  while ((st = r.next(&m)) == TcpFrameReader::Status::kMessage) out.emplace_back(m.begin(), m.end());
  *last = st;
  return out;
}

TEST(TcpFrameReader, OneMessageSplitIntoSingleBytes) {
  auto msg = make_message(0x01, 24, 9);
  TcpFrameReader r;
  TcpFrameReader::Status st;
  for (std::size_t i = 0; i + 1 < msg.size(); ++i) {
    r.append(std::span<const std::uint8_t>(&msg[i], 1));
    EXPECT_TRUE(drain(r, &st).empty());
    EXPECT_EQ(st, TcpFrameReader::Status::kNeedMore);
  }
  r.append(std::span<const std::uint8_t>(&msg.back(), 1));
  auto got = drain(r, &st);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], msg);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(TcpFrameReader, MergedMessagesInOneChunk) {
  std::vector<std::uint8_t> stream;
  std::vector<std::vector<std::uint8_t>> msgs;
  for (std::uint32_t i = 0; i < 10; ++i) {
    msgs.push_back(make_message(0x05, 4 + 4 * i, i));
    stream.insert(stream.end(), msgs.back().begin(), msgs.back().end());
  }
  TcpFrameReader r;
  r.append(stream);
  TcpFrameReader::Status st;
  EXPECT_EQ(drain(r, &st), msgs);
  EXPECT_EQ(st, TcpFrameReader::Status::kNeedMore);
}

TEST(TcpFrameReader, HeaderOnlyMessageOfLengthFourIsValidForAsap) {
  std::uint8_t m[4] = {0x0e, 0, 0, 4};
  TcpFrameReader r;
  r.append(m);
  std::span<const std::uint8_t> out;
  ASSERT_EQ(r.next(&out), TcpFrameReader::Status::kMessage);
  EXPECT_EQ(out.size(), 4u);
}

TEST(TcpFrameReader, FakeSourceWithRaggedChunksAndEof) {
  std::vector<std::uint8_t> stream;
  std::vector<std::vector<std::uint8_t>> msgs;
  for (std::uint32_t i = 0; i < 200; ++i) {
    msgs.push_back(make_message(0x06, 8 + 4 * (i % 40), i));
    stream.insert(stream.end(), msgs.back().begin(), msgs.back().end());
  }
  std::deque<std::size_t> chunks;
  for (std::size_t i = 0; i < 1000; ++i) chunks.push_back(1 + (i * 37) % 211);
  FakeByteSource src(stream, chunks, true);
  TcpFrameReader r;
  std::vector<std::vector<std::uint8_t>> got;
  ssize_t n;
  int reads = 0;
  while ((n = r.fill([&](std::uint8_t* b, std::size_t c) { return src.read(b, c); })) > 0 && ++reads < 100000) {
    TcpFrameReader::Status st;
    for (auto& m : drain(r, &st)) got.push_back(std::move(m));
    ASSERT_EQ(st, TcpFrameReader::Status::kNeedMore);
  }
  EXPECT_EQ(n, 0);  // EOF reached
  EXPECT_EQ(got, msgs);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(TcpFrameReader, FillReportsEagainWithoutLosingBytes) {
  auto msg = make_message(0x01, 16);
  FakeByteSource src(std::vector<std::uint8_t>(msg.begin(), msg.begin() + 6), {}, false);
  TcpFrameReader r;
  EXPECT_EQ(r.fill([&](std::uint8_t* b, std::size_t c) { return src.read(b, c); }), 6);
  EXPECT_EQ(r.fill([&](std::uint8_t* b, std::size_t c) { return src.read(b, c); }), -1);
  EXPECT_EQ(r.buffered(), 6u);
  r.append(std::span<const std::uint8_t>(msg.data() + 6, msg.size() - 6));
  std::span<const std::uint8_t> out;
  ASSERT_EQ(r.next(&out), TcpFrameReader::Status::kMessage);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), msg.begin(), msg.end()));
}

struct BadCase {
  std::size_t length;
  std::size_t max;
  std::size_t min;
};

class TcpFrameReaderBadLength : public ::testing::TestWithParam<BadCase> {};

// Length < 4 (ENRP: < 12), Length % 4 != 0, Length > max: fatal, and stays fatal.
TEST_P(TcpFrameReaderBadLength, IsFatalAfterPrecedingGoodMessage) {
  const BadCase c = GetParam();
  TcpFrameReader r(c.max, c.min);
  auto good = make_message(0x01, 12);
  std::uint8_t bad[4] = {0x01, 0x00, static_cast<std::uint8_t>(c.length >> 8), static_cast<std::uint8_t>(c.length)};
  r.append(good);
  r.append(bad);
  std::span<const std::uint8_t> out;
  ASSERT_EQ(r.next(&out), TcpFrameReader::Status::kMessage);
  EXPECT_EQ(r.next(&out), TcpFrameReader::Status::kBadLength);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.bad_length(), c.length);
  r.append(good);
  EXPECT_EQ(r.next(&out), TcpFrameReader::Status::kBadLength);  // no resynchronisation
}

INSTANTIATE_TEST_SUITE_P(Cases, TcpFrameReaderBadLength,
                         ::testing::Values(BadCase{0, 65535, 4}, BadCase{3, 65535, 4}, BadCase{5, 65535, 4},
                                           BadCase{10, 65535, 4}, BadCase{65535, 65535, 4},
                                           BadCase{1028, 1024, 4}, BadCase{8, 65535, 12}));

TEST(TcpFrameReader, MaximumLengthMessageIsAccepted) {
  TcpFrameReader r(65532);
  auto big = make_message(0x06, 65532);
  r.append(big);
  std::span<const std::uint8_t> out;
  ASSERT_EQ(r.next(&out), TcpFrameReader::Status::kMessage);
  EXPECT_EQ(out.size(), 65532u);
}

}  // namespace
}  // namespace poolreg::tcp
