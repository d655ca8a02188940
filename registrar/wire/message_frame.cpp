#include "registrar/wire/message_frame.hpp"

#include <algorithm>

namespace poolreg::wire::detail {

Expected<MessageFrame, DecodeError> check_frame(std::span<const std::uint8_t> bytes,
                                                const WireOptions& options) noexcept {
  const auto all = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), 0xffffffffu));
  if (bytes.size() < kMessageHeaderSize)
    return unexpected(
        DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kTruncatedHeader, false, 0, all});
  MessageFrame f;
  f.type = bytes[0];
  f.flags = bytes[1];
  f.length = load_u16(bytes.data() + 2);
  f.whole = static_cast<std::uint32_t>(std::min<std::size_t>(pad4(f.length), bytes.size()));
  if (f.length < kMessageHeaderSize || f.length > bytes.size() || f.length > options.max_message) {
    f.whole = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), 0xffff));
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kBadMessageLength, f));
  }
  if (bytes.size() - f.length > 3)
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kTrailingBytes, f));
  return f;
}

}  // namespace poolreg::wire::detail
