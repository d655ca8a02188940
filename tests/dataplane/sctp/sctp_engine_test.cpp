// The SctpEngine without any packet source: two engines in one process (the linked usrsctp copy
// and a private dlmopen'd one), their SctpPacketPaths joined by an in-memory wire that carries
// every packet to the other engine's on_sctp_packet() with the sender's address and UDP port.
// A listens, B connects, messages both ways (one over several SCTP packets), graceful close seen
// by A; a packet shorter than an SCTP common header is ignored; a peer asking for more streams
// than configured gets the configured number; with crc32c_offload the engine writes the CRC32c
// where the path does not. No DPDK, no sockets.
#include "dataplane/sctp/sctp_engine.hpp"

#include <gtest/gtest.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "dataplane/sctp/native_sctp_packet.hpp"
#include "dataplane/sctp/sctp_address_params.hpp"
#include "dataplane/sctp/state_cookie.hpp"
#include "registrar/common/crc32c.hpp"

namespace poolreg::sctp {
namespace {

using namespace std::chrono_literals;

struct Events final : EngineEventSink {
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override {
    connected.push_back(id);
    peers.push_back(peer);
  }
  void on_message(ConnectionId id, const runtime::MessageInfo&, std::uint8_t* data, std::size_t length) override {
    messages.push_back({id, std::vector<std::uint8_t>(data, data + length)});
    std::free(data);
  }
  void on_closed(ConnectionId id, runtime::CloseReason) override { closed.push_back(id); }
  void on_unknown_ppid(ConnectionId, std::uint32_t) override {}
  void on_activity(ConnectionId) override { ++activity; }
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override {
    address_changes.emplace_back(id, peer.addresses);
  }
  std::vector<ConnectionId> connected;
  std::vector<std::pair<ConnectionId, std::vector<IpAddress>>> address_changes;
  std::vector<ConnectionPeer> peers;
  std::vector<std::pair<ConnectionId, std::vector<std::uint8_t>>> messages;
  std::vector<ConnectionId> closed;
  std::size_t activity = 0;
};

// Takes the ASAP messages whose first byte is `type` (as LaneKeepAlives takes Keep-Alive Acks).
struct TypeConsumer final : LocalConsumer {
  explicit TypeConsumer(std::uint8_t t) : type(t) {}
  bool consume(ConnectionId id, std::span<const std::uint8_t> message) override {
    seen.emplace_back(id, std::vector<std::uint8_t>(message.begin(), message.end()));
    return !message.empty() && message[0] == type;
  }
  std::uint8_t type;
  std::vector<std::pair<ConnectionId, std::vector<std::uint8_t>>> seen;  // every ASAP message asked about
};

// One side's path: what its engine sends is queued for the other side.
struct WirePath final : SctpPacketPath {
  std::deque<std::vector<std::uint8_t>> out;
  std::deque<std::array<std::uint8_t, 4>> to;  // each packet's destination (IPv4)
  std::vector<std::array<std::uint8_t, 4>> sent_to;  // every destination (a test may clear it)
  bool send_sctp(const SctpPeer& peer, const std::uint8_t* packet, std::uint16_t length) override {
    out.emplace_back(packet, packet + length);
    to.push_back({peer.ip[0], peer.ip[1], peer.ip[2], peer.ip[3]});
    sent_to.push_back(to.back());
    return true;
  }
  bool reaches(const SctpPeer&) const override { return true; }
  std::uint8_t path_index() const noexcept override { return 0; }
  // As a DPDK port with SCTP checksum TX offload: the CRC32c of native peers' packets is its job.
  bool offloads_crc32c(const SctpPeer& peer) const noexcept override {
    return offload_native_crc && peer.udp_port == 0;
  }
  bool offload_native_crc = false;
};

struct Side {
  std::uint8_t ip[4];
  std::uint16_t udp_port;
  WirePath path;
  Events events;
  runtime::LaneCounters counters;
  std::unique_ptr<SctpEngine> engine;
};

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

class SctpEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = UsrsctpStack::load_private();
    ASSERT_TRUE(loaded) << loaded.error();
    private_stack_ = std::move(*loaded);
    make(a_, nullptr);
    make(b_, private_stack_.get());
  }
  void TearDown() override {
    b_.engine.reset();
    a_.engine.reset();
    private_stack_.reset();
  }
  void make(Side& s, UsrsctpStack* stack,
            std::size_t max_pending_peers = SctpEngineConfig{}.max_pending_peers) {
    SctpEngineConfig config = config_;
    config.path_mtu = 1452;
    config.max_pending_peers = max_pending_peers;
    config.crc32c_offload = &s == &a_ && a_crc32c_offload_;
    auto engine = SctpEngine::create(config, ids_, stack);
    ASSERT_TRUE(engine) << engine.error();
    s.engine = std::move(*engine);
    s.engine->attach({&s.path}, &s.events, &s.counters);
  }
  unsigned carry(Side& from, Side& to) {
    unsigned n = 0;
    while (!from.path.out.empty()) {
      std::vector<std::uint8_t> p = std::move(from.path.out.front());
      const std::array<std::uint8_t, 4> dst = from.path.to.front();
      from.path.out.pop_front();
      from.path.to.pop_front();
      ++n;
      // A dead path: what is sent to that address is lost (a side whose own sending path moved
      // changes its `ip`).
      if (std::find(dead_.begin(), dead_.end(), dst) != dead_.end()) continue;
      if (rewrite_) rewrite_(from, p);
      SctpPacketFrom f;
      std::memcpy(f.src_ip, from.ip, 4);
      std::memcpy(f.dst_ip, to.ip, 4);
      f.src_port = from.udp_port;
      to.engine->on_sctp_packet(f, p.data(), static_cast<std::uint16_t>(p.size()));
    }
    return n;
  }
  template <typename Pred>
  bool run_until(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (Side* s : {&a_, &b_}) {
        s->engine->flush_pending();
        s->engine->run_timers(now_ms() + clock_offset_ms_);
      }
      const unsigned moved = carry(a_, b_) + carry(b_, a_);
      if (pred()) return true;
      if (moved == 0) std::this_thread::sleep_for(1ms);
    }
    return pred();
  }

  std::atomic<std::uint64_t> ids_{1};
  SctpEngineConfig config_;  // both engines' (a fixture may shorten the timers before SetUp)
  bool a_crc32c_offload_ = false;  // a's engine leaves the CRC32c to usrsctp's caller (crc32c_offload)
  std::vector<std::array<std::uint8_t, 4>> dead_;  // packets to these addresses are lost (carry)
  std::uint64_t clock_offset_ms_ = 0;  // added to the engines' clock: jumps over expiry times
  // Changes a packet on the wire (then its checksum has to be made right again).
  std::function<void(Side& from, std::vector<std::uint8_t>& packet)> rewrite_;
  std::unique_ptr<UsrsctpStack> private_stack_;
  Side a_{{10, 1, 0, 1}, 9899, {}, {}, {}, nullptr};
  Side b_{{10, 1, 0, 2}, 40001, {}, {}, {}, nullptr};
};

