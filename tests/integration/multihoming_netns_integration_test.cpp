// Integration (issue 15 item 5): SCTP multi-homing on the registrar's usrsctp AF_CONN engine. A
// multi-homed PE (the kernel_sctp_peer helper: threaded usrsctp bound to 10.77.0.11 on eth0 and
// 10.77.0.12 on eth1, so its INIT lists both) registers at poolregd (kernel backend, one lane,
// 10.77.0.1); then its first path dies (eth0 and its address deleted, the route moves to eth1).
// The association survives: the PE's re-registration is answered over the second address after
// the registrar's failover (usrsctp reports the first path unreachable after
// asap.sctp_path_max_retrans, 2 here; the default is 5), the PE stays registered, a PU (this process, in
// the namespace 10.77.0.20) still resolves it, and the lane counts the failover. The time from
// the cut to the answer is printed (the recovery time). The same with two lanes and a second
// address that steers to the other lane than the first (runtime::steer_lane, asserted): the lane
// holding the association published it (runtime/alias_owner_table.hpp) and the other lane hands
// the packets from it over. Network namespaces on one bridge that
// the test creates (tests/integration/mobility_lab.hpp); needs root and `ip`, skipped otherwise.

#include "dataplane/runtime/steer_lane.hpp"
#include "tests/integration/mobility_lab.hpp"

namespace poolreg::integration {
namespace {

using namespace mobility;  // Host, Hub, enter(), the 10.77.0.x addresses, registration helpers

const char* const kPrefix = "prmh";
constexpr PoolElementId kPe = 1501;
// The PE's own UDP encapsulation port (free in its namespace): with it the test knows how the
// registrar steers the PE's addresses (runtime::steer_lane of address and UDP port).
constexpr std::uint16_t kPeUdpPort = 40999;

// The sum of one lane counter over the registrar's lanes (`poolctl stats`).
std::uint64_t lane_counter(const Poolregd& d, const char* name) {
  const json r = control_call(d, "stats");
  std::uint64_t sum = 0;
  if (r.is_object() && r.contains("lanes") && r["lanes"].is_array())
    for (const auto& lane : r["lanes"]) sum += lane.value(name, std::uint64_t{0});
  return sum;
}

class MultihomingNetns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = test_netns::namespaces_unavailable();
    if (!skip_reason_.empty()) return;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
    if (poolregd_path().empty() || std::getenv("KERNEL_SCTP_PEER") == nullptr) {
      skip_reason_ = "POOLREGD and KERNEL_SCTP_PEER not set (run through meson test)";
      return;
    }
    test_netns::remove_stale_namespaces(kPrefix);
    const std::string base = std::string(kPrefix) + "-" + std::to_string(::getpid()) + "-";
    hub_ = std::make_unique<Hub>(base + "hub");
    registrar_host_ =
        std::make_unique<Host>(hub_->ns, base + "a", "a", std::vector<std::string>{kRegistrarA});
    pu_host_ = std::make_unique<Host>(hub_->ns, base + "u", "u", std::vector<std::string>{kPuAddress});
    if (!hub_->ok || !registrar_host_->ok() || !pu_host_->ok()) {
      skip_reason_ = "setting up the namespaces failed";
      return;
    }
    // This process is the PU's host: its usrsctp stack (created after the switch) lives there.
    if (!enter(*pu_host_)) {
      skip_reason_ = "setns into the PU namespace failed";
      return;
    }
    kernel::SctpStackConfig config;
    config.udp_port = 0;
    config.heartbeat_interval_ms = 1000;
    std::string error;
    stack_ = kernel::SctpStack::create(config, &error);
    if (!stack_) skip_reason_ = "usrsctp: " + error;
  }
  static void TearDownTestSuite() {
    stack_.reset();
    pu_host_.reset();
    registrar_host_.reset();
    hub_.reset();
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  }
  // The PE's host (eth0 = 10.77.0.11, in use; eth1 = `second`) and poolregd with `lanes` lanes.
  void start(unsigned lanes, const char* second) {
    pe_host_ =
        std::make_unique<Host>(hub_->ns, std::string(kPrefix) + "-" + std::to_string(::getpid()) + "-p", "p",
                               std::vector<std::string>{kOldPath, second});
    ASSERT_TRUE(pe_host_->ok());
    std::vector<std::string> args = {"--id",    std::to_string(kIdA),
                                     "--lanes", std::to_string(lanes),
                                     "--set",   std::string("asap.listen=[\"") + kRegistrarA + "\"]",
                                     "--set",   "enrp.enabled=false",
                                     // Fail over after two unanswered ones, as measured (default 5).
                                     "--set",   "asap.sctp_path_max_retrans=2"};
    // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
    if (std::getenv("POOLREG_IT_DEBUG") != nullptr) args.insert(args.end(), {"--log-level", "debug"});
    for (auto& w : words_of_env("POOLREG_IT_DAEMON_ARGS")) args.push_back(std::move(w));
    registrar_ =
        std::make_unique<Poolregd>("mh", DaemonPorts{kAsapPort, kUdpPort, kEnrpPort}, std::move(args));
    registrar_->wrap({ip_command(), "netns", "exec", registrar_host_->ns().name()});
    ASSERT_TRUE(registrar_->start());
    ASSERT_TRUE(registrar_->wait_for_log("listening:", 10s)) << registrar_->log();
  }
  void TearDown() override {
    pe_.reset();  // the helper ends (its association closes) before the daemon
    if (registrar_ != nullptr) {
      if (HasFailure())
        std::cerr << "---- poolregd (" << registrar_->state() << ") ----\n" << registrar_->log();
      registrar_->kill_now();
    }
    pe_host_.reset();
  }

