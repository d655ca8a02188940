// Harness for testing one part of EnrpServer directly (HandleTableSync, TakeoverCoordinator):
// a real handlespace, a peer table the test fills by hand, PeerLinks over a recording
// MessageOutput (every connect succeeds at once; what was sent is decoded back per connection)
// and a ManualClock. No server, no network, no sleeps. PE helpers and FakePeMonitor come from
// the simulated cluster.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/peer_links.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/qsbr.hpp"
#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {

// Records every message and opens connection 1, 2, 3 ... on connect().
class RecordingOutput final : public MessageOutput {
 public:
  struct Sent {
    ConnectionId connection = kNoConnectionId;
    std::vector<std::uint8_t> bytes;
  };

  bool send(ConnectionId connection, WireProtocol, std::span<const std::uint8_t> message) override {
    sent.push_back({connection, {message.begin(), message.end()}});
    return send_ok;
  }
  void abort(ConnectionId connection) override { aborted.push_back(connection); }
  ConnectionId connect(WireProtocol, const TransportEndpoint& to) override {
    connects.push_back(to);
    return next_connection++;
  }

  // Every message of type T sent on `connection` (any connection when kNoConnectionId).
  template <typename T>
  std::vector<T> sent_as(ConnectionId connection = kNoConnectionId) const {
    std::vector<T> out;
    for (const Sent& s : sent) {
      if (connection != kNoConnectionId && s.connection != connection) continue;
      auto m = decode_msg(s.bytes);
      EXPECT_TRUE(m.has_value()) << "sent message does not decode";
      if (!m) continue;
      if (const T* t = std::get_if<T>(&*m)) out.push_back(*t);
    }
    return out;
  }

  std::vector<Sent> sent;
  std::vector<ConnectionId> aborted;
  std::vector<TransportEndpoint> connects;
  ConnectionId next_connection = 1;
  bool send_ok = true;
};

class EnrpPartTest : public ::testing::Test {
 protected:
  static constexpr RegistrarId kSelf = 0x1000;

  EnrpPartTest() {
    config.own_id = kSelf;
    handlespace::HandlespaceConfig hc;
    hc.shard_count = 2;
    hs = std::make_unique<handlespace::Handlespace>(hc, domain);
  }

  // A peer in the table with an endpoint (so PeerLinks can connect to it).
  PeerEntry& add_peer(RegistrarId id, PeerState state = PeerState::kAlive) {
    PeerEntry& e = peers.add();
    e.id = id;
    e.state = state;
    e.endpoint.protocol = TransportProtocol::kSctp;
    e.endpoint.port = kEnrpPort;
    e.endpoint.addresses = {IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(e.key))};
    return e;
  }

  // The connection PeerLinks opened to `peer` (opens it now when none).
  ConnectionId connection_of(PeerEntry& peer) { return links.ensure_connection(peer); }

  // A PE owned by `home` as ENRP stores it (no association, expires after its life).
  void add_pe(const PoolHandle& h, PoolElementId id, RegistrarId home, TimeNs life = 60 * kNsPerSec) {
    handlespace::RegistrationOptions o;
    o.expires_at = clock.now() + life;
    auto r = hs->register_pe(h, make_pe(id, home, 0x0b000000u + static_cast<std::uint32_t>(id)), o);
    ASSERT_TRUE(r.has_value()) << r.error().reason;
  }
  // A PE we own (bound to an ASAP association, no expiry).
  void add_own_pe(const PoolHandle& h, PoolElementId id) {
    handlespace::RegistrationOptions o;
    o.association = 1'000'000 + id;
    auto r = hs->register_pe(h, make_pe(id, kSelf, 0x0b000000u + static_cast<std::uint32_t>(id)), o);
    ASSERT_TRUE(r.has_value()) << r.error().reason;
  }

  EnrpConfig config = EnrpConfig::fast();
  ManualClock clock{kStartTime};
  handlespace::QsbrDomain domain;
  std::unique_ptr<handlespace::Handlespace> hs;
  PeerTable peers;
  RecordingOutput output;
  PeerLinks links{config, output, clock};
};

}  // namespace poolreg::enrp::testing