// Native SCTP (IP protocol 132): a peer with UDP port 0. The association comes up as over UDP,
// the accepting side reports UDP port 0, usrsctp's packets carry a valid CRC32c (what a raw
// socket sends as is), and both sides know which SCTP ports native packets may reach: the
// listener opened to native peers and the port the connecting side sent from.
TEST_F(SctpEngineTest, NativeAssociationIsAPeerWithUdpPortZero) {
  a_.udp_port = 0;  // both speak native SCTP: packets carry no UDP port either way
  b_.udp_port = 0;
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->accept_native(3863);
  EXPECT_TRUE(a_.engine->native_port_ours(3863));
  EXPECT_FALSE(a_.engine->native_port_ours(3864));
  std::size_t packets = 0, bad_crc = 0;
  rewrite_ = [&](Side&, std::vector<std::uint8_t>& p) {
    ++packets;
    if (!sctp_crc_ok(p)) ++bad_crc;
  };
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 0);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(a_.events.peers.front().udp_encapsulation_port, 0);
  EXPECT_EQ(b_.events.peers.front().udp_encapsulation_port, 0);
  const std::uint16_t b_port = a_.events.peers.front().port;
  EXPECT_TRUE(b_.engine->native_port_ours(b_port));  // b's association left from it
  EXPECT_FALSE(b_.engine->native_port_ours(3863));
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_GE(packets, 5u);  // INIT, INIT ACK, COOKIE ECHO, COOKIE ACK, DATA
  EXPECT_EQ(bad_crc, 0u);
  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty(); }));
}

// SctpEngineConfig::crc32c_offload (a DPDK port with SCTP checksum TX offload): a's usrsctp
// computes no CRC32c; the engine writes it for packets whose path does not offload it, and leaves
// it to the path that does. Without offloading paths every packet of a is valid for b's usrsctp
// (which checks); with a path that offloads native peers' checksums none of a's packets carries
// a valid one until "the port" (the wire here) writes it.
class SctpEngineCrcOffloadTest : public SctpEngineTest {
 protected:
  void SetUp() override {
    a_crc32c_offload_ = true;
    SctpEngineTest::SetUp();
    a_.udp_port = 0;  // native both ways
    b_.udp_port = 0;
  }
  // Brings up b -> a, sends one message; counts a's packets and those with a valid CRC32c as
  // they leave a (before `port_writes_crc` fixes them, as the NIC would).
  void associate(bool port_writes_crc, std::size_t& from_a, std::size_t& valid_from_a) {
    ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
    a_.engine->accept_native(3863);
    rewrite_ = [&, port_writes_crc](Side& from, std::vector<std::uint8_t>& p) {
      if (&from != &a_) return;
      ++from_a;
      if (sctp_crc_ok(p)) ++valid_from_a;
      if (port_writes_crc) set_sctp_crc(p);
    };
    const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
    b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 0);
    ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
    const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
    const ConnectionId a_id = a_.events.connected.front();
    EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, request), runtime::SendResult::kSent);
    ASSERT_TRUE(run_until([&] { return !b_.events.messages.empty(); }));
  }
};

TEST_F(SctpEngineCrcOffloadTest, EngineWritesTheCrcForPathsThatDoNotOffloadIt) {
  std::size_t from_a = 0, valid = 0;
  associate(/*port_writes_crc=*/false, from_a, valid);
  EXPECT_GE(from_a, 3u);  // INIT ACK, COOKIE ACK, DATA (and SACKs)
  EXPECT_EQ(valid, from_a);
}

// With crc32c_offload usrsctp checks nothing: the engine checks every packet its source did not
// (SctpPacketFrom::crc32c_checked) before the sender gets an endpoint. An INIT with a bad CRC32c
// is dropped and counted (no endpoint, no INIT ACK); the same INIT marked as checked by its
// source is trusted (usrsctp answers it), and so is a good one.
TEST_F(SctpEngineCrcOffloadTest, UncheckedPacketsWithABadCrcAreDroppedBeforeTheyTakeAnEndpoint) {
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->accept_native(3863);
  std::vector<std::uint8_t> init = {0x13, 0x88, 0x0f, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 1,    0,    0,    20,
                                    0x11, 0x22, 0x33, 0x44, 0, 1, 0, 0, 0, 1, 0, 1, 0x55, 0x66, 0x77, 0x88};
  set_sctp_crc(init);
  std::vector<std::uint8_t> bad = init;
  bad[8] ^= 0xff;
  SctpPacketFrom f;
  std::memcpy(f.src_ip, b_.ip, 4);
  std::memcpy(f.dst_ip, a_.ip, 4);
  f.src_port = 0;
  a_.engine->on_sctp_packet(f, bad.data(), static_cast<std::uint16_t>(bad.size()));
  EXPECT_EQ(a_.engine->counters().bad_crc32c, 1u);
  EXPECT_EQ(a_.counters.sctp_bad_crc32c.get(), 1u);
  EXPECT_EQ(a_.engine->endpoint_count(), 0u);
  EXPECT_TRUE(a_.path.out.empty()) << "no answer to a packet with a bad CRC32c";
  f.crc32c_checked = true;  // the source vouches for it (here wrongly): not checked again
  a_.engine->on_sctp_packet(f, bad.data(), static_cast<std::uint16_t>(bad.size()));
  EXPECT_EQ(a_.engine->counters().bad_crc32c, 1u);
  EXPECT_EQ(a_.engine->endpoint_count(), 1u);
  ASSERT_EQ(a_.path.out.size(), 1u);
  EXPECT_EQ(a_.path.out.front()[12], 2) << "INIT ACK";
  f.crc32c_checked = false;
  f.src_ip[3] ^= 0x40;  // another peer
  a_.engine->on_sctp_packet(f, init.data(), static_cast<std::uint16_t>(init.size()));
  EXPECT_EQ(a_.engine->counters().bad_crc32c, 1u);
  EXPECT_EQ(a_.path.out.size(), 2u);
}

TEST_F(SctpEngineCrcOffloadTest, PathThatOffloadsGetsPacketsWithoutTheCrc) {
  a_.path.offload_native_crc = true;
  std::size_t from_a = 0, valid = 0;
  associate(/*port_writes_crc=*/true, from_a, valid);
  EXPECT_GE(from_a, 3u);
  EXPECT_EQ(valid, 0u) << "usrsctp or the engine computed a CRC32c the port would have written";
}

