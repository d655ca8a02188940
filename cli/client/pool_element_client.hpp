// PoolElementClient: the PE side of ASAP (RFC 5352, shared/spec/asap.md §2, §4.4): registers one
// or many pool elements with a registrar over ONE association, re-registers them (mobility: new
// addresses; load: new policy values), deregisters them, and answers Endpoint Keep-Alives.
//
// Usage (see also sync_wait.hpp):
//   PoolElementClient pe(loop, stack.get(), options);
//   pe.connect();
//   PeRegistration reg{handle, 0 /*random*/, transport, policy, 30000};
//   PoolElementId id = pe.register_pe(reg, [](const PeResult& r) { ... r.ok() / r.cause() ... });
//   ... pe.reregister(handle, id, PeUpdate{.addresses = new_addresses}, cb);
//   ... pe.deregister(handle, id, cb);
//
// Contract
// - Loop thread only; callbacks run on the loop thread. A request callback runs exactly once
//   (answer, rejection, timeout, connection loss or close) and never from inside the call that
//   issued the request (immediate failures are deferred to the next loop pass). Do not destroy
//   the client from inside one of its callbacks (defer it).
// - Many PEs, in one or many pools, share the association (as RSPLIB allows, asap.md §1). A PE is
//   known by (pool handle, PE ID); at most one Registration and one Deregistration per PE may be
//   outstanding (else kBusy).
// - PE IDs: 0 asks for a random one. In RFC mode IDs are 32-bit (the wire carries 32 bits); in
//   next-gen mode 64-bit with a non-zero low half. The low 32 bits (short form) must be unique
//   per pool within one client, because RFC registrars answer with the short form only.
// - Registration Responses are matched by (handle, PE ID) — exact, any order.
// - Keep-Alives (0x07) are answered automatically with a Keep-Alive Ack {handle, PE ID} over the
//   association they came on, unless answering is switched off (globally or for one PE: tests
//   simulate a silent/dead PE that way). A Keep-Alive without PE ID is acked for every registered
//   PE (RSPLIB behaviour, asap.md §2). The sender's PR ID is recorded as the PE's home PR; H=1
//   makes the sender the new home (on_home_changed).
// - When the association ends every registered PE is considered gone (the registrar removes
//   them, asap.md §1): state kLost; pending requests fail with kConnectionLost. connect() may be
//   called again and the PEs re-registered with reregister().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "cli/client/asap_connection.hpp"
#include "cli/client/client_options.hpp"
#include "cli/client/client_result.hpp"
#include "cli/client/request_deadlines.hpp"
#include "registrar/common/pool_element.hpp"

namespace poolreg::client {

// What a PE registers. home_registrar is not sent (0 on the wire).
// RFC 8653 type of one user address (next-gen mode only; registrar/wire/README.md).
struct AddressTypeSpec {
  IpAddress address;
  AddressTypeEntry entry;
};

struct PeRegistration {
  PoolHandle handle;
  PoolElementId id = 0;  // 0 = random non-zero
  TransportEndpoint user_transport;
  PolicyParams policy;
  std::uint32_t registration_life_ms = 30'000;
  // Types of the addresses they name, in every (re-)registration whose address set holds them
  // (the others are sent "unspecified"). Sent only with ClientOptions::next_gen.
  std::vector<AddressTypeSpec> address_types;
};

// Changes for a re-registration; unset fields keep the last registered values.
struct PeUpdate {
  std::optional<std::vector<IpAddress>> addresses;  // mobility
  std::optional<std::uint16_t> port;
  std::optional<PolicyParams> policy;  // e.g. new load value
  std::optional<std::uint32_t> registration_life_ms;
};

enum class PeState : std::uint8_t {
  kRegistering,  // first Registration sent, no answer yet
  kRegistered,   // accepted (a re-registration may be pending)
  kRejected,     // the last registration attempt was refused / timed out and it is not registered
  kDeregistering,
  kDeregistered,  // deregistered (kept until forget())
  kLost,          // the association ended; the registrar has dropped it
};
const char* to_string(PeState s) noexcept;

// Read-only view of one PE of this client.
struct PeInfo {
  PoolHandle handle;
  PoolElement element;  // last values sent
  PeState state = PeState::kRegistering;
  RegistrarId home_registrar = 0;  // from the last Keep-Alive (0 = none seen yet)
  bool answer_keep_alives = true;
  std::uint64_t keep_alives = 0;    // received for this PE
  std::uint64_t registrations = 0;  // accepted (first + re-registrations)
};

struct PoolElementCounters {
  std::uint64_t registrations_sent = 0;
  std::uint64_t registrations_accepted = 0;
  std::uint64_t registrations_rejected = 0;
  std::uint64_t deregistrations_sent = 0;
  std::uint64_t deregistrations_answered = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t keep_alives_received = 0;
  std::uint64_t keep_alive_acks_sent = 0;
  std::uint64_t keep_alives_ignored = 0;  // answering switched off
  std::uint64_t keep_alives_unknown_pe = 0;
  std::uint64_t home_changes = 0;         // H=1 from a new registrar
  std::uint64_t unexpected_messages = 0;  // answers for unknown PEs / nothing pending, other types
  std::uint64_t error_messages = 0;       // ASAP Error (0x0e) received
  LatencyStats registration_latency;
  LatencyStats deregistration_latency;
};

struct PoolElementEvents {
  std::function<void()> on_connected;
  // The association ended (not after close()). status kConnectFailed or kConnectionLost.
  std::function<void(ClientStatus, runtime::CloseReason)> on_connection_lost;
  // Every Keep-Alive for a known PE; acked tells whether an Ack went back.
  std::function<void(const PoolHandle&, PoolElementId, RegistrarId, bool home_flag, bool acked)>
      on_keep_alive;
  std::function<void(const PoolHandle&, PoolElementId, RegistrarId new_home)> on_home_changed;
  std::function<void(const wire::OperationError&)> on_error_message;
};

using PeCallback = std::function<void(const PeResult&)>;

class PoolElementClient final : private AsapConnection::Listener {
 public:
  PoolElementClient(runtime::EventLoop& loop, kernel::SctpStack* stack, const ClientOptions& options);
  ~PoolElementClient() override;
  PoolElementClient(const PoolElementClient&) = delete;
  PoolElementClient& operator=(const PoolElementClient&) = delete;

