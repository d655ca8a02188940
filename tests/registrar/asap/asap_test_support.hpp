// Fakes and a fixture for AsapServer tests: a recording MessageOutput, a recording ENRP
// listener, a real Handlespace (one shard, QSBR domain, one online reader) and a ManualClock.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "registrar/asap/asap_config.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/asap_messages.hpp"

namespace poolreg::asap::testing {

using Bytes = std::vector<std::uint8_t>;

struct SentMessage {
  ConnectionId connection = 0;
  WireProtocol protocol = WireProtocol::kAsap;
  Bytes bytes;
};

class FakeOutput final : public MessageOutput {
 public:
  bool send(ConnectionId connection, WireProtocol protocol, std::span<const std::uint8_t> message) override {
    sent.push_back({connection, protocol, Bytes(message.begin(), message.end())});
    return send_ok;
  }
  void abort(ConnectionId connection) override { aborted.push_back(connection); }
  void close(ConnectionId connection) override { closed.push_back(connection); }
  ConnectionId connect(WireProtocol protocol, const TransportEndpoint& to) override {
    connects.push_back({protocol, to});
    if (fail_connect) return kNoConnectionId;
    return next_connection++;
  }

  // Decodes sent[i] with the wire codec (fails the test on a decode error).
  wire::AsapMessage decoded(std::size_t i) const {
    auto r = wire::decode_asap(sent.at(i).bytes, wire::WireOptions{.max_pool_handle = kPoolHandleCapacity});
    EXPECT_TRUE(r.has_value()) << "sent message " << i << " does not decode";
    if (!r.has_value()) return wire::AsapMessage{};
    return r.value();
  }
  template <typename T>
  T last_as() const {
    EXPECT_FALSE(sent.empty());
    if (sent.empty()) return T{};
    auto m = decoded(sent.size() - 1);
    const T* p = std::get_if<T>(&m);
    EXPECT_NE(p, nullptr) << "last sent message has type " << static_cast<int>(wire::asap_type_of(m));
    return p != nullptr ? *p : T{};
  }
  std::size_t count_type(wire::AsapType type) const {
    std::size_t n = 0;
    for (const auto& s : sent)
      if (!s.bytes.empty() && s.bytes[0] == static_cast<std::uint8_t>(type)) ++n;
    return n;
  }
  void clear() { sent.clear(); }

  // Keep-alives on lanes: with offload_keepalives every watch is taken (as by a lane transport
  // for an SCTP association on a lane). Each unwatch records how many messages were sent before
  // it (ring order: a probe sent after it must come later).
  bool watch_keepalives(const KeepAliveWatch& w) override {
    if (!offload_keepalives) return false;
    watches.push_back(w);
    return true;
  }
  void unwatch_keepalives(ConnectionId connection, const PoolHandle& h, PoolElementId id) override {
    unwatches.push_back({connection, h, id, sent.size()});
  }
  void set_keepalive_timers(TimeNs interval, TimeNs timeout) override {
    timers.emplace_back(interval, timeout);
  }
  struct Unwatch {
    ConnectionId connection = 0;
    PoolHandle handle;
    PoolElementId id = 0;
    std::size_t sent_before = 0;
  };
  bool offload_keepalives = false;
  std::vector<KeepAliveWatch> watches;
  std::vector<Unwatch> unwatches;
  std::vector<std::pair<TimeNs, TimeNs>> timers;

  std::vector<SentMessage> sent;
  std::vector<ConnectionId> aborted;
  std::vector<ConnectionId> closed;
  std::vector<std::pair<WireProtocol, TransportEndpoint>> connects;
  ConnectionId next_connection = 9000;
  bool fail_connect = false;
  bool send_ok = true;
};

class RecordingListener final : public OwnedPeListener {
 public:
  void on_owned_pe_registered(const PoolHandle& handle, const PoolElement& pe) override { added.push_back({handle, pe}); }
  void on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) override { removed.push_back({handle, pe}); }
  // Recorded in `added` too (every change the peers get), and which of them were transport-only.
  void on_owned_pe_transport_changed(const PoolHandle& handle, const PoolElement& pe) override {
    added.push_back({handle, pe});
    transport_only.push_back(added.size() - 1);
  }
  std::vector<std::pair<PoolHandle, PoolElement>> added;
  std::vector<std::size_t> transport_only;  // indexes into `added`
  std::vector<std::pair<PoolHandle, PoolElement>> removed;
};

inline PoolHandle handle(const std::string& text) { return *PoolHandle::from_string(text); }

inline constexpr RegistrarId kOwnId = 0x0a0b0c0d;
inline constexpr RegistrarId kOtherPr = 0x11223344;
inline const IpAddress kPeAddr1 = IpAddress::v4(0x0a010101);  // 10.1.1.1
inline const IpAddress kPeAddr2 = IpAddress::v4(0x0a020101);  // 10.2.1.1
inline const IpAddress kPeAddr3 = IpAddress::v4(0x0a030101);  // 10.3.1.1

inline ConnectionPeer sctp_peer(std::vector<IpAddress> addresses, std::uint16_t port = 50000) {
  ConnectionPeer p;
  p.kind = TransportProtocol::kSctp;
  p.protocol = WireProtocol::kAsap;
  p.addresses = std::move(addresses);
  p.port = port;
  return p;
}

