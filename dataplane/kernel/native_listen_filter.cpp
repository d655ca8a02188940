#include "dataplane/kernel/native_listen_filter.hpp"

#include <algorithm>
#include <cstring>

namespace poolreg::kernel {

NativeListenFilter::NativeListenFilter(const std::vector<NativeListener>& listeners) {
  std::vector<std::uint16_t> wildcard;
  for (const NativeListener& l : listeners)
    if (l.addresses.empty()) wildcard.push_back(l.port);
  for (const NativeListener& l : listeners) {
    if (l.addresses.empty() || std::find(wildcard.begin(), wildcard.end(), l.port) != wildcard.end())
      continue;
    auto it =
        std::find_if(ports_.begin(), ports_.end(), [&](const Restricted& r) { return r.port == l.port; });
    if (it == ports_.end()) it = ports_.insert(ports_.end(), Restricted{l.port, {}});
    for (const IpAddress& a : l.addresses)
      if (std::find(it->addresses.begin(), it->addresses.end(), a) == it->addresses.end())
        it->addresses.push_back(a);
  }
}

bool NativeListenFilter::admits(std::uint16_t dst_port, const sctp::SctpPacketFrom& to) const noexcept {
  for (const Restricted& r : ports_) {
    if (r.port != dst_port) continue;
    const std::size_t n = to.ipv6 ? 16 : 4;
    for (const IpAddress& a : r.addresses)
      if (a.is_v4() == !to.ipv6 && std::memcmp(a.data(), to.dst_ip, n) == 0) return true;
    return false;
  }
  return true;
}

}  // namespace poolreg::kernel
