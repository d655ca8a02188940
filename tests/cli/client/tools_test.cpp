// poolreg-pe and poolreg-pu as real processes (each with its own usrsctp stack on a random UDP
// port) against the in-test fake registrar on 127.0.0.1. Program paths come from the environment
// (POOLREG_PE, POOLREG_PU; set by meson).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/client/sync_wait.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "tests/cli/client/child_process.hpp"
#include "tests/cli/client/fake_registrar.hpp"

namespace poolreg::client {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::FakeRegistrar;

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    kernel::SctpStackConfig config;
    config.udp_port = 0;
    std::string error;
    stack = kernel::SctpStack::create(config, &error);
    ASSERT_NE(stack, nullptr) << error;
  }
  void TearDown() override { stack.reset(); }
  static inline std::unique_ptr<kernel::SctpStack> stack;
};
[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::string program(const char* var) {
  const char* p = std::getenv(var);
  return p ? p : "";
}

class ToolsTest : public ::testing::Test {
 protected:
  ToolsTest() : fake(loop, StackEnvironment::stack.get()) {}
  ~ToolsTest() override {
    fake.close_all();
    run_until(
        loop, [] { return false; }, 30ms);
  }
  // Runs the fake registrar until the child exits (bounded).
  bool wait_exit(ChildProcess& child, std::chrono::milliseconds limit = 10s) {
    return run_until(
        loop, [&] { return child.poll(); }, limit);
  }
  std::vector<std::string> connection_args(std::uint16_t port, bool tcp) {
    std::vector<std::string> a = {"--registrar", "127.0.0.1:" + std::to_string(port), "--timeout-ms", "2000"};
    if (tcp)
      a.push_back("--tcp");
    else
      a.insert(a.end(), {"--udp-encaps-port", std::to_string(StackEnvironment::stack->udp_port())});
    return a;
  }

  runtime::EventLoop loop;
  FakeRegistrar fake;
};

TEST_F(ToolsTest, PeProgramRegistersMovesAcksAndDeregistersOnSigterm) {
  const std::string pe = program("POOLREG_PE");
  if (pe.empty()) GTEST_SKIP() << "POOLREG_PE not set";
  const std::uint16_t port = fake.listen(false);
  ASSERT_NE(port, 0);
  std::vector<std::string> argv = {pe};
  for (auto& a : connection_args(port, false)) argv.push_back(a);
  for (const char* a :
       {"--pool", "EchoPool", "--id", "4660", "--policy", "lu", "--load", "50", "--port", "7",
        "--reregister-every-ms", "150", "--move-addresses", "127.0.0.1,127.0.0.2+127.0.0.3"}) {
    argv.emplace_back(a);
  }
  ChildProcess child(argv);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::Registration>() >= 3 || child.poll(); }, 10s))
      << child.output();
  ASSERT_FALSE(child.poll()) << child.output();
  auto regs = fake.all<wire::Registration>();
  EXPECT_EQ(regs[0].element.id, 4660u);
  EXPECT_EQ(regs[0].element.policy.type, PolicyType::kLeastUsed);
  EXPECT_EQ(regs[0].element.policy.load, 0x80000000u);
  EXPECT_EQ(regs[0].element.user_transport.addresses, std::vector<IpAddress>{IpAddress::v4(0x7f000001u)});
  EXPECT_EQ(regs[1].element.user_transport.addresses,
            (std::vector<IpAddress>{IpAddress::v4(0x7f000002u), IpAddress::v4(0x7f000003u)}));
  EXPECT_EQ(regs[2].element.user_transport.addresses, std::vector<IpAddress>{IpAddress::v4(0x7f000001u)});
  fake.send_keep_alive(fake.connections[0], regs[0].pool_handle, PoolElementId{4660});
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointKeepAliveAck>() == 1; }, 5s));
  child.signal(SIGTERM);
  ASSERT_TRUE(wait_exit(child)) << child.output();
  EXPECT_EQ(child.exit_code(), 0) << child.output();
  ASSERT_EQ(fake.count<wire::Deregistration>(), 1u);
  EXPECT_EQ(fake.all<wire::Deregistration>()[0].pe_id, 4660u);
  const std::string out = child.output();
  EXPECT_NE(out.find("registered pool=EchoPool id=0x00001234"), std::string::npos) << out;
  EXPECT_NE(out.find("keep-alive pool=EchoPool"), std::string::npos) << out;
  EXPECT_NE(out.find("reregistered"), std::string::npos) << out;
  EXPECT_NE(out.find("deregistered"), std::string::npos) << out;
  std::printf("--- poolreg-pe output ---\n%s", out.c_str());  // for the test log
}

TEST_F(ToolsTest, PeProgramManyPesOverTcpWithDuration) {
  const std::string pe = program("POOLREG_PE");
  if (pe.empty()) GTEST_SKIP() << "POOLREG_PE not set";
  const std::uint16_t port = fake.listen(true);
  ASSERT_NE(port, 0);
  std::vector<std::string> argv = {pe};
  for (auto& a : connection_args(port, true)) argv.push_back(a);
  for (const char* a : {"--pool", "Many", "--count", "200", "--window", "16", "--duration", "1", "--quiet"}) {
    argv.emplace_back(a);
  }
  ChildProcess child(argv);
  ASSERT_TRUE(wait_exit(child)) << child.output();
  EXPECT_EQ(child.exit_code(), 0) << child.output();
  EXPECT_EQ(fake.count<wire::Registration>(), 200u);
  EXPECT_EQ(fake.count<wire::Deregistration>(), 200u);
  EXPECT_EQ(fake.connections.size(), 1u);
  EXPECT_NE(child.output().find("summary registrations=200 accepted=200"), std::string::npos)
      << child.output();
}

