#include "cli/client/pool_user_client.hpp"

#include <utility>
#include <variant>
#include <vector>

namespace poolreg::client {

PoolUserClient::PoolUserClient(runtime::EventLoop& loop, kernel::SctpStack* stack,
                               const ClientOptions& options)
    : loop_(loop),
      options_(options),
      connection_(loop, stack, options, *this),
      deadlines_(loop, options.request_timeout,
                 [this](std::uint64_t seq, const PoolHandle& handle) { on_expired(seq, handle); }),
      late_window_(options.late_response_window != 0 ? options.late_response_window
                                                     : options.request_timeout) {}

PoolUserClient::~PoolUserClient() { *alive_ = false; }

void PoolUserClient::close() {
  connection_.close();
  fail_all(ClientStatus::kClosed);
}

void PoolUserClient::abort() {
  connection_.abort();
  fail_all(ClientStatus::kClosed);
}

void PoolUserClient::fail_later(ResolutionCallback callback, ResolutionResult result) {
  if (!callback) return;
  std::weak_ptr<bool> token = alive_;
  loop_.defer([token, callback = std::move(callback), result = std::move(result)] {
    if (auto t = token.lock(); t && *t) callback(result);
  });
}

ClientStatus PoolUserClient::resolve(const PoolHandle& handle, std::uint32_t items,
                                     ResolutionCallback callback) {
  ResolutionResult fail;
  fail.handle = handle;
  fail.items_requested = items;
  if (handle.empty() || handle.size() > options_.max_pool_handle) {
    fail.status = ClientStatus::kInvalidArgument;
    fail_later(std::move(callback), std::move(fail));
    return ClientStatus::kInvalidArgument;
  }
  wire::HandleResolution m;
  m.pool_handle = handle;
  if (items != 0) m.items = items;
  if (options_.next_gen) m.ng_capabilities = options_.ng_capabilities;
  const TimeNs sent_at = loop_.now();  // before send(): the answer may be back before it returns
  const ClientStatus s = connection_.usable() ? connection_.send(m) : ClientStatus::kNotConnected;
  if (s != ClientStatus::kOk) {
    fail.status = s;
    fail_later(std::move(callback), std::move(fail));
    return s;
  }
  const std::uint64_t seq = next_seq_++;
  std::deque<Pending>& queue = pending_[handle];
  purge_tombstones(queue, loop_.now());
  queue.push_back(Pending{seq, sent_at, items, std::move(callback), 0});
  ++outstanding_;
  ++counters_.resolutions_sent;
  deadlines_.push(seq, handle);
  return ClientStatus::kOk;
}

ClientStatus PoolUserClient::report_unreachable(const PoolHandle& handle, PoolElementId id) {
  if (handle.empty() || handle.size() > options_.max_pool_handle || id == 0)
    return ClientStatus::kInvalidArgument;
  if (!connection_.usable()) return ClientStatus::kNotConnected;
  const ClientStatus s = connection_.send(wire::EndpointUnreachable{handle, id});
  if (s == ClientStatus::kOk) ++counters_.unreachable_reports_sent;
  return s;
}

void PoolUserClient::purge_tombstones(std::deque<Pending>& queue, TimeNs now) const {
  // Tombstones past their window cannot be waiting for an answer any more.
  while (!queue.empty() && queue.front().timed_out_at != 0 &&
         now - queue.front().timed_out_at > late_window_) {
    queue.pop_front();
  }
}

void PoolUserClient::on_up() {
  if (events_.on_connected) events_.on_connected();
}

void PoolUserClient::on_down(ClientStatus status, runtime::CloseReason reason) {
  fail_all(status);
  if (status != ClientStatus::kClosed && events_.on_connection_lost)
    events_.on_connection_lost(status, reason);
}

void PoolUserClient::fail_all(ClientStatus status) {
  std::vector<std::pair<ResolutionCallback, ResolutionResult>> calls;
  for (auto& [handle, queue] : pending_) {
    for (Pending& p : queue) {
      if (p.timed_out_at != 0) continue;  // its callback already ran
      ResolutionResult r;
      r.status = status;
      r.handle = handle;
      r.items_requested = p.items;
      calls.emplace_back(std::move(p.callback), std::move(r));
      --outstanding_;
    }
  }
  pending_.clear();
  deadlines_.clear();
  for (auto& [callback, result] : calls) {
    if (callback) callback(result);
  }
}

void PoolUserClient::on_message(ConnectionId /*from*/, wire::AsapMessage& message) {
  if (auto* m = std::get_if<wire::HandleResolutionResponse>(&message)) {
    on_response(*m);
  } else if (auto* e = std::get_if<wire::AsapError>(&message)) {
    ++counters_.error_messages;
    if (events_.on_error_message) events_.on_error_message(e->error);
  } else {
    ++counters_.unexpected_messages;
  }
}

void PoolUserClient::on_response(wire::HandleResolutionResponse& m) {
  auto it = pending_.find(m.pool_handle);
  if (it == pending_.end()) {
    ++counters_.unexpected_responses;
    return;
  }
  std::deque<Pending>& queue = it->second;
  const TimeNs now = loop_.now();
  purge_tombstones(queue, now);
  if (queue.empty()) {
    pending_.erase(it);
    ++counters_.unexpected_responses;
    return;
  }
  Pending p = std::move(queue.front());
  queue.pop_front();
  if (queue.empty()) pending_.erase(it);
  if (p.timed_out_at != 0) {
    ++counters_.late_responses;
    return;
  }
  --outstanding_;
  ResolutionResult r;
  r.handle = m.pool_handle;
  r.items_requested = p.items;
  r.latency = now - p.sent_at;
  counters_.resolution_latency.add(r.latency);
  if (m.error) {
    r.status = ClientStatus::kRejected;
    r.error_code = m.error->causes.empty() ? 0 : m.error->causes.front().code;
    ++counters_.resolutions_rejected;
  } else {
    r.policy = m.policy;
    r.elements = std::move(m.elements);
    counters_.elements_received += r.elements.size();
    ++counters_.resolutions_answered;
  }
  if (p.callback) p.callback(r);
}

void PoolUserClient::on_expired(std::uint64_t seq, const PoolHandle& handle) {
  auto it = pending_.find(handle);
  if (it == pending_.end()) return;
  for (Pending& p : it->second) {
    if (p.seq != seq) continue;
    if (p.timed_out_at != 0) return;
    p.timed_out_at = loop_.now();
    --outstanding_;
    ++counters_.timeouts;
    ResolutionResult r;
    r.status = ClientStatus::kTimeout;
    r.handle = handle;
    r.items_requested = p.items;
    ResolutionCallback callback = std::move(p.callback);
    p.callback = nullptr;
    if (callback) callback(r);  // `p` may be gone from here on
    return;
  }
}

}  // namespace poolreg::client