TEST_F(SctpEngineTest, AssociationMessagesAndCloseOverAPathWithoutPacketSource) {
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(b_.events.connected.front(), 7u);
  ASSERT_EQ(a_.events.peers.front().addresses.size(), 1u);
  EXPECT_EQ(a_.events.peers.front().addresses.front(), IpAddress::v4({10, 1, 0, 2}));
  EXPECT_EQ(a_.events.peers.front().udp_encapsulation_port, 40001);
  const ConnectionId a_id = a_.events.connected.front();

  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_EQ(a_.events.messages.front().second, request);
  std::vector<std::uint8_t> big(5000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 13);
  EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, big), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !b_.events.messages.empty(); }));
  EXPECT_EQ(b_.events.messages.front().second, big);  // reassembled from several packets
  EXPECT_EQ(a_.counters.asap_messages_in.get(), 1u);
  EXPECT_GE(a_.counters.messages_out.get(), 1u);

  // Bad input: shorter than an SCTP common header, ignored without effect.
  SctpPacketFrom f;
  const std::uint8_t junk[3] = {1, 2, 3};
  a_.engine->on_sctp_packet(f, junk, sizeof junk);
  EXPECT_EQ(a_.engine->connection_count(), 1u);

  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty(); }));
  EXPECT_EQ(a_.events.closed.front(), a_id);
}

// A LocalConsumer (runtime/lane_keepalives.hpp) is asked about every ASAP message: one it takes
// is neither delivered up nor counted as activity (one report per Keep-Alive Ack would bring the
// control thread an event per PE and interval); one it leaves is delivered as without it.
TEST_F(SctpEngineTest, MessageTheLocalConsumerTakesIsNotDeliveredAndCountsNoActivity) {
  TypeConsumer consumer(0x08);  // Endpoint Keep-Alive Ack
  a_.engine->set_local_consumer(&consumer);
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  const ConnectionId a_id = a_.events.connected.front();
  const std::size_t activity_before = a_.events.activity;

  const std::vector<std::uint8_t> ack = {0x08, 0, 0, 8, 1, 2, 3, 4};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, ack), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return consumer.seen.size() == 3; }));
  EXPECT_TRUE(a_.events.messages.empty());
  EXPECT_EQ(a_.events.activity, activity_before);
  for (const auto& [id, bytes] : consumer.seen) {
    EXPECT_EQ(id, a_id);
    EXPECT_EQ(bytes, ack);
  }

  const std::vector<std::uint8_t> other = {0x05, 0, 0, 8, 1, 2, 3, 4};  // not taken: delivered
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, other), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_EQ(a_.events.messages.front().first, a_id);
  EXPECT_EQ(a_.events.messages.front().second, other);
  EXPECT_EQ(consumer.seen.size(), 4u);
  a_.engine->set_local_consumer(nullptr);
}

// send_batch: several messages on one accepted association leave in order, in fewer SCTP
// packets than messages (usrsctp bundles them), and the listener's other associations are not
// left with Nagle on (a single send afterwards leaves at once, as before).
TEST_F(SctpEngineTest, SendBatchBundlesMessagesIntoFewerPacketsInOrder) {
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  const ConnectionId a_id = a_.events.connected.front();
  ASSERT_TRUE(run_until([&] { return a_.path.out.empty() && b_.path.out.empty(); }));

  constexpr std::size_t kMessages = 40;
  std::vector<std::vector<std::uint8_t>> bytes;
  std::vector<std::span<const std::uint8_t>> messages;
  for (std::size_t i = 0; i < kMessages; ++i)
    bytes.push_back({0x0b, 0, 0, 8, 0, 0, 0, static_cast<std::uint8_t>(i)});  // Keep-Alive sized
  for (const auto& m : bytes) messages.emplace_back(m);
  std::vector<runtime::SendResult> results(kMessages, runtime::SendResult::kError);
  const std::size_t packets_before = a_.path.out.size();
  a_.engine->send_batch(a_id, WireProtocol::kAsap, messages, results);
  for (const runtime::SendResult r : results) EXPECT_EQ(r, runtime::SendResult::kSent);
  const std::size_t packets = a_.path.out.size() - packets_before;
  EXPECT_GE(packets, 1u);
  EXPECT_LE(packets, 4u) << packets;  // the first alone (nothing in flight yet), the rest bundled
  EXPECT_EQ(a_.engine->counters().batches_corked, 1u);
  ASSERT_TRUE(run_until([&] { return b_.events.messages.size() == kMessages; }));
  for (std::size_t i = 0; i < kMessages; ++i) EXPECT_EQ(b_.events.messages[i].second, bytes[i]);

  // Nagle is off again: a single message leaves at once although the last batch may still be
  // unacknowledged.
  ASSERT_TRUE(run_until([&] { return a_.path.out.empty() && b_.path.out.empty(); }));
  const std::vector<std::uint8_t> one = {0x0b, 0, 0, 8, 9, 9, 9, 9};
  EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, one), runtime::SendResult::kSent);
  EXPECT_EQ(a_.path.out.size(), 1u);
  const std::vector<std::uint8_t> two = {0x0b, 0, 0, 8, 8, 8, 8, 8};
  EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, two), runtime::SendResult::kSent);
  EXPECT_EQ(a_.path.out.size(), 2u);  // with Nagle left on it would wait for the first one's SACK
  ASSERT_TRUE(run_until([&] { return b_.events.messages.size() == kMessages + 2; }));

  // Without bundling (one send each) the same batch takes one packet per message.
  ASSERT_TRUE(run_until([&] { return a_.path.out.empty() && b_.path.out.empty(); }));
  for (const auto& m : messages)
    EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, m), runtime::SendResult::kSent);
  EXPECT_EQ(a_.path.out.size(), kMessages);
  ASSERT_TRUE(run_until([&] { return b_.events.messages.size() == 2 * kMessages + 2; }));

  // An unknown association: every message reported kNoConnection.
  std::vector<runtime::SendResult> none(2, runtime::SendResult::kSent);
  a_.engine->send_batch(999, WireProtocol::kAsap, std::span(messages).first(2), none);
  EXPECT_EQ(none[0], runtime::SendResult::kNoConnection);
  EXPECT_EQ(none[1], runtime::SendResult::kNoConnection);
}

