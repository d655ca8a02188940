#include "tests/fuzz/registrar_state_harness.hpp"

#include <utility>
#include <vector>

namespace poolreg::fuzz {

namespace {

asap::AsapConfig asap_config() {
  asap::AsapConfig c;
  c.registrar_id = kOwnId;
  // Small limits so the fuzzer reaches them: refusals, multi-pass teardowns.
  c.max_associations = kAsapConnections;
  c.max_pes_per_association = 6;
  c.teardown_batch = 2;
  c.timer_slots = 64;  // the wheel and the queues below are built per input: keep them small
  return c;
}

TransportEndpoint peer_endpoint() {
  TransportEndpoint e;
  e.protocol = TransportProtocol::kSctp;
  e.port = kPeerPort;
  e.addresses = {kPeerAddress};
  return e;
}

enrp::EnrpConfig enrp_config() {
  enrp::EnrpConfig c = enrp::EnrpConfig::fast();
  c.own_id = kOwnId;
  c.own_endpoint = peer_endpoint();
  c.own_endpoint.addresses = {IpAddress::v4(0x0a090002)};
  c.static_peers.push_back({peer_endpoint(), 0});
  c.jitter_seed = 1;  // reproducible runs
  return c;
}

}  // namespace

RegistrarStateHarness::RegistrarStateHarness()
    : hs_(handlespace::HandlespaceConfig{.shard_count = 2, .feedback_queue_capacity = 64}, domain_),
      reader_(domain_, 7) {
  reader_.online();
  enrp_ = std::make_unique<enrp::EnrpServer>(enrp_config(), hs_, out_, clock_, monitor_);
  asap_ = std::make_unique<asap::AsapServer>(asap_config(), hs_, reader_, out_, clock_, enrp_.get());
  monitor_.set(asap_.get());
  enrp_->start();
  settle();
}

RegistrarStateHarness::~RegistrarStateHarness() {
  monitor_.set(nullptr);
  asap_.reset();
  enrp_.reset();
  reader_.offline();
}

void RegistrarStateHarness::asap_up(ConnectionId c, std::vector<IpAddress> addresses) {
  open_asap_.insert(c);
  asap_->on_connection_up(c, asap::testing::sctp_peer(std::move(addresses)));
}

void RegistrarStateHarness::asap_close(ConnectionId c) {
  if (open_asap_.erase(c) == 0) return;  // the transport reports a close once
  asap_->on_connection_closed(c);
}

void RegistrarStateHarness::asap_message(ConnectionId c, std::span<const std::uint8_t> bytes) {
  if (!open_asap_.contains(c)) return;
  asap_->on_message(c, bytes);
}

void RegistrarStateHarness::asap_addresses_changed(ConnectionId c, std::vector<IpAddress> addresses) {
  if (!open_asap_.contains(c)) return;
  asap_->on_addresses_changed(c, asap::testing::sctp_peer(std::move(addresses)));
}

void RegistrarStateHarness::enrp_message(std::span<const std::uint8_t> bytes) {
  if (enrp_connection_ != kNoConnectionId) enrp_->on_message(enrp_connection_, bytes);
}

void RegistrarStateHarness::enrp_peer_lost() {
  if (enrp_connection_ == kNoConnectionId) return;
  enrp_->on_connection_closed(std::exchange(enrp_connection_, kNoConnectionId));
}

void RegistrarStateHarness::advance(TimeNs delta) {
  clock_.advance(delta);
  asap_->run_timers(clock_.now());
  enrp_->run_timers(clock_.now());
}

void RegistrarStateHarness::settle() {
  // Aborts and closes come back as closed connections.
  for (const auto* list : {&out_.aborted, &out_.closed}) {
    for (ConnectionId c : *list) {
      if (c == enrp_connection_) {
        enrp_peer_lost();
      } else if (open_asap_.erase(c) != 0) {
        probes_.erase(c);
        asap_->on_connection_closed(c);
      }
    }
  }
  out_.aborted.clear();
  out_.closed.clear();
  // Outgoing connections come up at once. FakeOutput numbers them 9000, 9001, ... in order.
  for (; connects_seen_ < out_.connects.size(); ++connects_seen_) {
    const ConnectionId id = 9000 + connects_seen_;
    const auto& [protocol, to] = out_.connects[connects_seen_];
    ConnectionPeer peer;
    peer.kind = to.protocol;
    peer.protocol = protocol;
    peer.outgoing = true;
    peer.addresses = to.addresses;
    peer.port = to.port;
    if (protocol == WireProtocol::kEnrp) {
      if (enrp_connection_ != kNoConnectionId) continue;  // only the static peer answers
      enrp_connection_ = id;
      enrp_->on_connection_up(id, peer);
    } else {
      open_asap_.insert(id);
      probes_.insert(id);
      asap_->on_connection_up(id, peer);
    }
  }
  out_.sent.clear();  // nobody reads the answers; keeps memory flat over long inputs
}

bool RegistrarStateHarness::finish_teardowns() {
  for (int pass = 0; pass < 10'000 && asap_->pending_teardowns() > 0; ++pass) asap_->run_timers(clock_.now());
  return asap_->pending_teardowns() == 0;
}

}  // namespace poolreg::fuzz
