// Prometheus exposition (builder and the registrar's metrics, validated by `promtool check
// metrics`) and the /metrics HTTP endpoint over 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <set>

#include "dataplane/control/metrics_http_server.hpp"
#include "dataplane/control/prometheus_text.hpp"
#include "dataplane/control/registrar_commands.hpp"
#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "tests/dataplane/control/control_test_support.hpp"
#include "tests/dataplane/control/descriptor_lint.hpp"

namespace poolreg::control {
namespace {

using testing::LoopThread;
using testing::MiniRegistrar;
using testing::TempDir;

constexpr const char* kPromtool = "/usr/bin/promtool";

// Runs promtool check metrics on `text`; returns its exit status and output.
std::pair<int, std::string> promtool_check(const std::string& text) {
  TempDir dir;
  const std::string file = dir.file("metrics.txt");
  { std::ofstream(file) << text; }
  const std::string command = std::string(kPromtool) + " check metrics < " + file + " 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), p) != nullptr) output += buffer;
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool have_promtool() { return ::access(kPromtool, X_OK) == 0; }

// A kernel lane's stats as the daemon builds them (dataplane/daemon/application.cpp): every
// counter with the descriptor its table gives it.
LaneStats kernel_lane(unsigned index, const kernel::KernelLaneCounters& c,
                      std::shared_ptr<const LatencyHistogram> latency = nullptr) {
  LaneStats lane;
  lane.lane = index;
  lane.backend = "kernel";
  c.for_each_counter([&lane](const CounterDescriptor& d, std::uint64_t v) { lane.counters.push_back({&d, {}, v}); });
  lane.resolution_latency = std::move(latency);
  return lane;
}

TEST(PrometheusTextTest, FormatsFamiliesSamplesAndEscapes) {
  PrometheusText t;
  t.counter("x_total", "Help with \\ and\nnewline.", 5);
  t.family("y", MetricType::kGauge, "Labelled.");
  t.sample("y", 1.5, {{"a", "quote\" back\\ nl\n"}, {"b", "2"}});
  const std::string text = t.take();
  EXPECT_EQ(text,
            "# HELP x_total Help with \\\\ and\\nnewline.\n# TYPE x_total counter\nx_total 5\n"
            "# HELP y Labelled.\n# TYPE y gauge\ny{a=\"quote\\\" back\\\\ nl\\n\",b=\"2\"} 1.5\n");
  EXPECT_TRUE(PrometheusText::valid_metric_name("poolreg_pools"));
  EXPECT_FALSE(PrometheusText::valid_metric_name("9lives"));
  EXPECT_FALSE(PrometheusText::valid_metric_name("a-b"));
  EXPECT_EQ(PrometheusText::sanitize("Invalid Values/x"), "invalid_values_x");
  EXPECT_EQ(format_double(3.0), "3");
  EXPECT_EQ(format_double(0.000001), "1e-06");
}

TEST(PrometheusTextTest, HistogramPassesPromtool) {
  if (!have_promtool()) GTEST_SKIP() << "promtool not installed";
  LatencyHistogram h;
  for (TimeNs d : {500ull, 1500ull, 70000ull, 3000000ull}) h.record(d);
  PrometheusText t;
  t.histogram_seconds("test_latency_seconds", "Latency.", h);
  const std::string text = t.take();
  EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"1e-06\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("test_latency_seconds_count 4\n"), std::string::npos);
  auto [rc, output] = promtool_check(text);
  EXPECT_EQ(rc, 0) << output << text;
}

TEST(RegistrarMetricsTest, ExpositionPassesPromtoolAndHasTheFamilies) {
  if (!have_promtool()) GTEST_SKIP() << "promtool not installed";
  MiniRegistrar reg;
  ASSERT_TRUE(reg.add_pe("echo", 1));
  ASSERT_TRUE(reg.add_pe("echo", 2));
  RegistrarBindings b = reg.bindings();
  runtime::TransportCounters transport;
  transport.bytes_received = 1234;
  // Two lanes, the second with 3 resolution latency samples: they join the control thread's 5.
  auto lane_latency = std::make_shared<LatencyHistogram>();
  for (TimeNs d : {4000ull, 8000ull, 16000ull}) lane_latency->record(d);
  auto lane0 = std::make_shared<kernel::KernelLaneCounters>();
  auto lane1 = std::make_shared<kernel::KernelLaneCounters>();
  lane0->rx_packets.add(10);
  lane0->resolutions_answered.add(7);
  lane0->drop_too_short.add(3);
  lane1->rx_packets.add(20);
  lane1->resolutions_answered.add(5);
  lane1->drop_steer_full.add(4);
  b.lanes = [lane_latency, lane0, lane1] {
    return std::vector<LaneStats>{kernel_lane(0, *lane0), kernel_lane(1, *lane1, lane_latency)};
  };
  StatsSources s = stats_sources(b);
  s.transport = transport;
  EXPECT_EQ(stats_result(s)["resolution_latency"]["count"], 8);
  const std::string text = registrar_metrics_text(b.status, reg.clock.now(), s);
  for (const char* needle :
       {"# TYPE poolreg_registrations_total counter", "# TYPE poolreg_reregistrations_total counter",
        "# TYPE poolreg_deregistrations_total counter", "poolreg_resolutions_total{result=\"answered\"}",
        "poolreg_errors_sent_total{cause=\"invalid_values\"} 0", "# TYPE poolreg_pools gauge", "poolreg_pools 1\n",
        "poolreg_pool_elements 2\n", "poolreg_peers{state=\"unknown\"} 1", "poolreg_takeovers_total{outcome=\"won\"}",
        "poolreg_sync_bytes_total{direction=\"sent\"}", "# TYPE poolreg_resolution_latency_seconds histogram",
        "poolreg_resolution_latency_seconds_count 8", "poolreg_transport_received_bytes_total 1234",
        "poolreg_info{registrar_id=\"0x10000001\",mode=\"rfc\",version=\"test\"} 1",
        "# TYPE poolreg_lane_rx_packets_total counter", "poolreg_lane_rx_packets_total{lane=\"1\"} 20",
        "poolreg_lane_resolutions_answered_total{lane=\"0\"} 7",
        "poolreg_kernel_dropped_datagrams_total{lane=\"1\",reason=\"steer_full\"} 4",
        "poolreg_kernel_dropped_datagrams_total{lane=\"0\",reason=\"too_short\"} 3",
        "poolreg_kernel_dropped_datagrams_total{lane=\"0\",reason=\"steer_full\"} 0",
        "# TYPE poolreg_lane_info gauge", "poolreg_lane_info{lane=\"1\",backend=\"kernel\"} 1",
        "poolreg_asap_resolutions_truncated_total 0\n", "poolreg_enrp_audits_total 0\n",
        "# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_open_fds gauge", "# TYPE process_max_fds gauge",
        "poolreg_peer_up{peer=\"0x10000002\",endpoint=\"127.0.0.1:9902\"} 0",
        "poolreg_peer_checksum_in_sync{peer=\"0x10000002\",endpoint=\"127.0.0.1:9902\"} 0"})
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  EXPECT_EQ(text.find("_total_total"), std::string::npos) << "a *_total counter got a second suffix";
  auto [rc, output] = promtool_check(text);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output.find("should"), std::string::npos) << "lint warnings: " << output;
  // Every family appears once.
  std::size_t types = 0, pos = 0;
  std::set<std::string> names;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    const std::size_t end = text.find(' ', pos + 7);
    EXPECT_TRUE(names.insert(text.substr(pos + 7, end - pos - 7)).second) << text.substr(pos, 60);
    ++types;
    pos = end;
  }
  EXPECT_GT(types, 60u);
  // No family keeps a generic help text (the descriptor tables' lint covers the tables; this
  // covers the hand-written families too).
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) != 0) continue;
    const std::size_t name_end = line.find(' ', 7);
    const std::string name = line.substr(7, name_end - 7);
    EXPECT_FALSE(poolreg::testing::generic_help(line.substr(name_end + 1), name, 20)) << line;
  }
  // The stats command reads the same tables: the lanes' drops by their stats keys.
  const json stats = stats_result(s);
  EXPECT_EQ(stats["lanes"][1]["drop_steer_full"], 4);
  EXPECT_EQ(stats["transport"]["bytes_received"], 1234);
  EXPECT_EQ(stats["enrp"]["peers"]["unknown"], 1);
}