// Peers without an association (bare INITs from many sources) are bounded and expire after the
// cookie life + rto_max + 1 s; the peer endpoint of a live association never does, and turns
// pending (then expires) once its association is gone.
TEST_F(SctpEngineTest, PendingPeersAreBoundedAndExpireButAssociatedOnesStay) {
  a_.engine.reset();
  make(a_, nullptr, 4);
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(a_.engine->endpoint_count(), 1u);
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 0u);

  // Ten bare INITs from ten sources: four get an endpoint (and an INIT ACK), six are refused.
  // clang-format off
  std::vector<std::uint8_t> init = {0x13, 0x88, 0x0f, 0x17, 0, 0, 0, 0, 0, 0, 0, 0,  // 5000 -> 3863
                                    1, 0, 0, 20, 0x11, 0x22, 0x33, 0x44, 0, 1, 0, 0,  // INIT
                                    0, 1, 0, 1, 0x55, 0x66, 0x77, 0x88};
  // clang-format on
  set_sctp_crc(init);
  for (std::uint8_t i = 1; i <= 10; ++i) {
    SctpPacketFrom f;
    const std::uint8_t src[4] = {10, 9, 0, i};
    std::memcpy(f.src_ip, src, 4);
    std::memcpy(f.dst_ip, a_.ip, 4);
    f.src_port = 9899;
    a_.engine->on_sctp_packet(f, init.data(), static_cast<std::uint16_t>(init.size()));
  }
  EXPECT_EQ(a_.path.out.size(), 4u);  // INIT ACKs
  a_.path.out.clear();
  EXPECT_EQ(a_.engine->endpoint_count(), 5u);
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 4u);
  ASSERT_TRUE(run_until([&] { return a_.counters.sctp_endpoints_refused.get() == 6; }));
  EXPECT_EQ(a_.engine->counters().endpoints_refused, 6u);
  EXPECT_EQ(a_.counters.sctp_pending_endpoints.get(), 4u);

  // Past their expiry: the pending ones go, the association and its endpoint stay.
  clock_offset_ms_ += endpoint_expiry_ms(SctpEngineConfig{}) + 1000;
  ASSERT_TRUE(run_until([&] { return a_.counters.sctp_endpoints_expired.get() == 4; }));
  EXPECT_EQ(a_.engine->endpoint_count(), 1u);
  EXPECT_EQ(a_.counters.sctp_pending_endpoints.get(), 0u);
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_EQ(a_.events.messages.front().second, request);

  // Association gone: its endpoint is pending from then on and expires in turn.
  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty() && a_.engine->connection_count() == 0; }));
  run_until([] { return false; }, 50ms);  // the SHUTDOWN COMPLETE
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 1u);
  clock_offset_ms_ += endpoint_expiry_ms(SctpEngineConfig{}) + 1000;
  ASSERT_TRUE(run_until([&] { return a_.engine->endpoint_count() == 0; }));
  EXPECT_EQ(a_.engine->counters().endpoints_expired, 5u);
}

// A packet source may deliver an INIT before the engine's first run_timers() (kernel_sctp_peer
// did): the endpoint it creates is stamped before the engine knows the caller's clock. The first
// tick must not take that for a time long past and free the endpoint that the INIT ACK's cookie
// names: usrsctp would build the association on the freed endpoint (a use-after-free under ASan).
TEST_F(SctpEngineTest, PeerSeenBeforeTheFirstTickOutlivesIt) {
  // SetUp's engines have never run their timers.
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  b_.engine->flush_pending();
  ASSERT_GE(carry(b_, a_), 1u);  // the INIT
  ASSERT_EQ(a_.engine->pending_endpoint_count(), 1u);
  const std::uint64_t first = now_ms();
  a_.engine->run_timers(first);  // the first tick learns the clock
  a_.engine->run_timers(first + 20);  // the next one runs expiry
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 1u);
  EXPECT_EQ(a_.engine->counters().endpoints_expired, 0u);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(a_.engine->endpoint_count(), 1u);
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  // Still expires in time once it is pending again.
  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty() && a_.engine->connection_count() == 0; }));
  run_until([] { return false; }, 50ms);
  clock_offset_ms_ += endpoint_expiry_ms(SctpEngineConfig{}) + 1000;
  ASSERT_TRUE(run_until([&] { return a_.engine->endpoint_count() == 0; }));
}

// usrsctp counts unanswered INIT retransmissions against Path.Max.Retrans: a client whose INIT
// was lost more often than that comes up on a path usrsctp holds unreachable. Data must still
// flow both ways on the association once it is up.
TEST_F(SctpEngineTest, AssociationWhoseInitWasRetriedPastPathMaxRetransCarriesData) {
  b_.engine.reset();
  a_.engine.reset();
  config_.path_rtx_max = 2;
  make(a_, nullptr);
  make(b_, private_stack_.get());
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  dead_.push_back({10, 1, 0, 1});  // a's address: b's INITs are lost
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  // INIT + 4 retransmissions (the path counts as failed after the third lost one).
  for (int i = 0; i < 200 && b_.path.sent_to.size() < 5; ++i) {
    clock_offset_ms_ += 500;
    run_until([] { return false; }, 2ms);
  }
  ASSERT_GE(b_.path.sent_to.size(), 5u);
  ASSERT_TRUE(b_.events.connected.empty());
  dead_.clear();
  for (int i = 0; i < 200 && b_.events.connected.empty(); ++i) {
    clock_offset_ms_ += 500;
    run_until([&] { return !b_.events.connected.empty(); }, 2ms);
  }
  ASSERT_FALSE(b_.events.connected.empty());
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty(); }));
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }, 3s));
  const ConnectionId a_id = a_.events.connected.front();
  const std::vector<std::uint8_t> answer = {0x06, 0, 0, 8, 5, 6, 7, 8};
  EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, answer), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !b_.events.messages.empty(); }, 3s));
  EXPECT_EQ(b_.engine->counters().paths_inactive_at_up, 1u);
  EXPECT_EQ(b_.counters.sctp_paths_inactive_at_up.get(), 1u);
  EXPECT_EQ(a_.engine->counters().paths_inactive_at_up, 0u);
}

// An INIT flood keeps the pending set full: a new peer's INIT takes the place of a flood entry
// that only sent an INIT and is older than min_init_age_ms (evicted, long before its expiry), and
// its association comes up at once; without eviction (min_init_age_ms 0) it is refused.
// Also what makes the eviction safe with usrsctp 0.9.5: the state cookie of an AF_CONN INIT ACK
// names no conn address (type SCTP_CONN_ADDRESS, address zero; state_cookie.hpp), so nothing in
// usrsctp refers to an endpoint that only got an INIT ACK; the engine would drop a COOKIE ECHO
// whose cookie named another endpoint than its own.
class SctpEngineEvictionTest : public SctpEngineTest {
 protected:
  void flood(std::uint8_t count) {
    // clang-format off
    std::vector<std::uint8_t> init = {0x13, 0x88, 0x0f, 0x17, 0, 0, 0, 0, 0, 0, 0, 0,  // 5000 -> 3863
                                      1, 0, 0, 20, 0x11, 0x22, 0x33, 0x44, 0, 1, 0, 0,  // INIT
                                      0, 1, 0, 1, 0x55, 0x66, 0x77, 0x88};
    // clang-format on
    set_sctp_crc(init);
    for (std::uint8_t i = 1; i <= count; ++i) {
      SctpPacketFrom f;
      const std::uint8_t src[4] = {10, 9, 0, i};
      std::memcpy(f.src_ip, src, 4);
      std::memcpy(f.dst_ip, a_.ip, 4);
      f.src_port = 9899;
      a_.engine->on_sctp_packet(f, init.data(), static_cast<std::uint16_t>(init.size()));
    }
    a_.path.out.clear();
  }
  bool connect_b(std::chrono::milliseconds limit) {
    const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
    b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
    return run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }, limit);
  }
};

