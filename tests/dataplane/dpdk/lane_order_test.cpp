// Order per association on a DPDK poll lane (issue 16 item 1, runtime/lane_order.hpp): a Handle
// Resolution sent right after a Registration (or Deregistration) on the same association is
// answered after that write, although the lane answers resolutions itself.
//
// poolregd's lane code on a net_ring port (PollLoop, PacketProcessor, SctpEngine, LaneResolver,
// LaneEventSink, the LaneOrder as DpdkBackend sets it) and its control side (LaneTransport,
// ProtocolRouter, TransportOutput, AsapServer), both driven by this one thread, so the order of
// lane iterations and control passes is chosen by the test: the lane takes in the write and the
// resolution while the control side does not run. The peer is the synthetic SCTP source of
// perf/dataplane in Ethernet/IPv4/UDP frames.
#include "dataplane/runtime/lane_order.hpp"

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "dataplane/daemon/protocol_router.hpp"
#include "dataplane/daemon/transport_output.hpp"
#include "dataplane/dpdk/frame_builder.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/dpdk/poll_loop.hpp"
#include "dataplane/runtime/combined_transport.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_transport.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "tests/dataplane/dpdk/eal_test_environment.hpp"
#include "tests/dataplane/runtime/lane_order_messages.hpp"

namespace poolreg::dpdk {
namespace {

constexpr std::uint8_t kRegistrarIp[4] = {10, 7, 0, 1};
constexpr std::uint8_t kClientIp[4] = {10, 7, 0, 2};
constexpr std::uint16_t kClientPort = 41000;
constexpr std::uint16_t kAsapPort = 3863;
constexpr std::uint32_t kAsapPpid = 11;
const MacAddress kRegistrarMac = {0x02, 0, 0, 0, 7, 1};
const MacAddress kClientMac = {0x02, 0, 0, 0, 7, 2};
using poolreg::test::lane_order::deregistration;
using poolreg::test::lane_order::kPe;
using poolreg::test::lane_order::kPool;
using poolreg::test::lane_order::resolution;

// The PE's address: its association's.
const IpAddress kPeAddress = IpAddress::v4({10, 7, 0, 2});
std::vector<std::uint8_t> registration() { return poolreg::test::lane_order::registration(kPeAddress); }

class DpdkLaneOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POOLREG_REQUIRE_EAL();
    pool_ = test::EalTestEnvironment::instance().pool();
    const std::string n = "order" + std::to_string(++instances_);
    rx_ = rte_ring_create((n + "rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create((n + "tx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_TRUE(rx_ != nullptr && tx_ != nullptr);
    const int port = rte_eth_from_rings(n.c_str(), &rx_, 1, &tx_, 1, 0);
    ASSERT_GE(port, 0);
    port_ = static_cast<std::uint16_t>(port);
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 512, 0, nullptr, pool_), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 512, 0, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(port_), 0);

    // Lane (what DpdkBackend::add_lane and enable_poll_resolution build).
    config_.mac = kRegistrarMac;
    std::uint32_t ip;
    std::memcpy(&ip, kRegistrarIp, 4);
    config_.ipv4 = {ip};
    auto engine = sctp::SctpEngine::create({}, ids_);
    ASSERT_TRUE(engine.has_value()) << engine.error();
    engine_ = std::move(*engine);
    ASSERT_TRUE(engine_->listen(WireProtocol::kAsap, kAsapPort).has_value());
    processor_ = std::make_unique<PacketProcessor>(config_, counters_, pool_, engine_.get());
    rings_.commands = &commands_;
    rings_.events = &events_;
    rings_.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rings_.order = &order_;
    ASSERT_GE(rings_.wake_fd, 0);
    sink_ = std::make_unique<runtime::LaneEventSink>(rings_);
    engine_->attach({processor_.get()}, sink_.get(), &counters_);
    hs_ = std::make_unique<handlespace::Handlespace>(handlespace::HandlespaceConfig{}, domain_);
    reader_ = std::make_unique<handlespace::ReaderContext>(domain_, 11);
    asap_config_.registrar_id = 0x0dde;
    resolver_ =
        std::make_unique<runtime::LaneResolver>(*hs_, domain_, asap_config_, counters_, loop_.clock(), 5);
    engine_->set_local_answerer(resolver_.get());
    engine_->set_lane_order(&order_);
    PollLoopConfig pc;
    pc.idle_sleep_us = 0;
    poll_ = std::make_unique<PollLoop>(pc, std::vector<LanePort>{LanePort{port_, true, processor_.get()}},
                                       *engine_, *sink_, rings_.commands);
    poll_->set_resolver(resolver_.get());

