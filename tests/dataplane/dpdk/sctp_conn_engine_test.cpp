// Two sctp::SctpEngines in one process, each on its own copy of usrsctp (the linked one and a
// private dlmopen'd one, sctp::UsrsctpStack), as two poll lcores run them, each with a
// PacketProcessor as its packet path: A listens, B connects
// to A, messages go both ways. Frames travel from one PacketProcessor's TX batch into the other's
// process_burst, so everything between usrsctp and Ethernet is the real code. Shows the copies
// are independent stacks (one output callback each, own timers, own associations) and that
// buffers of the private copy's heap reach the sink as ordinary malloc() memory. Also: a copy
// runs one engine only. Native SCTP frames with a wrong verification tag on an established
// association are dropped by usrsctp and counted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/runtime/combined_transport.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "tests/dataplane/dpdk/eal_test_environment.hpp"

namespace poolreg::dpdk {
namespace {

using sctp::EngineEventSink;
using sctp::SctpEngine;
using runtime::CloseReason;

using namespace std::chrono_literals;

class RecordingEvents final : public EngineEventSink {
 public:
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override {
    connected.push_back(id);
    peers.push_back(peer);
  }
  void on_message(ConnectionId id, const runtime::MessageInfo& info, std::uint8_t* data, std::size_t length) override {
    messages.push_back({id, info.protocol, std::vector<std::uint8_t>(data, data + length)});
    std::free(data);  // the sink's contract: ordinary malloc() memory, whichever usrsctp copy read it
  }
  void on_closed(ConnectionId id, CloseReason) override { closed.push_back(id); }
  void on_unknown_ppid(ConnectionId, std::uint32_t) override {}
  void on_activity(ConnectionId) override {}
  void on_addresses_changed(ConnectionId, const ConnectionPeer&) override {}

  struct Message {
    ConnectionId id;
    WireProtocol protocol;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<ConnectionId> connected;
  std::vector<ConnectionPeer> peers;
  std::vector<Message> messages;
  std::vector<ConnectionId> closed;
};

// One side: interface, counters, processor, engine, events.
struct Side {
  InterfaceConfig interface;
  LcoreCounters counters;
  RecordingEvents events;
  std::unique_ptr<PacketProcessor> processor;
  std::unique_ptr<SctpEngine> engine;
};

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

class SctpEngineOnDpdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POOLREG_REQUIRE_EAL();
    pool_ = test::EalTestEnvironment::instance().pool();
    auto loaded = sctp::UsrsctpStack::load_private();
    ASSERT_TRUE(loaded) << loaded.error();
    private_stack_ = std::move(*loaded);
    ASSERT_TRUE(private_stack_->is_private());
    make_side(a_, 1, nullptr);
    make_side(b_, 2, private_stack_.get());
    ASSERT_TRUE(a_.engine && b_.engine);
    // Each knows the other's MAC already (ARP is the PacketProcessor tests' business).
    b_.processor->neighbors().learn(ip(1), false, mac(1).data());
    a_.processor->neighbors().learn(ip(2), false, mac(2).data());
  }
  void TearDown() override {
    for (Side* s : {&b_, &a_}) {
      if (s->processor) s->processor->tx_sent(0);
      s->engine.reset();  // usrsctp_finish of its copy
      s->processor.reset();
    }
    private_stack_.reset();
  }

  static const std::uint8_t* ip(int host) {
    static std::uint8_t addresses[3][4] = {{10, 98, 0, 0}, {10, 98, 0, 1}, {10, 98, 0, 2}};
    return addresses[host];
  }
  static MacAddress mac(int host) { return {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(host)}; }

  void make_side(Side& s, int host, sctp::UsrsctpStack* stack) {
    s.interface.mac = mac(host);
    std::uint32_t be;
    std::memcpy(&be, ip(host), 4);
    s.interface.ipv4 = {be};
    sctp::SctpEngineConfig config;
    config.path_mtu = 1500 - 48;
    auto engine = SctpEngine::create(config, ids_, stack);
    ASSERT_TRUE(engine) << engine.error();
    s.engine = std::move(*engine);
    s.processor = std::make_unique<PacketProcessor>(s.interface, s.counters, pool_, s.engine.get());
    s.engine->attach({s.processor.get()}, &s.events, &s.counters);
  }

