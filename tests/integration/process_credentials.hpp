// What /proc says about a process's credentials, per thread: uids, gids, supplementary groups,
// the capability sets, no_new_privs, CPU affinity. Used by the privilege-drop tests (the daemon
// must not keep root or a capability it does not need) and the DPDK lane-pinning test.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace poolreg::test {

struct TaskStatus {
  std::string tid;
  std::string name;
  std::vector<unsigned long> uid, gid;  // real, effective, saved, filesystem
  std::string groups;                   // as /proc shows them ("65534")
  std::uint64_t cap_inh = ~0ull, cap_prm = ~0ull, cap_eff = ~0ull, cap_bnd = ~0ull, cap_amb = ~0ull;
  int no_new_privs = -1;
  std::string cpus_allowed;  // Cpus_allowed_list, e.g. "1"
};

inline std::optional<TaskStatus> read_task_status(const std::filesystem::path& status_file) {
  std::ifstream in(status_file);
  if (!in) return std::nullopt;
  TaskStatus t;
  std::string line;
  auto ids = [](const std::string& rest) {
    std::vector<unsigned long> v;
    std::istringstream s(rest);
    unsigned long x = 0;
    while (s >> x) v.push_back(x);
    return v;
  };
  auto hex = [](const std::string& rest) { return std::stoull(rest, nullptr, 16); };
  while (std::getline(in, line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    std::string rest = line.substr(colon + 1);
    rest.erase(0, rest.find_first_not_of(" \t"));
    if (key == "Name") t.name = rest;
    else if (key == "Uid") t.uid = ids(rest);
    else if (key == "Gid") t.gid = ids(rest);
    else if (key == "Groups") t.groups = rest.substr(0, rest.find_last_not_of(" \t") + 1);
    else if (key == "CapInh") t.cap_inh = hex(rest);
    else if (key == "CapPrm") t.cap_prm = hex(rest);
    else if (key == "CapEff") t.cap_eff = hex(rest);
    else if (key == "CapBnd") t.cap_bnd = hex(rest);
    else if (key == "CapAmb") t.cap_amb = hex(rest);
    else if (key == "NoNewPrivs") t.no_new_privs = std::stoi(rest);
    else if (key == "Cpus_allowed_list") t.cpus_allowed = rest;
  }
  t.tid = status_file.parent_path().filename().string();
  return t;
}

// Every thread of pid (empty when the process is gone).
inline std::vector<TaskStatus> read_all_tasks(pid_t pid) {
  std::vector<TaskStatus> tasks;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    if (auto t = read_task_status(e.path() / "status")) tasks.push_back(*t);
  return tasks;
}

inline std::string describe(const TaskStatus& t) {
  std::ostringstream s;
  s << t.name << " (" << t.tid << "): uid";
  for (auto u : t.uid) s << ' ' << u;
  s << " gid";
  for (auto g : t.gid) s << ' ' << g;
  s << " groups [" << t.groups << "] CapPrm " << std::hex << t.cap_prm << " CapEff " << t.cap_eff << " CapBnd "
    << t.cap_bnd << " CapAmb " << t.cap_amb << std::dec << " NoNewPrivs " << t.no_new_privs << " cpus "
    << t.cpus_allowed;
  return s.str();
}

}  // namespace poolreg::test
