// DecodeError / DecodeResult: what a failed or partly-successful decode tells the caller.
// Errors are values (no exceptions): the caller turns one into an Operation Error cause
// (cause code + offending bytes) or, when silent_drop is set, drops the message quietly.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <variant>

#include "registrar/common/error_cause.hpp"

namespace poolreg::wire {

// Detail for tests, logs and counters; the protocol-visible part is DecodeError::cause.
enum class DecodeErrorKind : std::uint8_t {
  kTruncatedHeader,      // fewer than 4 bytes (ENRP: 12; fixed fields incomplete)
  kBadMessageLength,     // header Length < header size, > buffer, or > max_message
  kTrailingBytes,        // more than 3 bytes present beyond Length (WIRE-01)
  kUnknownMessageType,   // cause 0x2, offending = whole message (WIRE-04)
  kTlvTruncated,         // TLV header or value runs past the enclosing message/TLV (WIRE-02)
  kTlvLengthTooShort,    // TLV Length < 4 (WIRE-02)
  kBadValueLength,       // fixed-size value with the wrong length (e.g. IPv4 Length 9)
  kUnknownParameter,     // unknown TLV with action bits 00 (silent_drop) or 01 → cause 0x1 (WIRE-03)
  kUnexpectedParameter,  // a known parameter where this message/TLV does not allow it
  kDuplicateParameter,   // a parameter that may occur once occurred twice
  kMissingParameter,     // a mandatory parameter is absent (offending = whole message/TLV)
  kEmptyValue,           // empty pool handle, cookie, operation error without causes
  kPoolHandleTooLong,    // longer than WireOptions::max_pool_handle (WIRE-07)
  kBadAddressCount,      // 0 addresses, > max_addresses, or != 1 for non-SCTP (WIRE-08)
  kBadTransportUse,      // transport use not 0/1 (WIRE-08)
  kZeroPort,             // transport port 0 (WIRE-08)
  kZeroIdentifier,       // PE ID 0 in a Registration (etc.), Home PR ID 0 in ENRP PEs
  kUnknownPolicy,        // policy type without a wire codec (e.g. 0x99)
  kPolicyTooShort,       // policy value shorter than its type needs
  kBadActionValue,       // Handle Update action not 0/1
  kIdMismatch,           // 64-bit extension ID whose low 32 bits differ from the short field
  kMissingAsapTransport, // ENRP Pool Element without its ASAP transport
  kWrongMessageType,     // typed decoder (decode_handle_resolution ...) given another type
};

std::string_view decode_error_kind_name(DecodeErrorKind kind) noexcept;

struct DecodeError {
  ErrorCause cause = ErrorCause::kInvalidValues;
  DecodeErrorKind kind = DecodeErrorKind::kBadMessageLength;
  // True only for an unknown TLV with action bits 00: drop the message, report nothing.
  bool silent_drop = false;
  // Offending bytes inside the decoded buffer: the TLV (header + value + its padding when
  // present in the buffer) or the whole message. Always within the buffer passed to decode.
  std::uint32_t offset = 0;
  std::uint32_t length = 0;

  // The bytes to carry as cause information (cause 0x1/0x2/0x3: the TLV or the message).
  std::span<const std::uint8_t> offending(std::span<const std::uint8_t> message) const noexcept {
    if (offset > message.size()) return {};
    const std::size_t n = std::min<std::size_t>(length, message.size() - offset);
    return message.subspan(offset, n);
  }

  friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

// Location of a TLV inside the decoded buffer (same convention as DecodeError offset/length).
struct TlvLocation {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const TlvLocation&, const TlvLocation&) = default;
};

// Unknown TLVs with action bits 11 that were skipped during a successful decode; the caller
// should report each one with an extra Error message, cause 0x1 (WIRE-03). Inline, no
// allocation: keeps the first kCapacity, counts the rest in dropped().
class UnrecognizedReports {
 public:
  static constexpr std::size_t kCapacity = 4;
  void add(TlvLocation loc) noexcept {
    if (count_ < kCapacity) items_[count_++] = loc;
    else ++dropped_;
  }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t dropped() const noexcept { return dropped_; }
  const TlvLocation& operator[](std::size_t i) const noexcept { return items_[i]; }
  const TlvLocation* begin() const noexcept { return items_.data(); }
  const TlvLocation* end() const noexcept { return items_.data() + count_; }

 private:
  std::array<TlvLocation, kCapacity> items_{};
  std::size_t count_ = 0;
  std::size_t dropped_ = 0;
};

// Either a decoded T or a DecodeError, plus the skip-and-report list (valid in both cases).
template <typename T>
class DecodeResult {
 public:
  DecodeResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  DecodeResult(DecodeError error) : v_(std::in_place_index<1>, error) {}  // NOLINT(implicit)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & noexcept { return *std::get_if<0>(&v_); }
  const T& value() const& noexcept { return *std::get_if<0>(&v_); }
  T&& value() && noexcept { return std::move(*std::get_if<0>(&v_)); }
  const DecodeError& error() const noexcept { return *std::get_if<1>(&v_); }
  T* operator->() noexcept { return std::get_if<0>(&v_); }
  const T* operator->() const noexcept { return std::get_if<0>(&v_); }

  const UnrecognizedReports& reports() const noexcept { return reports_; }
  UnrecognizedReports& reports() noexcept { return reports_; }

 private:
  std::variant<T, DecodeError> v_;
  UnrecognizedReports reports_;
};

}  // namespace poolreg::wire
