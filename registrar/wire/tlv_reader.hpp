// TlvReader: bounds-checked iteration over the TLVs of a message body or a TLV value.
// Never reads outside the span it was given; every failure is a DecodeError value.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

// Big-endian loads from spans the caller has already bounds-checked.
inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}
inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  return (static_cast<std::uint64_t>(load_u32(p)) << 32) | load_u32(p + 4);
}

struct Tlv {
  std::uint16_t type = 0;                 // as on the wire (with action bits)
  std::span<const std::uint8_t> value;    // Length - 4 bytes
  std::uint32_t offset = 0;               // of the TLV header, relative to the message start
  std::uint32_t length = 0;               // header + value + padding available in the buffer
  std::uint16_t pure_type() const noexcept { return type & param::kPureTypeMask; }
  std::uint16_t action() const noexcept { return type & param::kActionMask; }
  TlvLocation location() const noexcept { return {offset, length}; }
};

class TlvReader {
 public:
  // region: the bytes holding consecutive TLVs; region_offset: where region starts inside the
  // message (for error offsets). The last TLV's padding may lie after the region (a message
  // Length may exclude the final pad).
  TlvReader(std::span<const std::uint8_t> region, std::uint32_t region_offset) noexcept
      : region_(region), base_(region_offset) {}

  bool at_end() const noexcept { return pos_ >= region_.size(); }
  std::uint32_t position() const noexcept { return base_ + static_cast<std::uint32_t>(pos_); }

  // Next TLV, nullopt at the end, or an error (truncated header, Length < 4, value past the
  // region). The padding of the last TLV may extend past the region (not checked).
  // On error *error is filled and nullopt is returned with failed() true.
  std::optional<Tlv> next() noexcept {
    if (at_end()) return std::nullopt;
    const std::size_t left = region_.size() - pos_;
    const std::uint8_t* p = region_.data() + pos_;
    if (left < kTlvHeaderSize) {
      set_error(DecodeErrorKind::kTlvTruncated, static_cast<std::uint32_t>(left));
      return std::nullopt;
    }
    const std::uint16_t len = load_u16(p + 2);
    if (len < kTlvHeaderSize) {
      set_error(DecodeErrorKind::kTlvLengthTooShort, static_cast<std::uint32_t>(std::min<std::size_t>(left, kTlvHeaderSize)));
      return std::nullopt;
    }
    if (len > left) {
      set_error(DecodeErrorKind::kTlvTruncated, static_cast<std::uint32_t>(left));
      return std::nullopt;
    }
    Tlv t;
    t.type = load_u16(p);
    t.value = region_.subspan(pos_ + kTlvHeaderSize, len - kTlvHeaderSize);
    t.offset = position();
    const std::size_t padded = pad4(len);
    t.length = static_cast<std::uint32_t>(std::min(padded, left));
    pos_ += padded;  // may step past the end: then at_end() is true
    return t;
  }

  bool failed() const noexcept { return failed_; }
  const DecodeError& error() const noexcept { return error_; }

 private:
  void set_error(DecodeErrorKind kind, std::uint32_t len) noexcept {
    failed_ = true;
    error_ = DecodeError{ErrorCause::kInvalidValues, kind, false, position(), len};
  }

  std::span<const std::uint8_t> region_;
  std::uint32_t base_ = 0;
  std::size_t pos_ = 0;
  bool failed_ = false;
  DecodeError error_{};
};

}  // namespace poolreg::wire
