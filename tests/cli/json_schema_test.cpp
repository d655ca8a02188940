// One JSON schema for every tool (issue 18 item 6): the output of poolctl --json (pools, pool,
// pe, resolve, peers), poolreg-pu --json (answer, repeated answers, rejection) and poolgen's
// --report, from real processes against two poolregd that are ENRP peers, is checked against
// dataplane/control/poolreg-json.schema.json by tests/cli/validate_json.py (python3-jsonschema).
// The tools must also agree on the same PE: poolreg-pu's PE object equals poolctl's.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/dataplane/control/process_runner.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using poolreg::control::testing::BackgroundProcess;
using poolreg::control::testing::ProcessResult;
using poolreg::control::testing::run_process;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Validates `doc` against $defs/`def`; returns the validator's exit code (0 valid, 1 invalid) and
// puts its report in *report.
int validate(const json& doc, const std::string& def, std::string* report) {
  const std::string path = temp_dir() + "/doc.json";
  std::ofstream(path) << doc.dump(2);
  const ProcessResult r = run_process({env("PYTHON3"), env("VALIDATE_JSON"), env("POOLREG_JSON_SCHEMA"), def, path});
  std::remove(path.c_str());
  *report = r.out + r.err;
  return r.rc;
}

#define EXPECT_VALID(doc, def)                                                     \
  do {                                                                             \
    std::string report_;                                                           \
    EXPECT_EQ(validate((doc), (def), &report_), 0) << (def) << ":\n"               \
                                                   << report_ << (doc).dump(2);   \
  } while (false)

class JsonSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"POOLREGD", "POOLCTL", "POOLREG_PE", "POOLREG_PU", "PYTHON3", "VALIDATE_JSON",
                          "POOLREG_JSON_SCHEMA"})
      if (env(v).empty()) GTEST_SKIP() << v << " not set";
    ports_[0] = pick_ports();
    ports_[1] = pick_ports();
    for (int i = 0; i < 2; ++i) {
      const DaemonPorts& peer = ports_[1 - i];
      std::vector<std::string> args = {
          "--id", std::to_string(0x10000001 + i), "--set", "enrp.profile=fast", "--set",
          "enrp.peers=[{ address = \"127.0.0.1:" + std::to_string(peer.enrp) +
              "\", udp_port = " + std::to_string(peer.udp) + " }]"};
      daemons_[i] = std::make_unique<Poolregd>(i == 0 ? "a" : "b", ports_[i], args);
      ASSERT_TRUE(daemons_[i]->start_and_wait()) << daemons_[i]->log();
    }
  }
  void TearDown() override {
    pe_.reset();
    for (auto& d : daemons_)
      if (d) d->kill_now();
  }

  std::string socket_of(int i) const { return daemons_[i]->control_socket_path(); }
  std::string registrar_of(int i) const { return "127.0.0.1:" + std::to_string(ports_[i].asap); }

  // poolctl --json ARGS at daemon i, parsed; null when it failed.
  json poolctl(int i, std::vector<std::string> args) {
    args.insert(args.begin(), {env("POOLCTL"), "--socket", socket_of(i), "--json"});
    const ProcessResult r = run_process(args);
    if (r.rc != 0) return nullptr;
    return json::parse(r.out, nullptr, false);
  }
  // PEs in `pool` at daemon i; 0 while the pool is unknown.
  std::size_t pe_count(int i, const std::string& pool) {
    const json p = poolctl(i, {"pool", pool});
    return p.is_object() ? p.value("pe_count", std::size_t{0}) : 0;
  }
  // Polls pred every 50 ms until it holds or `limit` passes.
  static bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  std::array<DaemonPorts, 2> ports_;
  std::array<std::unique_ptr<Poolregd>, 2> daemons_;
  std::unique_ptr<BackgroundProcess> pe_;
};

