#include "cli/poolctl/watch_view.hpp"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "cli/poolctl/poolctl_app.hpp"
#include "cli/poolctl/result_text.hpp"
#include "cli/poolctl/text_table.hpp"
#include "dataplane/control/control_client.hpp"

namespace poolreg::poolctl {
namespace {

volatile sig_atomic_t g_quit_signal = 0;  // set by the SIGINT/SIGTERM handler only
extern "C" void on_quit_signal(int signo) { g_quit_signal = signo; }

// Raw keyboard, alternate screen, hidden cursor; everything undone in the destructor.
class TerminalGuard {
 public:
  TerminalGuard() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // ISIG stays: Ctrl-C -> SIGINT
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_termios_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    struct sigaction sa {};
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR at once
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    write_all("\x1b[?1049h\x1b[?25l");
  }
  ~TerminalGuard() {
    write_all("\x1b[?25h\x1b[?1049l");
    if (restore_termios_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  TerminalGuard(const TerminalGuard&) = delete;
  TerminalGuard& operator=(const TerminalGuard&) = delete;

  static void write_all(std::string_view text) {
    std::size_t done = 0;
    for (int attempt = 0; attempt < 1000 && done < text.size(); ++attempt) {
      const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
      if (n > 0) done += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EINTR && errno != EAGAIN) return;
    }
  }

 private:
  termios saved_{};
  bool restore_termios_ = false;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::uint64_t counter(const json& stats, const char* section, const char* name) {
  if (!stats.is_object()) return 0;
  auto s = stats.find(section);
  if (s == stats.end() || !s->is_object()) return 0;
  auto v = s->find(name);
  return v != s->end() && v->is_number_unsigned() ? v->get<std::uint64_t>() : 0;
}

std::uint64_t errors_total(const json& stats) {
  std::uint64_t n = 0;
  if (stats.is_object() && stats.contains("asap") && stats["asap"].is_object() && stats["asap"].contains("errors_sent") &&
      stats["asap"]["errors_sent"].is_object())
    for (const auto& v : stats["asap"]["errors_sent"])
      if (v.is_number_unsigned()) n += v.get<std::uint64_t>();
  return n;
}

// A counter's rate between two snapshots (0 when it went backwards: a restarted daemon).
double per_second(std::uint64_t now, std::uint64_t before, double seconds) {
  return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

std::string rate(std::uint64_t now, std::uint64_t before, double seconds) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.1f", per_second(now, before, seconds));
  return b;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return b;
}

void terminal_size(int& rows, int& columns) {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    rows = ws.ws_row;
    columns = ws.ws_col;
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::map<std::uint64_t, std::uint64_t> fine_buckets(const json& latency) {
  std::map<std::uint64_t, std::uint64_t> m;
  if (!latency.is_object() || !latency.contains("fine") || !latency["fine"].is_array()) return m;
  for (const auto& b : latency["fine"])
    if (b.is_array() && b.size() == 2 && b[0].is_number_integer() && b[1].is_number_integer() &&
        b[0].get<std::int64_t>() >= 0 && b[1].get<std::int64_t>() >= 0)
      m[b[0].get<std::uint64_t>()] += b[1].get<std::uint64_t>();
  return m;
}

json latency_of(const json& stats) { return stats.is_object() ? stats.value("resolution_latency", json()) : json(); }

}  // namespace

WindowLatency window_latency(const json& now, const json* before) {
  std::map<std::uint64_t, std::uint64_t> delta = fine_buckets(now);
  if (before != nullptr) {
    for (const auto& [le, n] : fine_buckets(*before)) {
      auto it = delta.find(le);
      if (it == delta.end()) continue;  // cannot shrink: a restarted daemon; its bucket is new
      it->second = it->second >= n ? it->second - n : 0;
    }
  }
  WindowLatency w;
  for (const auto& [le, n] : delta) w.count += n;
  if (w.count == 0) return w;
  const auto rank_of = [&](double q) {
    const auto r = static_cast<std::uint64_t>(q * static_cast<double>(w.count) + 0.999999);
    return r == 0 ? std::uint64_t{1} : r;
  };
  const std::uint64_t r50 = rank_of(0.5), r90 = rank_of(0.9), r99 = rank_of(0.99);
  std::uint64_t seen = 0;
  for (const auto& [le, n] : delta) {
    if (n == 0) continue;
    const std::uint64_t from = seen;
    seen += n;
    if (from < r50 && r50 <= seen) w.p50_ns = le;
    if (from < r90 && r90 <= seen) w.p90_ns = le;
    if (from < r99 && r99 <= seen) w.p99_ns = le;
    w.max_ns = le;
  }
  return w;
}

json watch_frame_json(const json& status, const json& pools, const json& stats, const json* previous_stats,
                      double elapsed_s) {
  const json summary = status.value("summary", json::object());
  json j = {{"time", utc_now()},
            {"registrar_id", status.value("registrar_id", json())},
            {"interval_s", elapsed_s},
            {"pools", summary.value("pools", json())},
            {"pes", summary.value("pes", json())},
            {"owned_pes", summary.value("owned_pes", json())},
            {"associations", summary.value("associations", json())}};
  if (previous_stats != nullptr) {
    const json& p = *previous_stats;
    j["per_second"] = {
        {"registrations", per_second(counter(stats, "asap", "registrations"), counter(p, "asap", "registrations"), elapsed_s)},
        {"reregistrations", per_second(counter(stats, "asap", "reregistrations"), counter(p, "asap", "reregistrations"), elapsed_s)},
        {"deregistrations", per_second(counter(stats, "asap", "deregistrations"), counter(p, "asap", "deregistrations"), elapsed_s)},
        {"resolutions", per_second(counter(stats, "asap", "resolutions"), counter(p, "asap", "resolutions"), elapsed_s)},
        {"errors", per_second(errors_total(stats), errors_total(p), elapsed_s)}};
    const json before = latency_of(p);
    const WindowLatency w = window_latency(latency_of(stats), &before);
    j["latency_window"] = {{"count", w.count}, {"p50_ns", w.p50_ns}, {"p90_ns", w.p90_ns}, {"p99_ns", w.p99_ns},
                           {"max_ns", w.max_ns}};
  } else {
    j["per_second"] = nullptr;
    j["latency_window"] = nullptr;
  }
  const json latency = latency_of(stats);
  j["latency_since_start"] = latency.is_object() ? json{{"count", latency.value("count", 0ull)},
                                                        {"p50_ns", latency.value("p50_ns", 0ull)},
                                                        {"p90_ns", latency.value("p90_ns", 0ull)},
                                                        {"p99_ns", latency.value("p99_ns", 0ull)}}
                                                  : json(nullptr);
  json list = json::array();
  if (pools.contains("pools") && pools["pools"].is_array())
    for (const auto& p : pools["pools"]) list.push_back({{"handle", p.value("handle", std::string())}, {"pe_count", p.value("pe_count", 0ull)}});
  j["pool_list"] = std::move(list);
  return j;
}

std::string render_watch_frame(const json& status, const json& pools, const json& stats, const json* previous_stats,
                               const json* previous_pools, double elapsed_s, double interval_s, int rows, int columns) {
  std::vector<std::string> lines;
  char head[256];
  std::snprintf(head, sizeof(head), "poolctl watch - poolregd %s (%s) up %s   %s   every %.1fs, q quits",
                text_of(status.value("registrar_id", json())).c_str(), text_of(status.value("mode", json())).c_str(),
                status.contains("uptime_s") && status["uptime_s"].is_number()
                    ? format_duration_s(status["uptime_s"].get<double>()).c_str()
                    : "-",
                utc_now().c_str(), interval_s);
  lines.push_back(head);
  const json summary = status.value("summary", json::object());
  std::string peers_text = "ENRP off";
  if (status.contains("enrp") && status["enrp"].value("enabled", false)) {
    const json p = status["enrp"].value("peers", json::object());
    std::uint64_t total = 0;
    for (const auto& v : p)
      if (v.is_number_unsigned()) total += v.get<std::uint64_t>();
    peers_text = "peers alive " + text_of(p.value("alive", json())) + "/" + std::to_string(total);
  }
  lines.push_back("pools " + text_of(summary.value("pools", json())) + "  PEs " + text_of(summary.value("pes", json())) +
                  " (owned " + text_of(summary.value("owned_pes", json())) + ")  associations " +
                  text_of(summary.value("associations", json())) + "  " + peers_text);
  if (previous_stats != nullptr) {
    const json& p = *previous_stats;
    lines.push_back("per second: registrations " + rate(counter(stats, "asap", "registrations"), counter(p, "asap", "registrations"), elapsed_s) +
                    "  re-registrations " + rate(counter(stats, "asap", "reregistrations"), counter(p, "asap", "reregistrations"), elapsed_s) +
                    "  deregistrations " + rate(counter(stats, "asap", "deregistrations"), counter(p, "asap", "deregistrations"), elapsed_s) +
                    "  resolutions " + rate(counter(stats, "asap", "resolutions"), counter(p, "asap", "resolutions"), elapsed_s) +
                    "  errors " + rate(errors_total(stats), errors_total(p), elapsed_s));
  } else {
    lines.push_back("per second: (measuring...)");
  }
  const json latency = latency_of(stats);
  if (previous_stats != nullptr) {
    // The interval's own distribution (spikes show), not the cumulative one.
    const json before = latency_of(*previous_stats);
    const WindowLatency w = window_latency(latency, &before);
    if (w.count > 0) {
      lines.push_back("resolution latency, last interval: p50 " + format_ns(w.p50_ns) + "  p90 " + format_ns(w.p90_ns) +
                      "  p99 " + format_ns(w.p99_ns) + "  max " + format_ns(w.max_ns) + "  (" + std::to_string(w.count) +
                      " samples)");
    } else {
      lines.push_back("resolution latency, last interval: no samples");
    }
  }
  if (latency.is_object() && latency.value("count", 0ull) > 0) {
    lines.push_back("resolution latency since start: p50 " + format_ns(latency.value("p50_ns", 0ull)) + "  p90 " +
                    format_ns(latency.value("p90_ns", 0ull)) + "  p99 " + format_ns(latency.value("p99_ns", 0ull)) +
                    "  (" + text_of(latency["count"]) + " samples)");
  } else {
    lines.push_back("resolution latency since start: no samples");
  }
  lines.push_back("");

  std::map<std::string, std::uint64_t> before;
  if (previous_pools != nullptr && previous_pools->contains("pools"))
    for (const auto& p : (*previous_pools)["pools"]) before[p.value("handle", std::string())] = p.value("pe_count", 0ull);
  std::vector<json> list;
  if (pools.contains("pools") && pools["pools"].is_array())
    for (const auto& p : pools["pools"]) list.push_back(p);
  std::stable_sort(list.begin(), list.end(),
                   [](const json& a, const json& b) { return a.value("pe_count", 0ull) > b.value("pe_count", 0ull); });
  TextTable table({"HANDLE", "POLICY", "TRANSPORT", "PES", "CHANGE"}, 40);
  const std::size_t room = rows > static_cast<int>(lines.size()) + 3 ? static_cast<std::size_t>(rows) - lines.size() - 3 : 1;
  for (std::size_t i = 0; i < list.size() && i < room; ++i) {
    const json& p = list[i];
    const std::string h = p.value("handle", std::string());
    const std::uint64_t count = p.value("pe_count", 0ull);
    std::string change = "-";
    if (previous_pools != nullptr) {
      auto it = before.find(h);
      const long long d = static_cast<long long>(count) - static_cast<long long>(it == before.end() ? 0 : it->second);
      change = it == before.end() ? "new" : (d == 0 ? "" : (d > 0 ? "+" : "") + std::to_string(d));
    }
    table.add({h, text_of(p.value("policy_short", json())), text_of(p.value("transport", json())), std::to_string(count), change});
  }
  std::string text;
  for (auto& l : lines) text += l + "\n";
  text += table.render();
  if (list.size() > room) text += "... " + std::to_string(list.size() - room) + " more pools\n";
  // Cut every line to the terminal width.
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl - start);
    if (columns > 0 && line.size() > static_cast<std::size_t>(columns)) line.resize(static_cast<std::size_t>(columns));
    out += line + "\n";
    start = nl + 1;
  }
  return out;
}

int run_watch(const WatchOptions& o, std::ostream& out, std::ostream& err) {
  g_quit_signal = 0;
  std::unique_ptr<TerminalGuard> terminal;
  if (o.interactive) terminal = std::make_unique<TerminalGuard>();
  std::unique_ptr<control::ControlClient> client;
  std::optional<json> previous_stats, previous_pools;
  auto previous_time = std::chrono::steady_clock::now();
  std::uint64_t frames = 0;
  int failures_in_a_row = 0;
  std::string last_error;

  for (;;) {
    if (g_quit_signal != 0) break;
    control::ClientError error;
    if (!client) client = control::ControlClient::connect(o.socket_path, o.timeout_ms, &error);
    std::optional<json> status, pools, stats;
    if (client) {
      status = client->call("status", json::object(), &error);
      if (status) pools = client->call("pools", {{"limit", 10000}}, &error);
      if (pools) stats = client->call("stats", json::object(), &error);
    }
    std::string frame;
    int rows = 24, columns = 0;  // piped: full lines (columns 0 = no cut)
    if (o.interactive) {
      columns = 80;
      terminal_size(rows, columns);
    }
    if (status && pools && stats && (*status)["ok"] == true && (*pools)["ok"] == true && (*stats)["ok"] == true) {
      failures_in_a_row = 0;
      const double elapsed = seconds_since(previous_time);
      previous_time = std::chrono::steady_clock::now();
      if (o.json_lines) {
        frame = watch_frame_json((*status)["result"], (*pools)["result"], (*stats)["result"],
                                 previous_stats ? &*previous_stats : nullptr, elapsed)
                    .dump();
      } else {
        frame = render_watch_frame((*status)["result"], (*pools)["result"], (*stats)["result"],
                                   previous_stats ? &*previous_stats : nullptr,
                                   previous_pools ? &*previous_pools : nullptr, elapsed, o.interval_s, rows, columns);
      }
      previous_stats = (*stats)["result"];
      previous_pools = (*pools)["result"];
    } else {
      client.reset();
      ++failures_in_a_row;
      last_error = unreachable_message(o.socket_path, error.sys_errno, error.message.empty() ? "bad response" : error.message);
      frame = "poolctl watch - " + last_error + "\nretrying every " + format_duration_s(o.interval_s) + " (q quits)\n";
      if (!o.interactive && frames == 0) {  // scripts: fail fast when the daemon is not there at all
        err << last_error << "\n";
        return kExitUnreachable;
      }
    }
    if (o.interactive) {
      TerminalGuard::write_all("\x1b[H\x1b[2J");
      std::string crlf;  // raw mode keeps OPOST, but be explicit about line starts
      for (char c : frame) {
        if (c == '\n') crlf += "\x1b[K\r\n";
        else crlf.push_back(c);
      }
      TerminalGuard::write_all(crlf);
    } else {
      out << frame << "\n" << std::flush;  // --json: the frame is one line (dump() without indent)
    }
    ++frames;
    if (o.count > 0 && frames >= o.count) break;

    // Wait for the interval, a key or a signal.
    const auto wait_start = std::chrono::steady_clock::now();
    bool quit = false;
    for (int rounds = 0; rounds < 100000 && !quit; ++rounds) {
      const double left = o.interval_s - seconds_since(wait_start);
      if (left <= 0 || g_quit_signal != 0) break;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      const int rc = ::poll(&p, o.interactive ? 1 : 0, static_cast<int>(left * 1000) + 1);
      if (rc > 0 && (p.revents & POLLIN)) {
        char keys[16];
        const ssize_t n = ::read(STDIN_FILENO, keys, sizeof(keys));
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i)
          if (keys[i] == 'q' || keys[i] == 'Q' || keys[i] == 3) quit = true;
        if (!quit) break;  // any other key: refresh now
      }
    }
    if (quit) break;
  }
  terminal.reset();
  (void)failures_in_a_row;
  return kExitOk;
}

}  // namespace poolreg::poolctl