  // Moves every frame in `from`'s TX batch to `to` (the wire between the two ports); B's frames
  // are also copied into b_frames_ (for forging).
  unsigned carry(Side& from, Side& to) {
    const std::uint16_t n = from.processor->tx_count();
    std::vector<rte_mbuf*> frames(from.processor->tx(), from.processor->tx() + n);
    if (&from == &b_)
      for (rte_mbuf* m : frames) {
        const auto* d = rte_pktmbuf_mtod(m, const std::uint8_t*);
        b_frames_.emplace_back(d, d + rte_pktmbuf_data_len(m));
      }
    from.processor->tx_sent(n);
    if (n > 0) to.processor->process_burst(frames.data(), n);
    return n;
  }
  // Runs both "poll lcores" until pred() or the timeout.
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

  // Hands one frame to `to`'s packet path as if it came from the wire.
  void inject(Side& to, const std::vector<std::uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    ASSERT_NE(d, nullptr);
    std::memcpy(d, frame.data(), frame.size());
    to.processor->process_burst(&m, 1);
  }

  rte_mempool* pool_ = nullptr;
  std::vector<std::vector<std::uint8_t>> b_frames_;
  std::atomic<std::uint64_t> ids_{runtime::kLaneConnectionIdBase};
  std::unique_ptr<sctp::UsrsctpStack> private_stack_;
  Side a_, b_;
};

TEST_F(SctpEngineOnDpdkTest, EnginesOnTheLinkedAndOnAPrivateUsrsctpCopyTalkToEachOther) {
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  const IpAddress to_a = IpAddress::v4({10, 98, 0, 1});
  const ConnectionId b_id = 77;
  b_.engine->connect(b_id, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 9899);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }))
      << "A accepted " << a_.events.connected.size() << ", B opened " << b_.events.connected.size() << ", B out "
      << b_.counters.sctp_packets_out.get() << ", A rx " << a_.counters.rx_packets.get() << ", A sctp in "
      << a_.counters.sctp_packets_in.get() << ", A out " << a_.counters.sctp_packets_out.get() << ", A drops "
      << a_.counters.dropped_total() << ", B drops " << b_.counters.dropped_total() << " no_neighbor " << b_.counters.dropped(DropReason::kNoNeighbor) << " B closed " << b_.events.closed.size() << " B connect failures " << b_.engine->counters().connect_failures;
  EXPECT_EQ(b_.events.connected.front(), b_id);
  const ConnectionId a_id = a_.events.connected.front();
  EXPECT_FALSE(a_.events.peers.front().outgoing);
  ASSERT_EQ(a_.events.peers.front().addresses.size(), 1u);
  EXPECT_EQ(a_.events.peers.front().addresses.front(), IpAddress::v4({10, 98, 0, 2}));
  EXPECT_EQ(a_.events.peers.front().udp_encapsulation_port, 9899);

  // B -> A, then A -> B with a message big enough to take several SCTP packets.
  const std::vector<std::uint8_t> request = {0x05, 0x00, 0x00, 0x08, 1, 2, 3, 4};
  EXPECT_EQ(b_.engine->send(b_id, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !a_.events.messages.empty(); }));
  EXPECT_EQ(a_.events.messages.front().id, a_id);
  EXPECT_EQ(a_.events.messages.front().bytes, request);
  std::vector<std::uint8_t> answer(5000);
  for (std::size_t i = 0; i < answer.size(); ++i) answer[i] = static_cast<std::uint8_t>(i * 7);
  EXPECT_EQ(a_.engine->send(a_id, WireProtocol::kAsap, answer), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return !b_.events.messages.empty(); }));
  EXPECT_EQ(b_.events.messages.front().id, b_id);
  EXPECT_EQ(b_.events.messages.front().bytes, answer);  // reassembled from the private copy's buffers

  // Each stack holds exactly its own side of the association.
  EXPECT_EQ(a_.engine->connection_count(), 1u);
  EXPECT_EQ(b_.engine->connection_count(), 1u);
  EXPECT_GT(a_.counters.sctp_packets_out.get(), 0u);
  EXPECT_GT(b_.counters.sctp_packets_out.get(), 0u);

  // Graceful close from B: A hears of it.
  b_.engine->close(b_id);
  ASSERT_TRUE(run_until([&] { return !a_.events.closed.empty(); }));
  EXPECT_EQ(a_.events.closed.front(), a_id);
}

