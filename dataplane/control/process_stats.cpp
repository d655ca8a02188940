#include "dataplane/control/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace poolreg::control {
namespace {

std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Boot time (seconds since the epoch) from the "btime" line of /proc/stat.
std::optional<std::uint64_t> boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  std::uint64_t value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::uint64_t count_fds() {
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n > 0 ? n - 1 : 0;  // the iterator's own descriptor
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Field 3 (state) follows ") "; count fields from there.
  std::string_view rest = text.substr(close + 1);
  ProcStat s;
  int field = 2;
  bool ok_fields = false;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    std::size_t end = rest.find(' ');
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view token = rest.substr(0, end);
    ++field;
    std::uint64_t* into = nullptr;
    switch (field) {
      case 14: into = &s.utime_ticks; break;
      case 15: into = &s.stime_ticks; break;
      case 20: into = &s.threads; break;
      case 22: into = &s.starttime_ticks; break;
      case 23: into = &s.vsize_bytes; break;
      case 24: into = &s.rss_pages; ok_fields = true; break;
      default: break;
    }
    if (into != nullptr) {
      const auto r = std::from_chars(token.data(), token.data() + token.size(), *into);
      if (r.ec != std::errc() || r.ptr != token.data() + token.size()) return std::nullopt;
    }
    if (ok_fields) return s;
    rest.remove_prefix(end);
  }
  return std::nullopt;
}

std::optional<ProcessStats> read_process_stats() {
  const auto text = read_file("/proc/self/stat");
  if (!text) return std::nullopt;
  const auto stat = parse_proc_stat(*text);
  if (!stat) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessStats p;
  p.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
  p.resident_bytes = static_cast<double>(stat->rss_pages) * page;
  p.virtual_bytes = static_cast<double>(stat->vsize_bytes);
  if (const auto boot = boot_time())
    p.start_time_seconds = static_cast<double>(*boot) + static_cast<double>(stat->starttime_ticks) / ticks;
  p.threads = stat->threads;
  p.open_fds = count_fds();
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = rl.rlim_cur;
  return p;
}

}  // namespace poolreg::control