TEST_F(ToolsTest, PuProgramPrintsJsonAndTableAndFailsForUnknownPool) {
  const std::string pu = program("POOLREG_PU");
  if (pu.empty()) GTEST_SKIP() << "POOLREG_PU not set";
  for (bool tcp : {false, true}) {
    SCOPED_TRACE(tcp ? "tcp" : "sctp");
    FakeRegistrar reg(loop, StackEnvironment::stack.get());
    const std::uint16_t port = reg.listen(tcp);
    ASSERT_NE(port, 0);
    PoolElement pe;
    pe.id = 0xabcd;
    pe.home_registrar = reg.id;
    pe.registration_life_ms = 30000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = 7;
    pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
    pe.policy.type = PolicyType::kRoundRobin;
    reg.pools["EchoPool"] = {pe, pe};
    reg.pools["EchoPool"][1].id = 0xef01;

    std::vector<std::string> argv = {pu};
    for (auto& a : connection_args(port, tcp)) argv.push_back(a);
    for (const char* a : {"--pool", "EchoPool", "-n", "2", "--json", "--report-unreachable", "77"})
      argv.emplace_back(a);
    ChildProcess json_child(argv);
    ASSERT_TRUE(run_until(
        loop, [&] { return json_child.poll(); }, 10s))
        << json_child.output();
    EXPECT_EQ(json_child.exit_code(), 0) << json_child.output();
    nlohmann::json j = nlohmann::json::parse(json_child.output(), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << json_child.output();
    EXPECT_EQ(j["status"], "ok");
    // The schema's forms (dataplane/control/poolreg-json.schema.json): IDs as hex strings.
    EXPECT_EQ(j["handle"], "EchoPool");
    ASSERT_EQ(j["pes"].size(), 2u);
    EXPECT_EQ(j["pes"][0]["id"], "0x0000abcd");
    EXPECT_EQ(j["pes"][0]["user_transport"]["addresses"][0], "127.0.0.1");
    char home[32];
    std::snprintf(home, sizeof home, "0x%08x", static_cast<unsigned>(reg.id));
    EXPECT_EQ(j["pes"][1]["home"], home);
    EXPECT_EQ(reg.all<wire::HandleResolution>()[0].items, std::optional<std::uint32_t>{2});
    EXPECT_EQ(reg.count<wire::EndpointUnreachable>(), 1u);

    std::vector<std::string> argv2 = {pu};
    for (auto& a : connection_args(port, tcp)) argv2.push_back(a);
    for (const char* a : {"--pool", "Nope", "--repeat", "3", "--interval-ms", "0"}) argv2.emplace_back(a);
    ChildProcess table_child(argv2);
    ASSERT_TRUE(run_until(
        loop, [&] { return table_child.poll(); }, 10s))
        << table_child.output();
    EXPECT_EQ(table_child.exit_code(), 2) << table_child.output();
    EXPECT_NE(table_child.output().find("error cause 0x9 (unknown pool handle)"), std::string::npos)
        << table_child.output();
    if (!tcp) {
      std::vector<std::string> argv3 = {pu};
      for (auto& a : connection_args(port, tcp)) argv3.push_back(a);
      for (const char* a : {"--pool", "EchoPool"}) argv3.emplace_back(a);
      ChildProcess table_ok(argv3);
      ASSERT_TRUE(run_until(
          loop, [&] { return table_ok.poll(); }, 10s))
          << table_ok.output();
      EXPECT_EQ(table_ok.exit_code(), 0) << table_ok.output();
      EXPECT_NE(table_ok.output().find("0x0000abcd"), std::string::npos) << table_ok.output();
      std::printf("--- poolreg-pu outputs ---\n%s%s%s", json_child.output().c_str(),
                  table_child.output().c_str(),
                  table_ok.output().c_str());  // for the test log
    }
    reg.close_all();
    run_until(
        loop, [] { return false; }, 30ms);
  }
}

TEST_F(ToolsTest, PuProgramReportsConnectFailure) {
  const std::string pu = program("POOLREG_PU");
  if (pu.empty()) GTEST_SKIP() << "POOLREG_PU not set";
  const std::uint16_t port = fake.listen(true);
  fake.close_all();
  run_until(
      loop, [] { return false; }, 30ms);
  std::vector<std::string> argv = {pu};
  for (auto& a : connection_args(port, true)) argv.push_back(a);
  argv.insert(argv.end(), {"--pool", "EchoPool"});
  ChildProcess child(argv);
  ASSERT_TRUE(run_until(
      loop, [&] { return child.poll(); }, 10s));
  EXPECT_EQ(child.exit_code(), 1) << child.output();
  EXPECT_NE(child.output().find("cannot connect"), std::string::npos) << child.output();
}

}  // namespace
}  // namespace poolreg::client
