// Integration (issue 18 item 4): `poolctl events` against a real poolregd on 127.0.0.1. A PE
// registers and deregisters through the client library (ASAP over TCP); poolctl, run as a
// process ($POOLCTL) and subscribed before the PE comes, must print pool_created, pe_registered,
// pe_removed (cause deregistration) and pool_removed, in this order, with rising sequence
// numbers. Also: a filtered subscriber over ControlClient, the human format, the counters in
// `stats`, and poolctl's exit codes for a bad kind (2) and an unreachable daemon (3).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/control/control_client.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;
using client::PeRegistration;
using client::PoolElementClient;
using json = nlohmann::json;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::string poolctl_path() { return test::env("POOLCTL"); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line, nullptr, false));
  return out;
}

// poolctl as a child process (stdout and stderr into one file), waited for with a bound.
class PoolctlProcess {
 public:
  PoolctlProcess(std::vector<std::string> args, std::string output_path) : output_(std::move(output_path)) {
    args.insert(args.begin(), poolctl_path());
    pid_ = spawn_with_parent_death(args, output_);
  }
  ~PoolctlProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    ::unlink(output_.c_str());
  }
  PoolctlProcess(const PoolctlProcess&) = delete;
  PoolctlProcess& operator=(const PoolctlProcess&) = delete;

  // The exit code, or -1 when it did not end within `limit` (or died by a signal).
  int wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!status_ && std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
      else std::this_thread::sleep_for(10ms);
    }
    if (!status_ || !WIFEXITED(*status_)) return -1;
    return WEXITSTATUS(*status_);
  }
  void signal(int sig) { ::kill(pid_, sig); }
  std::string output() const { return read_file(output_); }
  bool started() const { return pid_ > 0; }

 private:
  std::string output_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

class PoolregdEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    if (poolctl_path().empty()) GTEST_SKIP() << "POOLCTL not set";
    daemon_ = std::make_unique<Poolregd>("events", pick_ports(), std::vector<std::string>{});
    ASSERT_TRUE(daemon_->start_and_wait()) << daemon_->log();
  }
  void TearDown() override {
    if (daemon_) {
      EXPECT_TRUE(daemon_->stops_cleanly());
    }
  }
  std::string socket() const { return daemon_->control_socket_path(); }
  std::string out_file(const std::string& name) const { return "/tmp/poolreg-events-" + std::to_string(::getpid()) + "-" + name; }

  json events_stats() {
    json r = test::control_request(socket(), "stats");
    if (!r.is_object() || !r.value("ok", false)) return json();
    return r["result"]["events"];
  }
  // Bounded wait until the daemon counts `n` event subscribers.
  bool wait_for_subscribers(std::uint64_t n) {
    return test::wait_until(
        [&] {
          json e = events_stats();
          return e.is_object() && e.value("subscribers", std::uint64_t{0}) == n;
        },
        10s);
  }

  // Registers PE `id` in `pool` over TCP and deregisters it again.
  void register_and_deregister(const std::string& pool, PoolElementId id) {
    PoolElementClient pe(loop_, StackEnvironment::stack.get(), daemon_->client_options(ClientTransport::kTcp));
    ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk) << daemon_->log();
    PeRegistration r;
    r.handle = *PoolHandle::from_string(pool);
    r.id = id;
    r.user_transport.protocol = TransportProtocol::kTcp;
    r.user_transport.port = 8100;
    r.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
    r.policy.type = PolicyType::kRoundRobin;
    r.registration_life_ms = 30000;
    auto reg = client::register_and_wait(pe, r);
    ASSERT_TRUE(reg.ok()) << client::to_string(reg.status) << "\n" << daemon_->log();
    auto dereg = client::deregister_and_wait(pe, r.handle, id);
    ASSERT_TRUE(dereg.ok()) << client::to_string(dereg.status) << "\n" << daemon_->log();
  }

  runtime::EventLoop loop_;
  std::unique_ptr<Poolregd> daemon_;
};

