// OperationError: the decoded Operation Error parameter (0x000c), one or more causes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "registrar/common/error_cause.hpp"

namespace poolreg::wire {

struct ErrorCauseEntry {
  // Raw code as received: RSPLIB sends internal numbers (0x0010, 0x100b, 0xf000...), which are
  // accepted and kept (WIRE-10). Send only the RFC codes 0x1..0xa.
  std::uint16_t code = 0;
  // Cause-specific information: the offending TLV (with its padding) or message, or empty.
  std::vector<std::uint8_t> info;

  ErrorCause cause() const noexcept { return static_cast<ErrorCause>(code); }
  friend bool operator==(const ErrorCauseEntry&, const ErrorCauseEntry&) = default;
};

struct OperationError {
  std::vector<ErrorCauseEntry> causes;  // at least one on the wire

  // One cause with the given information bytes (copied; allocates).
  static OperationError single(ErrorCause cause, std::span<const std::uint8_t> info = {}) {
    OperationError e;
    e.causes.push_back({static_cast<std::uint16_t>(cause), {info.begin(), info.end()}});
    return e;
  }
  friend bool operator==(const OperationError&, const OperationError&) = default;
};

}  // namespace poolreg::wire
