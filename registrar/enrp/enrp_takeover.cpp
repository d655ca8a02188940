// EnrpServer: takeover of a dead peer's PEs (enrp.md 4.7, ENRP-TKO-01..07).
#include <utility>
#include <vector>

#include "registrar/enrp/enrp_server.hpp"

namespace poolreg::enrp {

bool EnrpServer::sender_wins_tie(const PeerEntry& sender) const {
  // Lowest ID wins (R, S). Between ID64 peers the full 64-bit IDs decide (nextgen.md 2), else
  // the 32-bit forms everybody sees on the wire.
  if (uses_ng(sender, wire::kNgCapId64)) return sender.id < config_.own_id;
  return short_id(sender.id) < short_id(config_.own_id);
}

void EnrpServer::start_takeover(PeerEntry& target) {
  const TimeNs now = clock_.now();
  TakeoverProcess p;
  p.target = target.id;
  p.started_at = now;
  p.expires_at = now + config_.takeover_expiry;
  for (const auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.key == target.key || is_self(e.id) || e.state == PeerState::kDead) continue;
    p.outstanding.push_back(e.id);
  }
  const RegistrarId target_id = target.id;
  takeovers_[target_id] = std::move(p);
  ++counters_.takeovers_started;
  // ENRP-TKO-01: Init Takeover to every peer, the target included.
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 && !e.is_static) continue;
    send_to(e, wire::InitTakeover{config_.own_id, e.id, target_id});
  }
  // Nobody to ask (two-PR cluster): finish at once (enrp.md 4.7 step 4).
  auto it = takeovers_.find(target_id);
  if (it != takeovers_.end() && it->second.complete()) finish_takeover(target_id);
}

void EnrpServer::cancel_takeover(RegistrarId target) {
  if (takeovers_.erase(target) != 0) ++counters_.takeovers_cancelled;
}

void EnrpServer::finish_takeover(RegistrarId target) {
  auto it = takeovers_.find(target);
  if (it == takeovers_.end()) return;
  takeovers_.erase(it);
  ++counters_.takeovers_won;
  const RegistrarId self = config_.own_id;
  // ENRP-TKO-05: Takeover Server to every peer with a known ID.
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.id == target || e.state == PeerState::kDead) continue;
    send_to(e, wire::TakeoverServer{self, e.id, target});
  }
  // Take ownership: copy the PEs first (views are only valid during the visit), then move
  // them and their checksum contributions in one step, then ask ASAP to probe each with H=1.
  std::vector<std::pair<PoolHandle, PoolElement>> taken;
  taken.reserve(hs_.pe_count_of_owner(target));
  hs_.for_each_of_owner(target, [&](const PoolHandle& h, const handlespace::PoolElementView& v) {
    taken.emplace_back(h, v.to_pool_element());
  });
  hs_.change_owner(target, self, /*clear_expiry=*/true);
  const TimeNs now = clock_.now();
  for (auto& [handle, pe] : taken) {
    pe.home_registrar = self;
    ++counters_.takeover_pes_taken;
    if (pe.asap_transport && pe.asap_transport->protocol == TransportProtocol::kTcp) {
      // NG-TCP-02: unreachable by H=1; keep it for its registration life instead.
      hs_.set_expiry(handle, pe.id,
                     now + static_cast<TimeNs>(std::max<std::uint32_t>(pe.registration_life_ms, 1)) * kNsPerMs);
      continue;
    }
    pe_monitor_.monitor_as_new_home(handle, pe);
  }
  if (PeerEntry* t = peers_.find_by_id(target)) drop_peer(*t);
}

void EnrpServer::handle_init_takeover(PeerEntry& peer, const wire::InitTakeover& m) {
  const RegistrarId target = resolve_id(m.target);
  if (target == 0) return;
  if (is_self(target)) {  // ENRP-TKO-02: we are alive — tell everybody at once
    send_presence_to_all();
    return;
  }
  if (target == peer.id) return;  // nonsense: a PR cannot take itself over
  auto own = takeovers_.find(target);
  if (own != takeovers_.end()) {
    if (!sender_wins_tie(peer)) return;  // ENRP-TKO-03: we keep ours, the other side will ack
    takeovers_.erase(own);
    ++counters_.takeovers_lost;
    if (PeerEntry* t = peers_.find_by_id(target)) {
      t->taker = peer.id;
      t->deadline = clock_.now() + config_.max_time_no_response;  // then forget it
    }
  } else if (PeerEntry* t = peers_.find_by_id(target)) {
    t->taker = peer.id;  // ENRP-TKO-04
  }
  send_to(peer, wire::InitTakeoverAck{config_.own_id, peer.id, target});
}

void EnrpServer::handle_init_takeover_ack(PeerEntry& peer, const wire::InitTakeoverAck& m) {
  const RegistrarId target = resolve_id(m.target);
  auto it = takeovers_.find(target);
  if (it == takeovers_.end()) return;
  if (it->second.acknowledge(peer.id) && it->second.complete()) finish_takeover(target);
}

void EnrpServer::handle_takeover_server(PeerEntry& peer, const wire::TakeoverServer& m) {
  // SEC-05: `peer` is a table member (identify() refused strangers).
  const RegistrarId target = resolve_id(m.target);
  if (target == 0 || target == peer.id) return;
  if (is_self(target)) return;  // we are alive: our PEs will follow the H=1 probes themselves
  if (takeovers_.erase(target) != 0) ++counters_.takeovers_lost;
  hs_.change_owner(target, peer.id, /*clear_expiry=*/false);  // ENRP-TKO-06
  ++counters_.takeovers_completed;
  if (PeerEntry* t = peers_.find_by_id(target); t != nullptr && t->state != PeerState::kAlive) drop_peer(*t);
}

std::vector<TakeoverStatus> EnrpServer::takeover_status() const {
  std::vector<TakeoverStatus> out;
  for (const auto& [target, p] : takeovers_) {
    TakeoverStatus s;
    s.target = target;
    s.ours = true;
    s.taker = config_.own_id;
    s.outstanding = p.outstanding;
    s.expires_at = p.expires_at;
    out.push_back(std::move(s));
  }
  for (const auto& [key, e] : peers_.entries()) {
    if (e.taker == 0) continue;
    TakeoverStatus s;
    s.target = e.id;
    s.taker = e.taker;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace poolreg::enrp
