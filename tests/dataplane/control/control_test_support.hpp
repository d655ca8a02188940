// Helpers for the dataplane/control and poolctl tests: a temporary directory, an EventLoop run
// on a background thread (the "daemon" side), a raw line client, and a small registrar (real
// handlespace, ASAP and ENRP servers with a recording output) to build realistic results from.
#pragma once

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dataplane/control/control_server.hpp"
#include "dataplane/control/registrar_commands.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::control::testing {

// A fresh directory under /tmp (short paths: sun_path is 108 bytes), removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = "/tmp/pctl-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
      std::error_code ec;
      if (std::filesystem::create_directory(path_, ec) && !ec) return;
    }
    path_.clear();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs an EventLoop on its own thread. setup() runs on the loop thread before the loop starts;
// call() runs a function on the loop thread and waits for it.
class LoopThread {
 public:
  LoopThread() = default;
  ~LoopThread() { stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  runtime::EventLoop& loop() { return *loop_; }

  // Starts the thread; `setup` runs on it first (create servers there). Returns setup's result.
  bool start(std::function<bool(runtime::EventLoop&)> setup) {
    std::promise<bool> ready;
    auto result = ready.get_future();
    thread_ = std::thread([this, setup = std::move(setup), &ready]() mutable {
      loop_ = std::make_unique<runtime::EventLoop>();
      const bool ok = setup(*loop_);
      ready.set_value(ok);
      if (ok) loop_->run();
      if (teardown_) teardown_();
      loop_.reset();
    });
    const bool ok = result.get();
    if (!ok) thread_.join();
    return ok;
  }
  // Runs on the loop thread when the loop has stopped (destroy servers there).
  void on_teardown(std::function<void()> f) { teardown_ = std::move(f); }

  void call(std::function<void()> f) {
    std::promise<void> done;
    auto fut = done.get_future();
    loop_->post_from_any_thread([&] {
      f();
      done.set_value();
    });
    fut.wait();
  }

  void stop() {
    if (!thread_.joinable()) return;
    if (loop_) loop_->stop();
    thread_.join();
  }

 private:
  std::unique_ptr<runtime::EventLoop> loop_;
  std::thread thread_;
  std::function<void()> teardown_;
};

// Blocking raw client: connect, send bytes, read lines with a timeout.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path) - 1));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Next line (without '\n'); nullopt on EOF or timeout.
  std::optional<std::string> line(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return std::nullopt;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // True when the server closed the connection within the timeout (after any pending lines).
  bool closed_by_server(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// MessageOutput that records nothing of interest and accepts everything.
class NullOutput final : public MessageOutput {
 public:
  bool send(ConnectionId, WireProtocol, std::span<const std::uint8_t>) override {
    ++sent;
    return true;
  }
  void abort(ConnectionId) override {}
  ConnectionId connect(WireProtocol, const TransportEndpoint&) override { return ++next; }
  std::uint64_t sent = 0;
  ConnectionId next = 100;
};

inline constexpr RegistrarId kOwnId = 0x10000001;
inline constexpr RegistrarId kPeerId = 0x10000002;

// A small registrar: handlespace + AsapServer + EnrpServer (one static peer), on the thread
// that constructs it (which must also be the one calling the commands).
struct MiniRegistrar {
  handlespace::QsbrDomain domain{4};
  std::unique_ptr<handlespace::Handlespace> hs;
  std::unique_ptr<handlespace::ReaderContext> reader;
  NullOutput output;
  SteadyClock clock;
  std::unique_ptr<asap::AsapServer> asap;
  std::unique_ptr<enrp::EnrpServer> enrp;
  LatencyHistogram latency;
  spdlog::logger logger{"poolregd-test", std::make_shared<spdlog::sinks::null_sink_mt>()};

  MiniRegistrar() {
    handlespace::HandlespaceConfig hc;
    hc.shard_count = 2;
    hs = std::make_unique<handlespace::Handlespace>(hc, domain);
    reader = std::make_unique<handlespace::ReaderContext>(domain, 42);
    reader->online();
    asap::AsapConfig ac;
    ac.registrar_id = kOwnId;
    ac.min_address_scope = AddressScope::kLoopback;
    asap = std::make_unique<asap::AsapServer>(ac, *hs, *reader, output, clock, nullptr);
    enrp::EnrpConfig ec;
    ec.own_id = kOwnId;
    ec.own_endpoint.protocol = TransportProtocol::kSctp;
    ec.own_endpoint.port = 9901;
    ec.own_endpoint.addresses = {IpAddress::v4(0x7f000001u)};
    enrp::EnrpStaticPeer peer;
    peer.endpoint.protocol = TransportProtocol::kSctp;
    peer.endpoint.port = 9902;
    peer.endpoint.addresses = {IpAddress::v4(0x7f000001u)};
    peer.id = kPeerId;
    ec.static_peers.push_back(peer);
    enrp = std::make_unique<enrp::EnrpServer>(ec, *hs, output, clock, *asap, nullptr);
    enrp->start();
    for (TimeNs d : {3000ull, 12000ull, 15000ull, 90000ull, 2000000ull}) latency.record(d);
  }
  ~MiniRegistrar() { reader->offline(); }

  // Registers a PE directly in the handlespace (home = own ID unless given).
  bool add_pe(const std::string& handle, PoolElementId id, PolicyType policy = PolicyType::kRoundRobin,
              RegistrarId home = kOwnId, std::uint32_t value = 0) {
    PoolElement pe;
    pe.id = id;
    pe.home_registrar = home;
    pe.registration_life_ms = 30000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = static_cast<std::uint16_t>(7000 + id % 1000);
    pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
    pe.policy.type = policy;
    if (policy == PolicyType::kWeightedRoundRobin) pe.policy.weight = value;
    if (policy == PolicyType::kLeastUsed) pe.policy.load = value;
    return hs->register_pe(*PoolHandle::from_string(handle), pe).has_value();
  }

  RegistrarBindings bindings() {
    RegistrarBindings b;
    b.handlespace = hs.get();
    b.asap = asap.get();
    b.enrp = enrp.get();
    b.clock = &clock;
    b.resolution_latency = &latency;
    b.logger = &logger;
    b.status.registrar_id = kOwnId;
    b.status.mode = "rfc";
    b.status.version = "test";
    b.status.started_at = clock.now();
    b.status.listeners = {"ASAP SCTP/UDP-encaps 127.0.0.1:3863 (udp 9899)", "ASAP TCP 127.0.0.1:3863",
                          "ENRP SCTP 127.0.0.1:9901"};
    b.status.cores = 2;
    b.status.shards = 2;
    b.status.control_socket = "/tmp/test.sock";
    return b;
  }
};

}  // namespace poolreg::control::testing