TEST_F(PoolregdEvents, PoolctlJsonSeesRegisterThenDeregisterInOrder) {
  PoolctlProcess poolctl({"--socket", socket(), "events", "--json", "--count", "4", "--timeout-ms", "20000"},
                         out_file("json"));
  ASSERT_TRUE(poolctl.started());
  ASSERT_TRUE(wait_for_subscribers(1)) << poolctl.output() << daemon_->log();
  register_and_deregister("ev-pool", 0x4242);
  ASSERT_EQ(poolctl.wait(25s), 0) << poolctl.output();

  const std::vector<json> ev = json_lines(poolctl.output());
  ASSERT_EQ(ev.size(), 4u) << poolctl.output();
  const std::vector<std::string> expected = {"pool_created", "pe_registered", "pe_removed", "pool_removed"};
  for (std::size_t i = 0; i < ev.size(); ++i) {
    ASSERT_TRUE(ev[i].is_object()) << poolctl.output();
    EXPECT_EQ(ev[i]["kind"], expected[i]) << poolctl.output();
    EXPECT_EQ(ev[i]["handle"], "ev-pool");
    if (i > 0) {
      EXPECT_GT(ev[i]["seq"].get<std::uint64_t>(), ev[i - 1]["seq"].get<std::uint64_t>());
    }
  }
  EXPECT_EQ(ev[1]["id"], "0x00004242");
  EXPECT_EQ(ev[1]["pe"]["owned"], true);
  EXPECT_EQ(ev[1]["pe"]["user_transport"]["port"], 8100);
  EXPECT_EQ(ev[2]["id"], "0x00004242");
  EXPECT_EQ(ev[2]["cause"], "deregistration");

  // poolctl hung up: the daemon forgot it; the stats show the traffic.
  ASSERT_TRUE(wait_for_subscribers(0));
  json stats = events_stats();
  EXPECT_GE(stats.value("queued", std::uint64_t{0}), 4u);
  EXPECT_EQ(stats.value("dropped", std::uint64_t{1}), 0u);
  EXPECT_EQ(stats.value("subscriptions", std::uint64_t{0}), 1u);
}

TEST_F(PoolregdEvents, FilteredSubscriberAndHumanFormat) {
  // Over the client API: only removals of one pool.
  control::ClientError error;
  auto filtered = control::ControlClient::connect(socket(), 3000, &error);
  ASSERT_TRUE(filtered) << error.message;
  auto subscribed = filtered->call("events", json{{"kinds", {"pe_removed"}}, {"pools", {"ev-b"}}}, &error);
  ASSERT_TRUE(subscribed.has_value()) << error.message;
  ASSERT_EQ(subscribed->value("ok", false), true) << subscribed->dump();
  // And poolctl in text form for every PE event of that pool.
  PoolctlProcess text({"--socket", socket(), "events", "--pool", "ev-b", "--kind", "pe", "--count", "2",
                       "--timeout-ms", "20000"},
                      out_file("text"));
  ASSERT_TRUE(wait_for_subscribers(2)) << text.output();

  register_and_deregister("ev-a", 0x51);  // another pool: filtered out everywhere
  register_and_deregister("ev-b", 0x52);

  auto line = filtered->next_line(10000, &error);
  ASSERT_TRUE(line.has_value()) << error.message;
  json e = json::parse(*line, nullptr, false);
  EXPECT_EQ(e["kind"], "pe_removed");
  EXPECT_EQ(e["handle"], "ev-b");
  EXPECT_EQ(e["id"], "0x00000052");
  EXPECT_EQ(e["cause"], "deregistration");
  EXPECT_FALSE(filtered->next_line(300, &error).has_value()) << "nothing else passes the filter";

  ASSERT_EQ(text.wait(25s), 0) << text.output();
  const std::string out = text.output();
  const auto registered = out.find("pe_registered");
  const auto removed = out.find("pe_removed");
  ASSERT_NE(registered, std::string::npos) << out;
  ASSERT_NE(removed, std::string::npos) << out;
  EXPECT_LT(registered, removed);
  EXPECT_NE(out.find("pool ev-b pe 0x00000052"), std::string::npos) << out;
  EXPECT_NE(out.find("cause deregistration"), std::string::npos) << out;
  EXPECT_EQ(out.find("ev-a"), std::string::npos) << out;
}

TEST_F(PoolregdEvents, CountNotReachedInTimeAndCtrlC) {
  PoolctlProcess waits({"--socket", socket(), "events", "--count", "1", "--timeout-ms", "300"}, out_file("timeout"));
  EXPECT_EQ(waits.wait(10s), 1) << waits.output();
  EXPECT_NE(waits.output().find("0 of 1"), std::string::npos) << waits.output();

  PoolctlProcess forever({"--socket", socket(), "events"}, out_file("forever"));
  ASSERT_TRUE(wait_for_subscribers(1)) << forever.output();
  forever.signal(SIGINT);
  EXPECT_EQ(forever.wait(10s), 0) << forever.output();
  EXPECT_TRUE(wait_for_subscribers(0));
}

TEST_F(PoolregdEvents, UsageAndUnreachableExitCodes) {
  PoolctlProcess bad_kind({"--socket", socket(), "events", "--kind", "pe_exploded"}, out_file("badkind"));
  EXPECT_EQ(bad_kind.wait(10s), 2) << bad_kind.output();
  EXPECT_NE(bad_kind.output().find("pe_exploded"), std::string::npos);
  PoolctlProcess nobody({"--socket", socket() + ".missing", "events"}, out_file("nobody"));
  EXPECT_EQ(nobody.wait(10s), 3) << nobody.output();
}

}  // namespace
}  // namespace poolreg::integration
