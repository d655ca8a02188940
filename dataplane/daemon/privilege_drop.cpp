// Switching from root to the configured user with prctl/capget/capset (see privilege_drop.hpp).
#include "dataplane/daemon/privilege_drop.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <fstream>

#include "dataplane/runtime/errno_text.hpp"

namespace poolreg::daemon {
namespace {

using runtime::errno_text;

// Names of capabilities 0..40 (linux/capability.h order), for log lines.
constexpr std::array<std::string_view, 41> kCapabilityNames{
    "cap_chown",          "cap_dac_override",  "cap_dac_read_search", "cap_fowner",        "cap_fsetid",
    "cap_kill",           "cap_setgid",        "cap_setuid",          "cap_setpcap",       "cap_linux_immutable",
    "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin",     "cap_net_raw",       "cap_ipc_lock",
    "cap_ipc_owner",      "cap_sys_module",    "cap_sys_rawio",       "cap_sys_chroot",    "cap_sys_ptrace",
    "cap_sys_pacct",      "cap_sys_admin",     "cap_sys_boot",        "cap_sys_nice",      "cap_sys_resource",
    "cap_sys_time",       "cap_sys_tty_config", "cap_mknod",          "cap_lease",         "cap_audit_write",
    "cap_audit_control",  "cap_setfcap",       "cap_mac_override",    "cap_mac_admin",     "cap_syslog",
    "cap_wake_alarm",     "cap_block_suspend", "cap_audit_read",      "cap_perfmon",       "cap_bpf",
    "cap_checkpoint_restore"};

// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap), 63 at most.
int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (!(in >> last) || last < 0 || last > 63) last = CAP_LAST_CAP;
  return last;
}

struct CapabilitySets {
  std::uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool read_sets(CapabilitySets* s) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return false;
  s->effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
  s->permitted = data[0].permitted | (std::uint64_t{data[1].permitted} << 32);
  s->inheritable = data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32);
  return true;
}

bool write_sets(const CapabilitySets& s) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  data[0] = {static_cast<std::uint32_t>(s.effective), static_cast<std::uint32_t>(s.permitted),
             static_cast<std::uint32_t>(s.inheritable)};
  data[1] = {static_cast<std::uint32_t>(s.effective >> 32), static_cast<std::uint32_t>(s.permitted >> 32),
             static_cast<std::uint32_t>(s.inheritable >> 32)};
  return ::syscall(SYS_capset, &header, data.data()) == 0;
}

std::uint64_t bounding_set() {
  std::uint64_t set = 0;
  for (int cap = 0; cap <= last_capability(); ++cap)
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) set |= std::uint64_t{1} << cap;
  return set;
}

std::uint64_t ambient_set() {
  std::uint64_t set = 0;
  for (int cap = 0; cap <= last_capability(); ++cap)
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) set |= std::uint64_t{1} << cap;
  return set;
}

std::string names(std::uint64_t set) {
  if (set == 0) return "none";
  std::string out;
  for (int cap = 0; cap < 64; ++cap) {
    if ((set & (std::uint64_t{1} << cap)) == 0) continue;
    if (!out.empty()) out += ",";
    out += cap < static_cast<int>(kCapabilityNames.size()) ? std::string(kCapabilityNames[cap])
                                                           : "cap_" + std::to_string(cap);
  }
  return out;
}

std::uint64_t mask_of(std::span<const Capability> keep) {
  std::uint64_t m = 0;
  for (const Capability& c : keep) m |= std::uint64_t{1} << c.number;
  return m;
}

template <typename T>
bool parse_id(std::string_view text, T* out) {
  unsigned long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v >= 0xffffffffUL) return false;
  *out = static_cast<T>(v);
  return true;
}

std::vector<gid_t> current_groups() {
  const int n = ::getgroups(0, nullptr);
  std::vector<gid_t> g(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n > 0 && ::getgroups(n, g.data()) != n) g.clear();
  std::sort(g.begin(), g.end());
  return g;
}

}  // namespace

std::vector<Capability> capabilities_needed(bool dpdk_mode) {
  if (dpdk_mode) return {{CAP_IPC_LOCK, "cap_ipc_lock"}};
  return {};
}

Expected<RunAs, std::string> resolve_run_as(std::string_view user, std::string_view group_name) {
  RunAs r;
  r.user = std::string(user);
  const std::string user_text(user);
  std::array<char, 16384> buffer{};
  passwd pw{};
  passwd* found = nullptr;
  uid_t numeric_uid = 0;
  const bool numeric = parse_id(user, &numeric_uid);
  if (numeric) {
    ::getpwuid_r(numeric_uid, &pw, buffer.data(), buffer.size(), &found);
  } else {
    ::getpwnam_r(user_text.c_str(), &pw, buffer.data(), buffer.size(), &found);
    if (found == nullptr) return unexpected("registrar.user \"" + user_text + "\": no such user");
  }
  r.uid = found != nullptr ? found->pw_uid : numeric_uid;
  if (!group_name.empty()) {
    const std::string group_text(group_name);
    if (!parse_id(group_name, &r.gid)) {
      std::array<char, 16384> gbuffer{};
      struct group gr {};
      struct group* gfound = nullptr;
      ::getgrnam_r(group_text.c_str(), &gr, gbuffer.data(), gbuffer.size(), &gfound);
      if (gfound == nullptr) return unexpected("registrar.group \"" + group_text + "\": no such group");
      r.gid = gfound->gr_gid;
    }
  } else if (found != nullptr) {
    r.gid = found->pw_gid;
  } else {
    return unexpected("registrar.user " + user_text +
                      " is a uid without a passwd entry: set registrar.group (a group name or gid) too");
  }
  r.groups = {r.gid};
  if (found != nullptr) {
    // The user's supplementary groups (as login would give), plus the chosen group.
    int n = 64;
    std::vector<gid_t> g(static_cast<std::size_t>(n));
    if (::getgrouplist(found->pw_name, r.gid, g.data(), &n) < 0 && n > 0) {
      g.resize(static_cast<std::size_t>(n));
      if (::getgrouplist(found->pw_name, r.gid, g.data(), &n) < 0) n = 0;
    }
    g.resize(static_cast<std::size_t>(std::max(n, 0)));
    if (std::find(g.begin(), g.end(), r.gid) == g.end()) g.push_back(r.gid);
    r.groups = g;
  }
  std::sort(r.groups.begin(), r.groups.end());
  r.groups.erase(std::unique(r.groups.begin(), r.groups.end()), r.groups.end());
  return r;
}

