// The DPDK appliance mode (issue 18 item 9) on virtual devices:
// - `poolregd --dpdk --check-config` checks the EAL arguments, cores, ports and memory without
//   starting EAL: a good configuration exits 0 with its summary; a bad lcore, a missing port,
//   too many lanes exit 2 naming each problem (all of them, not only the first).
// - `--print-dpdk-setup` gives poolreg-dpdk-setup its plan (hugepages, PCI devices).
// - dpdk.lcores pins the lanes: on net_ring0 with dpdk.lcores = "0-1" the poll lcore's thread
//   may run on CPU 1 only, the main (control) thread on CPU 0; started as root with --user
//   65534 the daemon keeps only CAP_IPC_LOCK on its main thread and no thread keeps root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/client/child_process.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/integration/process_credentials.hpp"

namespace poolreg::dpdk {
namespace {

using client::testing::ChildProcess;
using poolreg::test::env;
using poolreg::test::wait_until;
using namespace std::chrono_literals;

constexpr std::uint64_t kCapIpcLock = std::uint64_t{1} << 14;

struct Finished {
  int exit_code = -1;
  std::string output;
};

// poolregd with `args` (then "--" and `eal`), to completion (bounded).
Finished run_poolregd(const std::vector<std::string>& args, const std::vector<std::string>& eal = {}) {
  std::vector<std::string> argv{env("POOLREGD")};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!eal.empty()) {
    argv.emplace_back("--");
    argv.insert(argv.end(), eal.begin(), eal.end());
  }
  ChildProcess p(argv);
  Finished r;
  if (!wait_until([&] { return p.poll(); }, 20s)) return r;
  r.exit_code = p.exit_code().value_or(-1);
  r.output = p.output();
  return r;
}

// A valid appliance configuration on a virtual device (nothing here needs hugepages).
std::vector<std::string> good_options(const std::string& lcores = "0-1") {
  return {"--dpdk", "--listen", "10.98.0.1", "--set", "dpdk.lcores=" + lcores, "--check-config"};
}
const std::vector<std::string> kGoodEal = {"--no-huge", "-m", "256", "--no-pci", "--vdev=net_ring0"};

class DpdkAppliance : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(env("POOLREGD").empty()) << "POOLREGD not set"; }
};

TEST_F(DpdkAppliance, CheckConfigAcceptsAGoodConfiguration) {
  const Finished r = run_poolregd(good_options(), kGoodEal);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dpdk: lcores: control 0, poll lanes 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dpdk: port: vdev net_ring0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dpdk: ready"), std::string::npos) << r.output;
}

TEST_F(DpdkAppliance, CheckConfigRefusesALcoreThatIsNotAnOnlineCpu) {
  const Finished r = run_poolregd(good_options("0,4095"), kGoodEal);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("poolregd: dpdk: lcore 4095 is not an online CPU"), std::string::npos) << r.output;
  const Finished bad = run_poolregd(good_options("0-x"), kGoodEal);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("is not a core number or range"), std::string::npos) << bad.output;
  const Finished alone = run_poolregd(good_options("0"), kGoodEal);
  EXPECT_EQ(alone.exit_code, 2) << alone.output;
  EXPECT_NE(alone.output.find("has no poll lcore"), std::string::npos) << alone.output;
}

