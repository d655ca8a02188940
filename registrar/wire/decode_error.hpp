// DecodeError / DecodeResult: what a failed or partly-successful decode tells the caller.
// Errors are values (no exceptions; Expected<T, DecodeError>, registrar/common/expected.hpp):
// the caller turns one into an Operation Error cause (cause code + offending bytes) or, when
// silent_drop is set, drops the message quietly.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "registrar/common/error_cause.hpp"
#include "registrar/common/expected.hpp"

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
  kAddressTypeCount,     // 0x8045 entries != user transport addresses (or 0x8045 before the transport)
  kUnknownAddressType,   // 0x8045 type byte > 4, or a lifetime / R flag on a non-graceful type
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

// DecodeResult<T>: Expected plus the side channel. The Expected<T, DecodeError> part is the
// decode's outcome and is used like any Expected (has_value(), value(), error(), operator->);
// reports() is the skip-and-report list, valid in both cases (a message may carry an unknown
// action-11 TLV before the error that stops it). Why not Expected<Decoded<T>, DecodeError>:
// that would lose the reports on failure. Why a derived class and not a pair: callers keep one
// object, which is an Expected, and nothing is copied or allocated (the reports are inline; the
// message-level body decoders build the DecodeResult in place, then the entry point fills
// reports()). Only the message-level entry points (decode_asap, decode_enrp, the typed
// decode_handle_resolution / decode_registration_view) return it; parameter decoders, which
// take the reports list by reference, return plain Expected<T, DecodeError>.
template <typename T>
class [[nodiscard]] DecodeResult : public Expected<T, DecodeError> {
 public:
  using Expected<T, DecodeError>::Expected;  // from a T, or from unexpected(DecodeError{...})

  const UnrecognizedReports& reports() const noexcept { return reports_; }
  UnrecognizedReports& reports() noexcept { return reports_; }

 private:
  UnrecognizedReports reports_;
};

}  // namespace poolreg::wire
