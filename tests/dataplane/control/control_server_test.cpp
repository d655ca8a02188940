// ControlServer on a real EventLoop (background thread) with a fake command set: protocol,
// errors, limits, many clients, socket file handling.
#include "dataplane/control/control_server.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/control/control_client.hpp"
#include "tests/dataplane/control/control_test_support.hpp"

namespace poolreg::control {
namespace {

using testing::LoopThread;
using testing::RawClient;
using testing::TempDir;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir.path().empty()); }
  void TearDown() override { loop.stop(); }

  // Starts a server with the fake registry on the loop thread.
  bool start_server(ControlServerConfig config) {
    config_ = config;
    loop.on_teardown([this] { server.reset(); });
    return loop.start([this](runtime::EventLoop& l) {
      server = std::make_unique<ControlServer>(l, config_);
      server->add_command("echo", [](const json& args) { return args; }, "returns its args");
      server->add_command("pools", [](const json&) { return json{{"pools", json::array({{{"handle", "echo"}}})}}; });
      server->add_command("fail", [](const json&) -> json { throw CommandError(error_code::kNotFound, "no such pool"); });
      server->add_command("boom", [](const json&) -> json { throw std::runtime_error("kaboom"); });
      server->add_command("big", [](const json& args) {
        return json(std::string(args.at("n").get<std::size_t>(), 'x'));
      });
      server->add_command("drop", [](const json&) { return json{{"removed", true}}; }, "", CommandKind::kMutating);
      server->add_command(
          "drop-missing", [](const json&) -> json { throw CommandError(error_code::kNotFound, "no such PE"); }, "",
          CommandKind::kMutating);
      server->registry().set_audit([this](const CommandAudit& a) {
        std::lock_guard lock(audit_mutex);
        audit_lines.push_back(audit_line(a));
      });
      auto started = server->start();
      if (!started) start_error = started.error();
      return started.has_value();
    });
  }
  ControlServerConfig default_config() {
    ControlServerConfig c;
    c.socket_path = dir.file("run/poolregd.sock");
    return c;
  }

  TempDir dir;
  LoopThread loop;
  ControlServerConfig config_;
  std::unique_ptr<ControlServer> server;
  std::string start_error;
  std::mutex audit_mutex;
  std::vector<std::string> audit_lines;  // written on the loop thread
  std::vector<std::string> audited() {
    std::lock_guard lock(audit_mutex);
    return audit_lines;
  }
};

json parse(const std::optional<std::string>& line) {
  EXPECT_TRUE(line.has_value());
  return line ? json::parse(*line) : json();
}

TEST_F(ControlServerTest, RequestGetsOneResponseLine) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  RawClient c(dir.file("run/poolregd.sock"));
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(R"({"cmd":"pools","args":{}})" "\n"));
  const json r = parse(c.line());
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["result"]["pools"][0]["handle"], "echo");
  // args are optional, and passed through unchanged.
  ASSERT_TRUE(c.send(R"({"cmd":"echo","args":{"handle":"x","n":3}})" "\n" R"({"cmd":"echo"})" "\r\n"));
  EXPECT_EQ(parse(c.line())["result"], (json{{"handle", "x"}, {"n", 3}}));
  EXPECT_EQ(parse(c.line())["result"], json::object());
}

// Issue 17: every mutating command is logged with who sent it (SO_PEERCRED of the socket peer:
// this test process) and what; read-only commands are not.
TEST_F(ControlServerTest, MutatingCommandsAreAuditedWithThePeersCredentials) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  RawClient c(dir.file("run/poolregd.sock"));
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(R"({"cmd":"echo","args":{"n":1}})" "\n"));
  EXPECT_EQ(parse(c.line())["ok"], true);
  ASSERT_TRUE(c.send(R"({"cmd":"drop","args":{"handle":"EchoPool","id":"7"}})" "\n"));
  EXPECT_EQ(parse(c.line())["ok"], true);
  ASSERT_TRUE(c.send(R"({"cmd":"drop-missing","args":{"id":"9"}})" "\n"));
  EXPECT_EQ(parse(c.line())["ok"], false);
  const std::string who = " from uid " + std::to_string(::getuid()) + " pid " + std::to_string(::getpid());
  const std::vector<std::string> lines = audited();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "control command drop" + who + R"(: args {"handle":"EchoPool","id":"7"}: ok)");
  EXPECT_EQ(lines[1], "control command drop-missing" + who + R"(: args {"id":"9"}: refused (not_found: no such PE))");
}