// dpdk.addresses / routes / gateway are checked without starting EAL: a good set is summarised,
// a gateway on no port's subnet and a malformed route are refused with their reasons.
TEST_F(DpdkAppliance, CheckConfigChecksTheRoutingKeys) {
  std::vector<std::string> good = good_options();
  for (const char* o : {"--set", "dpdk.ports=[0]", "--set", "dpdk.addresses=[\"10.98.0.1/24\"]", "--set",
                        "dpdk.gateway=[\"10.98.0.254\"]", "--set", "dpdk.routes=[\"10.7.0.0/16 via 10.98.0.253\"]"})
    good.emplace_back(o);
  const Finished ok = run_poolregd(good, kGoodEal);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("dpdk: routing: 1 port address(es), 2 route(s) and gateway(s)"), std::string::npos)
      << ok.output;

  std::vector<std::string> far = good_options();
  for (const char* o : {"--set", "dpdk.ports=[0]", "--set", "dpdk.addresses=[\"10.98.0.1/24\"]", "--set",
                        "dpdk.gateway=[\"10.9.0.254\"]"})
    far.emplace_back(o);
  const Finished refused = run_poolregd(far, kGoodEal);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("poolregd: dpdk: route 0.0.0.0/0 via 10.9.0.254: the gateway is on no port's subnet"),
            std::string::npos)
      << refused.output;

  std::vector<std::string> malformed = good_options();
  for (const char* o : {"--set", "dpdk.routes=[\"10.7.0.0/16\"]"}) malformed.emplace_back(o);
  const Finished bad = run_poolregd(malformed, kGoodEal);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("dpdk.routes: \"10.7.0.0/16\": expected PREFIX/LENGTH via GATEWAY"), std::string::npos)
      << bad.output;
}

TEST_F(DpdkAppliance, CheckConfigRefusesMissingPorts) {
  // A PCI address no host has (bus ff, device 1f, function 7), and a port id past the devices.
  std::vector<std::string> options = good_options();
  options.insert(options.end(), {"--set", "dpdk.ports=[0, 3]"});
  const Finished r = run_poolregd(options, {"--no-huge", "-m", "256", "-a", "0000:ff:1f.7", "--vdev=net_ring0"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("poolregd: dpdk: PCI device 0000:ff:1f.7 does not exist"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("poolregd: dpdk: dpdk.ports names port 3, but the EAL arguments give"), std::string::npos)
      << r.output;
  // No device at all.
  const Finished none = run_poolregd(good_options(), {"--no-huge", "-m", "256", "--no-pci"});
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("poolregd: dpdk: no port"), std::string::npos) << none.output;
  // A malformed virtual device name.
  const Finished vdev = run_poolregd(good_options(), {"--no-huge", "-m", "256", "--no-pci", "--vdev=ring0"});
  EXPECT_EQ(vdev.exit_code, 2) << vdev.output;
  EXPECT_NE(vdev.output.find("EAL --vdev ring0: not a virtual device"), std::string::npos) << vdev.output;
}

TEST_F(DpdkAppliance, CheckConfigRefusesTooManyLanesAndListsEveryProblem) {
  // 17 poll lanes (more than the 16 usrsctp copies), an af_packet port with one queue pair for
  // two lanes, and no address of the registrar's own: every one is listed.
  const Finished many = run_poolregd({"--dpdk", "--set", "dpdk.lcores=0-17", "--check-config"}, kGoodEal);
  EXPECT_EQ(many.exit_code, 2) << many.output;
  EXPECT_NE(many.output.find("poolregd: dpdk: 17 poll lanes: at most 16"), std::string::npos) << many.output;
  EXPECT_NE(many.output.find("poolregd: dpdk: asap.listen has no unicast address"), std::string::npos) << many.output;
  const Finished queues = run_poolregd(good_options("0-2"), {"--no-huge", "-m", "256", "--no-pci",
                                                        "--vdev=net_af_packet0,iface=lo"});
  EXPECT_EQ(queues.exit_code, 2) << queues.output;
  EXPECT_NE(queues.output.find("has 1 queue pair(s); 2 poll lanes need one TX queue each (add qpairs=2)"),
            std::string::npos)
      << queues.output;
  // Two core lists and too little memory for the mbuf pool, together.
  const Finished both = run_poolregd(good_options(), {"--no-huge", "-m", "32", "-l", "0-1", "--no-pci", "--vdev=net_ring0"});
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("two core lists"), std::string::npos) << both.output;
  EXPECT_NE(both.output.find("EAL memory 32 MB is too small"), std::string::npos) << both.output;
  EXPECT_NE(both.output.find("poolregd: 2 DPDK problems"), std::string::npos) << both.output;
}

