#include "registrar/enrp/takeover_coordinator.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "registrar/enrp/peer_pe_store.hpp"
#include "registrar/enrp/peer_wire_options.hpp"

namespace poolreg::enrp {

TakeoverCoordinator::TakeoverCoordinator(const EnrpConfig& config, handlespace::Handlespace& handlespace,
                                         PeerTable& peers, PeerLinks& links, const Clock& clock,
                                         PeMonitor& pe_monitor)
    : config_(config),
      hs_(handlespace),
      peers_(peers),
      links_(links),
      clock_(clock),
      pe_monitor_(pe_monitor) {}

bool TakeoverCoordinator::sender_wins_tie(const PeerEntry& sender) const {
  if (uses_ng(config_, sender, wire::kNgCapId64)) return sender.id < config_.own_id;
  return short_id(sender.id) < short_id(config_.own_id);
}

std::optional<RegistrarId> TakeoverCoordinator::start(const PeerEntry& target) {
  const TimeNs now = clock_.now();
  TakeoverProcess p;
  p.target = target.id;
  p.started_at = now;
  p.expires_at = now + config_.takeover_expiry;
  for (const auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.key == target.key || is_own_id(e.id, config_.own_id) || e.state == PeerState::kDead)
      continue;
    p.outstanding.push_back(e.id);
  }
  const RegistrarId target_id = target.id;
  processes_[target_id] = std::move(p);
  ++counters_.takeovers_started;
  publish_takeover(RegistrarEventKind::kTakeoverStarted, target_id, config_.own_id, hs_.pe_count_of_owner(target_id));
  // ENRP-TKO-01: Init Takeover to every peer, the target included.
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 && !e.is_static) continue;
    links_.send_to(e, wire::InitTakeover{config_.own_id, e.id, target_id});
  }
  // Nobody to ask (two-PR cluster): finish at once (enrp.md 4.7 step 4).
  auto it = processes_.find(target_id);
  if (it == processes_.end() || !it->second.complete()) return std::nullopt;
  finish(target_id);
  return target_id;
}

void TakeoverCoordinator::publish_takeover(RegistrarEventKind kind, RegistrarId target, RegistrarId taker,
                                           std::uint64_t pes) {
  if (!wants_event(events_, kind)) return;
  RegistrarEvent e;
  e.kind = kind;
  e.peer = target;
  e.taker = taker;
  e.count = pes;
  if (const PeerEntry* p = peers_.find_by_id(target); p != nullptr && !p->endpoint.addresses.empty())
    e.peer_endpoint = p->endpoint;
  events_->publish(std::move(e));
}

void TakeoverCoordinator::cancel(RegistrarId target) {
  if (processes_.erase(target) != 0) ++counters_.takeovers_cancelled;
}

void TakeoverCoordinator::finish(RegistrarId target) {
  auto it = processes_.find(target);
  if (it == processes_.end()) return;
  processes_.erase(it);
  ++counters_.takeovers_won;
  const RegistrarId self = config_.own_id;
  // ENRP-TKO-05: Takeover Server to every peer with a known ID.
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.id == target || e.state == PeerState::kDead) continue;
    links_.send_to(e, wire::TakeoverServer{self, e.id, target});
  }
  // Take ownership: copy the PEs first (views are only valid during the visit), then move
  // them and their checksum contributions in one step, then ask ASAP to probe each with H=1.
  std::vector<std::pair<PoolHandle, PoolElement>> taken;
  taken.reserve(hs_.pe_count_of_owner(target));
  hs_.for_each_of_owner(target, [&](const PoolHandle& h, const handlespace::PoolElementView& v) {
    taken.emplace_back(h, v.to_pool_element());
  });
  hs_.change_owner(target, self, /*clear_expiry=*/true);
  publish_takeover(RegistrarEventKind::kTakeoverWon, target, self, taken.size());
  const TimeNs now = clock_.now();
  for (auto& [handle, pe] : taken) {
    pe.home_registrar = self;
    publish_pe_written(events_, handle, pe, false, false, target, nullptr);  // pe_moved: re-homed
    ++counters_.takeover_pes_taken;
    if (pe.asap_transport && pe.asap_transport->protocol == TransportProtocol::kTcp) {
      // NG-TCP-02: unreachable by H=1; keep it for its registration life instead.
      hs_.set_expiry(handle, pe.id, now + registration_life_ns(pe));
      continue;
    }
    pe_monitor_.monitor_as_new_home(handle, pe);
  }
  recent_wins_.push_back(WonTakeover{counters_.takeovers_won, target, taken.size(), now});
  if (recent_wins_.size() > kRecentWins) recent_wins_.pop_front();
}

