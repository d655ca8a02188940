// DPDK counters in /metrics and `stats`: a net_ring port (its TX ring is its RX ring, so frames
// sent come back) carries crafted frames; the PacketProcessor drops them by reason; the port's
// ethdev stats and xstats (read_port_counters) and the drops by reason appear in the exposition
// with the counts that flowed. Also lints the DPDK descriptor tables (descriptor_lint.hpp).
#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dataplane/control/registrar_commands.hpp"
#include "dataplane/dpdk/lcore_counters.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/dpdk/port_stats.hpp"
#include "dataplane/runtime/lane_counters.hpp"
#include "tests/dataplane/control/descriptor_lint.hpp"
#include "tests/dataplane/dpdk/eal_test_environment.hpp"
#include "tests/dataplane/dpdk/test_frames.hpp"

namespace poolreg::dpdk {
namespace {

using test::Bytes;

TEST(DpdkDescriptorsTest, EveryLcoreCounterAndDropReasonIsDescribed) {
  const auto fields = lcore_counter_fields();
  LcoreCounters c;
  // The members LcoreCounters adds begin right after the base's last one (the ABI reuses the
  // base's tail padding).
  const auto base_end = reinterpret_cast<std::uintptr_t>(&c.resolution_latency) + sizeof(LatencyHistogram);
  const char* derived = reinterpret_cast<const char*>((base_end + alignof(Counter) - 1) & ~(alignof(Counter) - 1));
  for (std::size_t i = 0; i < fields.size(); ++i)
    EXPECT_EQ(reinterpret_cast<const char*>(&(c.*fields[i].field)), derived + i * sizeof(Counter))
        << fields[i].describe.key << " is not the field at its table position";
  EXPECT_EQ(reinterpret_cast<const char*>(&c.drops), derived + fields.size() * sizeof(Counter))
      << "a Counter of LcoreCounters has no descriptor in dataplane/dpdk/lcore_counters.cpp";
  std::vector<const CounterDescriptor*> drops;
  for (std::size_t r = 0; r < kDropReasonCount; ++r) {
    const auto reason = static_cast<DropReason>(r);
    const CounterDescriptor& d = drop_descriptor(reason);
    EXPECT_EQ(d.label_value, to_string(reason));
    EXPECT_EQ(d.key, std::string("drop_") + to_string(reason));
    drops.push_back(&d);
  }
  std::vector<const CounterDescriptor*> port(1, &port_xstats_descriptor());
  for (const CounterDescriptor& d : port_counter_descriptors()) port.push_back(&d);
  // With the lane table: a DPDK family must not collide with a lane family.
  for (const std::string& p : poolreg::testing::lint_descriptors(
           {poolreg::testing::descriptors_of(runtime::lane_counter_fields()),
            poolreg::testing::descriptors_of(fields), drops, port}))
    ADD_FAILURE() << p;
}

class PortMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POOLREG_REQUIRE_EAL();
    pool_ = test::EalTestEnvironment::instance().pool();
    ASSERT_EQ(rte_eal_hotplug_add("vdev", "net_ring_metrics0", ""), 0) << "net_ring vdev";
    vdev_ = true;
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring_metrics0", &port_), 0);
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
    const int socket = rte_eth_dev_socket_id(port_);
    ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 64, socket < 0 ? 0 : socket, nullptr, pool_), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 64, socket < 0 ? 0 : socket, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(port_), 0);
    started_ = true;
  }
  void TearDown() override {
    if (started_) rte_eth_dev_stop(port_);
    if (vdev_) {
      rte_eth_dev_close(port_);
      rte_eal_hotplug_remove("vdev", "net_ring_metrics0");
    }
  }

  rte_mbuf* mbuf_of(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return nullptr;
    char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    if (p != nullptr) std::memcpy(p, frame.data(), frame.size());
    return m;
  }

  rte_mempool* pool_ = nullptr;
  std::uint16_t port_ = 0;
  bool vdev_ = false;
  bool started_ = false;
};