TEST_F(ControlServerTest, ErrorsAreResponsesNotDisconnects) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  RawClient c(dir.file("run/poolregd.sock"));
  ASSERT_TRUE(c.send("{\"cmd\":\"nope\"}\n"));
  json r = parse(c.line());
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["code"], "unknown_command");
  EXPECT_NE(r["error"].get<std::string>().find("nope"), std::string::npos);

  ASSERT_TRUE(c.send("{this is not json\n"));
  r = parse(c.line());
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["code"], "bad_request");

  ASSERT_TRUE(c.send("[1,2]\n{\"cmd\":7}\n{\"cmd\":\"echo\",\"args\":[1]}\n"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(parse(c.line())["code"], "bad_request");

  ASSERT_TRUE(c.send("{\"cmd\":\"fail\"}\n{\"cmd\":\"boom\"}\n{\"cmd\":\"big\",\"args\":{\"n\":\"x\"}}\n"));
  r = parse(c.line());
  EXPECT_EQ(r["code"], "not_found");
  EXPECT_EQ(r["error"], "no such pool");
  EXPECT_EQ(parse(c.line())["code"], "internal");
  EXPECT_EQ(parse(c.line())["code"], "bad_request");

  // Still serving on the same connection; blank lines are ignored.
  ASSERT_TRUE(c.send("\n  \n{\"cmd\":\"help\"}\n"));
  r = parse(c.line());
  EXPECT_EQ(r["ok"], true);
  EXPECT_TRUE(r["result"]["commands"].contains("echo"));
}

TEST_F(ControlServerTest, OversizeLineGetsErrorThenClose) {
  ControlServerConfig config = default_config();
  config.max_line_bytes = 1024;
  ASSERT_TRUE(start_server(config)) << start_error;
  {
    RawClient c(config.socket_path);
    ASSERT_TRUE(c.send(std::string(4096, 'a')));  // no newline yet: still too long
    const json r = parse(c.line());
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["code"], "too_large");
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    RawClient c(config.socket_path);
    // A complete line that is too long, after a good one: the good one is answered first.
    ASSERT_TRUE(c.send("{\"cmd\":\"pools\"}\n{\"cmd\":\"echo\",\"args\":{\"x\":\"" + std::string(2000, 'b') + "\"}}\n"));
    EXPECT_EQ(parse(c.line())["ok"], true);
    EXPECT_EQ(parse(c.line())["code"], "too_large");
    EXPECT_TRUE(c.closed_by_server());
  }
  // The server is fine afterwards.
  RawClient c(config.socket_path);
  ASSERT_TRUE(c.send("{\"cmd\":\"pools\"}\n"));
  EXPECT_EQ(parse(c.line())["ok"], true);
}

TEST_F(ControlServerTest, OversizeResponseReplacedByError) {
  ControlServerConfig config = default_config();
  config.max_response_bytes = 10000;
  ASSERT_TRUE(start_server(config)) << start_error;
  RawClient c(config.socket_path);
  ASSERT_TRUE(c.send("{\"cmd\":\"big\",\"args\":{\"n\":100}}\n{\"cmd\":\"big\",\"args\":{\"n\":20000}}\n"));
  EXPECT_EQ(parse(c.line())["ok"], true);
  const json r = parse(c.line());
  EXPECT_EQ(r["code"], "too_large");
}

TEST_F(ControlServerTest, LastLineWithoutNewlineAnsweredAtHalfClose) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  RawClient c(dir.file("run/poolregd.sock"));
  ASSERT_TRUE(c.send("{\"cmd\":\"echo\",\"args\":{\"a\":1}}"));
  c.shutdown_write();
  EXPECT_EQ(parse(c.line())["result"]["a"], 1);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(ControlServerTest, LargeResponsesToASlowReaderAreNotLost) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  RawClient c(dir.file("run/poolregd.sock"));
  std::string requests;
  for (int i = 0; i < 40; ++i) requests += "{\"cmd\":\"big\",\"args\":{\"n\":300000}}\n";
  ASSERT_TRUE(c.send(requests));  // ~12 MB of answers: more than the pending-output bound
  for (int i = 0; i < 40; ++i) {
    const auto line = c.line(10000);
    ASSERT_TRUE(line.has_value()) << i;
    ASSERT_EQ(line->size(), 300000u + 23u) << i;  // {"ok":true,"result":"xxx"}
  }
}

TEST_F(ControlServerTest, ManyClientsAtOnce) {
  ControlServerConfig config = default_config();
  config.max_clients = 40;
  ASSERT_TRUE(start_server(config)) << start_error;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<RawClient>(config.socket_path));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(clients[i]->send("{\"cmd\":\"echo\",\"args\":{\"i\":" + std::to_string(i) + "}}\n"));
  for (int i = 39; i >= 0; --i) EXPECT_EQ(parse(clients[i]->line())["result"]["i"], i);
  // Over the limit: one error line, then closed.
  RawClient extra(config.socket_path);
  ASSERT_TRUE(extra.connected());
  const json r = parse(extra.line());
  EXPECT_EQ(r["code"], "unavailable");
  EXPECT_TRUE(extra.closed_by_server());
  // Closing one frees a slot.
  clients.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    RawClient again(config.socket_path);
    again.send("{\"cmd\":\"pools\"}\n");
    auto line = again.line();
    served = line && json::parse(*line)["ok"] == true;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST_F(ControlServerTest, ThreadedClientsWithControlClient) {
  ASSERT_TRUE(start_server(default_config())) << start_error;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      ClientError error;
      auto client = ControlClient::connect(dir.file("run/poolregd.sock"), 5000, &error);
      if (!client) return;
      for (int i = 0; i < 50; ++i) {
        auto r = client->call("echo", {{"t", t}, {"i", i}}, &error);
        if (r && (*r)["result"]["i"] == i && (*r)["result"]["t"] == t) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 8 * 50);
}

