// Results of PE/PU client requests: errors are values (ClientStatus + the registrar's cause code).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/error_cause.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::client {

enum class ClientStatus : std::uint8_t {
  kOk,
  kRejected,         // the registrar answered with an Operation Error (see error_code)
  kTimeout,          // no answer within ClientOptions::request_timeout
  kConnectFailed,    // the association never came up (refused, connect timeout)
  kConnectionLost,   // the association ended while the request was pending
  kNotConnected,     // no association and none being set up (call connect() first)
  kClosed,           // the client was closed locally while the request was pending
  kBusy,             // this PE already has a request of this kind outstanding
  kInvalidArgument,  // empty handle, bad ID, unknown PE, ID clash ...
  kEncodeFailed,     // the message could not be encoded (e.g. too many addresses)
  kSendFailed,       // the transport refused the message (queue full, socket error)
};
const char* to_string(ClientStatus s) noexcept;

// Outcome of a Registration or Deregistration (ASAP 0x01/0x02 answered by 0x03/0x04).
struct PeResult {
  ClientStatus status = ClientStatus::kOk;
  PoolHandle handle;
  PoolElementId id = 0;
  // The first cause code of the registrar's Operation Error when status == kRejected (raw: may be
  // an RSPLIB-internal number), else 0.
  std::uint16_t error_code = 0;
  // Request call → the loop pass that processed the answer (includes waiting for the association
  // when issued before it was up); 0 when it failed before being sent.
  TimeNs latency = 0;
  std::optional<std::uint32_t> registrar_capabilities;  // NG-Capabilities echoed by the registrar
  bool reregistration = false;

  bool ok() const noexcept { return status == ClientStatus::kOk; }
  ErrorCause cause() const noexcept { return static_cast<ErrorCause>(error_code); }
};

inline PeResult pe_result(ClientStatus status, const PoolHandle& handle, PoolElementId id) {
  PeResult r;
  r.status = status;
  r.handle = handle;
  r.id = id;
  return r;
}

// Outcome of a Handle Resolution (0x05 answered by 0x06).
struct ResolutionResult {
  ClientStatus status = ClientStatus::kOk;
  PoolHandle handle;
  std::uint32_t items_requested = 0;   // 0 = registrar default (no Handle Resolution Option sent)
  std::uint16_t error_code = 0;        // e.g. 0x9 unknown pool handle, when kRejected
  std::optional<PolicyParams> policy;  // pool policy TLV of the answer
  std::vector<PoolElement> elements;   // ID, home PR, life, user transport, policy values
  TimeNs latency = 0;

  bool ok() const noexcept { return status == ClientStatus::kOk; }
  ErrorCause cause() const noexcept { return static_cast<ErrorCause>(error_code); }
};

// Round-trip statistics (nanoseconds) of answered requests.
struct LatencyStats {
  std::uint64_t count = 0;
  TimeNs total = 0;
  TimeNs min = 0;
  TimeNs max = 0;

  void add(TimeNs v) noexcept {
    min = count == 0 ? v : std::min(min, v);
    max = std::max(max, v);
    total += v;
    ++count;
  }
  TimeNs mean() const noexcept { return count == 0 ? 0 : total / count; }
};

}  // namespace poolreg::client