TEST_F(PortMetricsTest, PortStatsAndDropReasonsReachTheExposition) {
  // Two TCP frames (unsupported on the DPDK path) and one UDP frame to another port than 9899.
  const std::vector<Bytes> frames = {test::ipv4_frame(6, Bytes(20, 0)), test::ipv4_frame(6, Bytes(20, 0)),
                                     test::ipv4_frame(17, test::udp_v4(test::sctp_packet(), 5000))};
  std::uint64_t frame_bytes = 0;
  std::vector<rte_mbuf*> out;
  for (const Bytes& f : frames) {
    out.push_back(mbuf_of(f));
    ASSERT_NE(out.back(), nullptr);
    frame_bytes += f.size();
  }
  ASSERT_EQ(rte_eth_tx_burst(port_, 0, out.data(), static_cast<std::uint16_t>(out.size())), out.size());

  // The ring hands them back on RX; the lane's packet path classifies and drops them.
  InterfaceConfig config;
  std::memcpy(config.mac.data(), test::kOurMac, 6);
  std::uint32_t ip;
  std::memcpy(&ip, test::kOurIp, 4);
  config.ipv4 = {ip};
  LcoreCounters counters;
  {
    PacketProcessor processor(config, counters, pool_, nullptr);
    std::array<rte_mbuf*, 8> in{};
    std::uint16_t received = 0;
    for (int i = 0; i < 100 && received < frames.size(); ++i)
      received += rte_eth_rx_burst(port_, 0, in.data() + received, static_cast<std::uint16_t>(in.size() - received));
    ASSERT_EQ(received, frames.size());
    processor.process_burst(in.data(), received);
  }
  EXPECT_EQ(counters.dropped(DropReason::kUnsupportedProtocol), 2u);
  EXPECT_EQ(counters.dropped(DropReason::kUdpWrongPort), 1u);

  // What the daemon hands the control library (dataplane/daemon/application.cpp).
  control::LaneStats lane;
  lane.backend = "dpdk";
  lane.lcore = 1;
  counters.for_each_counter(
      [&lane](const CounterDescriptor& d, std::uint64_t value) { lane.counters.push_back({&d, {}, value}); });
  control::PortStats port{port_, "net_ring_metrics0", read_port_counters(port_)};
  ASSERT_FALSE(port.counters.empty());
  control::StatsSources s;
  s.lanes.push_back(lane);
  s.ports.push_back(port);

  const std::string p = std::to_string(port_);
  const std::string text = control::registrar_metrics_text(control::StatusInfo{}, 0, s);
  for (const std::string& needle :
       {std::string("# TYPE poolreg_dpdk_dropped_frames_total counter\n"),
        std::string("poolreg_dpdk_dropped_frames_total{lane=\"0\",reason=\"unsupported_protocol\"} 2\n"),
        std::string("poolreg_dpdk_dropped_frames_total{lane=\"0\",reason=\"udp_wrong_port\"} 1\n"),
        std::string("poolreg_dpdk_dropped_frames_total{lane=\"0\",reason=\"ipv4_bad_checksum\"} 0\n"),
        "poolreg_dpdk_port_info{port=\"" + p + "\",name=\"net_ring_metrics0\"} 1\n",
        "poolreg_dpdk_port_rx_packets_total{port=\"" + p + "\"} 3\n",
        "poolreg_dpdk_port_tx_packets_total{port=\"" + p + "\"} 3\n",
        "poolreg_dpdk_port_rx_missed_errors_total{port=\"" + p + "\"} 0\n",
        "poolreg_dpdk_port_rx_nombuf_total{port=\"" + p + "\"} 0\n",
        "poolreg_dpdk_port_rx_errors_total{port=\"" + p + "\"} 0\n",
        "poolreg_dpdk_port_tx_errors_total{port=\"" + p + "\"} 0\n",
        "poolreg_dpdk_port_xstats_total{port=\"" + p + "\",xstat=\"rx_good_packets\"} 3\n",
        "poolreg_dpdk_port_xstats_total{port=\"" + p + "\",xstat=\"tx_good_packets\"} 3\n",
        "poolreg_dpdk_port_xstats_total{port=\"" + p + "\",xstat=\"rx_missed_errors\"} 0\n",
        std::string("poolreg_lane_rx_packets_total{lane=\"0\"} 3\n")})
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  EXPECT_EQ(text.find("_total_total"), std::string::npos);
  // Bytes: whatever the ring PMD counts is either nothing yet (older PMDs) or exactly the frames.
  for (const CounterSample& c : port.counters) {
    if (c.descriptor->key == "rx_bytes" || c.descriptor->key == "tx_bytes") {
      EXPECT_TRUE(c.value == 0 || c.value == frame_bytes) << c.descriptor->key << " " << c.value;
    }
  }

  // Every poolreg_dpdk_* name the shipped alert rules and dashboard use is exported (the other
  // names are checked by tests/dataplane/control/metrics_test.cpp).
  if (const char* dir = std::getenv("POOLREG_MONITORING_DIR"); dir != nullptr) {
    std::size_t checked = 0;
    const std::regex name_re("\\bpoolreg_dpdk_[a-z0-9_]+");
    for (const char* file : {"poolreg-alerts.yml", "poolreg-dashboard.json"}) {
      std::ifstream in(std::string(dir) + "/" + file);
      ASSERT_TRUE(in) << file;
      const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (auto it = std::sregex_iterator(body.begin(), body.end(), name_re); it != std::sregex_iterator(); ++it) {
        ++checked;
        EXPECT_NE(text.find("# TYPE " + it->str() + " "), std::string::npos) << file << " uses " << it->str();
      }
    }
    EXPECT_GE(checked, 4u);
  }

  // `poolctl stats` reads the same samples.
  const control::json stats = control::stats_result(s);
  EXPECT_EQ(stats["lanes"][0]["drop_unsupported_protocol"], 2);
  EXPECT_EQ(stats["ports"][0]["rx_packets"], 3);
  EXPECT_EQ(stats["ports"][0]["xstats"]["tx_good_packets"], 3);
}

}  // namespace
}  // namespace poolreg::dpdk