TakeoverCoordinator::InitTakeoverReply TakeoverCoordinator::on_init_takeover(PeerEntry& from,
                                                                             const wire::InitTakeover& m) {
  const RegistrarId target = peers_.resolve_wire_id(m.target, config_.own_id);
  if (target == 0) return InitTakeoverReply::kIgnored;
  if (is_own_id(target, config_.own_id)) return InitTakeoverReply::kTargetIsUs;
  if (target == from.id) return InitTakeoverReply::kIgnored;  // nonsense: a PR cannot take itself over
  auto own = processes_.find(target);
  if (own != processes_.end()) {
    // ENRP-TKO-03: we keep ours, the other side will ack.
    if (!sender_wins_tie(from)) return InitTakeoverReply::kIgnored;
    processes_.erase(own);
    ++counters_.takeovers_lost;
    publish_takeover(RegistrarEventKind::kTakeoverLost, target, from.id, 0);
    if (PeerEntry* t = peers_.find_by_id(target)) {
      t->taker = from.id;
      t->deadline = clock_.now() + config_.max_time_no_response;  // then forget it
    }
  } else if (PeerEntry* t = peers_.find_by_id(target)) {
    t->taker = from.id;  // ENRP-TKO-04
  }
  links_.send_to(from, wire::InitTakeoverAck{config_.own_id, from.id, target});
  return InitTakeoverReply::kAcknowledged;
}

std::optional<RegistrarId> TakeoverCoordinator::on_init_takeover_ack(const PeerEntry& from,
                                                                     const wire::InitTakeoverAck& m) {
  const RegistrarId target = peers_.resolve_wire_id(m.target, config_.own_id);
  auto it = processes_.find(target);
  if (it == processes_.end()) return std::nullopt;
  if (!it->second.acknowledge(from.id) || !it->second.complete()) return std::nullopt;
  finish(target);
  return target;
}

std::optional<RegistrarId> TakeoverCoordinator::on_takeover_server(const PeerEntry& from,
                                                                   const wire::TakeoverServer& m) {
  // SEC-05: `from` is a table member (EnrpServer refused strangers).
  const RegistrarId target = peers_.resolve_wire_id(m.target, config_.own_id);
  if (target == 0 || target == from.id) return std::nullopt;
  if (is_own_id(target, config_.own_id)) return std::nullopt;  // we are alive: our PEs follow the H=1 probes
  if (processes_.erase(target) != 0) {
    ++counters_.takeovers_lost;
    publish_takeover(RegistrarEventKind::kTakeoverLost, target, from.id, hs_.pe_count_of_owner(target));
  }
  // pe_moved for each re-homed PE: copied first (views live only during the visit).
  std::vector<std::pair<PoolHandle, PoolElement>> moved;
  if (wants_event(events_, RegistrarEventKind::kPeMoved))
    hs_.for_each_of_owner(target, [&](const PoolHandle& h, const handlespace::PoolElementView& v) {
      moved.emplace_back(h, v.to_pool_element());
    });
  hs_.change_owner(target, from.id, /*clear_expiry=*/false);  // ENRP-TKO-06
  for (auto& [handle, pe] : moved) {
    pe.home_registrar = from.id;
    publish_pe_written(events_, handle, pe, false, false, target, nullptr);
  }
  ++counters_.takeovers_completed;
  const PeerEntry* t = peers_.find_by_id(target);
  if (t == nullptr || t->state == PeerState::kAlive) return std::nullopt;
  return target;
}

std::vector<RegistrarId> TakeoverCoordinator::run_timers(TimeNs now) {
  std::vector<RegistrarId> expired;
  for (const auto& [target, p] : processes_)
    if (p.expires_at <= now) expired.push_back(target);
  for (RegistrarId t : expired) finish(t);
  return expired;
}

TimeNs TakeoverCoordinator::next_timer_due() const {
  TimeNs due = std::numeric_limits<TimeNs>::max();
  for (const auto& [target, p] : processes_) due = std::min(due, p.expires_at);
  return due;
}

std::vector<TakeoverStatus> TakeoverCoordinator::status() const {
  std::vector<TakeoverStatus> out;
  for (const auto& [target, p] : processes_) {
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
