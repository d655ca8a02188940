// The PacketProcessor test fixtures shared by the dpdk packet tests: a processor on crafted mbufs
// (EAL with --no-huge) with a recording sink, and a two-lane variant with steering inboxes. Every
// test checks in TearDown that no mbuf leaked.
#pragma once

#include <gtest/gtest.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/packet_processor.hpp"
#include "tests/dataplane/dpdk/eal_test_environment.hpp"
#include "tests/dataplane/dpdk/test_frames.hpp"

namespace poolreg::dpdk::test {


struct RecordedSctp {
  Bytes packet;
  std::uint16_t src_port;
  bool ipv6;
  std::uint8_t port_index;
};

class RecordingSink final : public sctp::SctpPacketSink {
 public:
  void on_sctp_packet(const sctp::SctpPacketFrom& from, const std::uint8_t* packet, std::uint16_t length) override {
    packets.push_back({Bytes(packet, packet + length), from.src_port, from.ipv6, from.path_index});
  }
  bool native_port_ours(std::uint16_t port) const noexcept override {
    return std::find(native_ports.begin(), native_ports.end(), port) != native_ports.end();
  }
  std::vector<RecordedSctp> packets;
  std::vector<std::uint16_t> native_ports;  // what native_port_ours() says yes to
};

class PacketProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POOLREG_REQUIRE_EAL();
    pool_ = EalTestEnvironment::instance().pool();
    available_before_ = rte_mempool_avail_count(pool_);
    std::memcpy(config_.mac.data(), kOurMac, 6);
    std::uint32_t ip;
    std::memcpy(&ip, kOurIp, 4);
    config_.ipv4 = {ip};
    Ipv6Bytes ip6;
    std::memcpy(ip6.data(), kOurIp6, 16);
    config_.ipv6 = {ip6};
    processor_ = std::make_unique<PacketProcessor>(config_, counters_, pool_, &sink_);
  }
  void TearDown() override {
    if (pool_ == nullptr) return;
    processor_->tx_sent(0);  // free what the test did not take
    processor_.reset();
    // Every mbuf went back to the pool: nothing leaked on any path.
    EXPECT_EQ(rte_mempool_avail_count(pool_), available_before_);
  }

  rte_mbuf* mbuf_of(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    EXPECT_NE(p, nullptr);
    if (!frame.empty()) std::memcpy(p, frame.data(), frame.size());
    return m;
  }
  void feed(const Bytes& frame) {
    rte_mbuf* m = mbuf_of(frame);
    processor_->process_burst(&m, 1);
  }
  // The single frame in the TX batch, as bytes (then freed).
  Bytes take_one_tx() {
    EXPECT_EQ(processor_->tx_count(), 1);
    if (processor_->tx_count() != 1) return {};
    rte_mbuf* m = processor_->tx()[0];
    Bytes out(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_mtod(m, std::uint8_t*) + m->data_len);
    rte_pktmbuf_free(m);  // "transmitted"
    processor_->tx_sent(1);
    return out;
  }
  void expect_only_drop(DropReason r) {
    EXPECT_EQ(counters_.dropped(r), 1u) << to_string(r);
    EXPECT_EQ(counters_.dropped_total(), 1u);
    EXPECT_EQ(processor_->tx_count(), 0);
    EXPECT_TRUE(sink_.packets.empty());
  }

  rte_mempool* pool_ = nullptr;
  unsigned available_before_ = 0;
  InterfaceConfig config_;
  LcoreCounters counters_;
  RecordingSink sink_;
  std::unique_ptr<PacketProcessor> processor_;
};

// Two lanes (steering.hpp): this fixture's processor is one of them, a second processor with its
// own sink the other; both steer into the test's inboxes.
class SteeringTest : public PacketProcessorTest {
 protected:
  void SetUp() override {
    PacketProcessorTest::SetUp();
    if (pool_ == nullptr) return;
    static int n = 0;
    for (unsigned lane = 0; lane < 2; ++lane) {
      const std::string name = "steer" + std::to_string(++n);
      inboxes_[lane] = rte_ring_create(name.c_str(), 4, SOCKET_ID_ANY, RING_F_SC_DEQ);  // 3 usable slots
      ASSERT_NE(inboxes_[lane], nullptr);
    }
    // The peer of udp_v4 frames (kPeerIp, UDP 50000) belongs to owner_; this fixture's
    // processor plays the other lane.
    owner_ = steer_lane(kPeerIp, false, 50000, 2);
    processor_->set_steering(Steering{1 - owner_, 2, inboxes_});
    owner_processor_ = std::make_unique<PacketProcessor>(config_, owner_counters_, pool_, &owner_sink_);
    owner_processor_->set_steering(Steering{owner_, 2, inboxes_});
  }
  void TearDown() override {
    if (pool_ != nullptr) {
      for (rte_ring* r : inboxes_) {
        void* m;
        while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
      }
      owner_processor_->tx_sent(0);
      owner_processor_.reset();
    }
    PacketProcessorTest::TearDown();
  }
  // What the owner's poll loop does with its inbox.
  unsigned drain_owner_inbox() {
    rte_mbuf* batch[8];
    const unsigned k = rte_ring_sc_dequeue_burst(inboxes_[owner_], reinterpret_cast<void**>(batch), 8, nullptr);
    owner_processor_->process_steered(batch, static_cast<std::uint16_t>(k));
    return k;
  }

  rte_ring* inboxes_[2] = {nullptr, nullptr};
  unsigned owner_ = 0;
  LcoreCounters owner_counters_;
  RecordingSink owner_sink_;
  std::unique_ptr<PacketProcessor> owner_processor_;
};

}  // namespace poolreg::dpdk::test
