// TestControlDaemon: what poolctl talks to in the poolctl tests — a ControlServer on its own
// loop thread serving the real registrar command set over a MiniRegistrar (pools echo, web,
// 0x0102), with "peers" and "takeover-status" answered from synthetic ENRP snapshots (two peers,
// one takeover) so every table has realistic rows; the live event stream (EventHub) is wired to
// its AsapServer and EnrpServer as in poolregd.
#pragma once

#include "dataplane/control/event_hub.hpp"
#include "tests/dataplane/control/control_test_support.hpp"

namespace poolreg::control::testing {

class TestControlDaemon {
 public:
  explicit TestControlDaemon(const std::string& socket_path) : path_(socket_path) {}
  ~TestControlDaemon() { loop_.stop(); }

  bool start() {
    loop_.on_teardown([this] {
      server_.reset();  // before the hub: reports its streams closed
      hub_.reset();
      registrar_.reset();
    });
    return loop_.start([this](runtime::EventLoop& l) {
      registrar_ = std::make_unique<MiniRegistrar>();
      auto& r = *registrar_;
      if (!r.add_pe("echo", 1) || !r.add_pe("echo", 2) || !r.add_pe("echo", 0x1234567890ull, PolicyType::kRoundRobin, kPeerId) ||
          !r.add_pe("web", 7, PolicyType::kLeastUsed, kOwnId, 0x40000000u) || !r.add_pe(std::string("\x01\x02", 2), 9))
        return false;
      ControlServerConfig c;
      c.socket_path = path_;
      server_ = std::make_unique<ControlServer>(l, c);
      RegistrarBindings b = r.bindings();
      b.status.control_socket = path_;
      register_registrar_commands(*server_, b);
      // The live event stream, wired as poolregd does (AsapServer -> sink -> hub -> server).
      hub_ = std::make_unique<EventHub>(events_, EventHubConfig{kOwnId, 1u << 20, 16});
      hub_->attach(*server_);
      r.asap->set_event_sink(&events_);
      r.enrp->set_event_sink(&events_);
      const Clock* clock = &r.clock;
      server_->add_command("peers", [clock](const json&) {
        std::vector<enrp::PeerSnapshot> peers(2);
        peers[0].id = kPeerId;
        peers[0].endpoint.protocol = TransportProtocol::kSctp;
        peers[0].endpoint.port = 9902;
        peers[0].endpoint.addresses = {IpAddress::v4(0x7f000001u)};
        peers[0].state = enrp::PeerState::kAlive;
        peers[0].is_static = true;
        peers[0].last_heard = clock->now() - 1500 * kNsPerMs;
        peers[0].their_checksum16 = 0xbeef;
        peers[0].our_checksum16 = 0xbeef;
        peers[0].in_sync = true;
        peers[0].mentor = true;
        peers[0].pe_count = 1;
        // A static peer dropped as dead: reset to ID 0, its last ID and PE count kept for display.
        peers[1].id = 0;
        peers[1].last_id = 0x10000003;
        peers[1].last_pe_count = 4;
        peers[1].last_heard = clock->now() - 7000 * kNsPerMs;
        peers[1].endpoint = peers[0].endpoint;
        peers[1].endpoint.port = 9903;
        peers[1].state = enrp::PeerState::kDead;
        peers[1].is_static = true;
        peers[1].taker = kOwnId;
        return peers_result(peers, clock->now());
      });
      server_->add_command("takeover-status", [clock](const json&) {
        std::vector<enrp::TakeoverStatus> t(1);
        t[0].target = 0x10000003;
        t[0].ours = true;
        t[0].taker = kOwnId;
        t[0].outstanding = {kPeerId};
        t[0].expires_at = clock->now() + 4000 * kNsPerMs;
        return takeover_result(t, clock->now());
      });
      return server_->start().has_value();
    });
  }
  // Runs f on the loop thread (the registrar's thread).
  void with_registrar(const std::function<void(MiniRegistrar&)>& f) {
    loop_.call([&] { f(*registrar_); });
  }
  const std::string& path() const { return path_; }
  // Subscribers of the event stream now (read on the loop thread).
  std::size_t event_subscribers() {
    std::size_t n = 0;
    loop_.call([&] { n = hub_->subscriber_count(); });
    return n;
  }

 private:
  std::string path_;
  LoopThread loop_;
  std::unique_ptr<MiniRegistrar> registrar_;
  RegistrarEventSink events_;
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<ControlServer> server_;
};

}  // namespace poolreg::control::testing
