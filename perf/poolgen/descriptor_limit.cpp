// Descriptor limit (see descriptor_limit.hpp).
#include "perf/poolgen/descriptor_limit.hpp"

#include <sys/resource.h>

namespace poolreg::poolgen {

std::uint64_t descriptors_needed(const PoolgenConfig& config) noexcept {
  constexpr std::uint64_t kPerLane = 8;  // epoll, eventfd, signalfd, UDP socket, raw sockets
  constexpr std::uint64_t kMargin = 64;  // stdio, report, pcap, timeseries, /proc reads
  const std::uint64_t lanes = config.threads == 0 ? 1 : config.threads;
  std::uint64_t n = lanes * kPerLane + kMargin;
  if (config.transport == client::ClientTransport::kTcp) {
    const std::uint64_t registrars = config.registrars.empty() ? 1 : config.registrars.size();
    const std::uint64_t pe_assocs =
        config.assoc_per_pe ? config.pes + config.probes : registrars * config.pe_associations * lanes;
    n += pe_assocs + registrars * config.pu_associations * lanes;
  }
  return n;
}

Expected<std::string, std::string> ensure_descriptors(std::uint64_t needed) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return std::string();
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= needed) return std::string();
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < needed) {
    return unexpected("the run needs " + std::to_string(needed) + " file descriptors (one per TCP association), " +
                      "the hard limit RLIMIT_NOFILE is " + std::to_string(lim.rlim_max) +
                      ": raise it (ulimit -Hn) or use SCTP (no descriptor per association)");
  }
  const rlim_t old = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return unexpected("cannot raise RLIMIT_NOFILE to " + std::to_string(lim.rlim_max));
  }
  return "raised the open-file limit (RLIMIT_NOFILE) from " + std::to_string(old) + " to " +
         (lim.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_max)) + " for " +
         std::to_string(needed) + " descriptors";
}

}  // namespace poolreg::poolgen