TEST_F(SctpEngineEvictionTest, NewPeerTakesTheSlotOfAnOldEnoughFloodEntry) {
  config_.min_init_age_ms = 200;
  a_.engine.reset();
  make(a_, nullptr, 4);
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->run_timers(now_ms() + clock_offset_ms_);
  flood(8);  // four get an endpoint, four are refused
  ASSERT_EQ(a_.engine->pending_endpoint_count(), 4u);
  clock_offset_ms_ += 250;  // the flood entries are older than min_init_age_ms now
  std::vector<std::uint8_t> cookie_echo;
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (&from == &b_ && p.size() > 12 && p[12] == kSctpChunkCookieEcho) cookie_echo = p;
  };
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(connect_b(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms) << "no INIT retransmission needed";
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 3u);  // B's endpoint is in use
  ASSERT_TRUE(run_until([&] { return a_.counters.sctp_endpoints_evicted.get() == 1; }));  // at the tick
  EXPECT_EQ(a_.engine->counters().endpoints_evicted, 1u);
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));

  // The cookie B echoed: usrsctp 0.9.5 names no conn address in it.
  ASSERT_FALSE(cookie_echo.empty());
  const auto named = cookie_conn_address(cookie_echo);
  ASSERT_TRUE(named.has_value()) << "not an AF_CONN cookie of the expected layout";
  EXPECT_EQ(*named, nullptr) << "this usrsctp names the conn address in its cookies: the engine's cookie "
                                "check now guards the eviction (state_cookie.hpp)";
  // A cookie naming a conn address that is not the endpoint it comes in on is dropped before
  // usrsctp (its signature is not checked here: the engine only compares the address).
  std::vector<std::uint8_t> forged = cookie_echo;
  const void* elsewhere = &forged;
  std::memcpy(forged.data() + 16 + 16 + sizeof(timeval) + 20, &elsewhere, sizeof elsewhere);
  set_sctp_crc(forged);
  SctpPacketFrom f;
  std::memcpy(f.src_ip, b_.ip, 4);
  std::memcpy(f.dst_ip, a_.ip, 4);
  f.src_port = b_.udp_port;
  a_.engine->on_sctp_packet(f, forged.data(), static_cast<std::uint16_t>(forged.size()));
  EXPECT_EQ(a_.engine->counters().cookies_for_other_endpoint, 1u);
  EXPECT_EQ(a_.counters.sctp_cookies_for_other_endpoint.get(), 1u);
  EXPECT_EQ(a_.engine->connection_count(), 1u);
}

// Why min_init_age_ms must exceed the round trip: with 0, B's own INIT-only entry is evicted by
// more flood INITs while its COOKIE ECHO is on the way. The COOKIE ECHO comes in on a new
// endpoint (evicting another flood entry) and usrsctp builds nothing there (it accepts a COOKIE
// ECHO only on its INIT's endpoint), nor on B's COOKIE ECHO retransmissions: this connect
// attempt of B is lost (its stack gives up after Max.Init.Retransmits), nothing on A refers to
// the evicted endpoint, A's pending set stays within its bound.
TEST_F(SctpEngineEvictionTest, PeerEvictedBeforeItsCookieEchoLosesThatAttempt) {
  config_.min_init_age_ms = 0;
  a_.engine.reset();
  make(a_, nullptr, 4);
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->run_timers(now_ms() + clock_offset_ms_);
  flood(4);
  bool flooded = false;
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (&from != &b_ || p.size() <= 12 || p[12] != kSctpChunkCookieEcho || flooded) return;
    flooded = true;
    const std::uint64_t before = a_.engine->endpoint_count();
    for (std::uint8_t round = 0; round < 2; ++round) {  // eight more INITs: every INIT-only entry, B's too
      // other sources than flood()'s first ones
      std::vector<std::uint8_t> init = {0x13, 0x88, 0x0f, 0x17, 0,  0,    0,    0,    0,    0,   0,
                                        0,    1,    0,    0,    20, 0x11, 0x22, 0x33, 0x44, 0,   1,
                                        0,    0,    0,    1,    0,  1,    0x55, 0x66, 0x77, 0x88};
      set_sctp_crc(init);
      for (std::uint8_t i = 1; i <= 4; ++i) {
        SctpPacketFrom f;
        const std::uint8_t src[4] = {10, 8, round, i};
        std::memcpy(f.src_ip, src, 4);
        std::memcpy(f.dst_ip, a_.ip, 4);
        f.src_port = 9899;
        a_.engine->on_sctp_packet(f, init.data(), static_cast<std::uint16_t>(init.size()));
      }
    }
    a_.path.out.clear();
    EXPECT_EQ(a_.engine->endpoint_count(), before);  // still the bound
  };
  EXPECT_FALSE(connect_b(2500ms));  // the COOKIE ECHO and its retransmissions (1 s, 2 s)
  EXPECT_TRUE(flooded);
  EXPECT_EQ(a_.engine->connection_count(), 0u);
  EXPECT_EQ(a_.engine->counters().associations_accepted, 0u);
  EXPECT_TRUE(a_.events.connected.empty());
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().endpoints_evicted >= 10; }))
      << a_.engine->counters().endpoints_evicted;  // B's INIT, 8 more INITs, B's first COOKIE ECHO
  EXPECT_EQ(a_.engine->pending_endpoint_count(), 4u);
  EXPECT_EQ(a_.engine->counters().cookies_for_other_endpoint, 0u);  // 0.9.5's cookies name none
}

TEST_F(SctpEngineEvictionTest, WithoutEvictionTheNewPeerIsRefusedWhileTheFloodEntriesAreYoung) {
  config_.evict_init_only_peers = false;
  a_.engine.reset();
  make(a_, nullptr, 4);
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->run_timers(now_ms() + clock_offset_ms_);
  flood(4);
  clock_offset_ms_ += 250;
  EXPECT_FALSE(connect_b(300ms));
  EXPECT_GE(a_.engine->counters().endpoints_refused, 1u);
  EXPECT_EQ(a_.engine->counters().endpoints_evicted, 0u);
}

// The SCTP checksum: CRC32c over the packet with the checksum field zero, stored little-endian
// (RFC 9260 appendix A).
std::uint32_t sctp_checksum(std::vector<std::uint8_t> p) {
  if (p.size() < 12) return 0;
  std::fill_n(p.begin() + 8, 4, 0);
  return crc32c(p);
}
void store_checksum(std::vector<std::uint8_t>& p) {
  const std::uint32_t c = sctp_checksum(p);
  for (int i = 0; i < 4; ++i) p[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c >> (8 * i));
}
std::uint32_t stored_checksum(const std::vector<std::uint8_t>& p) {
  std::uint32_t c = 0;
  for (int i = 0; i < 4; ++i) c |= static_cast<std::uint32_t>(p[8 + static_cast<std::size_t>(i)]) << (8 * i);
  return c;
}

// Appends address parameters to the packet's INIT / INIT ACK chunk (the only chunk in it).
void append_address_params(std::vector<std::uint8_t>& p,
                           const std::vector<std::vector<std::uint8_t>>& params) {
  std::size_t chunk_length = (static_cast<std::size_t>(p[14]) << 8) | p[15];
  p.resize(12 + ((chunk_length + 3) & ~std::size_t{3}), 0);  // the last parameter's padding
  for (const auto& param : params) p.insert(p.end(), param.begin(), param.end());
  chunk_length = p.size() - 12;
  p[14] = static_cast<std::uint8_t>(chunk_length >> 8);
  p[15] = static_cast<std::uint8_t>(chunk_length);
  store_checksum(p);
}

