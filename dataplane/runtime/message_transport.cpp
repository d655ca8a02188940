#include "dataplane/runtime/message_transport.hpp"

namespace poolreg::runtime {

const char* to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::kPeerClosed: return "peer-closed";
    case CloseReason::kCommLost: return "comm-lost";
    case CloseReason::kPeerRestarted: return "peer-restarted";
    case CloseReason::kConnectFailed: return "connect-failed";
    case CloseReason::kLocalClose: return "local-close";
    case CloseReason::kLocalAbort: return "local-abort";
    case CloseReason::kFramingError: return "framing-error";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kQuotaExceeded: return "quota-exceeded";
  }
  return "?";
}

const char* to_string(SendResult r) noexcept {
  switch (r) {
    case SendResult::kSent: return "sent";
    case SendResult::kQueued: return "queued";
    case SendResult::kNoConnection: return "no-connection";
    case SendResult::kTooBig: return "too-big";
    case SendResult::kQueueFull: return "queue-full";
    case SendResult::kError: return "error";
  }
  return "?";
}

}  // namespace poolreg::runtime
