// RemoteEndpointTable: one stable RemoteEndpoint per (peer IP, peer UDP port) that sends us SCTP
// over UDP or that we connect to. A RemoteEndpoint's address is the `sconn_addr` usrsctp knows the
// peer by in AF_CONN mode: usrsctp_conninput(endpoint, ...) for its packets, and usrsctp's output
// callback gets the same pointer back to address the reply (IP, UDP port, path, our address).
//
// Endpoints are never freed while usrsctp runs (an association may still name one), so the table
// is bounded (kMaxEndpoints; beyond it new peers are refused and counted). Lane thread only.
//
// Mobility (RFC 5061 ADD-IP / DELETE-IP / SET-PRIMARY that usrsctp accepted): usrsctp knows an
// association by its one conn address, so a peer that adds an address keeps that endpoint.
// add_alias() makes packets from the added IP (same UDP port) reach the same endpoint, and
// move_to() sends the endpoint's output to another of the peer's addresses (its old one was
// deleted, or it asked for a new primary). Aliases count against kMaxEndpoints.
//
// Multi-homing: the addresses a peer listed in its INIT / INIT ACK become aliases of its
// association's endpoint too, and move_to() is how the engine fails our output over to another
// of them (sctp_engine.hpp "Multi-homing"). An alias is counted per holder (an association may
// list it, another of the same endpoint too, or add it by ASCONF): it goes when the last holder
// removes it, so aliases never outlive the associations that named them.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "dataplane/sctp/sctp_packet_path.hpp"
#include "dataplane/sctp/usrsctp_stack.hpp"
#include "registrar/common/fnv1a.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::sctp {

struct RemoteEndpoint {
  SctpPeer address;
  void* owner = nullptr;  // the table's owner (the SctpEngine), for usrsctp's output callback
  // usrsctp reported the AF_CONN path to `address` unreachable (SCTP_ADDR_UNREACHABLE) and has
  // not reported it available again: packets from an alias then move our output there.
  bool path_failed = false;
  // The address (family of `address`) whose path usrsctp last reported unreachable.
  std::array<std::uint8_t, 16> failed_ip{};
  // The engine's associations on this endpoint: the first one after none starts the endpoint's
  // output afresh (an earlier association's failover or move does not carry over).
  std::uint32_t associations = 0;
};

class RemoteEndpointTable {
 public:
  static constexpr std::size_t kMaxEndpoints = 1u << 20;

  // api: the usrsctp copy the endpoints are registered with; owner: stored in every endpoint.
  RemoteEndpointTable(const UsrsctpApi& api, void* owner) : api_(api), owner_(owner) {}

  // Before usrsctp_finish(): tells usrsctp the addresses are gone (the memory stays until the
  // table is destroyed, after usrsctp_finish(), so no association can name a freed endpoint).
  void deregister_all() {
    for (auto& [key, e] : table_) api_.deregister_address(e.get());
  }

  // Finds or creates the endpoint (an alias leads to the endpoint it names); nullptr when the
  // table is full.
  RemoteEndpoint* get(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port) {
    Key k = key_of(ip, ipv6, udp_port);
    auto it = table_.find(k);
    if (it != table_.end()) return it->second.get();
    if (!aliases_.empty()) {
      auto a = aliases_.find(k);
      if (a != aliases_.end()) return a->second.endpoint;
    }
    if (table_.size() + aliases_.size() >= kMaxEndpoints) return nullptr;
    auto e = std::make_unique<RemoteEndpoint>();
    e->address.ipv6 = ipv6;
    std::memcpy(e->address.ip, ip, ipv6 ? 16 : 4);
    e->address.udp_port = udp_port;
    e->owner = owner_;
    RemoteEndpoint* raw = e.get();
    table_.emplace(k, std::move(e));
    api_.register_address(raw);
    return raw;
  }
  std::size_t size() const noexcept { return table_.size(); }
  // True when (ip, udp_port) has an endpoint of its own (not an alias).
  bool has_own(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port) const {
    return table_.count(key_of(ip, ipv6, udp_port)) != 0;
  }
  std::size_t alias_count() const noexcept { return aliases_.size(); }

  // Packets from `ip` at e's UDP port reach `e` from now on (one more holder when it already
  // does). False (nothing changes) when that address already has an endpoint of its own (usrsctp
  // knows it under another conn address), leads to another endpoint, or the table is full. A
  // true answer is paired with one remove_alias() by the same holder.
  bool add_alias(RemoteEndpoint& e, const IpAddress& ip) {
    const Key k = key_of(ip.data(), !ip.is_v4(), e.address.udp_port);
    if (table_.count(k) != 0) return false;
    auto a = aliases_.find(k);
    if (a != aliases_.end()) {
      if (a->second.endpoint != &e) return false;
      ++a->second.holders;
      return true;
    }
    if (table_.size() + aliases_.size() >= kMaxEndpoints) return false;
    aliases_.emplace(k, Alias{&e, 1});
    return true;
  }
  // One holder less of the alias `ip` of e's UDP port (when it leads to `e`); the alias goes
  // with its last holder.
  void remove_alias(RemoteEndpoint& e, const IpAddress& ip) {
    auto a = aliases_.find(key_of(ip.data(), !ip.is_v4(), e.address.udp_port));
    if (a == aliases_.end() || a->second.endpoint != &e) return;
    if (--a->second.holders == 0) aliases_.erase(a);
  }
  // True when packets from `ip` at e's UDP port reach `e` (its own key or an alias of it).
  bool leads_to(const RemoteEndpoint& e, const IpAddress& ip) const {
    const Key k = key_of(ip.data(), !ip.is_v4(), e.address.udp_port);
    auto t = table_.find(k);
    if (t != table_.end()) return t->second.get() == &e;
    auto a = aliases_.find(k);
    return a != aliases_.end() && a->second.endpoint == &e;
  }
  // e's packets go to `ip` (same UDP port, same path) from now on. Packets still coming from its
  // first address keep reaching it (the table keeps it under that key).
  void move_to(RemoteEndpoint& e, const IpAddress& ip) {
    e.address.ipv6 = !ip.is_v4();
    std::memset(e.address.ip, 0, sizeof e.address.ip);
    std::memcpy(e.address.ip, ip.data(), ip.size());
  }

 private:
  struct Key {
    std::array<std::uint8_t, 19> bytes{};  // family, ip (16), port (2)
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(fnv1a(k.bytes.data(), k.bytes.size()));
    }
  };
  static Key key_of(const std::uint8_t* ip, bool ipv6, std::uint16_t port) {
    Key k;
    k.bytes[0] = ipv6 ? 6 : 4;
    std::memcpy(k.bytes.data() + 1, ip, ipv6 ? 16 : 4);
    k.bytes[17] = static_cast<std::uint8_t>(port >> 8);
    k.bytes[18] = static_cast<std::uint8_t>(port);
    return k;
  }
  const UsrsctpApi& api_;
  void* owner_;
  std::unordered_map<Key, std::unique_ptr<RemoteEndpoint>, KeyHash> table_;
  struct Alias {
    RemoteEndpoint* endpoint = nullptr;
    std::uint32_t holders = 0;
  };
  std::unordered_map<Key, Alias, KeyHash> aliases_;
};

}  // namespace poolreg::sctp