std::vector<std::uint8_t> v4_param(std::array<std::uint8_t, 4> ip) {
  return {0, 5, 0, 8, ip[0], ip[1], ip[2], ip[3]};
}
std::vector<std::uint8_t> v6_param(const std::array<std::uint8_t, 16>& ip) {
  std::vector<std::uint8_t> p(20, 0);
  p[1] = 6;
  p[3] = 20;
  std::copy(ip.begin(), ip.end(), p.begin() + 4);
  return p;
}

// The peer's addresses are the source address first, then what it listed in its INIT (A
// accepts) or INIT ACK (B connects): usrsctp over AF_CONN never reports them itself.
TEST_F(SctpEngineTest, AddressesListedInInitAndInitAckAreReported) {
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 2;
  unsigned rewritten = 0;
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (!starts_with_handshake_chunk(p)) return;
    // The test's own check: our checksum is the one usrsctp wrote.
    ASSERT_EQ(stored_checksum(p), sctp_checksum(p));
    ++rewritten;
    if (&from == &b_) {  // B's INIT: two addresses, the wildcard, and B's own source address again
      append_address_params(
          p, {v4_param({192, 0, 2, 2}), v6_param(v6), v4_param({0, 0, 0, 0}), v4_param({10, 1, 0, 2})});
    } else {  // A's INIT ACK
      append_address_params(p, {v4_param({192, 0, 2, 1})});
    }
  };
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(rewritten, 2u);
  EXPECT_EQ(a_.events.peers.front().addresses,
            (std::vector<IpAddress>{IpAddress::v4({10, 1, 0, 2}), IpAddress::v4({192, 0, 2, 2}),
                                    IpAddress::v6(v6)}));
  EXPECT_EQ(b_.events.peers.front().addresses,
            (std::vector<IpAddress>{IpAddress::v4({10, 1, 0, 1}), IpAddress::v4({192, 0, 2, 1})}));
  EXPECT_EQ(a_.engine->peer_of(a_.events.connected.front())->addresses, a_.events.peers.front().addresses);
  EXPECT_EQ(a_.engine->counters().handshake_addresses_skipped, 1u);  // the wildcard (the duplicate is merged)
  EXPECT_EQ(a_.engine->counters().handshake_address_lists_malformed, 0u);

  // An INIT whose parameter runs past its chunk: counted, nothing kept, usrsctp drops the packet.
  std::vector<std::uint8_t> bad(12 + 20 + 8, 0);
  bad[12] = kSctpChunkInit;
  bad[15] = 28;
  bad[32 + 1] = 5;
  bad[32 + 3] = 40;
  store_checksum(bad);
  SctpPacketFrom f;
  std::memcpy(f.src_ip, b_.ip, 4);
  f.src_port = 40002;
  a_.engine->on_sctp_packet(f, bad.data(), static_cast<std::uint16_t>(bad.size()));
  EXPECT_EQ(a_.engine->counters().handshake_address_lists_malformed, 1u);
  EXPECT_EQ(a_.engine->connection_count(), 1u);
}


