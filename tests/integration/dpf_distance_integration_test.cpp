// Issue 14 item 7: the DPF policies' distance, end to end with the default configuration. Two
// LU-DPF PEs with equal loads in one pool register over SCTP over UDP (poolregd's default): one
// directly (near), one through a user-space UDP relay that adds 80 ms each way (far; no netem on
// the test hosts, so the far path is UdpDelayRelay on loopback). The registrar measures each
// association's SRTT, sets distance = SRTT/2 rounded to asap.distance_step_ms (160 ms -> 100), and
// resolutions return the near PE. Then the PEs swap paths (the far one re-registers over a
// direct association, the near one over the relay; each within the handover hold of its lost
// association) and resolutions follow: the other PE comes first. `poolctl pe` shows the
// measured distances.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/control/control_client.hpp"
#include "tests/integration/poolregd_harness.hpp"
#include "tests/integration/udp_delay_relay.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;
using client::PeRegistration;
using client::PoolElementClient;
using client::PoolUserClient;
using client::ResolutionResult;
using nlohmann::json;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

constexpr auto kOneWayDelay = std::chrono::milliseconds(80);
constexpr PoolElementId kPeA = 0x7a01;  // near first, then far
constexpr PoolElementId kPeB = 0x7b02;  // far first, then near

PoolHandle pool() { return *PoolHandle::from_string("it-dpf"); }

PeRegistration lu_dpf(PoolElementId id, std::uint16_t port) {
  PeRegistration r;
  r.handle = pool();
  r.id = id;
  r.user_transport.protocol = TransportProtocol::kSctp;
  r.user_transport.port = port;
  r.user_transport.use = TransportUse::kDataOnly;
  r.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  r.policy.type = PolicyType::kLeastUsedDpf;
  r.policy.load = 0x40000000u;      // 25 %, equal for both
  r.policy.load_dpf = 0x01000000u;  // each ms of distance adds 1/256 of full load
  r.policy.distance_ms = 0;         // what the PE claims: the registrar overwrites it
  r.registration_life_ms = 30000;
  return r;
}

// The measured distance of a PE as `poolctl pe` shows it (-1: not there / not shown).
long long shown_distance(const Poolregd& d, PoolElementId id) {
  control::ClientError error;
  auto c = control::ControlClient::connect(d.control_socket_path(), 3000, &error);
  if (!c) return -1;
  auto r = c->call("pe", json{{"handle", "it-dpf"}, {"id", id}}, &error);
  if (!r || !r->value("ok", false)) return -1;
  const json& policy = (*r)["result"]["pe"]["policy"];
  return policy.contains("distance_ms") ? policy["distance_ms"].get<long long>() : -1;
}

class PoolregdDpfDistance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    daemon_ = std::make_unique<Poolregd>("dpf", pick_ports(), std::vector<std::string>{});
    ASSERT_TRUE(daemon_->start_and_wait()) << daemon_->log();
    relay_ = std::make_unique<UdpDelayRelay>(daemon_->ports().udp, kOneWayDelay);
    ASSERT_NE(relay_->port(), 0);
  }
  void TearDown() override {
    if (daemon_) {
      EXPECT_TRUE(daemon_->stops_cleanly());
    }
  }

  client::ClientOptions direct() const { return daemon_->client_options(ClientTransport::kSctp); }
  client::ClientOptions via_relay() const {
    client::ClientOptions o = direct();
    o.registrar.remote_udp_port = relay_->port();  // the far path
    return o;
  }
  std::unique_ptr<PoolElementClient> pe_over(const client::ClientOptions& o) {
    auto c = std::make_unique<PoolElementClient>(loop_, StackEnvironment::stack.get(), o);
    EXPECT_EQ(client::connect_and_wait(*c, std::chrono::seconds(5)), ClientStatus::kOk) << daemon_->log();
    return c;
  }
  // The first PE of `n` one-item resolutions, all of them.
  std::vector<PoolElementId> first_choices(PoolUserClient& pu, int n) {
    std::vector<PoolElementId> ids;
    for (int i = 0; i < n; ++i) {
      ResolutionResult r = client::resolve_and_wait(pu, pool(), 1);
      EXPECT_TRUE(r.ok()) << client::to_string(r.status);
      ids.push_back(r.elements.empty() ? 0 : r.elements[0].id);
    }
    return ids;
  }

  runtime::EventLoop loop_;
  std::unique_ptr<Poolregd> daemon_;
  std::unique_ptr<UdpDelayRelay> relay_;
};

TEST_F(PoolregdDpfDistance, LeastUsedDpfPrefersTheNearPeAndFollowsAMove) {
  auto near_pe = pe_over(direct());
  auto far_pe = pe_over(via_relay());
  ASSERT_TRUE(client::register_and_wait(*near_pe, lu_dpf(kPeA, 7001)).ok()) << daemon_->log();
  ASSERT_TRUE(client::register_and_wait(*far_pe, lu_dpf(kPeB, 7002)).ok()) << daemon_->log();
  EXPECT_GT(relay_->forwarded(), 0u);

  PoolUserClient pu(loop_, StackEnvironment::stack.get(), direct());
  ASSERT_EQ(client::connect_and_wait(pu, std::chrono::seconds(5)), ClientStatus::kOk);

  // The distances as measured (SRTT/2 rounded to 50 ms): the far PE's ~160 ms RTT gives 100,
  // loopback 0; both in the answer's policy parameters and in `poolctl pe`.
  ResolutionResult both = client::resolve_and_wait(pu, pool(), 16);
  ASSERT_EQ(both.elements.size(), 2u);
  for (const auto& e : both.elements) {
    if (e.id == kPeA) EXPECT_EQ(e.policy.distance_ms, 0u);
    else EXPECT_GE(e.policy.distance_ms, 50u) << "far PE's distance";
  }
  std::printf("measured: near %lld ms, far %lld ms\n", shown_distance(*daemon_, kPeA), shown_distance(*daemon_, kPeB));
  EXPECT_EQ(shown_distance(*daemon_, kPeA), 0);
  EXPECT_GE(shown_distance(*daemon_, kPeB), 50);

  // Equal loads: without distances LU-DPF would rotate between the two; with them the near PE wins.
  EXPECT_EQ(first_choices(pu, 8), std::vector<PoolElementId>(8, kPeA)) << daemon_->log();

  // The move: both associations go (held for asap.handover_hold_ms), the PEs come back over the
  // other path and re-register with the same IDs.
  client::close_and_wait(*near_pe);
  client::close_and_wait(*far_pe);
  near_pe.reset();
  far_pe.reset();
  auto a_now_far = pe_over(via_relay());
  auto b_now_near = pe_over(direct());
  ASSERT_TRUE(client::register_and_wait(*a_now_far, lu_dpf(kPeA, 7001)).ok()) << daemon_->log();
  ASSERT_TRUE(client::register_and_wait(*b_now_near, lu_dpf(kPeB, 7002)).ok()) << daemon_->log();

  EXPECT_GE(shown_distance(*daemon_, kPeA), 50);
  EXPECT_EQ(shown_distance(*daemon_, kPeB), 0);
  EXPECT_EQ(first_choices(pu, 8), std::vector<PoolElementId>(8, kPeB)) << daemon_->log();
  EXPECT_EQ(relay_->dropped(), 0u);
}

}  // namespace
}  // namespace poolreg::integration
