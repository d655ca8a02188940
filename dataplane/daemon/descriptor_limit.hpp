// DescriptorLimit: the start-up check of the open-file limit (RLIMIT_NOFILE) against what the
// configuration lets poolregd open. Every ASAP TCP connection is a descriptor (SCTP associations
// live inside usrsctp and cost none, but the limit is one number for both), so up to
// limits.max_associations of them, plus a margin for the rest of the process.
//
// Why at start-up: past the limit accept() fails with EMFILE and clients wait in the backlog
// (the listeners rest, runtime/listener_pause.hpp). Distributions default the soft limit to 1024
// while the hard limit is usually far higher, so raising the soft limit fixes most hosts; what
// is still short is reported with the numbers so the operator can raise the hard limit
// (LimitNOFILE= in a systemd unit, ulimit -Hn) or lower limits.max_associations.
//
// Call once from main(), before the Application opens its sockets (the limit is process-wide).
#pragma once

#include <cstdint>

#include "config/registrar_config.hpp"

namespace poolreg::daemon {

// Descriptors beyond the associations: listeners (up to 6), epoll/eventfd/signalfd, a UDP socket
// and wake-up eventfds per lane, the control socket and metrics endpoint with up to 64 clients
// each, ENRP peer connections over TCP, the log file. Generous on purpose: running short costs
// clients, a few unused descriptors cost nothing.
inline constexpr std::uint64_t kDescriptorMargin = 512;

struct DescriptorLimit {
  std::uint64_t needed = 0;       // limits.max_associations + kDescriptorMargin
  std::uint64_t soft_before = 0;  // the soft limit poolregd started with
  std::uint64_t soft = 0;         // the soft limit now (raised when it was short)
  std::uint64_t hard = 0;
  int error = 0;                  // errno of a failed getrlimit/setrlimit, else 0

  bool raised() const noexcept { return soft > soft_before; }
  bool enough() const noexcept { return soft >= needed; }
};

std::uint64_t descriptors_needed(const config::RegistrarConfig& config) noexcept;

// Reads RLIMIT_NOFILE and, when the soft limit is below `needed`, raises it to min(needed, hard).
DescriptorLimit ensure_descriptor_limit(std::uint64_t needed) noexcept;

}  // namespace poolreg::daemon
