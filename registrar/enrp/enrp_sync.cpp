// EnrpServer: handle table synchronisation and audit repair (enrp.md 4.6, ENRP-SYNC-01..03).
//
// Pacing: the responder sends exactly one bounded response (max elements, max bytes) per
// request and keeps a per-peer cursor; the requester asks again on M=1. A sync of any size
// therefore costs one bounded unit of work per received message and never starves the event
// loop.
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "registrar/enrp/enrp_server.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "registrar/wire/parameter_codec.hpp"

namespace poolreg::enrp {

namespace {

// Bytes the PE TLV takes in a Handle Table Response (exact: encoded once into `buf`).
std::size_t encoded_pe_size(std::vector<std::uint8_t>& buf, const PoolElement& pe, const wire::WireOptions& o) {
  buf.clear();
  wire::TlvWriter w{wire::ByteSink(buf)};
  wire::encode_pool_element(w, pe, true, o);
  return w.ok() ? w.size() : 0;
}

}  // namespace

// ---- requester side ----

void EnrpServer::start_sync(PeerEntry& peer, bool own_children_only, bool purge_at_end) {
  if (peer.sync.running || peer.id == 0) return;
  if (purge_at_end) hs_.mark_owned_by(peer.id);
  peer.sync.running = true;
  peer.sync.own_children_only = own_children_only;
  peer.sync.purge_at_end = purge_at_end;
  request_table(peer);
}

void EnrpServer::request_table(PeerEntry& peer) {
  peer.sync.deadline = clock_.now() + config_.max_time_no_response;
  if (send_to(peer, wire::HandleTableRequest{config_.own_id, peer.id, peer.sync.own_children_only}))
    ++counters_.sync_requests_sent;
}

void EnrpServer::finish_sync(PeerEntry& peer, bool completed) {
  if (!peer.sync.running) return;
  if (completed) {
    ++counters_.sync_completed;
    if (peer.sync.purge_at_end) {
      counters_.sync_pes_purged += hs_.purge_marked(peer.id, [](const handlespace::RemovedPe&) {});
    }
    if (mentor_ && *mentor_ == peer.key) startup_complete_ = true;  // ENRP-START-01
  }
  peer.sync = RequestSync{};
}

void EnrpServer::handle_table_response(PeerEntry& peer, wire::HandleTableResponse& m) {
  ++counters_.sync_responses_received;
  if (m.reject) {  // R=1: the peer does not know us; no purge
    finish_sync(peer, false);
    return;
  }
  for (wire::HandleTableEntry& pool : m.pools) {
    for (PoolElement& pe : pool.elements) {
      pe.home_registrar = resolve_id(pe.home_registrar);
      if (is_self(pe.home_registrar)) continue;  // we are the owner: ours is authoritative
      if (apply_peer_pe(pool.pool_handle, std::move(pe))) ++counters_.sync_pes_received;
    }
  }
  if (!peer.sync.running) return;  // unsolicited or late response: applied, nothing more
  if (m.more) {
    request_table(peer);  // ENRP-SYNC-03: the responder continues where it stopped
  } else {
    finish_sync(peer, true);
  }
}

// ---- responder side ----

void EnrpServer::handle_table_request(PeerEntry* peer, ConnectionId connection, const wire::HandleTableRequest& m) {
  ++counters_.sync_requests_received;
  if (peer == nullptr) {  // ENRP-SYNC-02: unknown requester → reject
    wire::HandleTableResponse resp;
    resp.sender = config_.own_id;
    resp.receiver = m.sender;
    resp.reject = true;
    if (send_on(connection, resp, decode_options())) ++counters_.sync_rejects_sent;
    return;
  }
  const TimeNs now = clock_.now();
  ResponderCursor& rc = peer->responder;
  if (!rc.active || rc.own_children_only != m.own_children_only || now >= rc.expires_at) {
    rc = ResponderCursor{};
    rc.active = true;
    rc.own_children_only = m.own_children_only;
  }
  const std::optional<RegistrarId> owner =
      m.own_children_only ? std::optional<RegistrarId>(config_.own_id) : std::nullopt;
  const wire::WireOptions o = options_for(*peer);

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
                     adapt_for_peer(items.back().pe, *peer);
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
  if (send_to(*peer, resp)) {
    ++counters_.sync_responses_sent;
    counters_.sync_pes_sent += pes;
    counters_.sync_bytes_sent += total;
  }
}

}  // namespace poolreg::enrp
