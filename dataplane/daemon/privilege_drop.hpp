// Privilege drop: poolregd started as root switches to `registrar.user` / `registrar.group` once
// its sockets are bound, keeping only the capabilities it still needs.
//
// Contract:
// - resolve_run_as() turns the configured names (or numeric ids) into ids and the user's
//   supplementary groups (getgrouplist); it reads the user/group databases and nothing else.
// - drop_privileges() is called once, on the main thread, after every socket is bound and before
//   the lanes' threads start (Application::Runtime::build). Threads that exist already (DPDK's EAL
//   threads) follow the uid/gid/groups switch (glibc applies set*id to every thread) and lose every
//   capability (the kernel clears them when a thread's uids leave 0); bounding set and
//   no-new-privileges are per thread and set on the calling one, which every later thread inherits.
// - It fails (the reason) unless afterwards: real/effective/saved uid and gid are the target's,
//   the supplementary groups are the target's, setuid(0) is refused, the effective and permitted
//   sets are exactly `keep`, the bounding set holds nothing but `keep`, the ambient set is empty
//   and no-new-privileges is on. The caller treats a failure as fatal.
// - Implemented with prctl/capget/capset directly (no libcap): a handful of calls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/common/expected.hpp"

namespace poolreg::daemon {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (the user's, or just gid)
  std::string user;           // as configured, for log lines
};

// A capability to keep, by number (linux/capability.h) and name.
struct Capability {
  int number;
  std::string_view name;
};

// The capabilities poolregd still needs once its sockets are bound:
// - kernel sockets: none (UDP/TCP/Unix sockets are already bound; ports below 1024 need
//   CAP_NET_BIND_SERVICE only for bind(), which is done). The raw IP socket of native SCTP
//   (kernel/raw_sctp_source.hpp) needs CAP_NET_RAW only to be opened, which is done at start,
//   before the drop, so CAP_NET_RAW is not kept either.
// - DPDK: CAP_IPC_LOCK (DPDK maps more hugepage memory at run time and vfio pins it for DMA,
//   charged against RLIMIT_MEMLOCK without it). Ports, vfio device fds, af_packet/tap sockets
//   are opened by EAL start-up, before the drop.
std::vector<Capability> capabilities_needed(bool dpdk_mode);

// user: name or numeric uid; group: name, numeric gid or "" (the user's primary group; a
// numeric uid without a passwd entry needs a group).
Expected<RunAs, std::string> resolve_run_as(std::string_view user, std::string_view group);

// The drop (see the contract above). Returns describe_credentials() afterwards.
Expected<std::string, std::string> drop_privileges(const RunAs& target, std::span<const Capability> keep);

// Before the drop: files the daemon opened as root and opens again later (the log file on a
// reload, the control socket it removes at stop) are given to the target user, so they keep
// working. Paths that are empty or do not exist are skipped. Returns one problem per failure.
std::vector<std::string> hand_over_paths(const RunAs& target, std::span<const std::string> paths);

// "uid 65534 gid 65534 groups 65534, capabilities effective none, permitted none, bounding
// none, ambient none, no_new_privs 1" for the calling thread.
std::string describe_credentials();

}  // namespace poolreg::daemon
