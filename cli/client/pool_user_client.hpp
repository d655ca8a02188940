// PoolUserClient: the PU side of ASAP (RFC 5352, shared/spec/asap.md §2, nextgen.md §5): handle
// resolution (optionally with the Handle Resolution Option) and Endpoint Unreachable reports.
//
// Usage (see also sync_wait.hpp):
//   PoolUserClient pu(loop, stack.get(), options);
//   pu.connect();
//   pu.resolve(handle, 0 /*registrar default*/, [](const ResolutionResult& r) {
//     if (r.ok()) for (const PoolElement& pe : r.elements) ...;
//     else if (r.status == ClientStatus::kRejected && r.cause() == ErrorCause::kUnknownPoolHandle) ...;
//   });
//   pu.report_unreachable(handle, pe_id);
//
// Matching (ASAP has no request IDs)
// - Several resolutions may be outstanding at once (pipelining), for the same or different pools.
//   The registrar answers the requests of one association in order, and every Handle Resolution
//   Response carries the pool handle, so answers are matched FIFO per pool handle: the oldest
//   pending request for that handle takes the answer.
// - A request that timed out stays at the head of its handle's FIFO as a tombstone for
//   ClientOptions::late_response_window (default: request_timeout): an answer arriving meanwhile
//   is the late answer to it and is dropped (late_responses). After the window the tombstone is
//   discarded, so a registrar that silently drops a request cannot shift all later answers
//   forever. Answers for a handle with nothing pending are counted (unexpected_responses).
//
// Contract: loop thread only; every callback runs exactly once and never from inside the call
// that issued the request; do not destroy the client inside its callbacks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>

#include "cli/client/asap_connection.hpp"
#include "cli/client/client_options.hpp"
#include "cli/client/client_result.hpp"
#include "cli/client/request_deadlines.hpp"

namespace poolreg::client {

struct PoolUserCounters {
  std::uint64_t resolutions_sent = 0;
  std::uint64_t resolutions_answered = 0;  // with PEs
  std::uint64_t resolutions_rejected = 0;  // with an Operation Error (e.g. 0x9 unknown pool)
  std::uint64_t timeouts = 0;
  std::uint64_t late_responses = 0;
  std::uint64_t unexpected_responses = 0;
  std::uint64_t unreachable_reports_sent = 0;
  std::uint64_t error_messages = 0;       // ASAP Error (0x0e) received
  std::uint64_t unexpected_messages = 0;  // other message types
  std::uint64_t elements_received = 0;
  LatencyStats resolution_latency;
};

struct PoolUserEvents {
  std::function<void()> on_connected;
  std::function<void(ClientStatus, runtime::CloseReason)> on_connection_lost;
  std::function<void(const wire::OperationError&)> on_error_message;
};

using ResolutionCallback = std::function<void(const ResolutionResult&)>;

class PoolUserClient final : private AsapConnection::Listener {
 public:
  PoolUserClient(runtime::EventLoop& loop, kernel::SctpStack* stack, const ClientOptions& options);
  ~PoolUserClient() override;
  PoolUserClient(const PoolUserClient&) = delete;
  PoolUserClient& operator=(const PoolUserClient&) = delete;

  void set_events(PoolUserEvents events) { events_ = std::move(events); }

  ClientStatus connect() { return connection_.connect(); }
  // Pending resolutions fail with kClosed.
  void close();
  void abort();
  bool connected() const noexcept { return connection_.state() == AsapConnection::State::kConnected; }

  // items 0 = registrar default (no option sent); otherwise the Handle Resolution Option 0x803f
  // with that value (wire::kHroItemsMax = as many as the registrar allows).
  // Returns kOk when the request was sent (or queued until the association is up); otherwise the
  // callback reports the same status on the next loop pass.
  ClientStatus resolve(const PoolHandle& handle, std::uint32_t items, ResolutionCallback callback);
  // Endpoint Unreachable (0x09); no answer exists.
  ClientStatus report_unreachable(const PoolHandle& handle, PoolElementId id);

  std::size_t outstanding() const noexcept { return outstanding_; }
  const PoolUserCounters& counters() const noexcept { return counters_; }
  const ConnectionCounters& connection_counters() const noexcept { return connection_.counters(); }
  AsapConnection& connection() noexcept { return connection_; }
  runtime::EventLoop& loop() noexcept { return loop_; }

 private:
  struct Pending {
    std::uint64_t seq = 0;
    TimeNs sent_at = 0;
    std::uint32_t items = 0;
    ResolutionCallback callback;
    TimeNs timed_out_at = 0;  // != 0: tombstone (callback already ran with kTimeout)
  };

  void on_up() override;
  void on_message(ConnectionId from, wire::AsapMessage& message) override;
  void on_down(ClientStatus status, runtime::CloseReason reason) override;

  void on_response(wire::HandleResolutionResponse& m);
  void on_expired(std::uint64_t seq, const PoolHandle& handle);
  void fail_later(ResolutionCallback callback, ResolutionResult result);
  void fail_all(ClientStatus status);
  void purge_tombstones(std::deque<Pending>& queue, TimeNs now) const;

  runtime::EventLoop& loop_;
  ClientOptions options_;
  AsapConnection connection_;
  RequestDeadlines<PoolHandle> deadlines_;
  std::unordered_map<PoolHandle, std::deque<Pending>, PoolHandleHash> pending_;
  PoolUserEvents events_;
  PoolUserCounters counters_;
  TimeNs late_window_;
  std::uint64_t next_seq_ = 1;
  std::size_t outstanding_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::client
