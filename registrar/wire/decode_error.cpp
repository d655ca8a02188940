#include "registrar/wire/decode_error.hpp"

namespace poolreg::wire {

std::string_view decode_error_kind_name(DecodeErrorKind kind) noexcept {
  switch (kind) {
    case DecodeErrorKind::kTruncatedHeader: return "truncated header";
    case DecodeErrorKind::kBadMessageLength: return "bad message length";
    case DecodeErrorKind::kTrailingBytes: return "trailing bytes after message";
    case DecodeErrorKind::kUnknownMessageType: return "unknown message type";
    case DecodeErrorKind::kTlvTruncated: return "truncated parameter";
    case DecodeErrorKind::kTlvLengthTooShort: return "parameter length below 4";
    case DecodeErrorKind::kBadValueLength: return "bad parameter value length";
    case DecodeErrorKind::kUnknownParameter: return "unknown parameter";
    case DecodeErrorKind::kUnexpectedParameter: return "unexpected parameter";
    case DecodeErrorKind::kDuplicateParameter: return "duplicate parameter";
    case DecodeErrorKind::kMissingParameter: return "missing parameter";
    case DecodeErrorKind::kEmptyValue: return "empty value";
    case DecodeErrorKind::kPoolHandleTooLong: return "pool handle too long";
    case DecodeErrorKind::kBadAddressCount: return "bad address count";
    case DecodeErrorKind::kBadTransportUse: return "bad transport use";
    case DecodeErrorKind::kZeroPort: return "port 0";
    case DecodeErrorKind::kZeroIdentifier: return "identifier 0";
    case DecodeErrorKind::kUnknownPolicy: return "unknown policy type";
    case DecodeErrorKind::kPolicyTooShort: return "policy value too short";
    case DecodeErrorKind::kBadActionValue: return "bad update action";
    case DecodeErrorKind::kIdMismatch: return "extended ID does not match short ID";
    case DecodeErrorKind::kAddressTypeCount: return "address type entries do not match the user addresses";
    case DecodeErrorKind::kUnknownAddressType: return "unknown address type or lifetime on a non-graceful address";
    case DecodeErrorKind::kMissingAsapTransport: return "pool element without ASAP transport";
    case DecodeErrorKind::kWrongMessageType: return "wrong message type";
  }
  return "unknown decode error";
}

}  // namespace poolreg::wire
