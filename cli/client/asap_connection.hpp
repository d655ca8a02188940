// AsapConnection: one ASAP association (SCTP over usrsctp/UDP, or TCP) from a PE or PU to its
// registrar. Owns its KernelTransport, encodes outgoing messages with registrar/wire, decodes
// incoming ones and hands them to its Listener. Internal building block of PoolElementClient and
// PoolUserClient (usable on its own by load generators).
//
// Contract
// - Loop thread only (construct, call, destroy on the EventLoop's thread). Listener callbacks run
//   on that thread, never re-entrantly from inside a member call.
// - Messages sent while the association is still being set up are kept (encoded) and sent in
//   order once it is up; they are dropped when it fails.
// - One association at a time. After on_down() the connection may be connect()ed again (a new
//   association).
// - Incoming associations (PE listener, ClientOptions::pe_listen_port) are accepted and their
//   messages delivered with their own ConnectionId, so answers can go back the same way.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "cli/client/client_options.hpp"
#include "cli/client/client_result.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::client {

struct ConnectionCounters {
  std::uint64_t connects = 0;           // associations that came up
  std::uint64_t connect_failures = 0;   // refused or timed out
  std::uint64_t connections_lost = 0;   // up, then ended without close() from us
  std::uint64_t messages_sent = 0;      // handed to the transport (incl. queued there)
  std::uint64_t messages_received = 0;  // decoded ASAP messages
  std::uint64_t send_failures = 0;
  std::uint64_t encode_failures = 0;
  std::uint64_t decode_errors = 0;   // undecodable messages from the registrar (dropped)
  std::uint64_t wrong_protocol = 0;  // ENRP PPID on our ASAP association (dropped)
  std::uint64_t incoming_associations = 0;
};

class AsapConnection final : public runtime::MessageHandler {
 public:
  enum class State : std::uint8_t { kIdle, kConnecting, kConnected, kClosing, kClosed };

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_up() = 0;
    // `from` is the main association or an incoming one. `message` may be moved from.
    virtual void on_message(ConnectionId from, wire::AsapMessage& message) = 0;
    // The main association ended. status: kConnectFailed (never came up), kConnectionLost
    // (ended by the peer or the network) or kClosed (close()/abort() by us).
    virtual void on_down(ClientStatus status, runtime::CloseReason reason) = 0;
  };

  // stack may be nullptr (TCP only). loop, stack and listener must outlive the connection.
  AsapConnection(runtime::EventLoop& loop, kernel::SctpStack* stack, const ClientOptions& options,
                 Listener& listener);
  ~AsapConnection() override;
  AsapConnection(const AsapConnection&) = delete;
  AsapConnection& operator=(const AsapConnection&) = delete;

  // Starts the association (and the PE listener on first use). kOk, or kConnectFailed when the
  // attempt fails at once (no SCTP stack, socket error; on_down is then NOT called). Calling it
  // while connecting/connected is a no-op returning kOk.
  ClientStatus connect();
  // Graceful close (queued messages are still sent). on_down(kClosed) follows on a later pass.
  void close();
  // Immediate abort (SCTP ABORT / TCP RST).
  void abort();

  // Encodes and sends one message on the main association (or on `via`, an incoming one).
  // kNotConnected when there is neither an association nor one being set up.
  template <typename Message>
  ClientStatus send(const Message& message, ConnectionId via = kNoConnectionId) {
    encode_buffer_.clear();
    const wire::EncodeResult r = wire::encode(message, wire_options_, encode_buffer_);
    if (!r.ok()) {
      ++counters_.encode_failures;
      return ClientStatus::kEncodeFailed;
    }
    return send_bytes(encode_buffer_, via);
  }
  ClientStatus send_bytes(std::span<const std::uint8_t> bytes,
                          ConnectionId via = kNoConnectionId);

  State state() const noexcept { return state_; }
  bool usable() const noexcept { return state_ == State::kConnecting || state_ == State::kConnected; }
  ConnectionId id() const noexcept { return id_; }
  // Peer of the main association (registrar), nullptr when not connected.
  const ConnectionPeer* peer() const;
  // Local port of the PE listener (0 when none).
  std::uint16_t listen_port() const noexcept { return listen_port_; }
  const wire::WireOptions& wire_options() const noexcept { return wire_options_; }
  const ConnectionCounters& counters() const noexcept { return counters_; }
  // Why the latest attempt failed (kConnectFailed from connect() or on_down): an errno such as
  // ECONNREFUSED, ETIMEDOUT when no answer came within connect_timeout, 0 when unknown.
  int connect_error() const noexcept { return connect_error_; }
  // With TLS: why the latest handshake, certificate or the client's own TLS files failed (empty
  // when TLS did not fail).
  const std::string& tls_error() const noexcept { return tls_error_; }
  kernel::KernelTransport& transport() noexcept { return *transport_; }
  runtime::EventLoop& loop() noexcept { return loop_; }

  // runtime::MessageHandler
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void on_message(ConnectionId id, const runtime::MessageInfo& info,
                  std::span<const std::uint8_t> bytes) override;
  void on_closed(ConnectionId id, runtime::CloseReason reason) override;

 private:
  void on_connect_timeout();

  runtime::EventLoop& loop_;
  kernel::SctpStack* stack_;
  ClientOptions options_;
  Listener& listener_;
  wire::WireOptions wire_options_;
  std::unique_ptr<kernel::KernelTransport> transport_;
  State state_ = State::kIdle;
  ConnectionId id_ = kNoConnectionId;
  bool connect_timed_out_ = false;
  int connect_error_ = 0;
  std::string tls_error_;
  std::shared_ptr<const tcp::TlsContext> tls_;  // built on the first TLS connect()
  bool local_close_ = false;
  runtime::EventLoop::TimerId connect_timer_ = runtime::EventLoop::kNoTimer;
  std::deque<std::vector<std::uint8_t>> before_up_;  // encoded messages waiting for the association
  std::set<ConnectionId> incoming_;
  bool listening_ = false;
  std::uint16_t listen_port_ = 0;
  std::vector<std::uint8_t> encode_buffer_;
  ConnectionCounters counters_;
};

}  // namespace poolreg::client