// Minimal HTTP client: one request, whole response until the server closes.
std::string http_request(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(0x7f000001u);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  for (int i = 0; i < 10000; ++i) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}


// Every poolreg_* / process_* name the shipped alert rules and Grafana dashboard use
// (config/monitoring) is a family the registrar exports: a renamed metric must not leave a rule
// or panel silently empty.
TEST(RegistrarMetricsTest, MonitoringFilesUseOnlyExportedMetrics) {
  const char* dir = std::getenv("POOLREG_MONITORING_DIR");
  ASSERT_NE(dir, nullptr) << "POOLREG_MONITORING_DIR not set";
  MiniRegistrar reg;
  RegistrarBindings b = reg.bindings();
  auto lane = std::make_shared<kernel::KernelLaneCounters>();
  b.lanes = [lane] { return std::vector<LaneStats>{kernel_lane(0, *lane)}; };
  const std::string text = registrar_metrics_text(b);
  std::set<std::string> families;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) families.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  const std::regex name_re("\\b(poolreg|process)_[a-z0-9_]+");
  std::size_t checked = 0;
  for (const char* file : {"poolreg-alerts.yml", "poolreg-dashboard.json"}) {
    std::ifstream in(std::string(dir) + "/" + file);
    ASSERT_TRUE(in) << file;
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto it = std::sregex_iterator(body.begin(), body.end(), name_re); it != std::sregex_iterator(); ++it) {
      std::string name = it->str();
      if (name.ends_with("_bucket")) name.resize(name.size() - 7);  // histogram series of a family
      // The DPDK families (poolreg_dpdk_*) need the DPDK tables: tests/dataplane/dpdk/port_metrics_test.cpp
      // checks those names against a DPDK exposition.
      if (name == "poolreg_info" || families.count(name) != 0 || name.starts_with("poolreg_dpdk_")) {
        ++checked;
        continue;
      }
      ADD_FAILURE() << file << " uses " << name << ", which poolregd does not export";
    }
  }
  EXPECT_GT(checked, 20u);
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop.on_teardown([this] { server.reset(); });
    ASSERT_TRUE(loop.start([this](runtime::EventLoop& l) {
      MetricsHttpServerConfig c;
      c.port = 0;
      c.max_request_bytes = 2048;
      server = std::make_unique<MetricsHttpServer>(l, c, [this] {
        ++scrapes;
        PrometheusText t;
        t.gauge("poolreg_pools", "Pools in the handlespace.", 3);
        return t.take();
      });
      server->set_readiness([this] {
        return ready.load() ? std::pair<bool, std::string>{true, "ready"}
                            : std::pair<bool, std::string>{false, "not ready\nenrp_startup: waiting"};
      });
      return server->start().has_value();
    }));
    port = server->bound_port();
    ASSERT_NE(port, 0);
  }
  void TearDown() override { loop.stop(); }

  LoopThread loop;
  std::unique_ptr<MetricsHttpServer> server;
  std::atomic<int> scrapes{0};
  std::atomic<bool> ready{false};
  std::uint16_t port = 0;
};

