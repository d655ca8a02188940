// In-process simulated ENRP cluster for the EnrpServer tests: every node has its own
// Handlespace + QsbrDomain, a fake MessageOutput that hands messages to a test "network"
// (a FIFO of deliveries pumped by the test), a fake PeMonitor recording H=1 requests, and all
// nodes share one ManualClock. "External" nodes have no server: the test speaks raw ENRP
// through them and reads what the servers sent them. No sockets, no threads, no sleeps.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/qsbr.hpp"
#include "registrar/wire/enrp_codec.hpp"

namespace poolreg::enrp::testing {

inline constexpr std::uint16_t kEnrpPort = 9901;
inline constexpr TimeNs kStartTime = 1000 * kNsPerSec;

inline PoolHandle handle(const std::string& text) { return *PoolHandle::from_string(text); }

// Fast timers, next-gen mode with ENRP over TCP offered (the identity and shared-host tests).
inline EnrpConfig fast_ng_tcp_config() {
  EnrpConfig c = EnrpConfig::fast();
  c.next_gen = true;
  c.ng_capabilities |= wire::kNgCapTcp;
  return c;
}

inline std::vector<std::uint8_t> encode_msg(const wire::EnrpMessage& m, bool next_gen = false) {
  std::vector<std::uint8_t> out;
  wire::WireOptions o;
  o.next_gen = next_gen;
  auto r = wire::encode(m, o, wire::ByteSink(out));
  EXPECT_TRUE(r.ok());
  return out;
}

inline std::optional<wire::EnrpMessage> decode_msg(const std::vector<std::uint8_t>& bytes) {
  wire::WireOptions o;
  o.next_gen = true;
  auto r = wire::decode_enrp(bytes, o);
  if (!r.has_value()) return std::nullopt;
  return std::move(r.value());
}

class FakePeMonitor final : public PeMonitor {
 public:
  void monitor_as_new_home(const PoolHandle& handle, const PoolElement& pe) override { calls.emplace_back(handle, pe); }
  std::vector<std::pair<PoolHandle, PoolElement>> calls;
};

class FakeMulticast final : public EnrpMulticast {
 public:
  bool send_presence(std::span<const std::uint8_t> message) override {
    sent.emplace_back(message.begin(), message.end());
    return true;
  }
  std::vector<std::vector<std::uint8_t>> sent;
};

class SimNetwork;

class SimOutput final : public MessageOutput {
 public:
  SimOutput(SimNetwork& net, int node) : net_(net), node_(node) {}
  bool send(ConnectionId connection, WireProtocol protocol, std::span<const std::uint8_t> message) override;
  void abort(ConnectionId connection) override;
  ConnectionId connect(WireProtocol protocol, const TransportEndpoint& to) override;

 private:
  SimNetwork& net_;
  int node_;
};

struct SimNode {
  int index = 0;
  RegistrarId id = 0;
  IpAddress address;
  std::uint16_t port = kEnrpPort;  // ENRP listening port
  bool external = false;
  EnrpConfig config;
  std::unique_ptr<handlespace::QsbrDomain> domain;
  std::unique_ptr<handlespace::Handlespace> hs;
  std::unique_ptr<SimOutput> output;
  FakePeMonitor monitor;
  FakeMulticast multicast;
  std::unique_ptr<EnrpServer> server;
  // External nodes: what the servers sent them (connection id on this side, bytes).
  std::vector<std::pair<ConnectionId, std::vector<std::uint8_t>>> inbox;
  std::vector<ConnectionId> connections_up;  // external: connections announced to this node

