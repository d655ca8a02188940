#include "dataplane/sctp/listed_address_cache.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace poolreg::sctp {

std::size_t ListedAddressCache::KeyHash::operator()(const Key& k) const noexcept {
  return std::hash<std::uint64_t>{}(k.peer) ^ (static_cast<std::size_t>(k.port) * 0x9e3779b97f4a7c15ull);
}

void ListedAddressCache::trim(std::uint64_t now_ms) {
  while (!order_.empty()) {
    const Order& front = order_.front();
    auto it = entries_.find(front.key);
    const bool live = it != entries_.end() && it->second.sequence == front.sequence;
    if (live && order_.size() < kMaxEntries && !expired(it->second, now_ms)) break;
    if (live) {
      entries_.erase(it);
      ++evicted_;
    }
    order_.pop_front();
  }
}

void ListedAddressCache::remember(std::uint64_t peer, std::uint16_t peer_port,
                                  std::vector<IpAddress> addresses, std::uint64_t now_ms) {
  const Key key{peer, peer_port};
  if (addresses.empty()) {
    entries_.erase(key);  // its order_ item turns stale
    return;
  }
  trim(now_ms);
  const std::uint64_t sequence = next_sequence_++;
  Entry& e = entries_[key];
  e.addresses = std::move(addresses);
  e.stored_ms = now_ms;
  e.sequence = sequence;
  order_.push_back(Order{key, sequence});
}

std::vector<IpAddress> ListedAddressCache::take(std::uint64_t peer, std::uint16_t peer_port,
                                                std::uint64_t now_ms) {
  auto it = entries_.find(Key{peer, peer_port});
  if (it == entries_.end()) return {};
  std::vector<IpAddress> out;
  if (expired(it->second, now_ms)) {
    ++evicted_;
  } else {
    out = std::move(it->second.addresses);
  }
  entries_.erase(it);
  return out;
}

void ListedAddressCache::restamp(std::uint64_t now_ms) {
  for (auto& [key, e] : entries_) e.stored_ms = std::max(e.stored_ms, now_ms);
}

}  // namespace poolreg::sctp