  void set_events(PoolElementEvents events) { events_ = std::move(events); }

  // Starts the association. Requests issued before it is up are sent once it is.
  ClientStatus connect() { return connection_.connect(); }
  // Graceful close without deregistering (the registrar removes the PEs with the association).
  // Pending requests fail with kClosed.
  void close();
  void abort();
  bool connected() const noexcept { return connection_.state() == AsapConnection::State::kConnected; }

  // Registers a new PE; returns its ID (chosen at random when reg.id == 0), or 0 when the
  // request failed at once (the callback still reports why, on the next loop pass).
  PoolElementId register_pe(const PeRegistration& reg, PeCallback callback = {});
  // Re-registration with the same ID and the last values (refresh) or with changes.
  ClientStatus reregister(const PoolHandle& handle, PoolElementId id, PeCallback callback = {});
  ClientStatus reregister(const PoolHandle& handle, PoolElementId id, const PeUpdate& update,
                          PeCallback callback = {});
  ClientStatus deregister(const PoolHandle& handle, PoolElementId id, PeCallback callback = {});
  // Forgets a PE locally (no message). Pending requests of it fail with kClosed.
  void forget(const PoolHandle& handle, PoolElementId id);

  // Keep-alive answering: the global switch and a per-PE switch; an Ack is sent only when both
  // are on.
  void set_answer_keep_alives(bool on) noexcept { answer_keep_alives_ = on; }
  bool set_answer_keep_alives(const PoolHandle& handle, PoolElementId id, bool on);

  const PeInfo* find(const PoolHandle& handle, PoolElementId id) const;
  std::size_t size() const noexcept { return pes_.size(); }
  // Calls fn(const PeInfo&) for every PE (unspecified order). fn must not modify the client.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [key, rec] : pes_) fn(rec.info);
  }
  std::size_t outstanding() const noexcept { return outstanding_; }

  const PoolElementCounters& counters() const noexcept { return counters_; }
  const ConnectionCounters& connection_counters() const noexcept { return connection_.counters(); }
  AsapConnection& connection() noexcept { return connection_; }
  runtime::EventLoop& loop() noexcept { return loop_; }

 private:
  struct Key {
    PoolHandle handle;
    std::uint32_t short_id = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return k.handle.hash() * 31 + k.short_id; }
  };
  struct Pending {
    std::uint64_t seq = 0;  // 0 = nothing pending
    TimeNs sent_at = 0;
    bool reregistration = false;
    PeCallback callback;
  };
  struct Record {
    PeInfo info;
    std::vector<AddressTypeSpec> address_types;
    Pending registration;
    Pending deregistration;
  };
  enum class Kind : std::uint8_t { kRegistration, kDeregistration };
  struct DeadlineKey {
    Key key;
    Kind kind;
  };

  // AsapConnection::Listener
  void on_up() override;
  void on_message(ConnectionId from, wire::AsapMessage& message) override;
  void on_down(ClientStatus status, runtime::CloseReason reason) override;

  void on_registration_response(wire::RegistrationResponse& m);
  void on_deregistration_response(wire::DeregistrationResponse& m);
  void on_keep_alive(ConnectionId from, const wire::EndpointKeepAlive& m);
  void ack_keep_alive(ConnectionId from, Record& rec, const wire::EndpointKeepAlive& m);
  void on_expired(std::uint64_t seq, const DeadlineKey& key);

  ClientStatus send_registration(Record& rec, bool reregistration, PeCallback callback);
  void fail_later(PeCallback callback, PeResult result);
  void complete(Pending& pending, PeResult result);
  void fail_all(ClientStatus status);
  PoolElementId random_id(const PoolHandle& handle);
  Record* lookup(const PoolHandle& handle, PoolElementId id);

  runtime::EventLoop& loop_;
  ClientOptions options_;
  AsapConnection connection_;
  RequestDeadlines<DeadlineKey> deadlines_;
  std::unordered_map<Key, Record, KeyHash> pes_;
  PoolElementEvents events_;
  PoolElementCounters counters_;
  bool answer_keep_alives_ = true;
  std::uint64_t next_seq_ = 1;
  std::size_t outstanding_ = 0;
  std::mt19937_64 random_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::client