TEST_F(JsonSchemaTest, EveryToolPrintsTheSchemasForms) {
  // poolctl events at A sees the pool appear and both PEs register.
  auto events = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      env("POOLCTL"), "--socket", socket_of(0), "--json", "events", "--count", "3", "--timeout-ms", "20000"});
  std::this_thread::sleep_for(300ms);  // subscribed before the PEs come
  // Two PEs at A over TCP; B learns them by ENRP.
  pe_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      env("POOLREG_PE"), "--tcp", "--registrar", registrar_of(0), "--pool", "echo", "--id", "0x100", "--count", "2",
      "--user-transport", "tcp", "--port", "7000", "--policy", "lu", "--load", "25", "--duration", "60"});
  ASSERT_TRUE(eventually([&] { return pe_count(0, "echo") == 2; }, 10s)) << pe_->log();
  ASSERT_TRUE(eventually(
      [&] {
        const json p = poolctl(0, {"peers"});
        return p.is_object() && p["peers"].size() == 1 && p["peers"][0].value("state", "") == "alive";
      },
      15s))
      << poolctl(0, {"peers"}).dump(2);
  ASSERT_TRUE(eventually([&] { return pe_count(1, "echo") == 2; }, 10s));

  ASSERT_TRUE(eventually([&] { return !events->running(); }, 20s)) << events->log();
  std::size_t event_lines = 0;
  std::istringstream lines(events->log());
  for (std::string line; std::getline(lines, line);) {
    const json e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << line;
    EXPECT_VALID(e, "event");
    ++event_lines;
  }
  EXPECT_EQ(event_lines, 3u) << events->log();

  const json pools = poolctl(0, {"pools"});
  const json pool_a = poolctl(0, {"pool", "echo"});
  const json pool_b = poolctl(1, {"pool", "echo"});
  const json pe = poolctl(0, {"pe", "echo", "0x100"});
  const json resolved = poolctl(0, {"resolve", "echo", "-n", "2"});
  const json peers = poolctl(0, {"peers"});
  EXPECT_VALID(pools, "pool_list");
  EXPECT_VALID(pool_a, "pool");
  EXPECT_VALID(pool_b, "pool");
  EXPECT_VALID(pe, "pe_lookup");
  EXPECT_VALID(resolved, "resolution");
  EXPECT_VALID(peers, "peer_list");
  ASSERT_EQ(pool_b["pes"].size(), 2u);
  EXPECT_FALSE(pool_b["pes"][0]["owned"].get<bool>()) << "B learned the PE by ENRP";

  // poolreg-pu: one answer, repeated answers, a rejection.
  const std::vector<std::string> pu = {env("POOLREG_PU"), "--tcp", "--registrar", registrar_of(0), "--json"};
  auto pu_run = [&](std::vector<std::string> extra, int expected_rc) {
    std::vector<std::string> argv = pu;
    argv.insert(argv.end(), extra.begin(), extra.end());
    const ProcessResult r = run_process(argv);
    EXPECT_EQ(r.rc, expected_rc) << r.out << r.err;
    return json::parse(r.out, nullptr, false);
  };
  const json answer = pu_run({"--pool", "echo", "-n", "2"}, 0);
  const json answers = pu_run({"--pool", "echo", "-n", "2", "--repeat", "2", "--interval-ms", "0"}, 0);
  const json rejected = pu_run({"--pool", "nosuchpool"}, 2);
  EXPECT_VALID(answer, "resolution");
  EXPECT_VALID(answers, "resolution_list");
  EXPECT_VALID(rejected, "resolution");
  EXPECT_EQ(rejected.value("cause", 0u), 0x9u);

  // The same PE reads the same in poolreg-pu and poolctl (less the registrar's own bookkeeping).
  ASSERT_EQ(answer["pes"].size(), 2u);
  for (const json& from_pu : answer["pes"]) {
    const json lookup = poolctl(0, {"pe", "echo", from_pu["id"].get<std::string>()});
    ASSERT_TRUE(lookup.is_object()) << from_pu.dump();
    json from_ctl = lookup["pe"];
    for (const char* k : {"owned", "association", "registration_seq", "held", "asap_transport"}) from_ctl.erase(k);
    json pu_pe = from_pu;
    pu_pe.erase("asap_transport");  // an ASAP answer carries no ASAP transport (RFC 5352)
    EXPECT_EQ(pu_pe, from_ctl);
  }

  // poolgen's report (when built): its configuration uses the same count names.
  if (!env("POOLGEN").empty()) {
    const std::string report = temp_dir() + "/report.json";
    const ProcessResult r = run_process({env("POOLGEN"), "--transport", "tcp", "-r", registrar_of(0), "-n", "4",
                                         "-p", "2", "--address-mode", "association", "--pus", "1", "--resolve-rate", "20", "--probes", "0", "-d", "1",
                                         "--progress", "off", "--report", report},
                                        30000);
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
    std::ifstream in(report);
    const json j = json::parse(in, nullptr, false);
    EXPECT_VALID(j, "poolgen_report");
    std::remove(report.c_str());
  }
}

// The schema is strict enough to catch drift: the forms the tools printed before they shared one
// (poolreg-pu's "pool"/"elements"/numeric IDs, a PE without its policy code) are refused.
TEST(JsonSchema, RefusesTheOldDivergentForms) {
  for (const char* v : {"PYTHON3", "VALIDATE_JSON", "POOLREG_JSON_SCHEMA"})
    if (env(v).empty()) GTEST_SKIP() << v << " not set";
  const json transport = {{"protocol", "tcp"}, {"port", 7000}, {"use", "data"}, {"addresses", {"127.0.0.1"}}};
  const json pe = {{"id", "0x00000100"},
                   {"home", "0x10000001"},
                   {"registration_life_ms", 30000},
                   {"policy", {{"type", "LeastUsed"}, {"short", "LU"}, {"code", 0x40000002}}},
                   {"user_transport", transport},
                   {"asap_transport", nullptr}};
  std::string report;
  EXPECT_EQ(validate(pe, "pool_element", &report), 0) << report;

  json numeric_id = pe;
  numeric_id["id"] = 256;
  EXPECT_EQ(validate(numeric_id, "pool_element", &report), 1) << "numeric ID accepted";
  json renamed_home = pe;
  renamed_home.erase("home");
  renamed_home["home_registrar"] = "0x10000001";
  EXPECT_EQ(validate(renamed_home, "pool_element", &report), 1) << "home_registrar accepted";
  json no_code = pe;
  no_code["policy"].erase("code");
  EXPECT_EQ(validate(no_code, "pool_element", &report), 1) << "policy without code accepted";

  const json old_pu = {{"pool", "echo"}, {"status", "ok"}, {"items_requested", 2}, {"elements", {pe}}};
  EXPECT_EQ(validate(old_pu, "resolution", &report), 1) << "old poolreg-pu form accepted";
  const json old_poolgen = {{"scenario", "x"},
                            {"config", {{"registrars", {"127.0.0.1:3863"}}, {"transport", "tcp"}, {"pes", 4},
                                        {"pools", 2}, {"pus", 1}}}};
  EXPECT_EQ(validate(old_poolgen, "poolgen_report", &report), 1) << "old poolgen count names accepted";
}

}  // namespace
}  // namespace poolreg::integration
