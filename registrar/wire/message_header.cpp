#include "registrar/wire/message_header.hpp"

#include "registrar/wire/tlv_reader.hpp"

namespace poolreg::wire {

std::optional<MessageHeader> peek_header(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() < kMessageHeaderSize) return std::nullopt;
  return MessageHeader{bytes[0], bytes[1], load_u16(bytes.data() + 2)};
}

Frame frame_message(std::span<const std::uint8_t> bytes, std::size_t min_length, std::size_t max_message) noexcept {
  const auto h = peek_header(bytes);
  if (!h) return {FrameStatus::kNeedMore, 0};
  if (h->length < min_length || h->length < kMessageHeaderSize || h->length % 4 != 0 || h->length > max_message)
    return {FrameStatus::kBadLength, 0};
  return {FrameStatus::kComplete, h->length};
}

}  // namespace poolreg::wire
