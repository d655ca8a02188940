#include "cli/poolctl/events_view.hpp"

#include <errno.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/poolctl/poolctl_app.hpp"
#include "cli/poolctl/result_text.hpp"
#include "dataplane/control/control_client.hpp"
#include "dataplane/control/operator_arguments.hpp"
#include "registrar/common/registrar_event.hpp"

namespace poolreg::poolctl {
namespace {

using json = nlohmann::json;

volatile sig_atomic_t g_stop_signal = 0;  // written by the SIGINT/SIGTERM handler only
extern "C" void on_stop_signal(int signo) { g_stop_signal = signo; }

// SIGINT/SIGTERM end the stream (no SA_RESTART: the wait returns EINTR at once); SIGPIPE is
// ignored so a closed stdout shows as a failed write. Restored on every exit path.
class SignalGuard {
 public:
  SignalGuard() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &old_pipe_);
  }
  ~SignalGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_pipe_ {};
};

std::string str(const json& e, const char* name) {
  auto it = e.find(name);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string("-");
}

std::string number(const json& e, const char* name) {
  auto it = e.find(name);
  return it != e.end() && it->is_number_unsigned() ? std::to_string(it->get<std::uint64_t>()) : std::string("-");
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string render_event_line(const json& e) {
  if (!e.is_object()) return "?";
  const std::string kind = str(e, "kind");
  if (kind == "dropped")
    return "-                        dropped          " + number(e, "count") +
           " event(s) lost: poolctl read more slowly than events came";
  char head[64];
  std::snprintf(head, sizeof(head), "%-24s %-16s ", str(e, "time").c_str(), kind.c_str());
  std::string line = head;
  if (e.contains("handle")) line += "pool " + str(e, "handle");
  if (e.contains("id")) {
    line += " pe " + str(e, "id");
    if (auto pe = e.find("pe"); pe != e.end() && pe->is_object()) {
      line += " home " + str(*pe, "home");
      if (auto t = pe->find("user_transport"); t != pe->end() && t->is_object()) line += " " + transport_text(*t);
    }
  }
  if (e.contains("previous_home")) line += " from home " + str(e, "previous_home");
  if (e.contains("cause")) line += " cause " + str(e, "cause");
  if (e.contains("peer")) {
    line += "peer " + str(e, "peer");
    if (auto ep = e.find("peer_endpoint"); ep != e.end() && ep->is_object()) line += " " + transport_text(*ep);
  }
  if (e.contains("taker")) line += " taker " + str(e, "taker");
  if (e.contains("pes")) line += " pes " + number(e, "pes");
  return line;
}

int run_events(const EventsOptions& o, std::ostream& out, std::ostream& err) {
  json pools = json::array();
  for (const std::string& p : o.pools) {
    if (!control::parse_pool_handle(p)) {
      err << "poolctl: bad pool handle '" << p << "' (1.." << kPoolHandleCapacity
          << " bytes of text, or 0x followed by hex bytes)\n";
      return kExitUsage;
    }
    pools.push_back(p);
  }
  json kinds = json::array();
  for (const std::string& k : o.kinds) {
    if (event_kinds_named(k) == 0) {
      err << "poolctl: unknown event kind '" << k
          << "' (a kind such as pe_registered or pe_removed, a family: pe, pool, peer, takeover, audit, or all)\n";
      return kExitUsage;
    }
    kinds.push_back(k);
  }

  control::ClientError error;
  auto client = control::ControlClient::connect(o.socket_path, o.connect_timeout_ms, &error);
  if (!client) {
    err << unreachable_message(o.socket_path, error.sys_errno, error.message) << "\n";
    return kExitUnreachable;
  }
  json args = json::object();
  if (!kinds.empty()) args["kinds"] = std::move(kinds);
  if (!pools.empty()) args["pools"] = std::move(pools);
  auto response = client->call("events", args, &error);
  if (!response) {
    err << "poolctl: events: no answer from poolregd at " << o.socket_path << ": " << error.message << "\n";
    return kExitUnreachable;
  }
  if (!(*response)["ok"].is_boolean() || !(*response)["ok"].get<bool>()) {
    err << "poolctl: events: " << response->value("error", std::string("unknown error")) << "\n";
    return kExitDaemonError;
  }

  SignalGuard signals;
  const std::int64_t deadline = o.timeout_ms > 0 ? now_ms() + static_cast<std::int64_t>(o.timeout_ms) : 0;
  std::uint64_t received = 0;
  while (o.count == 0 || received < o.count) {
    if (g_stop_signal != 0) return kExitOk;
    int wait_ms = 1000;  // wake up now and then even without a signal or a deadline
    if (deadline != 0) {
      const std::int64_t left = deadline - now_ms();
      if (left <= 0) break;
      wait_ms = static_cast<int>(std::min<std::int64_t>(left, wait_ms));
    }
    auto line = client->next_line(wait_ms, &error);
    if (!line) {
      if (error.sys_errno == ETIMEDOUT || error.sys_errno == EINTR) continue;
      err << "poolctl: events: " << error.message << "\n";
      return kExitUnreachable;
    }
    const json event = json::parse(*line, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      err << "poolctl: events: malformed line from poolregd\n";
      return kExitUnreachable;
    }
    if (o.json_lines) out << *line << "\n";
    else out << render_event_line(event) << "\n";
    out.flush();
    if (!out) return kExitOk;  // stdout closed (EPIPE): the reader is gone
    if (event.value("kind", std::string()) != "dropped") ++received;
  }
  if (o.count != 0 && received < o.count) {
    err << "poolctl: events: " << received << " of " << o.count << " event(s) within " << o.timeout_ms << " ms\n";
    return kExitDaemonError;
  }
  return kExitOk;
}

}  // namespace poolreg::poolctl
