// The 4-byte ASAP/ENRP message header and stream framing helpers (TCP, nextgen.md section 6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace poolreg::wire {

struct MessageHeader {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint16_t length = 0;  // header + body, final padding may be excluded by some senders
};

// Reads the header; nullopt when fewer than 4 bytes. Does not validate anything else.
std::optional<MessageHeader> peek_header(std::span<const std::uint8_t> bytes) noexcept;

// Byte-stream framing: the size of the first message in `bytes` (Length rounded up to 4).
// kNeedMore when fewer than 4 bytes are present; kBadLength when Length < min_length, not a
// multiple of 4, or above max_message (the connection must be closed: no resync possible).
enum class FrameStatus : std::uint8_t { kComplete, kNeedMore, kBadLength };
struct Frame {
  FrameStatus status = FrameStatus::kNeedMore;
  std::size_t size = 0;  // valid when kComplete (may exceed bytes.size(): read more until it fits)
};
// min_length: 4 for ASAP, 12 for ENRP.
Frame frame_message(std::span<const std::uint8_t> bytes, std::size_t min_length, std::size_t max_message) noexcept;

}  // namespace poolreg::wire
