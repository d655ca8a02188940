#include "dataplane/sctp/remote_endpoint_table.hpp"

#include <algorithm>
#include <cstring>

#include "registrar/common/fnv1a.hpp"

namespace poolreg::sctp {

RemoteEndpointTable::RemoteEndpointTable(const UsrsctpApi& api, void* owner, std::size_t max_pending,
                                         std::uint64_t expiry_ms,
                                         std::optional<std::uint64_t> min_init_age_ms)
    : api_(api),
      owner_(owner),
      max_pending_(std::max<std::size_t>(max_pending, 1)),
      expiry_ms_(expiry_ms),
      min_init_age_ms_(min_init_age_ms) {}

std::size_t RemoteEndpointTable::KeyHash::operator()(const EndpointKey& k) const noexcept {
  return static_cast<std::size_t>(fnv1a(k.bytes.data(), k.bytes.size()));
}

EndpointKey RemoteEndpointTable::key_of(const std::uint8_t* ip, bool ipv6, std::uint16_t port) {
  EndpointKey k;
  k.bytes[0] = ipv6 ? 6 : 4;
  std::memcpy(k.bytes.data() + 1, ip, ipv6 ? 16 : 4);
  k.bytes[17] = static_cast<std::uint8_t>(port >> 8);
  k.bytes[18] = static_cast<std::uint8_t>(port);
  return k;
}

void RemoteEndpointTable::deregister_all() {
  for (auto& [key, e] : table_) api_.deregister_address(e.get());
}

void RemoteEndpointTable::link_newest(RemoteEndpoint& e) {
  e.older = newest_;
  e.newer = nullptr;
  if (newest_ != nullptr)
    newest_->newer = &e;
  else
    oldest_ = &e;
  newest_ = &e;
  ++pending_;
}

void RemoteEndpointTable::unlink(RemoteEndpoint& e) {
  if (e.older != nullptr)
    e.older->newer = e.newer;
  else
    oldest_ = e.newer;
  if (e.newer != nullptr)
    e.newer->older = e.older;
  else
    newest_ = e.older;
  e.older = e.newer = nullptr;
  --pending_;
}

RemoteEndpoint* RemoteEndpointTable::get(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port,
                                         std::uint64_t now_ms, bool outgoing, bool init) {
  const EndpointKey k = key_of(ip, ipv6, udp_port);
  RemoteEndpoint* found = nullptr;
  if (auto it = table_.find(k); it != table_.end()) {
    found = it->second.get();
  } else if (!aliases_.empty()) {
    if (auto a = aliases_.find(k); a != aliases_.end()) found = a->second.endpoint;
  }
  if (found != nullptr) {
    if (!init) found->init_only = false;
    touch(*found, now_ms);
    return found;
  }
  if (!outgoing && pending_ >= max_pending_) {
    // Only an endpoint every cookie naming it has outlived may make room, or an INIT-only one
    // (the engine keeps cookies naming it away from usrsctp: "Eviction" in the header).
    if (oldest_ != nullptr && idle(*oldest_, now_ms)) {
      free_endpoint(*oldest_);
      ++expired_;
    } else if (RemoteEndpoint* victim = evictable(now_ms)) {
      free_endpoint(*victim);
      ++evicted_;
    } else {
      ++refused_;
      return nullptr;
    }
  }
  if (table_.size() + aliases_.size() >= kMaxEndpoints) {
    ++refused_;
    return nullptr;
  }
  auto e = std::make_unique<RemoteEndpoint>();
  e->init_only = init && !outgoing;
  e->address.ipv6 = ipv6;
  std::memcpy(e->address.ip, ip, ipv6 ? 16 : 4);
  e->address.udp_port = udp_port;
  e->owner = owner_;
  e->serial = next_serial_++;
  e->key = k;
  e->last_used_ms = now_ms;
  RemoteEndpoint* raw = e.get();
  table_.emplace(k, std::move(e));
  link_newest(*raw);
  api_.register_address(raw);
  return raw;
}

RemoteEndpoint* RemoteEndpointTable::evictable(std::uint64_t now_ms) const noexcept {
  if (!min_init_age_ms_.has_value()) return nullptr;
  RemoteEndpoint* e = oldest_;
  for (int i = 0; i < kEvictionScan && e != nullptr; ++i, e = e->newer) {
    // The pending list is ordered by last use: once one is too young, so are the rest.
    if (now_ms < e->last_used_ms || now_ms - e->last_used_ms < *min_init_age_ms_) return nullptr;
    if (e->init_only) return e;
  }
  return nullptr;
}

void RemoteEndpointTable::touch(RemoteEndpoint& e, std::uint64_t now_ms) {
  e.last_used_ms = std::max(e.last_used_ms, now_ms);
  if (e.associations != 0 || newest_ == &e) return;
  unlink(e);
  link_newest(e);
}

void RemoteEndpointTable::retain(RemoteEndpoint& e) {
  e.init_only = false;
  if (e.associations++ == 0) unlink(e);
}

void RemoteEndpointTable::release(RemoteEndpoint& e, std::uint64_t now_ms) {
  if (e.associations == 0) return;
  if (--e.associations != 0) return;
  e.last_used_ms = std::max(e.last_used_ms, now_ms);
  link_newest(e);
}

std::size_t RemoteEndpointTable::expire(std::uint64_t now_ms, std::size_t max_work) {
  std::size_t freed = 0;
  while (freed < max_work && oldest_ != nullptr && idle(*oldest_, now_ms)) {
    free_endpoint(*oldest_);
    ++freed;
  }
  expired_ += freed;
  return freed;
}

void RemoteEndpointTable::restamp_pending(std::uint64_t now_ms) {
  // The pending list stays in order: every entry gets the same time.
  for (RemoteEndpoint* e = oldest_; e != nullptr; e = e->newer)
    e->last_used_ms = std::max(e->last_used_ms, now_ms);
}

void RemoteEndpointTable::free_endpoint(RemoteEndpoint& e) {
  unlink(e);
  for (const EndpointKey& a : e.alias_keys) {
    auto it = aliases_.find(a);
    if (it != aliases_.end() && it->second.endpoint == &e) aliases_.erase(it);
  }
  api_.deregister_address(&e);
  const EndpointKey key = e.key;  // a copy: erase frees e
  table_.erase(key);
}

bool RemoteEndpointTable::add_alias(RemoteEndpoint& e, const IpAddress& ip) {
  const EndpointKey k = key_of(ip.data(), !ip.is_v4(), e.address.udp_port);
  if (table_.count(k) != 0) return false;
  auto a = aliases_.find(k);
  if (a != aliases_.end()) {
    if (a->second.endpoint != &e) return false;
    ++a->second.holders;
    return true;
  }
  if (table_.size() + aliases_.size() >= kMaxEndpoints) return false;
  aliases_.emplace(k, Alias{&e, 1});
  e.alias_keys.push_back(k);
  return true;
}

void RemoteEndpointTable::remove_alias(RemoteEndpoint& e, const IpAddress& ip) {
  const EndpointKey k = key_of(ip.data(), !ip.is_v4(), e.address.udp_port);
  auto a = aliases_.find(k);
  if (a == aliases_.end() || a->second.endpoint != &e) return;
  if (--a->second.holders != 0) return;
  aliases_.erase(a);
  e.alias_keys.erase(std::remove(e.alias_keys.begin(), e.alias_keys.end(), k), e.alias_keys.end());
}

bool RemoteEndpointTable::leads_to(const RemoteEndpoint& e, const IpAddress& ip) const {
  const EndpointKey k = key_of(ip.data(), !ip.is_v4(), e.address.udp_port);
  if (auto t = table_.find(k); t != table_.end()) return t->second.get() == &e;
  auto a = aliases_.find(k);
  return a != aliases_.end() && a->second.endpoint == &e;
}

void RemoteEndpointTable::move_to(RemoteEndpoint& e, const IpAddress& ip) {
  e.address.ipv6 = !ip.is_v4();
  std::memset(e.address.ip, 0, sizeof e.address.ip);
  std::memcpy(e.address.ip, ip.data(), ip.size());
}

}  // namespace poolreg::sctp
