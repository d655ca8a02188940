#include "tests/dataplane/capture/tshark_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

extern char** environ;

namespace poolreg::testing {
namespace {

struct ProcessResult {
  bool started = false;
  bool timed_out = false;
  int exit_status = -1;
  std::string out;
  std::string err;
  std::string error;
};

// Runs argv[0] (an absolute path) with stdin from /dev/null and the environment `env`; collects
// stdout and stderr until both close or the deadline passes (then the child is killed).
ProcessResult run_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          int timeout_ms) {
  ProcessResult r;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    r.error = std::string("posix_spawn: ") + std::strerror(rc);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return r;
  }
  r.started = true;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (r.timed_out || !r.error.empty()) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<std::string> strings_of(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& v : value) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  } else {
    out.push_back(value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

// tshark prints integers in decimal or, for hex-based fields, as "0x...".
std::optional<long long> to_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 0);
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return v;
}

int number_at(const FrameReport& f, const std::string& name, std::size_t i) {
  const auto& values = f.field(name);
  if (i >= values.size()) return -1;
  return static_cast<int>(to_number(values[i]).value_or(-1));
}

void add_messages(FrameReport& f, RSerPoolProtocol protocol, const std::string& prefix) {
  const auto& types = f.field(prefix + ".message_type");
  for (std::size_t i = 0; i < types.size(); ++i) {
    DecodedMessage m;
    m.protocol = protocol;
    m.type = number_at(f, prefix + ".message_type", i);
    m.flags = number_at(f, prefix + ".message_flags", i);
    m.length = number_at(f, prefix + ".message_length", i);
    f.messages.push_back(m);
  }
}

FrameReport parse_frame(const nlohmann::json& layers) {
  FrameReport f;
  for (const auto& [name, value] : layers.items()) f.fields[name] = strings_of(value);
  f.number = static_cast<int>(
      to_number(f.field("frame.number").empty() ? "" : f.field("frame.number")[0]).value_or(0));
  if (!f.field("frame.protocols").empty()) f.protocols = f.field("frame.protocols")[0];
  add_messages(f, RSerPoolProtocol::kAsap, "asap");
  add_messages(f, RSerPoolProtocol::kEnrp, "enrp");
  // tshark lists the malformed item's text and then the bare field name "_ws.malformed".
  for (const std::string& text : f.field("_ws.malformed")) {
    if (text != "_ws.malformed") f.malformed.push_back(text);
  }
  if (f.malformed.empty() && !f.field("_ws.malformed").empty()) f.malformed.push_back("_ws.malformed");
  const auto& severities = f.field("_ws.expert.severity");
  const auto& groups = f.field("_ws.expert.group");
  const auto& messages = f.field("_ws.expert.message");
  for (std::size_t i = 0; i < severities.size(); ++i) {
    ExpertItem e;
    e.severity = static_cast<std::uint32_t>(to_number(severities[i]).value_or(0));
    if (i < groups.size()) e.group = static_cast<std::uint32_t>(to_number(groups[i]).value_or(0));
    if (i < messages.size()) e.message = messages[i];
    f.experts.push_back(std::move(e));
  }
  return f;
}

std::string severity_name(std::uint32_t s) {
  switch (static_cast<ExpertSeverity>(s)) {
    case ExpertSeverity::kComment:
      return "comment";
    case ExpertSeverity::kChat:
      return "chat";
    case ExpertSeverity::kNote:
      return "note";
    case ExpertSeverity::kWarn:
      return "warn";
    case ExpertSeverity::kError:
      return "error";
  }
  return "severity " + std::to_string(s);
}

}  // namespace

const std::vector<std::string>& FrameReport::field(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  const auto it = fields.find(name);
  return it == fields.end() ? kEmpty : it->second;
}

std::vector<ExpertItem> FrameReport::problems(ExpertSeverity min) const {
  std::vector<ExpertItem> out;
  for (const ExpertItem& e : experts) {
    if (e.at_least(min)) out.push_back(e);
  }
  return out;
}