TEST_F(ControlServerTest, SocketFilePermissionsAndCleanup) {
  ControlServerConfig config = default_config();
  ASSERT_TRUE(start_server(config)) << start_error;
  struct stat st {};
  ASSERT_EQ(::stat(config.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  ASSERT_EQ(::stat(dir.file("run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);  // group may search because the socket grants it access
  loop.stop();
  EXPECT_NE(::stat(config.socket_path.c_str(), &st), 0) << "socket file removed on shutdown";
}

TEST_F(ControlServerTest, OtherModeIsApplied) {
  ControlServerConfig config = default_config();
  config.socket_mode = 0600;
  ASSERT_TRUE(start_server(config)) << start_error;
  struct stat st {};
  ASSERT_EQ(::stat(config.socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ControlServerTest, StaleSocketReplacedLiveOneRefused) {
  ControlServerConfig config = default_config();
  // A stale socket file: bound, then its owner went away without unlinking.
  std::filesystem::create_directories(dir.file("run"));
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, config.socket_path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(start_server(config)) << start_error;
  RawClient c(config.socket_path);
  ASSERT_TRUE(c.send("{\"cmd\":\"pools\"}\n"));
  EXPECT_EQ(parse(c.line())["ok"], true);

  // A second server on the same path must refuse and must not steal the file.
  std::string error;
  bool started = true;
  loop.call([&] {
    ControlServer second(loop.loop(), config);
    auto second_started = second.start();
    started = second_started.has_value();
    if (!second_started) error = second_started.error();
  });
  EXPECT_FALSE(started);
  EXPECT_NE(error.find("already running"), std::string::npos) << error;
  RawClient still(config.socket_path);
  ASSERT_TRUE(still.send("{\"cmd\":\"pools\"}\n"));
  EXPECT_EQ(parse(still.line())["ok"], true);
}

TEST_F(ControlServerTest, RefusesNonSocketFileAndBadPaths) {
  std::filesystem::create_directories(dir.file("run"));
  { std::ofstream(dir.file("run/poolregd.sock")) << "precious"; }
  EXPECT_FALSE(start_server(default_config()));
  EXPECT_NE(start_error.find("not a socket"), std::string::npos) << start_error;
  std::ifstream in(dir.file("run/poolregd.sock"));
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");

  runtime::EventLoop l;
  for (const std::string& path : {std::string("relative.sock"), "/" + std::string(200, 'x')}) {
    ControlServerConfig c;
    c.socket_path = path;
    ControlServer s(l, c);
    auto started = s.start();
    const std::string e = started ? std::string() : started.error();
    EXPECT_FALSE(started.has_value()) << path;
    EXPECT_FALSE(e.empty());
  }
}

TEST_F(ControlServerTest, IdleClientsAreClosed) {
  ControlServerConfig config = default_config();
  config.idle_timeout = 200 * kNsPerMs;
  ASSERT_TRUE(start_server(config)) << start_error;
  RawClient c(config.socket_path);
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.closed_by_server(3000));
}

TEST_F(ControlServerTest, ClientReportsWhyItCannotConnect) {
  ClientError error;
  EXPECT_EQ(ControlClient::connect(dir.file("missing.sock"), 1000, &error), nullptr);
  EXPECT_EQ(error.sys_errno, ENOENT);
  // A socket file nobody listens on.
  const std::string path = dir.file("dead.sock");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(ControlClient::connect(path, 1000, &error), nullptr);
  EXPECT_EQ(error.sys_errno, ECONNREFUSED);
  EXPECT_EQ(error.message, "connection refused");
  ::close(fd);
}

TEST(CommandRegistryTest, DispatchWithoutSockets) {
  CommandRegistry r;
  r.add_command("x", [](const json& a) { return json{{"got", a.value("v", 0)}}; });
  EXPECT_EQ(json::parse(r.handle_line(R"({"cmd":"x","args":{"v":5}})"))["result"]["got"], 5);
  EXPECT_EQ(json::parse(r.handle_line("\xff\xfe"))["code"], "bad_request");
  EXPECT_EQ(json::parse(r.handle_line(R"({"cmd":"y"})"))["code"], "unknown_command");
  // Invalid UTF-8 echoed back by a handler does not throw.
  r.add_command("raw", [](const json&) { return json(std::string("\xff")); });
  EXPECT_NO_THROW(json::parse(r.handle_line(R"({"cmd":"raw"})")));
}

}  // namespace
}  // namespace poolreg::control
