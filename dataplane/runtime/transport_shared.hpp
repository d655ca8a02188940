// TransportShared: state the halves of one composed MessageTransport share (KernelTransport: its
// TCP half, tcp::TcpMessageSockets, and its SCTP half, kernel::SctpConnections): the loop, the
// handler, the configuration, the id counter and the counters. Here so that dataplane/tcp and
// dataplane/kernel both include it without dataplane/tcp including dataplane/kernel.
// EventLoop thread only.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/runtime/transport_config.hpp"

namespace poolreg::runtime {

struct TransportShared {
  EventLoop& loop;
  MessageHandler& handler;
  TransportConfig config;
  // The SctpStack's id counter when there is a stack (SCTP and TCP ids then never collide, also
  // across the transports sharing the stack); else next_id.
  std::atomic<std::uint64_t>* ids = nullptr;
  TransportCounters counters{};
  ConnectionId next_id = 1;
  // MessageTransport::last_error(): set by a failed connect and for the on_closed that reports it.
  int last_error = 0;
  // Why the latest TLS handshake or identity check failed (OpenSSL's reason, the refused
  // identity): for a client's error message; the registrar counts and does not log per connection.
  std::string last_tls_failure{};

  ConnectionId allocate_id() noexcept {
    return ids != nullptr ? ids->fetch_add(1, std::memory_order_relaxed) : next_id++;
  }

  // Reports a close now (we are inside an event callback). error: the errno behind it, if known.
  void report_closed(ConnectionId id, CloseReason reason, int error = 0) {
    ++counters.connections_closed;
    last_error = error;
    handler.on_closed(id, reason);
  }
  // Reports a close on the next loop pass (we are inside an application call such as close()).
  // alive: the transport's liveness token, so a close deferred before the transport died is dropped.
  void report_closed_later(ConnectionId id, CloseReason reason);

  // loop.defer() that is skipped when the transport died in between.
  void defer_guarded(std::function<void()> fn) {
    std::weak_ptr<bool> token = alive;
    loop.defer([token, fn = std::move(fn)] {
      if (!token.expired()) fn();
    });
  }

  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

inline void TransportShared::report_closed_later(ConnectionId id, CloseReason reason) {
  std::weak_ptr<bool> token = alive;
  loop.defer([this, token, id, reason] {
    if (token.expired()) return;
    report_closed(id, reason);
  });
}

}  // namespace poolreg::runtime