    // Control side (what the daemon builds on the control lcore).
    transport_ = std::make_unique<runtime::LaneTransport>(
        loop_, router_, std::vector<runtime::LaneTransport::Lane>{{rings_, engine_.get()}}, ids_, 65536);
    transport_->mark_started();
    output_ = std::make_unique<daemon::TransportOutput>(
        *transport_, false, [this](ConnectionId id, WireProtocol p) { router_.note_outgoing(id, p); });
    asap_ =
        std::make_unique<asap::AsapServer>(asap_config_, *hs_, *reader_, *output_, loop_.clock(), nullptr);
    router_.attach(*transport_, *output_, *asap_, nullptr);

    a_.local_port = kClientPort;
    a_.peer_port = kAsapPort;
    a_.local_tag = 0x0c0ffee0;
    a_.next_tsn = 1000;
    a_.keep_payloads = true;
    send(perf::build_init(a_, 8));
    lane();
    collect();
    ASSERT_FALSE(cookie_.empty()) << "no INIT ACK";
    send(perf::build_cookie_echo(a_, cookie_));
    lane();
    collect();
    ASSERT_TRUE(a_.established) << "no COOKIE ACK";
    control();
  }

  void TearDown() override {
    if (poll_ != nullptr) {
      resolver_->offline();
      asap_.reset();
      output_.reset();
      transport_.reset();
      poll_.reset();
      engine_.reset();  // aborts the association
      drain_frames();
      resolver_.reset();
      sink_.reset();
      runtime::drain_and_free(rings_);
    }
    if (rings_.wake_fd >= 0) ::close(rings_.wake_fd);
    if (port_ != kNoPort) {
      rte_eth_dev_stop(port_);
      rte_eth_dev_close(port_);
    }
    drain_frames();
    if (rx_ != nullptr) rte_ring_free(rx_);
    if (tx_ != nullptr) rte_ring_free(tx_);
  }

