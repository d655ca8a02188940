// ASAP/ENRP operation error cause codes (RFC 5354 section 3.9, shared/spec/parameters.md section 7).
#pragma once

#include <cstdint>
#include <string_view>

namespace poolreg {

enum class ErrorCause : std::uint16_t {
  kUnspecified = 0x0,
  kUnrecognizedParameter = 0x1,
  kUnrecognizedMessage = 0x2,
  kInvalidValues = 0x3,
  kNonUniquePeIdentifier = 0x4,
  kInconsistentPoolingPolicy = 0x5,
  kLackOfResources = 0x6,
  kInconsistentTransportType = 0x7,
  kInconsistentDataControlConfiguration = 0x8,
  kUnknownPoolHandle = 0x9,
  kRejectedSecurityConsiderations = 0xa,
};

// Operator-readable name; codes outside the RFC set (RSPLIB sends its internal numbers) read
// as "unknown cause".
constexpr std::string_view error_cause_name(ErrorCause cause) noexcept {
  switch (cause) {
    case ErrorCause::kUnspecified: return "unspecified";
    case ErrorCause::kUnrecognizedParameter: return "unrecognized parameter";
    case ErrorCause::kUnrecognizedMessage: return "unrecognized message";
    case ErrorCause::kInvalidValues: return "invalid values";
    case ErrorCause::kNonUniquePeIdentifier: return "non-unique PE identifier";
    case ErrorCause::kInconsistentPoolingPolicy: return "inconsistent pooling policy";
    case ErrorCause::kLackOfResources: return "lack of resources";
    case ErrorCause::kInconsistentTransportType: return "inconsistent transport type";
    case ErrorCause::kInconsistentDataControlConfiguration:
      return "inconsistent data/control configuration";
    case ErrorCause::kUnknownPoolHandle: return "unknown pool handle";
    case ErrorCause::kRejectedSecurityConsiderations: return "rejected due to security considerations";
  }
  return "unknown cause";
}

}  // namespace poolreg
