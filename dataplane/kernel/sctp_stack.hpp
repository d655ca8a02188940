// SctpStack: the SCTP side of a client process (client library, tools, poolgen, tests): ONE
// sctp::SctpEngine (the linked usrsctp copy, usrsctp_init_nothreads, AF_CONN) on ONE kernel UDP
// socket (UdpPacketSource, SCTP over UDP, RFC 6951), driven in-thread by the EventLoop of the
// KernelTransports that use it: the UDP socket is watched by the loop (packets go into the engine
// as they arrive) and a repeating loop timer (kTimerTickMs) runs the engine's usrsctp timers. No
// thread of its own, no rings, no locks: every usrsctp call is made on the loop thread.
//
// Sharing: several KernelTransports (e.g. a server and several clients in one test process) share
// one stack. Each registers the associations and listeners it owns (Owner); the stack hands every
// engine event to the owner of its association, and an incoming association to the owner of the
// listener that accepted it (an association nobody owns is aborted). An association from the
// stack to itself over 127.0.0.1 works: its packets go out as UDP to our own socket.
// Engine events are collected while the engine runs and handed to the owners only after the
// engine call returned (never from inside usrsctp): at once when the engine ran for a packet or a
// timer, on the next loop pass when it ran for an application call (send, connect, close, ...).
//
// The program's (linked) usrsctp copy is one stack: at most one SctpStack on it exists at a time,
// and not beside an engine on that copy (create() refuses). config.private_usrsctp runs the stack
// on a private dlmopen'd copy of its own instead (usrsctp_stack.hpp), so a program may run several
// stacks, each on its own thread and EventLoop (poolgen's generator lanes). All owners must run on one EventLoop; the
// stack binds to the loop of its first owner and lets it go when its last owner leaves (a test
// binary may create a loop per test and one stack for all of them).
//
// Native SCTP (config.native): a RawSctpSource (raw IP sockets, protocol 132, CAP_NET_RAW) is the
// engine's second path; connect(..., remote_udp_port = 0) then opens a native association. The
// raw sockets see every SCTP packet of the host: only those for this stack's ports (its
// listeners, the ports its native associations left from) reach the engine, the rest are
// counted (native_counters().native_drop_not_our_port).
//
// Lifetime: create() on the loop thread; destroy after every KernelTransport using it (the
// destructor aborts what is left and finishes usrsctp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "dataplane/sctp/usrsctp_tunables.hpp"

namespace poolreg::kernel {

class UdpPacketSource;
class RawSctpSource;

// The UsrsctpTunables are applied after init.
struct SctpStackConfig : sctp::UsrsctpTunables {
  // Local UDP encapsulation port. 0 = pick a free port (clients, tests).
  std::uint16_t udp_port = 9899;
  // Native SCTP (IP protocol 132) on raw IP sockets beside UDP (needs CAP_NET_RAW; create() fails
  // with the reason without it).
  bool native = false;
  bool debug_output = false;  // usrsctp debug printf to stderr
  // Run on a private copy of usrsctp (UsrsctpStack::load_private(), owned by the stack) instead
  // of the linked one; create() fails with kLaneCeilingHint's advice when none can be loaded.
  bool private_usrsctp = false;
};

class SctpStack final : private sctp::EngineEventSink {
 public:
  static constexpr int kTimerTickMs = 10;  // usrsctp timers (>= its 10 ms granularity)

  // The SCTP side of one KernelTransport: receives the events of the associations it owns.
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void sctp_connected(ConnectionId id, const ConnectionPeer& peer) = 0;
    virtual void sctp_message(ConnectionId id, const runtime::MessageInfo& info, std::span<const std::uint8_t> bytes) = 0;
    virtual void sctp_closed(ConnectionId id, runtime::CloseReason reason) = 0;
    virtual void sctp_unknown_ppid(ConnectionId id, std::uint32_t ppid) = 0;
    virtual void sctp_activity(ConnectionId /*id*/) {}
    virtual void sctp_addresses_changed(ConnectionId id, const ConnectionPeer& peer) = 0;
  };
  // Per-owner bound of an association's send queue.
  struct QueueLimit {
    std::size_t messages = 16384;
    std::size_t bytes = 16u << 20;
  };

  // nullptr with *error set when the linked usrsctp already runs a stack, the UDP port is in
  // use, or the socket cannot be opened.
  static std::unique_ptr<SctpStack> create(const SctpStackConfig& config, std::string* error = nullptr);
  ~SctpStack() override;
  SctpStack(const SctpStack&) = delete;
  SctpStack& operator=(const SctpStack&) = delete;

