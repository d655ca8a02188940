#include "dataplane/daemon/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

namespace poolreg::daemon {

std::uint64_t descriptors_needed(const config::RegistrarConfig& config) noexcept {
  return std::uint64_t{config.limits.max_associations} + kDescriptorMargin;
}

DescriptorLimit ensure_descriptor_limit(std::uint64_t needed) noexcept {
  DescriptorLimit r;
  r.needed = needed;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    r.error = errno;
    return r;
  }
  // RLIM_INFINITY is the largest rlim_t: the comparisons below treat it as "no limit".
  r.soft_before = r.soft = lim.rlim_cur;
  r.hard = lim.rlim_max;
  if (r.soft >= needed) return r;
  // Linux refuses a soft limit above fs.nr_open even when the hard limit is infinite.
  rlimit raised = lim;
  raised.rlim_cur = std::min<rlim_t>(needed, lim.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    r.error = errno;
    return r;
  }
  r.soft = raised.rlim_cur;
  return r;
}

}  // namespace poolreg::daemon
