// TcpFrameReader: splits a TCP byte stream into ASAP/ENRP messages (nextgen.md §6.2): messages lie
// back to back, each framed by its own 4-byte header's Length field (bytes 2-3, big-endian, whole
// message incl. padding). A Length below the minimum (4, ENRP 12), not a multiple of 4, or above
// the configured maximum is fatal: a byte stream cannot be resynchronised, the caller closes the
// connection. Pure logic, no sockets: unit-tested with a fake byte source.
//
// Usage: fill(read_fn) or append(bytes); then call next() until it returns kNeedMore or kBadLength.
// A span returned by next() stays valid until the next fill()/append()/next() call.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace poolreg::tcp {

class TcpFrameReader {
 public:
  enum class Status : std::uint8_t { kMessage, kNeedMore, kBadLength };
  static constexpr std::size_t kAsapMinLength = 4;
  static constexpr std::size_t kEnrpMinLength = 12;
  static constexpr std::size_t kReadChunk = 64 * 1024;  // bytes asked from the source per fill()

  explicit TcpFrameReader(std::size_t max_message_size = 65535, std::size_t min_length = kAsapMinLength);

  void append(std::span<const std::uint8_t> bytes);
  // Reads once from a byte source into the internal buffer: read(buf, capacity) returns bytes
  // read (>0), 0 on end of stream, or -1 with errno (EAGAIN = nothing now). Returns read's value.
  ssize_t fill(const std::function<ssize_t(std::uint8_t*, std::size_t)>& read);

  Status next(std::span<const std::uint8_t>* message);

  bool failed() const noexcept { return failed_; }
  std::size_t buffered() const noexcept { return end_ - start_; }
  // The Length of the rejected header (valid after kBadLength), for logs.
  std::size_t bad_length() const noexcept { return bad_length_; }

 private:
  void compact();
  void reserve_tail(std::size_t bytes);

  std::size_t max_;
  std::size_t min_;
  std::vector<std::uint8_t> buffer_;  // storage; bytes [start_, end_) are unconsumed
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::size_t bad_length_ = 0;
  bool failed_ = false;
};

}  // namespace poolreg::tcp