  std::uint16_t udp_port() const noexcept { return udp_port_; }
  const SctpStackConfig& config() const noexcept { return config_; }
  // Connection ids of the stack (SCTP and, for transports on it, TCP): unique in the process.
  std::atomic<std::uint64_t>& ids() noexcept { return ids_; }

  // ---- for KernelTransport (loop thread) ----
  // false: the stack already serves owners on another EventLoop.
  bool attach(Owner& owner, runtime::EventLoop& loop, QueueLimit limit);
  // Aborts the owner's associations and stops its listeners, without callbacks.
  void detach(Owner& owner);
  // Port 0: a free port. addresses are not used (one UDP socket, wildcard; see kernel_transport.hpp).
  runtime::ListenResult listen(Owner& owner, WireProtocol protocol, std::uint16_t port);
  void stop_listening(Owner& owner);
  // kNoConnectionId when the engine refuses at once (e.g. a second association from a listener to
  // the same peer endpoint). From the owner's listener of the protocol when it has one, else
  // from a socket of its own.
  ConnectionId connect(Owner& owner, WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                       std::uint16_t remote_udp_port);
  runtime::SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message);
  // Graceful / immediate; nothing is reported for the id afterwards.
  void close(ConnectionId id);
  void abort(ConnectionId id);
  std::size_t queued_messages(ConnectionId id) const;
  const sctp::EngineCounters& engine_counters() const noexcept { return engine_->counters(); }
  // The packet sources' counters (UDP and, with config.native, the raw sockets': native_*).
  const KernelLaneCounters& packet_counters() const noexcept { return udp_counters_; }
  bool native() const noexcept { return native_ != nullptr; }

 private:
  struct Event {
    enum class Kind : std::uint8_t { kConnected, kMessage, kClosed, kUnknownPpid, kActivity, kAddressesChanged };
    Kind kind = Kind::kMessage;
    ConnectionId id = 0;
    ConnectionPeer peer;
    runtime::MessageInfo info;
    std::uint8_t* data = nullptr;  // malloc()ed (kMessage)
    std::size_t length = 0;
    runtime::CloseReason reason = runtime::CloseReason::kPeerClosed;
    std::uint32_t ppid = 0;
  };
  struct OwnerState {
    Owner* owner = nullptr;
    QueueLimit limit;
  };
  struct Listener {
    Owner* owner = nullptr;
    WireProtocol protocol = WireProtocol::kAsap;
    std::uint16_t port = 0;
  };

  SctpStack(const SctpStackConfig& config, std::uint16_t udp_port);
  // sctp::EngineEventSink (inside engine calls: collect only)
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void on_message(ConnectionId id, const runtime::MessageInfo& info, std::uint8_t* data, std::size_t length) override;
  void on_closed(ConnectionId id, runtime::CloseReason reason) override;
  void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) override;
  void on_activity(ConnectionId id) override;
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override;
  Event& event(Event::Kind kind, ConnectionId id);  // a new collected event

  void bind_loop(runtime::EventLoop& loop);
  void unbind_loop();
  void on_readable();
  void on_native_readable();
  void on_tick();
  // After the engine ran: packets out, refused associations aborted.
  void after_engine();
  // After an application call: events to the owners on the next loop pass.
  void after_call();
  void dispatch();
  const OwnerState* owner_state(Owner& owner) const;
  static std::uint64_t now_ms() noexcept;

  SctpStackConfig config_;
  std::uint16_t udp_port_ = 0;
  std::atomic<std::uint64_t> ids_{1};
  KernelLaneCounters udp_counters_;
  std::unique_ptr<UdpPacketSource> source_;
  std::unique_ptr<RawSctpSource> native_;
  std::unique_ptr<sctp::UsrsctpStack> private_usrsctp_;  // config.private_usrsctp; outlives engine_
  std::unique_ptr<sctp::SctpEngine> engine_;
  runtime::EventLoop* loop_ = nullptr;
  runtime::EventLoop::TimerId tick_ = runtime::EventLoop::kNoTimer;
  std::shared_ptr<bool> bound_;  // liveness of the current loop binding (deferred dispatches)
  bool dispatch_scheduled_ = false;
  std::vector<OwnerState> owners_;
  std::vector<Listener> listeners_;
  std::unordered_map<ConnectionId, Owner*> connections_;
  std::vector<Event> events_;
  std::vector<ConnectionId> refused_;  // accepted on a listener nobody owns: aborted after the call
  std::uint16_t next_free_port_ = 0;
};

}  // namespace poolreg::kernel
