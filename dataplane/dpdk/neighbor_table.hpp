// NeighborTable: IP address -> MAC of on-link neighbours, learned from ARP (requests to us and
// replies) and from the frames of SCTP peers; used to address frames to peers that have not
// sent us anything yet (outgoing associations: ENRP peers, takeover keep-alives). No routing: every
// peer is expected on the link (no gateway). Owned and used by one poll lcore only (no lock).
// Bounded: at most kMaxEntries (as many as the engine has remote endpoints: every SCTP peer's MAC
// is learned here); when full, new neighbours are not learned (counted by the caller as
// no_neighbor drops).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "dataplane/dpdk/interface_config.hpp"
#include "registrar/common/fnv1a.hpp"

namespace poolreg::dpdk {

class NeighborTable {
 public:
  static constexpr std::size_t kMaxEntries = 1u << 20;

  // address: 4 bytes (IPv4, network order) or 16 (IPv6).
  void learn(const std::uint8_t* address, bool ipv6, const std::uint8_t* mac) {
    Key k = key_of(address, ipv6);
    auto it = table_.find(k);
    if (it != table_.end()) {
      std::memcpy(it->second.data(), mac, 6);
      return;
    }
    if (table_.size() >= kMaxEntries) return;
    MacAddress m;
    std::memcpy(m.data(), mac, 6);
    table_.emplace(k, m);
  }
  std::optional<MacAddress> find(const std::uint8_t* address, bool ipv6) const {
    auto it = table_.find(key_of(address, ipv6));
    if (it == table_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const noexcept { return table_.size(); }

 private:
  struct Key {
    std::array<std::uint8_t, 17> bytes{};  // [0] = 4 or 6
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(fnv1a(k.bytes.data(), k.bytes.size()));
    }
  };
  static Key key_of(const std::uint8_t* address, bool ipv6) {
    Key k;
    k.bytes[0] = ipv6 ? 6 : 4;
    std::memcpy(k.bytes.data() + 1, address, ipv6 ? 16 : 4);
    return k;
  }
  std::unordered_map<Key, MacAddress, KeyHash> table_;
};

}  // namespace poolreg::dpdk
