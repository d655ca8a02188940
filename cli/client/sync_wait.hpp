// Synchronous convenience wrappers for tools and tests: run the client's EventLoop until a request
// completes or a wall-clock limit passes. Never use them inside a loop callback (they run the loop
// re-entrantly); they are for main() of a tool and for test bodies.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "dataplane/runtime/event_loop.hpp"

namespace poolreg::client {

// Runs loop passes until pred() is true or `limit` passed; returns pred(). Works also after
// EventLoop::run() returned (stop() is permanent for run(), not for run_once()).
inline bool run_until(runtime::EventLoop& loop, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    loop.run_once(10);
  }
  return true;
}

// Connects and waits until the association is up. kOk, kConnectFailed or kTimeout.
template <typename Client>
ClientStatus connect_and_wait(Client& client, std::chrono::milliseconds limit) {
  const ClientStatus s = client.connect();
  if (s != ClientStatus::kOk) return s;
  const auto state = [&] { return client.connection().state(); };
  run_until(
      client.loop(), [&] { return state() != AsapConnection::State::kConnecting; }, limit);
  if (client.connected()) return ClientStatus::kOk;
  return state() == AsapConnection::State::kConnecting ? ClientStatus::kTimeout
                                                       : ClientStatus::kConnectFailed;
}

// Registers and waits for the answer (the request timeout bounds it; `limit` is a safety net).
inline PeResult register_and_wait(PoolElementClient& client, const PeRegistration& reg,
                                  std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<PeResult> result;
  client.register_pe(reg, [&](const PeResult& r) { result = r; });
  run_until(
      client.loop(), [&] { return result.has_value(); }, limit);
  if (!result) return pe_result(ClientStatus::kTimeout, reg.handle, reg.id);
  return *result;
}

inline PeResult reregister_and_wait(PoolElementClient& client, const PoolHandle& handle, PoolElementId id,
                                    const PeUpdate& update = {},
                                    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<PeResult> result;
  client.reregister(handle, id, update, [&](const PeResult& r) { result = r; });
  run_until(
      client.loop(), [&] { return result.has_value(); }, limit);
  if (!result) return pe_result(ClientStatus::kTimeout, handle, id);
  return *result;
}

inline PeResult deregister_and_wait(PoolElementClient& client, const PoolHandle& handle, PoolElementId id,
                                    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<PeResult> result;
  client.deregister(handle, id, [&](const PeResult& r) { result = r; });
  run_until(
      client.loop(), [&] { return result.has_value(); }, limit);
  if (!result) return pe_result(ClientStatus::kTimeout, handle, id);
  return *result;
}

inline ResolutionResult resolve_and_wait(PoolUserClient& client, const PoolHandle& handle,
                                         std::uint32_t items = 0,
                                         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<ResolutionResult> result;
  client.resolve(handle, items, [&](const ResolutionResult& r) { result = r; });
  run_until(
      client.loop(), [&] { return result.has_value(); }, limit);
  if (!result) {
    ResolutionResult r;
    r.status = ClientStatus::kTimeout;
    r.handle = handle;
    r.items_requested = items;
    return r;
  }
  return *result;
}

// Resolves `items` PEs, then again every `pause`, until pred(result) holds or `limit` passed;
// returns the last result. Each resolution waits at most `request_limit`.
inline ResolutionResult resolve_until(PoolUserClient& client, const PoolHandle& handle, std::uint32_t items,
                                      const std::function<bool(const ResolutionResult&)>& pred,
                                      std::chrono::milliseconds limit, std::chrono::milliseconds pause,
                                      std::chrono::milliseconds request_limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  ResolutionResult r;
  do {
    r = resolve_and_wait(client, handle, items, request_limit);
    if (pred(r)) return r;
    run_until(
        client.loop(), [] { return false; }, pause);
  } while (std::chrono::steady_clock::now() < deadline);
  return r;
}

// Closes gracefully and runs the loop until the association is gone (or `limit`).
template <typename Client>
void close_and_wait(Client& client, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  client.close();
  run_until(
      client.loop(),
      [&] {
        const auto s = client.connection().state();
        return s != AsapConnection::State::kClosing &&
               client.connection().transport().connection_count() == 0;
      },
      limit);
}

}  // namespace poolreg::client