  std::unique_ptr<PoolUserClient> pu() {
    client::ClientOptions o;
    o.registrar.address = *IpAddress::parse(kRegistrarA);
    o.registrar.port = kAsapPort;
    o.registrar.transport = ClientTransport::kSctp;
    o.registrar.remote_udp_port = kUdpPort;
    o.connect_timeout = 5 * kNsPerSec;
    o.request_timeout = 3 * kNsPerSec;
    auto c = std::make_unique<PoolUserClient>(loop_, stack_.get(), o);
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  // The user addresses of the one PE in the pool as the PU sees them ({} when it is not there).
  std::vector<IpAddress> resolved(PoolUserClient& pu) {
    auto r = client::resolve_and_wait(pu, handle_of(kPool), 16);
    if (!r.ok() || r.elements.size() != 1) return {};
    return r.elements[0].user_transport.addresses;
  }

  // The PE's first path dies; its association (the same helper, never reconnected) goes on over
  // the second address it listed in its INIT: the re-registration sent after the cut is
  // answered, the PE stays registered and resolvable, the lanes counted one unreachable path and
  // a failover.
  void survive_the_cut(const char* second_path, const IpAddress& second) {
    std::string why;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
    const char* helper = std::getenv("KERNEL_SCTP_PEER");
    pe_ = start_pe(helper, *pe_host_, std::string(kOldPath) + " " + second_path, &why, kPeUdpPort);
    ASSERT_NE(pe_, nullptr) << why;
    const std::vector<IpAddress> both = {kOld, second};
    ASSERT_TRUE(registered(*pe_, kPe, both)) << registrar_->log();
    auto user = pu();
    ASSERT_EQ(resolved(*user), both);
    EXPECT_EQ(lane_counter(*registrar_, "sctp_path_failovers"), 0u);

    ASSERT_TRUE(pe_host_->cut(0));
    ASSERT_TRUE(pe_host_->use_path(1, second_path));
    const auto cut = std::chrono::steady_clock::now();
    // Sent at once: the registrar's answer goes to the dead address until its failover. The
    // helper waits at most 10 s for a line.
    ASSERT_TRUE(pe_->tell(registration_line(kPe, both)));
    const std::string answer = pe_->line();
    const auto recovered = std::chrono::steady_clock::now();
    ASSERT_EQ(ForeignPe::registration_accepted(answer), true) << "after the cut: '" << answer << "'";
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(recovered - cut).count();
    std::cerr << "multi-homing: the re-registration sent at the cut was answered after " << ms
              << " ms (asap.sctp_heartbeat_interval_ms 1000, sctp_path_max_retrans 2)\n";
    EXPECT_LT(ms, 8000);
    EXPECT_EQ(lane_counter(*registrar_, "sctp_paths_unreachable"), 1u);
    EXPECT_EQ(lane_counter(*registrar_, "sctp_path_failovers"), 1u);

    // The path works now: the next registration is answered, the PU still resolves the PE. Not
    // at once: the PE's own stack saw its DATA unacknowledged while our SACKs went to the dead
    // address, so its next DATA waits for its retransmission timer (usrsctp: RTO 1 s, doubled
    // once) to clear the older one.
    const auto again = std::chrono::steady_clock::now();
    EXPECT_TRUE(registered(*pe_, kPe, both)) << registrar_->log();
    const auto next_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - again)
            .count();
    std::cerr << "multi-homing: the next registration was answered after " << next_ms << " ms\n";
    EXPECT_LT(next_ms, 5000);
    EXPECT_EQ(resolved(*user), both);
    EXPECT_EQ(pool_pe_count(*registrar_, handle_of(kPool)), 1);
  }

  static inline std::string skip_reason_;
  static inline std::unique_ptr<Hub> hub_;
  static inline std::unique_ptr<Host> registrar_host_, pu_host_;
  static inline std::unique_ptr<kernel::SctpStack> stack_;

  runtime::EventLoop loop_;
  std::unique_ptr<Host> pe_host_;
  std::unique_ptr<Poolregd> registrar_;
  std::unique_ptr<ForeignPe> pe_;
};

// One lane: both of the PE's addresses reach the one usrsctp copy.
TEST_F(MultihomingNetns, AssociationSurvivesTheLossOfOnePath) {
  start(1, kNewPath);
  if (HasFatalFailure()) return;
  survive_the_cut(kNewPath, kNew);
  EXPECT_EQ(lane_counter(*registrar_, "sctp_alias_steered"), 0u);
}

// Two lanes, the PE's second address steering to the other lane than its first: the lane holding
// the association published the second address, the other lane hands its packets over.
TEST_F(MultihomingNetns, AssociationSurvivesTheLossOfOnePathWhenTheSecondAddressSteersToAnotherLane) {
  const std::uint8_t first[4] = {10, 77, 0, 11};
  std::uint8_t second[4] = {10, 77, 0, 13};
  const unsigned first_lane = runtime::steer_lane(first, false, kPeUdpPort, 2);
  while (second[3] < 19 && runtime::steer_lane(second, false, kPeUdpPort, 2) == first_lane) ++second[3];
  ASSERT_NE(runtime::steer_lane(second, false, kPeUdpPort, 2), first_lane)
      << "no second address in 10.77.0.13-18";
  const std::string second_path = "10.77.0." + std::to_string(second[3]);
  start(2, second_path.c_str());
  if (HasFatalFailure()) return;
  survive_the_cut(second_path.c_str(), IpAddress::v4({10, 77, 0, second[3]}));
  EXPECT_GT(lane_counter(*registrar_, "sctp_alias_steered"), 0u);
}

}  // namespace
}  // namespace poolreg::integration