// usrsctp keeps state per inbound stream of every association: a peer asking for many streams
// gets at most SctpEngineConfig::streams (issue 16 item 4: 2048 asked would cost ~82 KB per
// association, perf/dataplane/assoc_scale_results.md). The association works on stream 0.
TEST_F(SctpEngineTest, PeerAskingManyStreamsGetsAtMostTheConfiguredInboundStreams) {
  const std::uint16_t configured = SctpEngineConfig{}.streams;
  std::uint16_t init_ack_out = 0, init_ack_in = 0;
  auto get16 = [](const std::vector<std::uint8_t>& p, std::size_t at) {
    return static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
  };
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (p.size() < 12 + 20) return;
    // INIT / INIT ACK: chunk header, initiate tag, a_rwnd, then outbound and inbound streams.
    if (&from == &b_ && p[12] == kSctpChunkInit) {
      for (std::size_t at : {std::size_t{24}, std::size_t{26}}) {
        p[at] = 2048 >> 8;
        p[at + 1] = 2048 & 0xff;
      }
      store_checksum(p);
    } else if (&from == &a_ && p[12] == kSctpChunkInitAck) {
      init_ack_out = get16(p, 24);
      init_ack_in = get16(p, 26);
    }
  };
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  EXPECT_EQ(init_ack_in, configured);   // what A grants, although B asked for 2048
  EXPECT_EQ(init_ack_out, configured);  // what A opens
  const std::vector<std::uint8_t> request = {0x05, 0, 0, 8, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(7, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_EQ(a_.events.messages.front().second, request);
}

// True when the INIT chunk in `p` lists `type` among its Supported Extensions (0x8008) and
// carries a RANDOM parameter (0x8002, AUTH: RFC 4895).
bool init_offers(const std::vector<std::uint8_t>& p, std::uint8_t type) {
  bool random = false;
  bool offered = false;
  for (std::size_t at = 12 + 20; at + 4 <= p.size();) {
    const std::size_t t = (static_cast<std::size_t>(p[at]) << 8) | p[at + 1];
    const std::size_t n = (static_cast<std::size_t>(p[at + 2]) << 8) | p[at + 3];
    if (n < 4 || at + n > p.size()) break;
    if (t == 0x8002) random = true;
    if (t == 0x8008) offered = std::find(p.begin() + static_cast<std::ptrdiff_t>(at + 4),
                                         p.begin() + static_cast<std::ptrdiff_t>(at + n), type) !=
                               p.begin() + static_cast<std::ptrdiff_t>(at + n);
    at += (n + 3) & ~std::size_t{3};
  }
  return random && offered;
}

// RFC 5061 §4.1.1 requires AUTH for ASCONF; the engine follows only what usrsctp accepted. An
// ASCONF ADD-IP without AUTH, with the right verification tag and the serial number usrsctp
// expects next (the peer's initial TSN), changes nothing; neither does one with a wrong tag. The
// association stays usable.
TEST_F(SctpEngineTest, AsconfWithoutAuthOrWithAWrongTagChangesNoAddress) {
  std::vector<std::uint8_t> init;
  std::vector<std::uint8_t> later;  // a packet B sends once the association is up (ports, A's tag)
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (&from != &b_) return;
    if (p.size() > 12 && p[12] == kSctpChunkInit) init = p;
    else later = p;
  };
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  ASSERT_FALSE(init.empty());
  ASSERT_FALSE(later.empty());
  // Both sides offer ASCONF with AUTH, so usrsctp would process an authenticated ASCONF.
  ASSERT_TRUE(init_offers(init, 0xc1));

  auto asconf = [&](std::uint32_t tag) {
    std::vector<std::uint8_t> p(later.begin(), later.begin() + 12);
    for (int i = 0; i < 4; ++i) p[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(tag >> (24 - 8 * i));
    const std::vector<std::uint8_t> chunk = {
        0xc1, 0, 0, 32,                          // ASCONF, length 4 + 4 + 8 + 16
        init[12 + 16], init[12 + 17], init[12 + 18], init[12 + 19],  // serial = B's initial TSN
        0, 5, 0, 8, 10, 1, 0, 2,                 // address of the sender (lookup)
        0xc0, 0x01, 0, 16, 0, 0, 0, 1,           // ADD-IP, correlation id 1
        0, 5, 0, 8, 192, 0, 2, 9};               // 192.0.2.9
    p.insert(p.end(), chunk.begin(), chunk.end());
    store_checksum(p);
    return p;
  };
  const std::uint32_t tag = (std::uint32_t{later[4]} << 24) | (std::uint32_t{later[5]} << 16) |
                            (std::uint32_t{later[6]} << 8) | later[7];
  SctpPacketFrom f;
  std::memcpy(f.src_ip, b_.ip, 4);
  std::memcpy(f.dst_ip, a_.ip, 4);
  f.src_port = b_.udp_port;
  for (std::uint32_t t : {tag, tag ^ 0x5a5a5a5au}) {
    const std::vector<std::uint8_t> p = asconf(t);
    a_.engine->on_sctp_packet(f, p.data(), static_cast<std::uint16_t>(p.size()));
  }
  const std::uint8_t message[8] = {0x0b, 0, 0, 8, 1, 2, 3, 4};
  ASSERT_EQ(b_.engine->send(7, WireProtocol::kAsap, message), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_TRUE(a_.events.address_changes.empty());
  EXPECT_EQ(a_.engine->counters().peer_addresses_added, 0u);
  EXPECT_EQ(a_.engine->peer_of(a_.events.connected.front())->addresses,
            (std::vector<IpAddress>{IpAddress::v4({10, 1, 0, 2})}));
  EXPECT_EQ(a_.engine->connection_count(), 1u);
  EXPECT_TRUE(a_.events.closed.empty());
}

// Bad input on an established association (issue 15 acceptance: "wrong verification tag"):
// packets from the peer's own address and ports whose tag is not A's (an ABORT without the T bit,
// a DATA chunk carrying a message) are dropped by usrsctp and counted (bad_vtag, lane counter
// sctp_bad_vtag); the association stays up and carries messages both ways, nothing is delivered
// from the forged packets.
TEST_F(SctpEngineTest, WrongVerificationTagIsDroppedAndCountedAssociationUnaffected) {
  std::vector<std::uint8_t> later;  // a packet B sends once the association is up (ports, A's tag)
  rewrite_ = [&](Side& from, std::vector<std::uint8_t>& p) {
    if (&from == &b_ && p.size() > 12 && p[12] != kSctpChunkInit) later = p;
  };
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  ASSERT_FALSE(later.empty());
  rewrite_ = nullptr;
  const std::uint64_t bad_before = a_.engine->counters().bad_vtag;
  auto forged = [&](std::vector<std::uint8_t> chunk) {
    std::vector<std::uint8_t> p(later.begin(), later.begin() + 12);
    p[4] ^= 0x5a, p[5] ^= 0xa5, p[6] ^= 0x5a, p[7] ^= 0xa5;  // not A's tag
    p.insert(p.end(), chunk.begin(), chunk.end());
    store_checksum(p);
    SctpPacketFrom f;
    std::memcpy(f.src_ip, b_.ip, 4);
    std::memcpy(f.dst_ip, a_.ip, 4);
    f.src_port = b_.udp_port;
    a_.engine->on_sctp_packet(f, p.data(), static_cast<std::uint16_t>(p.size()));
  };
  forged({6, 0, 0, 4});  // ABORT, T bit clear: needs A's own tag
  // DATA, TSN far ahead, PPID 11 (ASAP), one 8-byte message.
  forged({0, 3, 0, 24, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 11, 0x0b, 0, 0, 8, 9, 9, 9, 9});
  const std::uint8_t message[8] = {0x0b, 0, 0, 8, 1, 2, 3, 4};
  ASSERT_EQ(b_.engine->send(7, WireProtocol::kAsap, message), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().bad_vtag >= bad_before + 2; }, 1s))
      << a_.engine->counters().bad_vtag;
  EXPECT_EQ(a_.counters.sctp_bad_vtag.get(), a_.engine->counters().bad_vtag);
  ASSERT_EQ(a_.events.messages.size(), 1u);  // B's, not the forged one
  EXPECT_EQ(a_.events.messages.front().second, std::vector<std::uint8_t>(message, message + 8));
  EXPECT_TRUE(a_.events.closed.empty());
  EXPECT_TRUE(b_.events.closed.empty());
  EXPECT_EQ(a_.engine->connection_count(), 1u);
  // And A still reaches B.
  EXPECT_EQ(a_.engine->send(a_.events.connected.front(), WireProtocol::kAsap, message),
            runtime::SendResult::kSent);
  EXPECT_TRUE(run_until([&] { return !b_.events.messages.empty(); }));
}