  EnrpServer& srv() { return *server; }
};

struct SentRecord {
  TimeNs at = 0;
  int from = 0;
  int to = -1;  // -1: no such destination (dropped)
  std::vector<std::uint8_t> bytes;
};

class SimNetwork {
 public:
  ManualClock clock{kStartTime};
  std::vector<std::unique_ptr<SimNode>> nodes;
  std::vector<SentRecord> log;
  std::vector<bool> down;
  // Transport of the ENRP endpoints of nodes added from now on (TCP: next-gen mode).
  TransportProtocol enrp_protocol = TransportProtocol::kSctp;
  std::size_t aborts = 0;
  // The SRTT (µs) the transport measures on the link from -> to, handed to on_message as
  // runtime::MessageInfo::srtt_us would be (the DPF distance hop); absent = 0, not measured.
  std::map<std::pair<int, int>, std::uint32_t> link_srtt_us;
  void set_link_srtt(int x, int y, std::uint32_t srtt_us) {
    link_srtt_us[{x, y}] = srtt_us;
    link_srtt_us[{y, x}] = srtt_us;
  }

  // Adds a node with a server. The config gets own id, endpoint and the fast timer profile
  // unless `config` overrides it.
  // `shared_address` puts the node on another node's address with its own port (several
  // registrars on one host).
  SimNode& add_node(RegistrarId id, std::optional<EnrpConfig> config = std::nullopt,
                    std::optional<int> shared_address = std::nullopt) {
    auto n = std::make_unique<SimNode>();
    n->index = static_cast<int>(nodes.size());
    n->id = id;
    n->address = IpAddress::v4(0x0a000001u + static_cast<std::uint32_t>(n->index));
    if (shared_address) {
      n->address = nodes[*shared_address]->address;
      n->port = static_cast<std::uint16_t>(kEnrpPort + n->index);
    }
    n->config = config ? *config : EnrpConfig::fast();
    n->config.own_id = id;
    n->config.own_endpoint = endpoint_of(*n, enrp_protocol);
    n->output = std::make_unique<SimOutput>(*this, n->index);
    nodes.push_back(std::move(n));
    down.push_back(false);
    build(*nodes.back());
    return *nodes.back();
  }

  // A node without a server (the test speaks for it).
  SimNode& add_external(RegistrarId id) {
    auto n = std::make_unique<SimNode>();
    n->index = static_cast<int>(nodes.size());
    n->id = id;
    n->address = IpAddress::v4(0x0a000001u + static_cast<std::uint32_t>(n->index));
    n->external = true;
    nodes.push_back(std::move(n));
    down.push_back(false);
    return *nodes.back();
  }

  static TransportEndpoint endpoint_of(const SimNode& n, TransportProtocol protocol = TransportProtocol::kSctp) {
    TransportEndpoint e;
    e.protocol = protocol;
    e.port = n.port;
    e.use = TransportUse::kDataOnly;
    e.addresses = {n.address};
    return e;
  }

  // Every node lists every other (server or external) node as a static peer with ID 0.
  void mesh_static_peers() {
    for (auto& a : nodes) {
      if (a->external) continue;
      a->config.static_peers.clear();
      for (auto& b : nodes)
        if (b != a) a->config.static_peers.push_back({endpoint_of(*b, enrp_protocol), 0});
      build(*a);
    }
  }
  void set_static_peers(SimNode& n, const std::vector<int>& peers) {
    n.config.static_peers.clear();
    for (int p : peers) n.config.static_peers.push_back({endpoint_of(*nodes[p], enrp_protocol), 0});
    build(n);
  }

  // (Re)creates handlespace and server from n.config (a restart: fresh state).
  void build(SimNode& n) {
    close_all_links_of(n.index);
    n.server.reset();
    n.hs.reset();
    n.domain = std::make_unique<handlespace::QsbrDomain>();
    handlespace::HandlespaceConfig hc;
    hc.shard_count = 2;
    n.hs = std::make_unique<handlespace::Handlespace>(hc, *n.domain);
    n.monitor.calls.clear();
    n.server = std::make_unique<EnrpServer>(n.config, *n.hs, *n.output, clock, n.monitor,
                                            n.config.multicast ? &n.multicast : nullptr);
  }