  void drain_frames() {
    void* m = nullptr;
    for (rte_ring* r : {rx_, tx_})
      while (r != nullptr && rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }

  // Ethernet/IPv4/UDP around one SCTP packet of the peer, into the port's RX ring.
  void send(const std::vector<std::uint8_t>& sctp) {
    UdpRoute r;
    r.src_mac = kClientMac;
    r.dst_mac = kRegistrarMac;
    std::memcpy(r.src_ip, kClientIp, 4);
    std::memcpy(r.dst_ip, kRegistrarIp, 4);
    r.src_port = kClientPort;
    r.dst_port = 9899;
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    ASSERT_TRUE(write_udp_frame(m, r, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
    ASSERT_EQ(rte_ring_sp_enqueue(rx_, m), 0);
  }
  void send_asap(const std::vector<std::uint8_t>& message) { send(perf::build_data(a_, kAsapPpid, message)); }

  // The poll lane's iterations until it has nothing left to do (the control side does not run).
  void lane() {
    resolver_->online();
    for (unsigned idle = 0; idle < 3;) idle = poll_->iterate() == 0 ? idle + 1 : 0;
    resolver_->offline();
  }
  // One control pass: the lane's events to AsapServer, its answers back into the command ring;
  // then the lane sends them.
  void control() {
    transport_->drain_events();
    loop_.run_once(0);
    lane();
    collect();
  }
  // Reads the frames the lane sent; SACKs what carried DATA.
  void collect() {
    void* objs[32];
    for (;;) {
      const unsigned n = rte_ring_sc_dequeue_burst(tx_, objs, 32, nullptr);
      if (n == 0) break;
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
        const std::size_t len = m->data_len;
        if (len > 14 + 20 + 8 + 12 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 17) {
          const std::size_t sctp = 14 + (f[14] & 0x0f) * 4u + 8;
          perf::PeerInput in = perf::consume(a_, f + sctp, len - sctp, 0xff);
          if (in.init_ack) cookie_ = in.cookie;
          for (auto& p : in.payloads) received_.push_back(std::move(p));
        }
        rte_pktmbuf_free(m);
      }
    }
    if (a_.sack_due) {
      send(perf::build_sack(a_));
      lane();
    }
  }

  bool has(wire::AsapType type) const {
    return std::any_of(received_.begin(), received_.end(),
                       [&](const auto& m) { return !m.empty() && m[0] == static_cast<std::uint8_t>(type); });
  }
  // The PE ids of the first Handle Resolution Response received (nullopt: none yet); removes it.
  std::optional<std::vector<PoolElementId>> first_answer() {
    auto it = std::find_if(received_.begin(), received_.end(), [](const auto& m) {
      return !m.empty() && m[0] == static_cast<std::uint8_t>(wire::AsapType::kHandleResolutionResponse);
    });
    if (it == received_.end()) return std::nullopt;
    auto r = wire::decode_asap(*it);
    received_.erase(it);
    if (!r) return std::nullopt;
    const auto* hrr = std::get_if<wire::HandleResolutionResponse>(&r.value());
    if (hrr == nullptr) return std::nullopt;
    std::vector<PoolElementId> ids;
    for (const auto& pe : hrr->elements) ids.push_back(pe.id);
    return ids;
  }

  static constexpr std::uint16_t kNoPort = 0xffff;
  static inline unsigned instances_ = 0;
  rte_mempool* pool_ = nullptr;
  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  std::uint16_t port_ = kNoPort;
  InterfaceConfig config_;
  LcoreCounters counters_;
  std::atomic<std::uint64_t> ids_{runtime::kLaneConnectionIdBase};
  std::unique_ptr<sctp::SctpEngine> engine_;
  std::unique_ptr<PacketProcessor> processor_;
  runtime::LaneRing commands_{1024};
  runtime::LaneRing events_{1024};
  runtime::LaneOrder order_;
  runtime::LaneRings rings_;
  std::unique_ptr<runtime::LaneEventSink> sink_;
  handlespace::QsbrDomain domain_{4};
  std::unique_ptr<handlespace::Handlespace> hs_;
  std::unique_ptr<handlespace::ReaderContext> reader_;
  asap::AsapConfig asap_config_;
  runtime::EventLoop loop_;
  std::unique_ptr<runtime::LaneResolver> resolver_;
  std::unique_ptr<PollLoop> poll_;
  daemon::ProtocolRouter router_;
  std::unique_ptr<runtime::LaneTransport> transport_;
  std::unique_ptr<daemon::TransportOutput> output_;
  std::unique_ptr<asap::AsapServer> asap_;
  perf::SynthAssociation a_;
  std::vector<std::uint8_t> cookie_;
  std::vector<std::vector<std::uint8_t>> received_;
};

TEST_F(DpdkLaneOrderTest, ResolutionAfterRegistrationOnTheSameAssociationSeesThePe) {
  send_asap(registration());
  send_asap(resolution());
  lane();  // the control side has not run: the Registration waits in the event ring
  collect();
  EXPECT_EQ(counters_.resolutions_after_write_forwarded.get(), 1u);
  EXPECT_EQ(first_answer(), std::nullopt) << "answered on the lane before the Registration was applied";
  control();
  EXPECT_TRUE(has(wire::AsapType::kRegistrationResponse));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{kPe});
  EXPECT_EQ(asap_->counters().registrations, 1u);

  // Caught up: the next resolution is answered on the lane again, without the control side.
  const std::uint64_t answered = counters_.resolutions_answered.get();
  send_asap(resolution());
  lane();
  collect();
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{kPe});
  EXPECT_EQ(counters_.resolutions_answered.get(), answered + 1);
}

TEST_F(DpdkLaneOrderTest, ResolutionAfterDeregistrationOnTheSameAssociationNoLongerSeesThePe) {
  send_asap(registration());
  lane();
  control();
  ASSERT_TRUE(has(wire::AsapType::kRegistrationResponse));
  ASSERT_EQ(asap_->counters().registrations, 1u);

  send_asap(deregistration());
  send_asap(resolution());
  lane();
  collect();
  EXPECT_EQ(counters_.resolutions_after_write_forwarded.get(), 1u);
  EXPECT_EQ(first_answer(), std::nullopt) << "answered on the lane before the Deregistration was applied";
  control();
  EXPECT_TRUE(has(wire::AsapType::kDeregistrationResponse));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{});
}

}  // namespace
}  // namespace poolreg::dpdk