TEST_F(DpdkAppliance, PrintDpdkSetupGivesTheHelperItsPlan) {
  const Finished r = run_poolregd({"--dpdk", "--set", "dpdk.hugepages=512", "--set", "dpdk.hugepage_size_kb=2048",
                              "--print-dpdk-setup"},
                             {"-l", "0-1", "-a", "01:00.0", "--allow=0000:02:00.1,txq_inline=0", "--huge-dir",
                              "/dev/hugepages/poolreg"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "hugepages=512\nhugepage_size_kb=2048\nhuge_dir=/dev/hugepages/poolreg\npci=0000:01:00.0\n"
            "pci=0000:02:00.1\n");
  const Finished no_huge = run_poolregd({"--dpdk", "--set", "dpdk.hugepages=512", "--print-dpdk-setup"}, {"--no-huge"});
  EXPECT_EQ(no_huge.output, "hugepages=0\nhugepage_size_kb=2048\n") << "--no-huge reserves nothing";
}

TEST_F(DpdkAppliance, LcoresPinTheLaneAndTheDropKeepsOnlyIpcLock) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (EAL start-up and the switch to uid 65534)";
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 CPUs for dpdk.lcores = \"0-1\"";
  const std::string prefix = "poolreg-appliance-it-" + std::to_string(::getpid());
  ChildProcess daemon({env("POOLREGD"), "--dpdk", "--listen", "10.98.0.1", "--set", "asap.tcp=false", "--set",
                       "control.enabled=false", "--set", "dpdk.idle_sleep_us=500", "--set", "enrp.enabled=false",
                       "--set", "dpdk.lcores=0-1", "--user", "65534", "--group", "65534", "--", "--no-huge", "-m",
                       "256", "--no-pci", "--no-shconf", "--file-prefix=" + prefix, "--vdev=net_ring0",
                       "--log-level=lib.eal:error"});
  ASSERT_TRUE(daemon.started());
  ASSERT_TRUE(wait_until([&] { return daemon.poll() || daemon.output().find("listening:") != std::string::npos; }, 20s) &&
              !daemon.exit_code().has_value())
      << daemon.output();
  EXPECT_NE(daemon.output().find("running as user 65534: uid 65534 gid 65534 groups 65534, capabilities effective "
                                 "cap_ipc_lock, permitted cap_ipc_lock, bounding cap_ipc_lock, ambient none"),
            std::string::npos)
      << daemon.output();

  const std::vector<test::TaskStatus> tasks = test::read_all_tasks(daemon.pid());
  std::string all;
  for (const auto& t : tasks) all += test::describe(t) + "\n";
  bool lane_seen = false;
  for (const auto& t : tasks) {
    EXPECT_EQ(t.uid, std::vector<unsigned long>(4, 65534)) << all;
    EXPECT_EQ(t.cap_eff & ~kCapIpcLock, 0u) << all;
    EXPECT_EQ(t.cap_prm & ~kCapIpcLock, 0u) << all;
    if (t.tid == std::to_string(daemon.pid())) {
      EXPECT_EQ(t.cpus_allowed, "0") << "the main lcore is pinned to CPU 0\n" << all;
      EXPECT_EQ(t.cap_eff, kCapIpcLock) << all;
      EXPECT_EQ(t.cap_bnd, kCapIpcLock) << all;
      EXPECT_EQ(t.no_new_privs, 1) << all;
    }
    // EAL names its worker lcore threads after the lcore: "lcore-worker-1" (DPDK 22.11).
    if (t.name.find("worker-1") != std::string::npos) {
      lane_seen = true;
      EXPECT_EQ(t.cpus_allowed, "1") << "the poll lane runs on lcore 1 only\n" << all;
    }
  }
  EXPECT_TRUE(lane_seen) << "no lcore 1 worker thread\n" << all;

  daemon.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return daemon.poll(); }, 10s)) << daemon.output();
  EXPECT_EQ(daemon.exit_code(), 0) << daemon.output();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
}

}  // namespace
}  // namespace poolreg::dpdk
