#include "registrar/asap/unreachable_reporters.hpp"

#include <algorithm>

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
  const IpAddress& a = peer_addresses.front();
  if (a.is_v4()) return a;
  const std::uint8_t* b = a.data();
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return a;
  if (b[10] != 0xff || b[11] != 0xff) return a;
  return IpAddress::v4({b[12], b[13], b[14], b[15]});
}

}  // namespace poolreg::asap
