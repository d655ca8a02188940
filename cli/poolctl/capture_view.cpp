#include "cli/poolctl/capture_view.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/poolctl/poolctl_app.hpp"
#include "dataplane/control/control_client.hpp"

namespace poolreg::poolctl {
namespace {

using json = nlohmann::json;

// One call; on failure prints why and returns the exit code in `rc`.
std::optional<json> call_once(const CaptureOptions& o, const char* cmd, const json& args, std::ostream& err, int& rc) {
  control::ClientError error;
  auto client = control::ControlClient::connect(o.socket_path, o.timeout_ms, &error);
  if (!client) {
    err << unreachable_message(o.socket_path, error.sys_errno, error.message) << "\n";
    rc = kExitUnreachable;
    return std::nullopt;
  }
  auto response = client->call(cmd, args, &error);
  if (!response) {
    err << "poolctl: " << cmd << ": no answer from poolregd at " << o.socket_path << ": " << error.message << "\n";
    rc = kExitUnreachable;
    return std::nullopt;
  }
  if (!(*response)["ok"].is_boolean() || !(*response)["ok"].get<bool>()) {
    err << "poolctl: " << cmd << ": " << response->value("error", std::string("unknown error")) << "\n";
    rc = kExitDaemonError;
    return std::nullopt;
  }
  return (*response)["result"];
}

int print(const CaptureOptions& o, const json& state, std::ostream& out) {
  if (o.json_output) out << state.dump(2) << "\n";
  else out << render_capture(state);
  return state.value("ended", std::string()) == "write_error" ? kExitDaemonError : kExitOk;
}

}  // namespace

std::string render_capture(const json& s) {
  const std::string file = s.value("file", std::string());
  if (file.empty()) return "no capture yet\n";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.3f s", static_cast<double>(s.value("elapsed_ms", std::uint64_t{0})) / 1000.0);
  std::string line = "capture " + file + ": " + std::to_string(s.value("frames", std::uint64_t{0})) + " frames, " +
                     std::to_string(s.value("bytes", std::uint64_t{0})) + " bytes, " +
                     std::to_string(s.value("dropped", std::uint64_t{0})) + " dropped, " + elapsed;
  line += s.value("active", false) ? ", running" : ", ended: " + s.value("ended", std::string("?"));
  return line + "\n";
}

int run_capture(const CaptureOptions& o, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  if (o.mode == CaptureOptions::Mode::kStatus) {
    auto s = call_once(o, "capture-status", json::object(), err, rc);
    return s ? print(o, *s, out) : rc;
  }
  if (o.mode == CaptureOptions::Mode::kStop) {
    auto s = call_once(o, "capture", json{{"action", "stop"}}, err, rc);
    return s ? print(o, *s, out) : rc;
  }
  json args{{"action", "start"},
            {"file", std::filesystem::absolute(o.file).lexically_normal().string()},
            {"snaplen", o.snaplen},
            {"count", o.count},
            {"duration_ms", o.duration_ms}};
  if (!o.ports.empty()) args["ports"] = o.ports;
  if (!o.lanes.empty()) args["lanes"] = o.lanes;
  auto started = call_once(o, "capture", args, err, rc);
  if (!started) return rc;
  if (!o.wait) return print(o, *started, out);
  // The daemon ends the capture by duration at the latest; a little more for the last drain.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.duration_ms) + std::chrono::seconds(5);
  json state = *started;
  while (state.value("active", false)) {
    if (std::chrono::steady_clock::now() > deadline) {
      err << "poolctl: capture: still running after its duration; poolctl capture --stop ends it\n";
      return kExitDaemonError;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_interval_ms));
    auto s = call_once(o, "capture-status", json::object(), err, rc);
    if (!s) return rc;
    state = *s;
  }
  return print(o, state, out);
}

}  // namespace poolreg::poolctl
