// poolctl: the operator CLI of poolregd over its control socket. run_poolctl() is the whole
// program (main() only forwards), so tests run it in-process against a test control server.
//
// Exit codes: 0 success; 1 the daemon answered with an error (unknown pool, bad argument...);
// 2 usage error (bad command line, malformed pool handle or ID); 3 the daemon cannot be reached
// (no socket, connection refused, permission denied, timeout, connection lost).
#pragma once

#include <ostream>
#include <string>

namespace poolreg::poolctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDaemonError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// The control socket poolctl uses without --socket: $POOLCTL_SOCKET when set, else the daemon's
// automatic path (config::default_control_socket_path for this user).
std::string default_socket_path();

// interactive: `watch` may take over the terminal (raw mode, alternate screen); only main()
// passes true, and only when stdin and stdout are terminals.
int run_poolctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool interactive = false);

// "poolctl: cannot reach poolregd at PATH: <reason> — <hint>"
std::string unreachable_message(const std::string& path, int sys_errno, const std::string& reason);

}  // namespace poolreg::poolctl