// Native SCTP on the DPDK path, bad input on an established association (issue 15 acceptance,
// "wrong verification tag"): B's DATA frame replayed with another verification tag (CRC32c
// recomputed, so only the tag is wrong), and the same frame turned into an ABORT (T bit clear),
// reach A's engine and are dropped by usrsctp, counted (sctp_bad_vtag); nothing is delivered
// twice, the association stays up and works both ways.
TEST_F(SctpEngineOnDpdkTest, NativeFramesWithAWrongVerificationTagAreDroppedAndCounted) {
  a_.interface.sctp_native = b_.interface.sctp_native = true;
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kAsap, 3863).has_value());
  a_.engine->accept_native(3863);
  const IpAddress to_a = IpAddress::v4({10, 98, 0, 1});
  const ConnectionId b_id = 78;
  b_.engine->connect(b_id, WireProtocol::kAsap, std::span<const IpAddress>(&to_a, 1), 3863, 0);
  ASSERT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
  b_frames_.clear();
  const std::vector<std::uint8_t> request = {0x05, 0x00, 0x00, 0x08, 1, 2, 3, 4};
  ASSERT_EQ(b_.engine->send(b_id, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return a_.events.messages.size() == 1; }));
  constexpr std::size_t kSctp = 14 + 20;  // Ethernet + IPv4 without options
  std::vector<std::uint8_t> data_frame;
  for (const auto& f : b_frames_)
    if (f.size() > kSctp + 16 && f[14 + 9] == sctp::kIpProtocolSctp && f[kSctp + 12] == 0) data_frame = f;
  ASSERT_FALSE(data_frame.empty()) << "B's DATA frame";
  auto forge = [&](std::uint8_t chunk_type) {
    std::vector<std::uint8_t> f = data_frame;
    for (std::size_t i = 4; i < 8; ++i) f[kSctp + i] ^= 0xa5;  // not A's tag
    f[kSctp + 12] = chunk_type;
    f[kSctp + 13] = 0;
    sctp::set_sctp_crc(std::span<std::uint8_t>(f.data() + kSctp, f.size() - kSctp));
    return f;
  };
  const std::uint64_t in_before = a_.counters.sctp_packets_in.get();
  inject(a_, forge(0));  // DATA
  inject(a_, forge(6));  // ABORT
  EXPECT_EQ(a_.counters.sctp_packets_in.get(), in_before + 2) << "both reached the engine";
  EXPECT_EQ(a_.counters.dropped_total(), 0u);
  ASSERT_TRUE(run_until([&] { return a_.engine->counters().bad_vtag >= 2; }, 1s))
      << a_.engine->counters().bad_vtag;
  EXPECT_EQ(a_.counters.sctp_bad_vtag.get(), a_.engine->counters().bad_vtag);
  EXPECT_EQ(a_.counters.sctp_bad_crc32c.get(), 0u);
  // Still up, both ways; the replayed DATA was not delivered.
  ASSERT_EQ(b_.engine->send(b_id, WireProtocol::kAsap, request), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until([&] { return a_.events.messages.size() >= 2; }));
  EXPECT_EQ(a_.events.messages.size(), 2u);
  EXPECT_EQ(a_.engine->send(a_.events.connected.front(), WireProtocol::kAsap, request),
            runtime::SendResult::kSent);
  EXPECT_TRUE(run_until([&] { return !b_.events.messages.empty(); }));
  EXPECT_TRUE(a_.events.closed.empty());
  EXPECT_TRUE(b_.events.closed.empty());
}

TEST_F(SctpEngineOnDpdkTest, ACopyOfUsrsctpRunsOneEngineOnly) {
  std::atomic<std::uint64_t> ids{1};
  auto second = SctpEngine::create({}, ids, private_stack_.get());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("already runs"), std::string::npos) << second.error();
  auto on_linked = SctpEngine::create({}, ids);  // the linked copy: A has it
  ASSERT_FALSE(on_linked);
  EXPECT_FALSE(on_linked.error().empty());
  // The refused attempts left both engines working.
  ASSERT_TRUE(a_.engine->listen(WireProtocol::kEnrp, 9901).has_value());
  const IpAddress to_a = IpAddress::v4({10, 98, 0, 1});
  b_.engine->connect(5, WireProtocol::kEnrp, std::span<const IpAddress>(&to_a, 1), 9901, 9899);
  EXPECT_TRUE(run_until([&] { return !a_.events.connected.empty() && !b_.events.connected.empty(); }));
}

}  // namespace
}  // namespace poolreg::dpdk
