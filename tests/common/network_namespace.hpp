// Network namespaces for tests (shared by the DPDK tests and the integration tests; no project
// dependency): shell commands run quietly, a named namespace removed on destruction, leftovers of
// dead test processes removed by name, and a veth pair between two namespaces. Every name a test
// creates carries its pid ("<prefix>-<pid>..."), so a SIGKILLed test's namespaces are found and
// deleted by the next run (remove_stale_namespaces). Needs root and the `ip` command.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace poolreg::test_netns {

// Runs `command` through the shell with its output discarded; its exit code (-1: no normal exit).
inline int run_quiet(const std::string& command) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): called from the test's main thread only
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Why network-namespace tests cannot run here ("" = they can): root and `ip` are needed.
inline std::string namespaces_unavailable() {
  if (::geteuid() != 0) return "needs root (network namespaces and veth pairs)";
  if (run_quiet("command -v ip") != 0) return "needs the ip command (iproute2)";
  return "";
}

// Deletes the namespaces "<prefix>-<pid>..." whose process <pid> is gone, and runs
// `also(name, pid_part)` for each (e.g. to delete an interface left in our namespace).
template <typename Also>
void remove_stale_namespaces(const std::string& prefix, Also also) {
  std::error_code ec;
  const std::string head = prefix + "-";
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(head, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + head.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0) {
      run_quiet("ip netns del " + name);
      also(name, name.substr(head.size()));
    }
  }
}
inline void remove_stale_namespaces(const std::string& prefix) {
  remove_stale_namespaces(prefix, [](const std::string&, const std::string&) {});
}

// A named network namespace with its loopback up; deleted (with every interface in it) on
// destruction. ok() false when `ip netns add` failed.
class NetworkNamespace {
 public:
  explicit NetworkNamespace(std::string name) : name_(std::move(name)) {
    if (run_quiet("ip netns add " + name_) != 0) {
      name_.clear();
      return;
    }
    run_quiet(exec() + "ip link set lo up");
  }
  ~NetworkNamespace() {
    if (!name_.empty()) run_quiet("ip netns del " + name_);
  }
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  bool ok() const noexcept { return !name_.empty(); }
  const std::string& name() const noexcept { return name_; }
  // Prefix running a command inside the namespace.
  std::string exec() const { return "ip netns exec " + name_ + " "; }
  // Runs `command` inside the namespace (quietly); true on exit code 0.
  bool run(const std::string& command) const { return ok() && run_quiet(exec() + command) == 0; }

 private:
  std::string name_;
};

// A veth pair from `a` (interface a_end) to `b` (interface b_end), both ends up. The pair goes
// with either namespace. False when a command failed.
inline bool add_veth(const NetworkNamespace& a, const std::string& a_end, const NetworkNamespace& b,
                     const std::string& b_end) {
  return a.run("ip link add " + a_end + " type veth peer name " + b_end + " netns " + b.name()) &&
         a.run("ip link set " + a_end + " up") && b.run("ip link set " + b_end + " up");
}

}  // namespace poolreg::test_netns