TEST_F(MetricsHttpTest, HealthzAndReadyzProbes) {
  EXPECT_EQ(http_request(port, "GET /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  std::string r = http_request(port, "GET /readyz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
  EXPECT_NE(r.find("enrp_startup: waiting"), std::string::npos) << r;
  ready = true;
  r = http_request(port, "GET /readyz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nready\n"), std::string::npos) << r;
  r = http_request(port, "HEAD /readyz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_EQ(r.find("ready\n"), std::string::npos) << "HEAD has no body: " << r;
  EXPECT_EQ(http_request(port, "POST /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(scrapes.load(), 0);
}

TEST_F(MetricsHttpTest, GetMetrics) {
  const std::string r = http_request(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const std::string body = "# HELP poolreg_pools Pools in the handlespace.\n# TYPE poolreg_pools gauge\npoolreg_pools 3\n";
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), body);
  EXPECT_EQ(scrapes.load(), 1);
  // Query strings are ignored; HEAD has no body.
  EXPECT_EQ(http_request(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  const std::string head = http_request(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
}

TEST_F(MetricsHttpTest, EverythingElseIsRefused) {
  EXPECT_EQ(http_request(port, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http_request(port, "GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http_request(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(http_request(port, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(http_request(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(4000, 'a')).rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_EQ(scrapes.load(), 0);
  // Still serving.
  EXPECT_EQ(http_request(port, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(MetricsHttpTest, ManyScrapesInParallel) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
        if (http_request(port, "GET /metrics HTTP/1.1\r\n\r\n").find("poolreg_pools 3") != std::string::npos) ++good;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 160);
  std::size_t clients = 1;
  for (int i = 0; i < 100 && clients != 0; ++i) {
    loop.call([&] { clients = server->client_count(); });
    if (clients != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(clients, 0u);
}

}  // namespace
}  // namespace poolreg::control
