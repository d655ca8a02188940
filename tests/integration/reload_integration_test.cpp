// poolregd reload (issue 18 item 2) on a real process: SIGHUP and the control command `reload`
// read the configuration file again; live keys are applied, restart-only keys refused and
// logged, an invalid file changes nothing; the daemon keeps serving after each; SIGHUP reopens
// the log file after a rotation.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "dataplane/control/control_client.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using json = nlohmann::json;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The whole response ({"ok":...}); null when the socket does not answer.
json control(const Poolregd& d, const std::string& cmd) {
  control::ClientError error;
  auto c = control::ControlClient::connect(d.control_socket_path(), 3000, &error);
  if (!c) return nullptr;
  auto r = c->call(cmd, json::object(), &error);
  return r ? *r : json(nullptr);
}

bool serving(const Poolregd& d) {
  const json r = control(d, "status");
  return r.is_object() && r.value("ok", false);
}

std::string config_text(const std::string& level, int max_pools, int items, const std::string& log_file = "") {
  std::string t = "[registrar]\nlog_level = \"" + level + "\"\n";
  if (!log_file.empty()) t += "log_file = \"" + log_file + "\"\n";
  t += "[limits]\nmax_pools = " + std::to_string(max_pools) + "\n";
  t += "[asap]\nhandle_resolution_items = " + std::to_string(items) + "\n";
  return t;
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    path_ = dir_ + "/poolregd.toml";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(ReloadTest, SighupAppliesLiveKeysRefusesOthersAndSurvivesInvalidFile) {
  write_file(path_, config_text("info", 1000, 3));
  Poolregd d("reload", pick_ports(), {"-c", path_});
  ASSERT_TRUE(d.start_and_wait()) << d.log();

  // A live key (log level, a limit) and a restart-only key (the lanes' answer size) changed.
  write_file(path_, config_text("debug", 2, 5));
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(d.wait_for_log("SIGHUP: configuration " + path_ + " reloaded: applied registrar.log_level \"info\" -> "
                             "\"debug\", limits.max_pools 1000 -> 2", 5s))
      << d.log();
  ASSERT_TRUE(d.wait_for_log("SIGHUP: configuration " + path_ + ": not applied, restart poolregd to change: "
                             "asap.handle_resolution_items 3 -> 5", 5s))
      << d.log();
  ASSERT_TRUE(d.running()) << d.state() << "\n" << d.log();
  EXPECT_EQ(control(d, "log-level")["result"]["level"], "debug");
  json keys = control(d, "config")["result"]["keys"];
  EXPECT_EQ(keys["limits.max_pools"], "2");
  EXPECT_EQ(keys["asap.handle_resolution_items"], "3");  // refused: unchanged
  EXPECT_EQ(keys["registrar.log_level"], "\"debug\"");

  // An invalid file: refused whole, with the parse error; the daemon keeps running unchanged.
  write_file(path_, config_text("debug", 2, 5) + "[limits]\nmax_pools = \"many\"\n");
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(d.wait_for_log("SIGHUP: configuration " + path_ + " not reloaded (", 5s)) << d.log();
  EXPECT_NE(d.log().find("the running configuration stays: " + path_ + ":"), std::string::npos) << d.log();
  ASSERT_TRUE(d.running()) << d.state() << "\n" << d.log();
  EXPECT_TRUE(serving(d));
  EXPECT_EQ(control(d, "config")["result"]["keys"]["limits.max_pools"], "2");

  // The control command: an invalid file is an error naming it.
  json refused = control(d, "reload");
  EXPECT_FALSE(refused.value("ok", true)) << refused.dump();
  EXPECT_EQ(refused.value("code", std::string()), "invalid_config") << refused.dump();
  EXPECT_NE(refused.value("error", std::string()).find(path_), std::string::npos) << refused.dump();

  // ... and a valid one reports what it applied and what it refused.
  write_file(path_, config_text("warn", 2, 5));
  json r = control(d, "reload");
  ASSERT_TRUE(r.value("ok", false)) << r.dump();
  ASSERT_EQ(r["result"]["applied"].size(), 1u) << r.dump();
  EXPECT_EQ(r["result"]["applied"][0]["key"], "registrar.log_level");
  EXPECT_EQ(r["result"]["applied"][0]["after"], "\"warn\"");
  ASSERT_EQ(r["result"]["refused"].size(), 1u) << r.dump();
  EXPECT_EQ(r["result"]["refused"][0]["key"], "asap.handle_resolution_items");
  EXPECT_TRUE(r["result"]["log_file_reopened"].is_null());  // logging to stderr
  EXPECT_EQ(control(d, "log-level")["result"]["level"], "warn");
  ASSERT_TRUE(d.running());
  EXPECT_TRUE(serving(d));

  const auto status = d.stop(SIGTERM);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.state();
}

TEST_F(ReloadTest, SighupReopensRotatedLogFile) {
  const std::string log = dir_ + "/registrar.log", rotated = log + ".1";
  write_file(path_, config_text("info", 1000, 3, log));
  Poolregd d("reopen", pick_ports(), {"-c", path_});
  ASSERT_TRUE(d.start());
  auto wait_in = [&](const std::string& file, const std::string& needle) {
    for (int i = 0; i < 250; ++i) {
      if (read_file(file).find(needle) != std::string::npos) return true;
      if (!d.running()) return false;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_in(log, "listening:")) << read_file(log) << d.log();
  ASSERT_EQ(std::rename(log.c_str(), rotated.c_str()), 0);
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_in(log, "SIGHUP: configuration " + path_ + " reloaded: no changes, log file reopened"))
      << read_file(log) << read_file(rotated) << d.log();
  EXPECT_EQ(read_file(rotated).find("reloaded"), std::string::npos);
  ASSERT_TRUE(d.running());
  EXPECT_TRUE(serving(d));
  d.kill_now();
  ::unlink(log.c_str());
  ::unlink(rotated.c_str());
}

// Issue 18 item 2: enrp.peers is live. A starts without peers; B knows A. A's file gains B:
// after SIGHUP A contacts B at once and both see each other alive; B leaves A's file again: A
// forgets it.
TEST_F(ReloadTest, SighupAddsAndRemovesEnrpPeers) {
  const DaemonPorts pa = pick_ports(), pb = pick_ports();
  auto peer_value = [](const DaemonPorts& p) {
    return "[{ address = \"127.0.0.1:" + std::to_string(p.enrp) + "\", udp_port = " + std::to_string(p.udp) + " }]";
  };
  const std::string fast = "[enrp]\nprofile = \"fast\"\n";
  write_file(path_, config_text("info", 1000, 3) + fast);
  Poolregd a("peers-a", pa, {"-c", path_});
  Poolregd b("peers-b", pb, {"--set", "enrp.profile=fast", "--set", "enrp.peers=" + peer_value(pa)});
  ASSERT_TRUE(a.start_and_wait()) << a.log();
  ASSERT_TRUE(b.start_and_wait()) << b.log();
  auto alive_peers = [&](const Poolregd& d) {
    const json r = control(d, "peers");
    std::size_t n = 0;
    if (r.is_object() && r.value("ok", false))
      for (const auto& p : r["result"]["peers"]) n += p.value("state", "") == "alive" ? 1 : 0;
    return n;
  };
  auto peer_count = [&](const Poolregd& d) {
    const json r = control(d, "peers");
    return r.is_object() && r.value("ok", false) ? r["result"]["peers"].size() : std::size_t{99};
  };
  EXPECT_EQ(peer_count(a), 0u);

  // The peer and an ENRP timer in one reload: both live.
  write_file(path_, config_text("info", 1000, 3) + fast + "peers = " + peer_value(pb) +
                        "\nheartbeat_interval_ms = 1000\n");
  ASSERT_EQ(::kill(a.pid(), SIGHUP), 0);
  ASSERT_TRUE(a.wait_for_log("ENRP static peers: 1 added, 0 removed", 5s)) << a.log();
  EXPECT_NE(a.log().find("enrp.heartbeat_interval_ms"), std::string::npos) << a.log();
  EXPECT_EQ(a.log().find("not applied"), std::string::npos) << a.log();
  EXPECT_EQ(control(a, "config")["result"]["keys"]["enrp.heartbeat_interval_ms"], "1000");
  bool both_alive = false;
  for (int i = 0; i < 200 && !both_alive; ++i) {
    both_alive = alive_peers(a) == 1 && alive_peers(b) == 1;
    if (!both_alive) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(both_alive) << control(a, "peers").dump() << "\n" << a.log();

  write_file(path_, config_text("info", 1000, 3) + fast);
  ASSERT_EQ(::kill(a.pid(), SIGHUP), 0);
  ASSERT_TRUE(a.wait_for_log("ENRP static peers: 0 added, 1 removed", 5s)) << a.log();
  EXPECT_EQ(peer_count(a), 0u) << control(a, "peers").dump();
  EXPECT_TRUE(a.running() && serving(a));
}

}  // namespace
}  // namespace poolreg::integration
