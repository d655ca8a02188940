#include "registrar/enrp/handle_table_sync.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "registrar/common/pe_distance.hpp"
#include "registrar/enrp/peer_pe_store.hpp"
#include "registrar/enrp/peer_wire_options.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "registrar/wire/parameter_codec.hpp"

namespace poolreg::enrp {

namespace {

// Bytes the PE TLV takes in a Handle Table Response (exact: encoded once into `buf`).
std::size_t encoded_pe_size(std::vector<std::uint8_t>& buf, const PoolElement& pe,
                            const wire::WireOptions& o) {
  buf.clear();
  wire::TlvWriter w{wire::ByteSink(buf)};
  wire::encode_pool_element(w, pe, true, o);
  return w.ok() ? w.size() : 0;
}

}  // namespace

HandleTableSync::HandleTableSync(const EnrpConfig& config, handlespace::Handlespace& handlespace,
                                 PeerTable& peers, PeerLinks& links, const Clock& clock)
    : config_(config), hs_(handlespace), peers_(peers), links_(links), clock_(clock) {}

// ---- requester side ----

void HandleTableSync::start(PeerEntry& peer, bool own_children_only, bool purge_at_end) {
  RequestSync& sync = state_[peer.key].request;
  if (sync.running || peer.id == 0) return;
  if (purge_at_end) hs_.mark_owned_by(peer.id);
  sync.running = true;
  sync.own_children_only = own_children_only;
  sync.purge_at_end = purge_at_end;
  request_table(peer, sync);
}

void HandleTableSync::request_table(PeerEntry& peer, RequestSync& sync) {
  sync.deadline = clock_.now() + config_.max_time_no_response;
  if (links_.send_to(peer, wire::HandleTableRequest{config_.own_id, peer.id, sync.own_children_only}))
    ++counters_.sync_requests_sent;
}

void HandleTableSync::finish(RegistrarId owner, RequestSync& sync, bool completed) {
  if (!sync.running) return;
  if (completed) {
    ++counters_.sync_completed;
    if (sync.purge_at_end) {
      const bool publish = events_ != nullptr && events_->interest() != 0;  // copy the PE only then
      const std::size_t purged = hs_.purge_marked(owner, [&](const handlespace::RemovedPeView& r) {
        if (publish)
          publish_pe_removed(events_, r.handle, r.pe.to_pool_element(), r.pool_removed,
                             PeRemovalCause::kAuditPurge);
      });
      counters_.sync_pes_purged += purged;
      publish_audit(RegistrarEventKind::kAuditRepaired, owner, purged);
    }
  }
  sync = RequestSync{};
}

void HandleTableSync::publish_audit(RegistrarEventKind kind, RegistrarId peer, std::uint64_t count) {
  if (!wants_event(events_, kind)) return;
  RegistrarEvent e;
  e.kind = kind;
  e.peer = peer;
  e.count = count;
  if (const PeerEntry* p = peers_.find_by_id(peer); p != nullptr && !p->endpoint.addresses.empty())
    e.peer_endpoint = p->endpoint;
  events_->publish(std::move(e));
}

void HandleTableSync::abort(PeerKey peer) {
  auto it = state_.find(peer);
  if (it != state_.end()) finish(0, it->second.request, false);
}

bool HandleTableSync::running(PeerKey peer) const {
  auto it = state_.find(peer);
  return it != state_.end() && it->second.request.running;
}

HandleTableSync::ResponseOutcome HandleTableSync::on_response(PeerEntry& peer, wire::HandleTableResponse& m,
                                                              std::size_t wire_bytes, std::uint32_t hop_ms) {
  counters_.sync_bytes_received += wire_bytes;
  ++counters_.sync_responses_received;
  auto it = state_.find(peer.key);
  if (it == state_.end() || !it->second.request.running) {
    // Nobody asked (or we gave up waiting): a table we did not request is not applied, so a
    // peer cannot push PEs past the Handle Update checks or replay an old table.
    ++counters_.sync_responses_unsolicited;
    return ResponseOutcome::kNotRunning;
  }
  RequestSync& sync = it->second.request;
  if (m.reject) {  // R=1: the peer does not know us; no purge
    finish(peer.id, sync, false);
    return ResponseOutcome::kRejected;
  }
  for (wire::HandleTableEntry& pool : m.pools) {
    for (PoolElement& pe : pool.elements) {
      pe.home_registrar = peers_.resolve_wire_id(pe.home_registrar, config_.own_id);
      if (is_own_id(pe.home_registrar, config_.own_id)) continue;  // we are the owner: ours is authoritative
      if (owned_over_live_association(hs_, config_.own_id, pool.pool_handle, pe.id)) {
        ++counters_.sync_pes_refused_owned_live;  // registered here right now: stays ours
        continue;
      }
      add_hop_distance(pe.policy, hop_ms);  // the sender's distance plus ours to the sender
      if (store_peer_pe(hs_, clock_.now(), pool.pool_handle, pe, events_)) ++counters_.sync_pes_received;
    }
  }
  if (m.more) {
    request_table(peer, sync);  // ENRP-SYNC-03: the responder continues where it stopped
    return ResponseOutcome::kContinued;
  }
  finish(peer.id, sync, true);
  return ResponseOutcome::kCompleted;
}

// ---- responder side ----

void HandleTableSync::reject_stranger(ConnectionId connection, const wire::HandleTableRequest& m) {
  wire::HandleTableResponse resp;
  resp.sender = config_.own_id;
  resp.receiver = m.sender;
  resp.reject = true;
  if (links_.send_on(connection, resp, decode_options(config_))) ++counters_.sync_rejects_sent;
}

void HandleTableSync::on_request(PeerEntry* peer, ConnectionId connection,
                                 const wire::HandleTableRequest& m) {
  ++counters_.sync_requests_received;
  if (peer == nullptr) {  // ENRP-SYNC-02: unknown requester → reject
    reject_stranger(connection, m);
    return;
  }
  const TimeNs now = clock_.now();
  ResponderCursor& rc = state_[peer->key].responder;
  if (!rc.active || rc.own_children_only != m.own_children_only || now >= rc.expires_at) {
    rc = ResponderCursor{};
    rc.active = true;
    rc.own_children_only = m.own_children_only;
  }
  const std::optional<RegistrarId> owner =
      m.own_children_only ? std::optional<RegistrarId>(config_.own_id) : std::nullopt;
  const wire::WireOptions o = options_for(config_, *peer);

  struct Item {
    PoolHandle handle;
    PoolElement pe;
  };
  std::vector<Item> items;
  items.reserve(std::min<std::size_t>(config_.max_elements_per_response, 256));
  handlespace::SnapshotResult res =
      hs_.snapshot(rc.cursor, owner, std::max<std::size_t>(config_.max_elements_per_response, 1),
                   [&](const PoolHandle& h, const handlespace::PoolElementView& v) {
                     items.push_back(Item{h, v.to_pool_element()});
                     adapt_for_peer(config_, items.back().pe, *peer);
                     retiring_to_remaining(items.back().pe, now);
                   });

  // Byte bound: header + Extended-IDs (next-gen) + per pool a Pool Handle TLV + the PE TLVs.
  std::size_t total = wire::kEnrpMinMessageSize + (o.next_gen ? 4 + 16 : 0);
  std::size_t keep = 0;
  const PoolHandle* last = nullptr;
  std::vector<std::uint8_t> buf;
  for (const Item& it : items) {
    std::size_t add = encoded_pe_size(buf, it.pe, o);
    if (last == nullptr || !(it.handle == *last)) add += wire::kTlvHeaderSize + wire::pad4(it.handle.size());
    if (keep > 0 && total + add > config_.max_response_bytes) break;
    total += add;
    ++keep;
    last = &it.handle;
  }
  if (keep < items.size()) {
    // Stopped early: the continuation point is right after the `keep`-th PE.
    res = hs_.snapshot(rc.cursor, owner, keep, [](const PoolHandle&, const handlespace::PoolElementView&) {});
    items.resize(keep);
  }

  wire::HandleTableResponse resp;
  resp.sender = config_.own_id;
  resp.receiver = peer->id;
  for (Item& it : items) {
    if (resp.pools.empty() || !(resp.pools.back().pool_handle == it.handle))
      resp.pools.push_back(wire::HandleTableEntry{it.handle, {}});
    resp.pools.back().elements.push_back(std::move(it.pe));
  }
  resp.more = res.more;
  if (res.more) {
    rc.cursor = res.next;
    // Short enough that a requester that gave up (after MAX-TIME-NO-RESPONSE) and starts a new
    // sync gets the table from the beginning, long enough for a round trip.
    rc.expires_at = now + config_.max_time_no_response / 2;
  } else {
    rc.active = false;
  }
  const std::size_t pes = items.size();
  if (links_.send_to(*peer, resp)) {
    ++counters_.sync_responses_sent;
    counters_.sync_pes_sent += pes;
    counters_.sync_bytes_sent += total;
  }
}

// ---- audit ----

void HandleTableSync::audit(PeerEntry& peer, const wire::Presence& m) {
  if (running(peer.key)) return;
  bool mismatch = false;
  if (uses_ng(config_, peer, wire::kNgCapCk32) && m.checksum32) {
    mismatch = *m.checksum32 != hs_.checksum32(peer.id);
  } else if (m.checksum) {
    mismatch = *m.checksum != announced_checksum16(hs_.checksum16(peer.id));
  } else {
    return;
  }
  ++counters_.audits;
  if (mismatch) {
    ++counters_.audit_mismatches;
    publish_audit(RegistrarEventKind::kAuditMismatch, peer.id, hs_.pe_count_of_owner(peer.id));
    start(peer, /*own_children_only=*/true, /*purge_at_end=*/true);
  }
}

void HandleTableSync::force_audit() {
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.state != PeerState::kAlive || running(key)) continue;
    ++counters_.audits;
    start(e, /*own_children_only=*/true, /*purge_at_end=*/true);
  }
}

// ---- time ----

void HandleTableSync::run_timers(TimeNs now) {
  for (auto& [key, s] : state_) {
    if (!s.request.running || s.request.deadline > now) continue;
    ++counters_.sync_timeouts;
    finish(0, s.request, false);
  }
}

TimeNs HandleTableSync::next_timer_due() const {
  TimeNs due = std::numeric_limits<TimeNs>::max();
  for (const auto& [key, s] : state_)
    if (s.request.running) due = std::min(due, s.request.deadline);
  return due;
}

// ---- peer table changes ----

void HandleTableSync::forget(PeerKey peer) { state_.erase(peer); }

void HandleTableSync::transfer(PeerKey from, PeerKey to) {
  auto it = state_.find(from);
  if (it == state_.end()) {
    state_.erase(to);
    return;
  }
  PeerSync moved = std::move(it->second);
  state_.erase(it);
  state_[to] = std::move(moved);
}

}  // namespace poolreg::enrp
