// The SctpEngine without any packet source: two engines in one process (the linked usrsctp copy
// and a private dlmopen'd one), their SctpPacketPaths joined by an in-memory wire that carries
// every packet to the other engine's on_sctp_packet() with the sender's address and UDP port.
// A listens, B connects, messages both ways (one over several SCTP packets), graceful close seen
// by A; a packet shorter than an SCTP common header is ignored. No DPDK, no sockets.
#include "dataplane/sctp/sctp_engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

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
  void on_activity(ConnectionId) override {}
  std::vector<ConnectionId> connected;
  std::vector<ConnectionPeer> peers;
  std::vector<std::pair<ConnectionId, std::vector<std::uint8_t>>> messages;
  std::vector<ConnectionId> closed;
};

// One side's path: what its engine sends is queued for the other side.
struct WirePath final : SctpPacketPath {
  std::deque<std::vector<std::uint8_t>> out;
  bool send_sctp(const SctpPeer&, const std::uint8_t* packet, std::uint16_t length) override {
    out.emplace_back(packet, packet + length);
    return true;
  }
  bool reaches(const SctpPeer&) const override { return true; }
  std::uint8_t path_index() const noexcept override { return 0; }
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
  void make(Side& s, UsrsctpStack* stack) {
    SctpEngineConfig config;
    config.path_mtu = 1452;
    auto engine = SctpEngine::create(config, ids_, stack);
    ASSERT_TRUE(engine) << engine.error();
    s.engine = std::move(*engine);
    s.engine->attach({&s.path}, &s.events, &s.counters);
  }
  static unsigned carry(Side& from, Side& to) {
    unsigned n = 0;
    while (!from.path.out.empty()) {
      std::vector<std::uint8_t> p = std::move(from.path.out.front());
      from.path.out.pop_front();
      SctpPacketFrom f;
      std::memcpy(f.src_ip, from.ip, 4);
      std::memcpy(f.dst_ip, to.ip, 4);
      f.src_port = from.udp_port;
      to.engine->on_sctp_packet(f, p.data(), static_cast<std::uint16_t>(p.size()));
      ++n;
    }
    return n;
  }
  template <typename Pred>
  bool run_until(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (Side* s : {&a_, &b_}) {
        s->engine->flush_pending();
        s->engine->run_timers(now_ms());
      }
      const unsigned moved = carry(a_, b_) + carry(b_, a_);
      if (pred()) return true;
      if (moved == 0) std::this_thread::sleep_for(1ms);
    }
    return pred();
  }

  std::atomic<std::uint64_t> ids_{1};
  std::unique_ptr<UsrsctpStack> private_stack_;
  Side a_{{10, 1, 0, 1}, 9899, {}, {}, {}, nullptr};
  Side b_{{10, 1, 0, 2}, 40001, {}, {}, {}, nullptr};
};

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

}  // namespace
}  // namespace poolreg::sctp