  void start_all() {
    for (auto& n : nodes)
      if (!n->external) n->server->start();
  }

  // ---- failures ----
  void kill(int node) { down[node] = true; }
  void revive(int node) { down[node] = false; }

  // ---- transport ----
  // `listed`: further addresses the connecting side claims (an SCTP INIT's address parameters);
  // `source_port`: the port it sends from (0: its listening port for a registrar over SCTP,
  // otherwise an ephemeral one).
  ConnectionId connect(int from, const TransportEndpoint& to, std::span<const IpAddress> listed = {},
                       std::uint16_t source_port = 0) {
    const ConnectionId local = next_cid_++;
    int target = -1;
    for (auto& n : nodes)
      if (to.port == n->port && std::find(to.addresses.begin(), to.addresses.end(), n->address) != to.addresses.end())
        target = n->index;
    if (target < 0 || target == from) {
      queue_.push_back(Delivery{Delivery::kClosed, -1, from, local, {}, {}});
      return local;
    }
    const ConnectionId remote = next_cid_++;
    links_[{from, local}] = {target, remote};
    links_[{target, remote}] = {from, local};
    ConnectionPeer in;
    in.kind = to.protocol;
    in.protocol = WireProtocol::kEnrp;
    in.outgoing = false;
    in.addresses = {nodes[from]->address};
    in.addresses.insert(in.addresses.end(), listed.begin(), listed.end());
    // A registrar's SCTP associations come from its ENRP socket, i.e. its listening port (as
    // with poolregd's usrsctp and RSPLIB); TCP connections and external test nodes use an
    // ephemeral port.
    const bool from_listener = to.protocol == TransportProtocol::kSctp && !nodes[from]->external;
    in.port = source_port != 0 ? source_port
              : from_listener  ? nodes[from]->port
                               : static_cast<std::uint16_t>(40000 + local % 20000);
    queue_.push_back(Delivery{Delivery::kUp, from, target, remote, in, {}});
    ConnectionPeer out = in;
    out.outgoing = true;
    out.addresses = to.addresses;
    out.port = to.port;
    queue_.push_back(Delivery{Delivery::kUp, target, from, local, out, {}});
    return local;
  }

  bool send(int from, ConnectionId connection, std::span<const std::uint8_t> bytes) {
    auto it = links_.find({from, connection});
    SentRecord rec{clock.now(), from, it == links_.end() ? -1 : it->second.first, {bytes.begin(), bytes.end()}};
    log.push_back(rec);
    if (it == links_.end()) return false;
    queue_.push_back(Delivery{Delivery::kMessage, from, it->second.first, it->second.second, {}, rec.bytes});
    return true;
  }

  void abort(int from, ConnectionId connection) {
    auto it = links_.find({from, connection});
    if (it == links_.end()) return;
    ++aborts;
    const auto remote = it->second;
    links_.erase(it);
    links_.erase(remote);
    queue_.push_back(Delivery{Delivery::kClosed, from, remote.first, remote.second, {}, {}});
  }

  // External node opens a connection to a server node (returns the external side's id).
  ConnectionId connect_external(int ext, int to) { return connect(ext, endpoint_of(*nodes[to])); }
  void inject(int ext, ConnectionId connection, const std::vector<std::uint8_t>& bytes) {
    send(ext, connection, bytes);
  }
  void inject(int ext, ConnectionId connection, const wire::EnrpMessage& m, bool next_gen = false) {
    inject(ext, connection, encode_msg(m, next_gen));
  }

  std::uint32_t srtt_of(int from, int to) const {
    auto it = link_srtt_us.find({from, to});
    return it == link_srtt_us.end() ? 0 : it->second;
  }

