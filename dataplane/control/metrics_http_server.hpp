// MetricsHttpServer: a minimal HTTP/1.1 server on the daemon's EventLoop that serves the
// Prometheus exposition: GET (or HEAD) /metrics -> 200 text/plain; version=0.0.4; the probes
// /healthz (200 "ok" while the event loop answers: liveness) and /readyz (200 "ready" or 503 with
// the reasons, from the readiness provider: `poolctl health`'s checks); any other path -> 404;
// other methods on those paths -> 405; malformed or oversize requests -> 400 / 431. Every
// response carries Content-Length and "Connection: close", and the connection is closed after it.
//
// Contract: construct, start(), stop(), destroy on the event-loop thread; the body provider runs
// on that thread, once per GET. Non-blocking sockets only; at most max_clients connections
// (extras are closed at once), requests limited to max_request_bytes, connections idle for
// idle_timeout are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "dataplane/control/stream_connections.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::control {

struct MetricsHttpServerConfig {
  IpAddress address = IpAddress::v4(0x7f000001u);
  std::uint16_t port = 9464;  // 0 = any free port (tests); bound_port() tells which
  std::size_t max_clients = 32;
  std::size_t max_request_bytes = 8192;
  TimeNs idle_timeout = 10 * kNsPerSec;
};

struct MetricsHttpCounters {
  std::uint64_t requests = 0;
  std::uint64_t scrapes = 0;       // 200 answers to GET /metrics
  std::uint64_t probes = 0;        // /healthz and /readyz answers
  std::uint64_t not_ready = 0;     // 503 answers to /readyz
  std::uint64_t not_found = 0;
  std::uint64_t bad_requests = 0;  // 400, 405, 431
  std::uint64_t refused = 0;       // over max_clients
  std::uint64_t accept_pauses = 0; // listener rested 100 ms: accept() lacked descriptors
};

class MetricsHttpServer {
 public:
  using BodyProvider = std::function<std::string()>;
  // Ready to serve, and a text saying why (or why not). Unset: /readyz answers as /healthz.
  using ReadinessProvider = std::function<std::pair<bool, std::string>()>;
  void set_readiness(ReadinessProvider provider) { readiness_ = std::move(provider); }

  MetricsHttpServer(runtime::EventLoop& loop, MetricsHttpServerConfig config, BodyProvider provider);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds and listens; the error is a readable reason.
  Expected<void, std::string> start();
  void stop();
  std::uint16_t bound_port() const noexcept { return bound_port_; }
  std::size_t client_count() const noexcept { return connections_.size(); }
  const MetricsHttpCounters& counters() const noexcept { return counters_; }

 private:
  struct Client {
    int fd = -1;
    std::string in;
    std::string out;
    std::size_t out_offset = 0;
    bool responded = false;
    TimeNs last_activity = 0;
  };

  void on_client_event(int fd, std::uint32_t events);
  void handle_request(Client& c);
  void respond(Client& c, int status, const char* reason, const std::string& content_type, const std::string& body,
               bool head_only);
  bool flush(Client& c);  // false: closed

  runtime::EventLoop& loop_;
  MetricsHttpServerConfig config_;
  BodyProvider provider_;
  ReadinessProvider readiness_;
  std::uint16_t bound_port_ = 0;
  MetricsHttpCounters counters_;
  StreamConnections<Client> connections_;  // last: its callbacks use the members above
};

}  // namespace poolreg::control