// Multi-homing (sctp_engine.hpp): B lists more addresses in its INIT than the one its packets
// come from; A's usrsctp knows one path. Short timers: a path fails after 2 unanswered
// heartbeats of 100 ms (+ RTO 50..200 ms), the association only after 10.
class SctpEngineMultihomeTest : public SctpEngineTest {
 protected:
  void SetUp() override {
    config_.heartbeat_interval_ms = 100;
    config_.rto_initial_ms = 100;
    config_.rto_min_ms = 50;
    config_.rto_max_ms = 200;
    config_.path_rtx_max = 1;
    config_.assoc_rtx_max = 10;
    SctpEngineTest::SetUp();
  }
  // B connects to A; B's INIT also lists `extra` (its other addresses). A's association id.
  ConnectionId connect_listing(const std::vector<std::array<std::uint8_t, 4>>& extra) {
    std::vector<std::vector<std::uint8_t>> params;
    params.reserve(extra.size());
    for (const auto& ip : extra) params.push_back(v4_param(ip));
    rewrite_ = [params](Side&, std::vector<std::uint8_t>& p) {
      if (p.size() > 12 && p[12] == kSctpChunkInit) append_address_params(p, params);
    };
    EXPECT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
    const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
    b_.engine->connect(7, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
    EXPECT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
    return a_.events.connected.empty() ? 0 : a_.events.connected.front();
  }
  // A sends a message to B: does B receive it (within `limit`)?
  bool a_reaches_b(ConnectionId a_id, std::uint8_t tag, std::chrono::milliseconds limit = 5s) {
    const std::uint8_t message[8] = {0x0b, 0, 0, 8, tag, 2, 3, 4};
    if (a_.engine->send(a_id, WireProtocol::kAsap, message) == runtime::SendResult::kError) return false;
    return run_until(
        [&] {
          return std::any_of(b_.events.messages.begin(), b_.events.messages.end(),
                             [&](const auto& m) { return m.second.size() == 8 && m.second[4] == tag; });
        },
        limit);
  }
};

// A's path to B's first address dies (B still sends from it): A's usrsctp reports the path
// unreachable after path_rtx_max, A's output fails over to the second address B listed, and the
// association carries messages again. Nothing closes, the peer's address list is unchanged, and
// the aliases go with the association.
TEST_F(SctpEngineMultihomeTest, PathFailureMovesOutputToTheNextListedAddress) {
  const ConnectionId a_id = connect_listing({{10, 1, 0, 3}});
  ASSERT_NE(a_id, 0u);
  const std::vector<IpAddress> listed = {IpAddress::v4({10, 1, 0, 2}), IpAddress::v4({10, 1, 0, 3})};
  ASSERT_EQ(a_.engine->peer_of(a_id)->addresses, listed);
  EXPECT_EQ(a_.engine->alias_count(), 1u);  // 10.1.0.3 leads to B's endpoint
  ASSERT_TRUE(a_reaches_b(a_id, 1));
  EXPECT_EQ(a_.engine->counters().peer_path_failovers, 0u);

  const auto cut = std::chrono::steady_clock::now();
  dead_ = {{10, 1, 0, 2}};
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().peer_path_failovers != 0; }, 10s))
      << "usrsctp never reported the path unreachable";
  const auto failed_over = std::chrono::steady_clock::now();
  EXPECT_EQ(a_.engine->counters().peer_paths_unreachable, 1u);
  EXPECT_EQ(a_.counters.sctp_paths_unreachable.get(), 1u);
  EXPECT_EQ(a_.counters.sctp_path_failovers.get(), 1u);
  EXPECT_TRUE(a_reaches_b(a_id, 2)) << "no message over the second address";
  std::cerr << "failover after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(failed_over - cut).count()
            << " ms (heartbeat 100 ms, path_rtx_max 1, RTO 50..200 ms)\n";
  EXPECT_EQ(a_.engine->counters().peer_path_failovers, 1u);
  EXPECT_EQ(a_.engine->peer_of(a_id)->addresses, listed);
  EXPECT_TRUE(a_.events.address_changes.empty());
  EXPECT_TRUE(a_.events.closed.empty());
  EXPECT_TRUE(b_.events.closed.empty());

  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty(); }));
  EXPECT_EQ(a_.engine->alias_count(), 0u);

  // The first path is back; B's next association (same address and UDP port, so the same
  // endpoint at A; another SCTP port) starts on its source address, not where the old one had
  // failed over to.
  dead_.clear();
  rewrite_ = nullptr;
  const IpAddress to_a = IpAddress::v4({10, 1, 0, 1});
  b_.engine->connect(8, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899,
                     ConnectFrom{ConnectFrom::Kind::kOwnSocket, 0});
  ASSERT_TRUE(run_until([&] { return a_.events.connected.size() == 2 && b_.events.connected.size() == 2; }));
  const ConnectionId second = a_.events.connected.back();
  EXPECT_EQ(a_.engine->peer_of(second)->addresses, std::vector<IpAddress>{IpAddress::v4({10, 1, 0, 2})});
  a_.path.sent_to.clear();
  EXPECT_TRUE(a_reaches_b(second, 4));
  ASSERT_FALSE(a_.path.sent_to.empty());
  EXPECT_EQ(std::count(a_.path.sent_to.begin(), a_.path.sent_to.end(), std::array<std::uint8_t, 4>{10, 1, 0, 2}),
            static_cast<std::ptrdiff_t>(a_.path.sent_to.size()));
}

// Both directions of B's first path die and B's packets come from its third address (its
// routing moved). The round robin moves A's output to the next listed address, dead too; while
// the path is failed, B's packets from its third address move A's output there.
TEST_F(SctpEngineMultihomeTest, FailedPathFollowsThePeersSourceAddress) {
  const ConnectionId a_id = connect_listing({{192, 0, 2, 9}, {10, 1, 0, 3}});
  ASSERT_NE(a_id, 0u);
  ASSERT_EQ(a_.engine->peer_of(a_id)->addresses.size(), 3u);
  ASSERT_TRUE(a_reaches_b(a_id, 1));

  dead_ = {{10, 1, 0, 2}, {192, 0, 2, 9}};
  b_.ip[3] = 3;
  // First the round robin (to 192.0.2.9, dead), then B's next packet from 10.1.0.3.
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().peer_path_failovers >= 2; }, 10s))
      << a_.engine->counters().peer_path_failovers;
  EXPECT_TRUE(a_reaches_b(a_id, 2));
  EXPECT_EQ(a_.engine->counters().peer_path_failovers, 2u);
  EXPECT_TRUE(a_.events.closed.empty());
}

// Several lanes: A (lane 1 here) publishes the address B listed when the steering function gives
// it to another lane, not the one that steers to A's lane anyway; both are withdrawn with the
// association.
TEST_F(SctpEngineMultihomeTest, ListedAddressesArePublishedForTheLaneTheySteerTo) {
  runtime::AliasOwnerTable table(16);
  a_.engine->set_alias_publishing(
      AliasPublishing{&table, 1, [](const IpAddress& ip, std::uint16_t port, bool native) -> unsigned {
                        EXPECT_EQ(port, 40001);  // B's UDP port: the steering key's
                        EXPECT_FALSE(native);
                        return ip == IpAddress::v4({10, 1, 0, 3}) ? 0u : 1u;
                      }});
  const ConnectionId a_id = connect_listing({{10, 1, 0, 3}, {10, 1, 0, 4}});
  ASSERT_NE(a_id, 0u);
  EXPECT_EQ(a_.engine->alias_count(), 2u);
  const std::uint8_t third[4] = {10, 1, 0, 3};
  const std::uint8_t fourth[4] = {10, 1, 0, 4};
  EXPECT_EQ(table.lookup(third, false, 40001, false), 1u);
  // 10.1.0.4 steers to A's lane anyway: not published.
  EXPECT_EQ(table.lookup(fourth, false, 40001, false), runtime::AliasOwnerTable::kNoLane);
  EXPECT_EQ(a_.engine->counters().aliases_published, 1u);
  EXPECT_EQ(a_.engine->counters().alias_publish_refused, 0u);
  // An address known as a peer of its own is not an alias: knows_peer() keeps its packets here.
  const std::uint8_t b_first[4] = {10, 1, 0, 2};
  EXPECT_TRUE(a_.engine->knows_peer(b_first, false, 40001));
  EXPECT_FALSE(a_.engine->knows_peer(third, false, 40001));

  b_.engine->close(7);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty(); }));
  EXPECT_TRUE(table.empty());
}

// A single-homed peer (nothing listed): its path failing moves nothing, the association stays
// until assoc_rtx_max and comes back when the path does.
TEST_F(SctpEngineMultihomeTest, SingleHomedPeerHasNowhereToFailOver) {
  const ConnectionId a_id = connect_listing({});
  ASSERT_NE(a_id, 0u);
  EXPECT_EQ(a_.engine->alias_count(), 0u);
  dead_ = {{10, 1, 0, 2}};
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().peer_paths_unreachable != 0; }, 10s));
  EXPECT_EQ(a_.engine->counters().peer_path_failovers, 0u);
  dead_.clear();
  EXPECT_TRUE(a_reaches_b(a_id, 3));
  EXPECT_TRUE(a_.events.closed.empty());
}

}  // namespace
}  // namespace poolreg::sctp
