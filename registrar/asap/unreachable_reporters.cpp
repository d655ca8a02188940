#include "registrar/asap/unreachable_reporters.hpp"

#include <algorithm>

#include "registrar/common/ipv4_mapped.hpp"

namespace poolreg::asap {

UnreachableReporters::UnreachableReporters(std::size_t max_reporters, std::size_t max_pes)
    : max_reporters_(std::max<std::size_t>(max_reporters, 1)), max_pes_(std::max<std::size_t>(max_pes, 1)) {}

bool UnreachableReporters::first_report(const PoolHandle& handle, PoolElementId id, const IpAddress& reporter) {
  Key key{handle, id};
  auto it = rounds_.find(key);
  if (it == rounds_.end()) {
    if (rounds_.size() >= max_pes_) rounds_.erase(rounds_.begin());
    rounds_.emplace(key, std::vector<IpAddress>{reporter});
    return true;
  }
  std::vector<IpAddress>& seen = it->second;
  if (seen.size() >= max_reporters_) return false;
  if (std::find(seen.begin(), seen.end(), reporter) != seen.end()) return false;
  seen.push_back(reporter);
  return true;
}

void UnreachableReporters::restart(const PoolHandle& handle, PoolElementId id, const IpAddress& reporter) {
  auto it = rounds_.find(Key{handle, id});
  if (it != rounds_.end()) it->second.assign(1, reporter);
}

void UnreachableReporters::forget(const PoolHandle& handle, PoolElementId id) { rounds_.erase(Key{handle, id}); }

IpAddress reporter_address(const std::vector<IpAddress>& peer_addresses) noexcept {
  if (peer_addresses.empty()) return IpAddress{};
  return unmapped(peer_addresses.front());
}

}  // namespace poolreg::asap