  // Delivers queued events until the network is quiet (bounded).
  void pump() {
    for (std::size_t guard = 0; guard < 50'000'000 && !queue_.empty(); ++guard) {
      Delivery d = std::move(queue_.front());
      queue_.pop_front();
      if (d.to < 0 || d.to >= static_cast<int>(nodes.size())) continue;
      if (down[d.to] || (d.from >= 0 && down[d.from])) continue;  // a dead PR hears and says nothing
      SimNode& n = *nodes[d.to];
      switch (d.kind) {
        case Delivery::kUp:
          if (n.external) n.connections_up.push_back(d.connection);
          else n.server->on_connection_up(d.connection, d.peer);
          break;
        case Delivery::kMessage:
          if (n.external) n.inbox.emplace_back(d.connection, d.bytes);
          else n.server->on_message(d.connection, d.bytes, srtt_of(d.from, d.to));
          break;
        case Delivery::kClosed:
          if (!n.external) n.server->on_connection_closed(d.connection);
          break;
      }
    }
    ASSERT_TRUE(queue_.empty()) << "network did not settle";
  }

  // Advances the shared clock by `delta`, running every live server's timers when due and
  // pumping the network after each step.
  void advance(TimeNs delta) {
    const TimeNs target = clock.now() + delta;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      pump();
      TimeNs due = target + 1;
      for (auto& n : nodes)
        if (!n->external && !down[n->index]) due = std::min(due, n->server->next_timer_due());
      if (due > target) break;
      clock.set(std::max(due, clock.now()));
      const TimeNs now = clock.now();
      for (auto& n : nodes)
        if (!n->external && !down[n->index] && n->server->next_timer_due() <= now) n->server->run_timers(now);
    }
    clock.set(target);
    pump();
  }

  // ---- inspection ----
  std::size_t link_count() const { return links_.size() / 2; }
  // A connection `node` holds whose far end is `peer` (kNoConnectionId: none), so a test can
  // hand a server a message "from that peer" exactly as its transport would.
  ConnectionId connection_at(int node, int peer) const {
    for (const auto& [local, remote] : links_)
      if (local.first == node && remote.first == peer) return local.second;
    return kNoConnectionId;
  }
  std::vector<wire::EnrpMessage> sent_between(int from, int to, std::optional<wire::EnrpType> type = std::nullopt,
                                              TimeNs since = 0) const {
    std::vector<wire::EnrpMessage> out;
    for (const SentRecord& r : log) {
      if (r.from != from || r.to != to || r.at < since) continue;
      auto m = decode_msg(r.bytes);
      if (!m) continue;
      if (type && wire::enrp_type_of(*m) != *type) continue;
      out.push_back(std::move(*m));
    }
    return out;
  }
  std::vector<const SentRecord*> raw_sent(int from, int to, wire::EnrpType type) const {
    std::vector<const SentRecord*> out;
    for (const SentRecord& r : log)
      if (r.from == from && r.to == to && !r.bytes.empty() && r.bytes[0] == static_cast<std::uint8_t>(type))
        out.push_back(&r);
    return out;
  }

 private:
  struct Delivery {
    enum Kind { kUp, kMessage, kClosed } kind;
    int from;
    int to;
    ConnectionId connection;  // on the receiving side
    ConnectionPeer peer;
    std::vector<std::uint8_t> bytes;
  };

