#include "dataplane/tcp/tcp_frame_reader.hpp"

#include <cstring>

namespace poolreg::tcp {

namespace {
constexpr std::size_t kHeaderSize = 4;
}  // namespace

TcpFrameReader::TcpFrameReader(std::size_t max_message_size, std::size_t min_length)
    : max_(max_message_size), min_(min_length < kHeaderSize ? kHeaderSize : min_length) {}

// Moves unconsumed bytes to the front (only when something was consumed) so storage stays
// bounded by max message size + one read chunk.
void TcpFrameReader::compact() {
  if (start_ == 0) return;
  const std::size_t n = end_ - start_;
  if (n > 0) std::memmove(buffer_.data(), buffer_.data() + start_, n);
  start_ = 0;
  end_ = n;
}

void TcpFrameReader::reserve_tail(std::size_t bytes) {
  compact();
  // Grow without value-initialising on every read: resize only when capacity is too small.
  if (buffer_.size() < end_ + bytes) buffer_.resize(end_ + bytes);
}

void TcpFrameReader::append(std::span<const std::uint8_t> bytes) {
  if (failed_ || bytes.empty()) return;
  reserve_tail(bytes.size());
  std::memcpy(buffer_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

ssize_t TcpFrameReader::fill(const std::function<ssize_t(std::uint8_t*, std::size_t)>& read) {
  reserve_tail(kReadChunk);
  ssize_t n = read(buffer_.data() + end_, buffer_.size() - end_);
  if (n > 0) end_ += static_cast<std::size_t>(n);
  return n;
}

TcpFrameReader::Status TcpFrameReader::next(std::span<const std::uint8_t>* message) {
  if (failed_) return Status::kBadLength;
  const std::size_t available = end_ - start_;
  if (available < kHeaderSize) return Status::kNeedMore;
  const std::uint8_t* p = buffer_.data() + start_;
  const std::size_t length = (static_cast<std::size_t>(p[2]) << 8) | p[3];
  if (length < min_ || length % 4 != 0 || length > max_) {
    failed_ = true;
    bad_length_ = length;
    return Status::kBadLength;
  }
  if (available < length) return Status::kNeedMore;
  *message = std::span<const std::uint8_t>(p, length);
  start_ += length;
  if (start_ == end_) start_ = end_ = 0;  // cheap reset: nothing to move next time
  return Status::kMessage;
}

}  // namespace poolreg::tcp