std::string FrameReport::describe() const {
  std::ostringstream s;
  s << "frame " << number << " [" << protocols << "]";
  for (const DecodedMessage& m : messages) {
    s << (m.protocol == RSerPoolProtocol::kAsap ? " asap" : " enrp") << " type=" << m.type
      << " flags=" << m.flags << " len=" << m.length;
  }
  for (const std::string& t : malformed) s << " MALFORMED{" << t << "}";
  for (const ExpertItem& e : experts)
    s << " expert{" << severity_name(e.severity) << ": " << e.message << "}";
  return s.str();
}

std::vector<const FrameReport*> TsharkReport::problem_frames(ExpertSeverity min) const {
  std::vector<const FrameReport*> out;
  for (const FrameReport& f : frames) {
    if (!f.well_formed(min)) out.push_back(&f);
  }
  return out;
}

const FrameReport* TsharkReport::frame(int number) const {
  for (const FrameReport& f : frames) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

std::optional<std::string> find_tshark() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view rest(path);
  while (!rest.empty()) {  // bounded: every round consumes at least one character
    const std::size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/tshark";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

const std::vector<std::string>& default_tshark_fields() {
  static const std::vector<std::string> kFields = {
      "frame.number",        "frame.protocols",   "asap.message_type",   "asap.message_flags",
      "asap.message_length", "enrp.message_type", "enrp.message_flags",  "enrp.message_length",
      "_ws.malformed",       "_ws.expert",        "_ws.expert.severity", "_ws.expert.group",
      "_ws.expert.message"};
  return kFields;
}

TsharkReport run_tshark(const std::string& tshark_path, const std::string& pcap_path,
                        const TsharkOptions& options) {
  TsharkReport report;
  std::vector<std::string>& cmd = report.command;
  cmd = {tshark_path, "-n", "-r", pcap_path, "-T", "json"};
  for (std::uint16_t port : options.sctp_over_udp_ports) {
    cmd.push_back("-d");
    cmd.push_back("udp.port==" + std::to_string(port) + ",sctp");
  }
  if (options.validate_checksums) {
    for (const char* pref : {"sctp.checksum:CRC-32C", "ip.check_checksum:TRUE", "udp.check_checksum:TRUE",
                             "tcp.check_checksum:TRUE"}) {
      cmd.push_back("-o");
      cmd.push_back(pref);
    }
  }
  if (options.display_filter) {
    cmd.push_back("-Y");
    cmd.push_back(*options.display_filter);
  }
  for (const std::string& a : options.extra_args) cmd.push_back(a);
  for (const auto* list : {&default_tshark_fields(), &options.fields}) {
    for (const std::string& f : *list) {
      cmd.push_back("-e");
      cmd.push_back(f);
    }
  }

  std::vector<std::string> env;
  constexpr std::string_view kConfigVar = "WIRESHARK_CONFIG_DIR=";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (options.ignore_personal_config && entry.substr(0, kConfigVar.size()) == kConfigVar) continue;
    env.emplace_back(entry);
  }
  if (options.ignore_personal_config)
    env.push_back(std::string(kConfigVar) + "/nonexistent-poolreg-wireshark-config");

  ProcessResult p = run_process(cmd, env, options.timeout_ms);
  report.exit_status = p.exit_status;
  report.stderr_text = std::move(p.err);
  if (!p.started) {
    report.error = "tshark did not start: " + p.error;
    return report;
  }
  if (p.timed_out) {
    report.error = "tshark timed out after " + std::to_string(options.timeout_ms) + " ms";
    return report;
  }
  if (!p.error.empty()) {
    report.error = p.error;
    return report;
  }
  if (p.exit_status != 0) {
    report.error = "tshark exited with status " + std::to_string(p.exit_status) + ": " + report.stderr_text;
    return report;
  }
  if (p.out.find_first_not_of(" \t\r\n") == std::string::npos) {  // no packets: no output at all
    report.ok = true;
    return report;
  }
  const nlohmann::json doc = nlohmann::json::parse(p.out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    report.error = "tshark output is not a JSON array";
    return report;
  }
  for (const auto& packet : doc) {
    const auto source = packet.find("_source");
    if (source == packet.end() || !source->is_object()) continue;
    const auto layers = source->find("layers");
    if (layers == source->end() || !layers->is_object()) continue;
    report.frames.push_back(parse_frame(*layers));
  }
  report.ok = true;
  return report;
}

}  // namespace poolreg::testing