inline PoolElement make_pe(PoolElementId id, std::vector<IpAddress> addresses = {kPeAddr1},
                           PolicyType policy = PolicyType::kRoundRobin, std::uint16_t port = 7) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = 0;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = port;
  pe.user_transport.use = TransportUse::kDataOnly;
  pe.user_transport.addresses = std::move(addresses);
  pe.policy.type = policy;
  return pe;
}

template <typename Message>
Bytes encode_message(const Message& m, bool next_gen = false) {
  Bytes out;
  wire::WireOptions o;
  o.next_gen = next_gen;
  o.max_pool_handle = kPoolHandleCapacity;  // tests may build over-long handles on purpose
  auto r = wire::encode(m, o, out);
  EXPECT_TRUE(r.ok());
  return out;
}

inline Bytes registration(const std::string& pool, const PoolElement& pe,
                          std::optional<std::uint32_t> caps = std::nullopt) {
  wire::Registration m;
  m.pool_handle = handle(pool);
  m.element = pe;
  m.ng_capabilities = caps;
  return encode_message(m, caps.has_value());
}
inline Bytes deregistration(const std::string& pool, PoolElementId id) {
  return encode_message(wire::Deregistration{handle(pool), id});
}
inline Bytes handle_resolution(const std::string& pool, std::optional<std::uint32_t> items = std::nullopt) {
  wire::HandleResolution m;
  m.pool_handle = handle(pool);
  m.items = items;
  return encode_message(m);
}
inline Bytes keepalive_ack(const std::string& pool, PoolElementId id) {
  return encode_message(wire::EndpointKeepAliveAck{handle(pool), id});
}
inline Bytes unreachable(const std::string& pool, PoolElementId id) {
  return encode_message(wire::EndpointUnreachable{handle(pool), id});
}

// Big-endian writers for hand-made (malformed) messages.
inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
inline void fix_length(Bytes& b) {
  b[2] = static_cast<std::uint8_t>(b.size() >> 8);
  b[3] = static_cast<std::uint8_t>(b.size());
}

class AsapServerTest : public ::testing::Test {
 protected:
  AsapServerTest() : hs_(handlespace::HandlespaceConfig{}, domain_), reader_(domain_, 7) {
    reader_.online();
    config_.registrar_id = kOwnId;
  }
  ~AsapServerTest() override {
    server_.reset();
    reader_.offline();
  }

  AsapServer& server() {
    if (!server_) server_ = std::make_unique<AsapServer>(config_, hs_, reader_, out_, clock_, &enrp_);
    return *server_;
  }
  // Association `c` from a PE with the three test addresses.
  void connect_pe(ConnectionId c, std::vector<IpAddress> addresses = {kPeAddr1, kPeAddr2, kPeAddr3},
                  std::uint16_t port = 50000) {
    server().on_connection_up(c, sctp_peer(std::move(addresses), port));
  }
  void deliver(ConnectionId c, const Bytes& bytes) { server().on_message(c, bytes); }

  std::optional<PoolElement> lookup(const std::string& pool, PoolElementId id) {
    std::optional<PoolElement> out;
    hs_.lookup(handle(pool), id, [&](const handlespace::PoolElementView& v) { out = v.to_pool_element(); });
    return out;
  }
  std::size_t pe_count() const { return hs_.counters().pes; }
  std::vector<PoolElementId> resolve_ids(const std::string& pool, std::optional<std::uint32_t> items = std::nullopt,
                                         ConnectionId pu = 77) {
    deliver(pu, handle_resolution(pool, items));
    auto hrr = out_.last_as<wire::HandleResolutionResponse>();
    std::vector<PoolElementId> ids;
    for (const auto& pe : hrr.elements) ids.push_back(pe.id);
    return ids;
  }
  // Registers `pe` over association c and expects R=0.
  void register_ok(ConnectionId c, const std::string& pool, const PoolElement& pe) {
    deliver(c, registration(pool, pe));
    auto resp = out_.last_as<wire::RegistrationResponse>();
    ASSERT_FALSE(resp.rejected) << "registration of PE " << pe.id << " rejected";
    ASSERT_EQ(resp.pe_id, pe.id);
  }
  wire::RegistrationResponse register_rejected(ConnectionId c, const std::string& pool, const PoolElement& pe) {
    deliver(c, registration(pool, pe));
    auto resp = out_.last_as<wire::RegistrationResponse>();
    EXPECT_TRUE(resp.rejected);
    return resp;
  }

  bool was_aborted(ConnectionId c) const {
    return std::find(out_.aborted.begin(), out_.aborted.end(), c) != out_.aborted.end();
  }
  bool was_closed(ConnectionId c) const {
    return std::find(out_.closed.begin(), out_.closed.end(), c) != out_.closed.end();
  }

  ManualClock clock_{1'000 * kNsPerSec};
  handlespace::QsbrDomain domain_{8};
  handlespace::Handlespace hs_;
  handlespace::ReaderContext reader_;
  FakeOutput out_;
  RecordingListener enrp_;
  AsapConfig config_;
  std::unique_ptr<AsapServer> server_;
};

inline ErrorCause first_cause(const std::optional<wire::OperationError>& e) {
  if (!e || e->causes.empty()) return static_cast<ErrorCause>(0xffff);
  return e->causes[0].cause();
}

}  // namespace poolreg::asap::testing