  void close_all_links_of(int node) {
    for (auto it = links_.begin(); it != links_.end();) {
      if (it->first.first == node) {
        const auto remote = it->second;
        queue_.push_back(Delivery{Delivery::kClosed, -1, remote.first, remote.second, {}, {}});
        links_.erase(remote);
        it = links_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::deque<Delivery> queue_;
  std::map<std::pair<int, ConnectionId>, std::pair<int, ConnectionId>> links_;
  ConnectionId next_cid_ = 100;
};

inline bool SimOutput::send(ConnectionId connection, WireProtocol, std::span<const std::uint8_t> message) {
  return net_.send(node_, connection, message);
}
inline void SimOutput::abort(ConnectionId connection) { net_.abort(node_, connection); }
inline ConnectionId SimOutput::connect(WireProtocol, const TransportEndpoint& to) { return net_.connect(node_, to); }

// ---- PE helpers ----

inline PoolElement make_pe(PoolElementId id, RegistrarId home, std::uint32_t v4 = 0x0b000001, std::uint16_t port = 5000) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = home;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = port;
  pe.user_transport.use = TransportUse::kDataOnly;
  pe.user_transport.addresses = {IpAddress::v4(v4)};
  pe.policy.type = PolicyType::kRoundRobin;
  TransportEndpoint asap;
  asap.protocol = TransportProtocol::kSctp;
  asap.port = 3863;
  asap.use = TransportUse::kDataOnly;
  asap.addresses = {IpAddress::v4(v4)};
  pe.asap_transport = asap;
  return pe;
}

// What the ASAP server does on a successful registration: store (own PE, bound to an
// association) and tell ENRP.
inline void register_owned(SimNode& n, const PoolHandle& h, PoolElement pe, bool announce = true) {
  pe.home_registrar = n.id;
  handlespace::RegistrationOptions o;
  o.association = 1'000'000 + pe.id;
  auto r = n.hs->register_pe(h, pe, o);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  if (announce) n.server->on_owned_pe_registered(h, pe);
}

inline void deregister_owned(SimNode& n, const PoolHandle& h, PoolElementId id) {
  auto removed = n.hs->deregister(h, id);
  ASSERT_TRUE(removed.has_value());
  n.server->on_owned_pe_removed(h, removed->pe);
}

inline std::optional<PoolElement> find_pe(const handlespace::Handlespace& hs, const PoolHandle& h, PoolElementId id) {
  std::optional<PoolElement> out;
  hs.for_each_in_pool(h, [&](const handlespace::PoolElementView& v) {
    if (v.id() == id) out = v.to_pool_element();
  });
  return out;
}

inline std::size_t count_all(const handlespace::Handlespace& hs) { return hs.counters().pes; }

inline const PeerSnapshot* peer_by_id(const std::vector<PeerSnapshot>& peers, RegistrarId id) {
  for (const auto& p : peers)
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace poolreg::enrp::testing

namespace poolreg::enrp::testing {

// Heartbeat interval + 12.5 % jitter: one full cycle for sure.
inline TimeNs full_cycle(const EnrpConfig& c = EnrpConfig::fast()) {
  return c.heartbeat_interval + c.heartbeat_interval / 8 + 1;
}

inline wire::Presence make_presence(RegistrarId sender, RegistrarId receiver, bool reply_required,
                                    std::uint16_t checksum = 0xffff, std::optional<TransportEndpoint> ep = std::nullopt) {
  wire::Presence p;
  p.sender = sender;
  p.receiver = receiver;
  p.reply_required = reply_required;
  p.checksum = checksum;
  TransportEndpoint e;
  if (ep) {
    e = *ep;
  } else {
    e.protocol = TransportProtocol::kSctp;
    e.port = kEnrpPort;
    e.addresses = {IpAddress::v4(0x0a0000feu)};
  }
  p.server_info = wire::ServerInformation{sender, e};
  return p;
}

// Three servers A (0x1000), B (0x2000), C (0x3000), every one a static peer of the others.
class EnrpCluster : public ::testing::Test {
 protected:
  static constexpr RegistrarId kA = 0x1000, kB = 0x2000, kC = 0x3000;

  void make3(std::optional<EnrpConfig> config = std::nullopt) {
    a = &net.add_node(kA, config);
    b = &net.add_node(kB, config);
    c = &net.add_node(kC, config);
    net.mesh_static_peers();
  }
  void start_and_settle(TimeNs settle = 1 * kNsPerSec) {
    net.start_all();
    net.advance(settle);
  }
  static TimeNs cycle(const EnrpConfig& c = EnrpConfig::fast()) { return full_cycle(c); }

  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* b = nullptr;
  SimNode* c = nullptr;
};

}  // namespace poolreg::enrp::testing