Expected<std::string, std::string> drop_privileges(const RunAs& target, std::span<const Capability> keep) {
  const std::uint64_t keep_mask = mask_of(keep);
  if (::geteuid() != 0) {
    if (::getuid() == target.uid && ::geteuid() == target.uid && ::getgid() == target.gid)
      return describe_credentials();  // started as that user already (e.g. by systemd's User=)
    return unexpected("registrar.user " + target.user + ": poolregd runs as uid " + std::to_string(::geteuid()) +
                      ", not root, and cannot switch to uid " + std::to_string(target.uid));
  }
  // Keep the permitted set across the uid change (reduced to `keep` right after).
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return unexpected("prctl(PR_SET_KEEPCAPS): " + errno_text(errno));
  // The bounding set first: dropping from it needs CAP_SETPCAP, which root still has here.
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if ((keep_mask & (std::uint64_t{1} << cap)) != 0) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return unexpected("prctl(PR_CAPBSET_DROP, " + names(std::uint64_t{1} << cap) + "): " + errno_text(errno));
  }
  if (::setgroups(target.groups.size(), target.groups.data()) != 0)
    return unexpected("setgroups: " + errno_text(errno));
  if (::setresgid(target.gid, target.gid, target.gid) != 0)
    return unexpected("setresgid(" + std::to_string(target.gid) + "): " + errno_text(errno));
  if (::setresuid(target.uid, target.uid, target.uid) != 0)
    return unexpected("setresuid(" + std::to_string(target.uid) + "): " + errno_text(errno));
  if (!write_sets({keep_mask, keep_mask, 0})) return unexpected("capset: " + errno_text(errno));
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return unexpected("prctl(PR_CAP_AMBIENT_CLEAR_ALL): " + errno_text(errno));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return unexpected("prctl(PR_SET_KEEPCAPS, 0): " + errno_text(errno));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return unexpected("prctl(PR_SET_NO_NEW_PRIVS): " + errno_text(errno));

  // Check the result rather than trust the calls.
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  ::getresuid(&ru, &eu, &su);
  ::getresgid(&rg, &eg, &sg);
  if (ru != target.uid || eu != target.uid || su != target.uid || rg != target.gid || eg != target.gid ||
      sg != target.gid)
    return unexpected("uids/gids are not the target's after the switch: " + describe_credentials());
  std::vector<gid_t> want_groups = target.groups;
  std::sort(want_groups.begin(), want_groups.end());
  if (current_groups() != want_groups) return unexpected("supplementary groups not set: " + describe_credentials());
  if (target.uid != 0 && ::setuid(0) == 0) return unexpected("setuid(0) still succeeds after the switch");
  CapabilitySets now;
  if (!read_sets(&now)) return unexpected("capget: " + errno_text(errno));
  if (now.effective != keep_mask || now.permitted != keep_mask || now.inheritable != 0 ||
      (bounding_set() & ~keep_mask) != 0 || ambient_set() != 0)
    return unexpected("capabilities not reduced to " + names(keep_mask) + ": " + describe_credentials());
  if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return unexpected("no_new_privs not set");
  return describe_credentials();
}

std::vector<std::string> hand_over_paths(const RunAs& target, std::span<const std::string> paths) {
  std::vector<std::string> problems;
  for (const std::string& p : paths) {
    if (p.empty() || ::access(p.c_str(), F_OK) != 0) continue;
    if (::chown(p.c_str(), target.uid, target.gid) != 0) problems.push_back("chown " + p + ": " + errno_text(errno));
  }
  return problems;
}

std::string describe_credentials() {
  std::string groups;
  for (gid_t g : current_groups()) groups += (groups.empty() ? "" : ",") + std::to_string(g);
  CapabilitySets s;
  const bool read = read_sets(&s);
  return "uid " + std::to_string(::getuid()) + " gid " + std::to_string(::getgid()) + " groups " +
         (groups.empty() ? std::string("none") : groups) + ", capabilities effective " +
         (read ? names(s.effective) : "?") + ", permitted " + (read ? names(s.permitted) : "?") + ", bounding " +
         names(bounding_set()) + ", ambient " + names(ambient_set()) + ", no_new_privs " +
         std::to_string(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

}  // namespace poolreg::daemon
