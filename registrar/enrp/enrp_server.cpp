// EnrpServer, the façade: peers, Presence, liveness, Handle Updates, lists, errors, start-up,
// timers and status; sync and takeover are delegated to HandleTableSync and TakeoverCoordinator.
#include "registrar/enrp/enrp_server.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "registrar/common/pe_distance.hpp"
#include "registrar/enrp/peer_pe_store.hpp"
#include "registrar/enrp/peer_wire_options.hpp"
#include "registrar/wire/enrp_codec.hpp"

namespace poolreg::enrp {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool is_unspecified(const IpAddress& a) noexcept {
  const std::uint8_t* d = a.data();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (d[i] != 0) return false;
  return true;
}

RegistrarId sender_of(const wire::EnrpMessage& m) {
  return std::visit([](const auto& x) { return x.sender; }, m);
}

// Largest cause information we echo (keeps the Error message within any max_message).
constexpr std::size_t kMaxErrorInfo = 1024;
// Peers listed in one List Response (RSPLIB fills one message and drops the rest).
constexpr std::size_t kMaxListEntries = 256;

}  // namespace

EnrpServer::EnrpServer(const EnrpConfig& config, handlespace::Handlespace& handlespace, MessageOutput& output,
                       const Clock& clock, PeMonitor& pe_monitor, EnrpMulticast* multicast)
    : config_(config),
      hs_(handlespace),
      clock_(clock),
      pe_monitor_(pe_monitor),
      multicast_(multicast),
      links_(config_, output, clock),
      sync_(config_, handlespace, peers_, links_, clock),
      takeover_(config_, handlespace, peers_, links_, clock, pe_monitor) {
  rng_state_ = config_.jitter_seed != 0 ? config_.jitter_seed : (config_.own_id * 0x2545f4914f6cdd1dULL) ^ 0x5851f42d;
}

EnrpServer::~EnrpServer() = default;

// ------------------------------------------------------------------------------------------
// Start-up

void EnrpServer::start() {
  if (started_) return;
  started_ = true;
  const TimeNs now = clock_.now();
  startup_deadline_ = now + config_.mentor_discovery;
  for (const EnrpStaticPeer& s : config_.static_peers) {
    PeerEntry& e = peers_.add();
    e.is_static = true;
    e.endpoint = s.endpoint;
    e.id = s.id;
  }
  // Contact every static peer at once (receiver ID 0 until known, ENRP-PEER-06) and ask for a
  // reply so that the mentor is found quickly.
  for (auto& [key, e] : peers_.entries()) send_presence(e, true);
  send_multicast_presence();
  next_heartbeat_ = now + jittered_heartbeat();
  refresh_state_counters();
}

std::pair<std::size_t, std::size_t> EnrpServer::set_static_peers(const std::vector<EnrpStaticPeer>& peers) {
  auto listed = [&](const TransportEndpoint& endpoint) {
    return std::any_of(peers.begin(), peers.end(), [&](const EnrpStaticPeer& p) { return p.endpoint == endpoint; });
  };
  std::vector<PeerKey> gone;
  std::vector<TransportEndpoint> known;
  for (auto& [key, e] : peers_.entries()) {
    if (!e.is_static) {
      // A peer that joined dynamically and is now configured: it becomes static as it is.
      if (listed(e.endpoint)) {
        e.is_static = true;
        known.push_back(e.endpoint);
      }
      continue;
    }
    if (listed(e.endpoint)) known.push_back(e.endpoint);
    else gone.push_back(key);
  }
  for (PeerKey key : gone) {
    PeerEntry* e = peers_.find(key);
    if (e == nullptr) continue;
    if (e->reported_up) publish_peer(RegistrarEventKind::kPeerDown, *e);
    e->is_static = false;  // dropped as a dynamic peer: nothing kept for display
    drop_peer(*e);
  }
  std::size_t added = 0;
  for (const EnrpStaticPeer& s : peers) {
    if (std::find(known.begin(), known.end(), s.endpoint) != known.end()) continue;
    known.push_back(s.endpoint);
    PeerEntry& e = peers_.add();
    e.is_static = true;
    e.endpoint = s.endpoint;
    e.id = s.id;
    ++added;
    if (started_) send_presence(e, true);
  }
  config_.static_peers = peers;
  refresh_state_counters();
  return {added, gone.size()};
}

void EnrpServer::apply_live_timers(const EnrpConfig& next) {
  config_.heartbeat_interval = next.heartbeat_interval;
  config_.max_time_last_heard = next.max_time_last_heard;
  config_.max_time_no_response = next.max_time_no_response;
  config_.takeover_expiry = next.takeover_expiry;
  config_.mentor_discovery = next.mentor_discovery;
  config_.update_coalesce = next.update_coalesce;
  config_.transport_update_delay = next.transport_update_delay;
  if (!started_) return;
  const TimeNs now = clock_.now();
  next_heartbeat_ = std::min(next_heartbeat_, now + jittered_heartbeat());
  if (!startup_complete_) startup_deadline_ = std::min(startup_deadline_, now + config_.mentor_discovery);
}

TimeNs EnrpServer::jittered_heartbeat() {
  const TimeNs interval = config_.heartbeat_interval;
  const TimeNs span = interval / 4;  // +-12.5 %
  if (span == 0) return interval;
  return interval - interval / 8 + splitmix64(rng_state_) % (span + 1);
}

// ------------------------------------------------------------------------------------------
// Transport events

void EnrpServer::on_connection_up(ConnectionId connection, const ConnectionPeer& peer) {
  links_.on_connection_up(connection, peer);
}

void EnrpServer::on_connection_closed(ConnectionId connection) {
  links_.on_connection_closed(connection);
  for (auto& [key, e] : peers_.entries()) {
    if (e.connection != connection) continue;
    // A running sync is not aborted here: its responses may come over another connection
    // (two SCTP associations, TCP duplicate resolution); its MAX-TIME-NO-RESPONSE deadline
    // ends it otherwise.
    e.connection = kNoConnectionId;
  }
}

void EnrpServer::on_message(ConnectionId connection, std::span<const std::uint8_t> message, std::uint32_t srtt_us) {
  handle_unicast(connection, message, distance_from_srtt(srtt_us, config_.distance_step_ms));
  refresh_state_counters();
}

void EnrpServer::on_multicast_message(const IpAddress& from, std::uint16_t /*port*/,
                                      std::span<const std::uint8_t> message) {
  auto r = wire::decode_enrp(message, decode_options(config_));
  if (!r.has_value()) {  // never answered on multicast
    ++counters_.decode_failures;
    return;
  }
  auto* presence = std::get_if<wire::Presence>(&r.value());
  if (presence == nullptr) return;  // only Presence is processed over multicast (R)
  const RegistrarId sender = resolve_id(presence->sender);
  if (sender == 0) return;
  if (is_self(sender)) {
    ++counters_.own_id_ignored;
    return;
  }
  bool is_new = false;
  bool mismatch = false;
  MessageOrigin origin;
  origin.kind = TransportProtocol::kUdp;
  origin.sources = {from};
  if (presence->server_info) origin.announced_port = presence->server_info->transport.port;
  PeerEntry* peer = identify(origin, sender, true, is_new, mismatch);
  if (peer == nullptr) {
    if (mismatch) note_identity_mismatch(origin, sender);
    else ++counters_.rejected_unknown_peer;
    return;
  }
  ++counters_.multicast_presence_received;
  handle_presence(*peer, *presence, true, is_new, origin.sources);
  refresh_state_counters();
}

void EnrpServer::handle_unicast(ConnectionId connection, std::span<const std::uint8_t> bytes, std::uint32_t hop_ms) {
  auto r = wire::decode_enrp(bytes, decode_options(config_));
  if (!r.has_value()) {
    ++counters_.decode_failures;
    const bool is_error_message = !bytes.empty() && bytes[0] == static_cast<std::uint8_t>(wire::EnrpType::kError);
    if (!r.error().silent_drop && !is_error_message) send_error(connection, bytes, r.error());
    return;
  }
  wire::EnrpMessage& msg = r.value();
  const bool is_error = std::holds_alternative<wire::EnrpError>(msg);
  if (!is_error) {
    // WIRE-03: report skipped "skip and report" TLVs, one Error each.
    for (const wire::TlvLocation& loc : r.reports()) {
      wire::DecodeError e;
      e.cause = ErrorCause::kUnrecognizedParameter;
      e.offset = loc.offset;
      e.length = loc.length;
      send_error(connection, bytes, e);
    }
  }
  const RegistrarId sender = resolve_id(sender_of(msg));
  if (is_self(sender)) {  // ENRP-PEER-05: our own message looped back
    ++counters_.own_id_ignored;
    return;
  }
  if (sender == 0) {
    ++counters_.rejected_unknown_peer;
    return;
  }
  const auto* presence = std::get_if<wire::Presence>(&msg);
  const bool is_presence = presence != nullptr;
  // A copy: handling may close this very connection (TCP duplicate resolution).
  MessageOrigin origin;
  origin.connection = connection;
  if (const ConnectionPeer* from = links_.peer_of(connection)) {
    origin.kind = from->kind;
    // Only the address the connection really runs on (the transports list it first): an SCTP
    // peer's further addresses are what its INIT claims, unverified, so a stranger could list
    // a peer's address there and pass for it (issue 17, finding 1).
    if (!from->addresses.empty()) origin.sources = {from->addresses.front()};
    if (from->kind == TransportProtocol::kSctp) origin.transport_port = from->port;
  }
  if (presence != nullptr && presence->server_info) origin.announced_port = presence->server_info->transport.port;
  const std::vector<IpAddress>& sources = origin.sources;
  bool is_new = false;
  bool mismatch = false;
  PeerEntry* peer = identify(origin, sender, is_presence, is_new, mismatch);
  if (peer == nullptr) {
    if (mismatch) {  // somebody speaking for another peer: never answered, never applied
      note_identity_mismatch(origin, sender);
      return;
    }
    if (auto* req = std::get_if<wire::HandleTableRequest>(&msg)) {
      sync_.on_request(nullptr, connection, *req);  // ENRP-SYNC-02: reject
      return;
    }
    ++counters_.rejected_unknown_peer;  // SEC-04
    return;
  }
  if (is_new && !is_presence) send_presence(*peer, true);
  switch (msg.index()) {
    case 0: {
      ++counters_.presence_received;
      handle_presence(*peer, std::get<wire::Presence>(msg), false, is_new, sources);
      break;
    }
    case 1: sync_.on_request(peer, connection, std::get<wire::HandleTableRequest>(msg)); break;
    case 2: handle_table_response(*peer, std::get<wire::HandleTableResponse>(msg), bytes.size(), hop_ms); break;
    case 3: handle_update(*peer, std::get<wire::HandleUpdate>(msg), hop_ms); break;
    case 4: handle_list_request(*peer, std::get<wire::ListRequest>(msg)); break;
    case 5: handle_list_response(*peer, std::get<wire::ListResponse>(msg)); break;
    case 6: handle_init_takeover(*peer, std::get<wire::InitTakeover>(msg)); break;
    case 7: drop_taken_over(takeover_.on_init_takeover_ack(*peer, std::get<wire::InitTakeoverAck>(msg))); break;
    case 8: drop_taken_over(takeover_.on_takeover_server(*peer, std::get<wire::TakeoverServer>(msg))); break;
    case 9: ++counters_.errors_received; break;
    default: break;
  }
}

// ------------------------------------------------------------------------------------------
// Peer management

// A static peer is its configured ENRP endpoint (address + port). A message shows it by an SCTP
// association's remote port (the peer's ENRP socket sends from its listening port) or, over TCP
// and multicast where the source port says nothing, by the port its Presence announces in the
// Server Information; the observed source address must be one of the endpoint's addresses
// either way (SEC-04: nobody elsewhere can claim to be a static peer).
PeerEntry* EnrpServer::find_static_by_origin(const MessageOrigin& origin) {
  if (origin.sources.empty()) return nullptr;
  PeerEntry* p = peers_.find_static_by_endpoint(origin.sources, origin.transport_port);
  if (p == nullptr) p = peers_.find_static_by_endpoint(origin.sources, origin.announced_port);
  return p;
}

PeerEntry* EnrpServer::identify(const MessageOrigin& origin, RegistrarId sender, bool is_presence, bool& is_new,
                                bool& mismatch) {
  is_new = false;
  mismatch = false;
  const ConnectionId connection = origin.connection;
  PeerEntry* by_id = peers_.find_by_id(sender);
  PeerEntry* by_conn = peers_.find_by_connection(connection);
  if (by_conn == nullptr) by_conn = find_static_by_origin(origin);
  // The sender's ID already belongs to another static entry (its endpoint changed): go by ID
  // (the origin must still show that entry, checked below).
  if (by_conn != nullptr && by_conn->id == 0 && by_id != nullptr && by_id != by_conn && by_id->is_static)
    by_conn = nullptr;
  if (by_conn != nullptr && by_conn->id != 0 && by_conn->id != sender) {
    if (!by_conn->is_static) {
      // A dynamic peer's connection (or endpoint) now speaks for another ID: that is not the
      // ID this origin announced. Dropped, whatever entry the claimed ID names (issue 17).
      mismatch = true;
      return nullptr;
    }
    // The PR at a static peer's endpoint restarted with a new ID. Keep the old ID as a
    // dynamic entry (no way to reach it) so that its liveness runs out and its PEs are taken
    // over; the static entry continues with the new ID.
    const RegistrarId old_id = by_conn->id;
    if (by_conn->state != PeerState::kDead && hs_.pe_count_of_owner(old_id) > 0 && by_id == nullptr) {
      PeerEntry& ghost = peers_.add();
      ghost.id = old_id;
      ghost.state = by_conn->state == PeerState::kAlive ? PeerState::kAlive : by_conn->state;
      ghost.last_heard = by_conn->last_heard;
      ghost.deadline = by_conn->deadline;
      ghost.taker = by_conn->taker;
    }
    const TransportEndpoint endpoint = by_conn->endpoint;
    const ConnectionId conn = by_conn->connection;
    const PeerKey key = by_conn->key;
    if (mentor_ && *mentor_ == key && !startup_complete_) mentor_.reset();
    sync_.forget(key);
    PeerEntry fresh;
    fresh.key = key;
    fresh.is_static = true;
    fresh.endpoint = endpoint;
    fresh.connection = conn;
    *by_conn = std::move(fresh);
  }
  PeerEntry* p = by_id;
  if (by_conn != nullptr && by_conn->id == 0) {
    if (by_id != nullptr && by_id != by_conn) {
      // The ID was learned earlier for a dynamic entry (List Response) that is elsewhere: the
      // origin (a static endpoint) may take it over only if it is that entry's endpoint too.
      if (!by_id->endpoint.addresses.empty() && !shows_peer(origin, *by_id)) {
        mismatch = true;
        return nullptr;
      }
      // Merge a dynamic entry learned earlier (List Response) into the static one.
      PeerEntry merged = std::move(*by_id);
      const PeerKey dyn_key = merged.key;
      if (mentor_ && *mentor_ == dyn_key) mentor_ = by_conn->key;
      merged.key = by_conn->key;
      merged.is_static = true;
      merged.endpoint = by_conn->endpoint;
      if (by_conn->connection != kNoConnectionId) merged.connection = by_conn->connection;
      *by_conn = std::move(merged);
      sync_.transfer(dyn_key, by_conn->key);
      peers_.erase(dyn_key);
    } else {
      by_conn->id = sender;
      is_new = true;
    }
    p = by_conn;
  } else if (by_conn != nullptr && by_conn->id == sender) {
    p = by_conn;
  } else if (p != nullptr && !shows_peer(origin, *p)) {
    // The claimed ID is a known peer, but this origin is not where that peer is: an impostor
    // (or a peer that moved: it is taken over when its liveness runs out and rejoins at its
    // new endpoint).
    mismatch = true;
    return nullptr;
  }
  if (p == nullptr) {
    // SEC-04: unknown PRs may join only by Presence and only when dynamic peers are allowed.
    if (!config_.allow_dynamic_peers || !is_presence) return nullptr;
    p = &peers_.add();
    p->id = sender;
    is_new = true;
  }
  if (p->state == PeerState::kUnknown || p->state == PeerState::kDead) is_new = true;
  if (connection != kNoConnectionId && p->connection == kNoConnectionId) p->connection = connection;
  if (connection != kNoConnectionId && p->connection != connection) links_.resolve_duplicate_connection(*p, connection);
  return p;
}

void EnrpServer::note_identity_mismatch(const MessageOrigin& origin, RegistrarId sender) {
  ++counters_.rejected_identity_mismatch;
  IdentityMismatch m;
  m.at = clock_.now();
  m.claimed = sender;
  if (const PeerEntry* owner = peers_.find_by_connection(origin.connection)) m.origin_id = owner->id;
  if (!origin.sources.empty()) m.source = origin.sources.front();
  m.kind = origin.kind;
  m.multicast = origin.connection == kNoConnectionId;
  last_mismatch_ = m;
}

void EnrpServer::set_event_sink(RegistrarEventSink* sink) noexcept {
  events_ = sink;
  sync_.set_event_sink(sink);
  takeover_.set_event_sink(sink);
}

void EnrpServer::publish_peer(RegistrarEventKind kind, const PeerEntry& peer) {
  if (!wants_event(events_, kind)) return;
  RegistrarEvent e;
  e.kind = kind;
  e.peer = peer.id != 0 ? peer.id : peer.last_id;
  if (!peer.endpoint.addresses.empty()) e.peer_endpoint = peer.endpoint;
  events_->publish(std::move(e));
}

void EnrpServer::mark_alive(PeerEntry& peer) {
  const TimeNs now = clock_.now();
  if (!peer.reported_up) {
    peer.reported_up = true;
    publish_peer(RegistrarEventKind::kPeerUp, peer);
  }
  peer.last_heard = now;
  peer.state = PeerState::kAlive;
  peer.deadline = now + config_.max_time_last_heard;
  // ENRP-TKO-07: a live peer is not taken over.
  takeover_.cancel(peer.id);
  peer.taker = 0;
  peer.last_id = 0;
  peer.last_pe_count = 0;
}

void EnrpServer::peer_dead(PeerEntry& peer) {
  peer.reported_up = false;
  publish_peer(RegistrarEventKind::kPeerDead, peer);
  peer.state = PeerState::kDead;
  peer.deadline = 0;
  if (peer.id != 0) peer.last_pe_count = hs_.pe_count_of_owner(peer.id);  // before anyone takes them
  if (peer.taker != 0) {  // another PR takes it over (we acked): forget it
    drop_peer(peer);
    return;
  }
  if (peer.id != 0 && hs_.pe_count_of_owner(peer.id) > 0) {
    if (!takeover_.running(peer.id)) drop_taken_over(takeover_.start(peer));
    return;
  }
  drop_peer(peer);
}

void EnrpServer::drop_peer(PeerEntry& peer) {
  if (mentor_ && *mentor_ == peer.key) mentor_.reset();
  sync_.forget(peer.key);
  if (!peer.is_static) {
    peers_.erase(peer.key);
    return;
  }
  // Static peers stay (they keep receiving Presence so that a restart is noticed), but forget
  // everything learned about the previous incarnation but what the operator needs to see who
  // died: its ID, when it was last heard and how many PEs it had (display only, see PeerEntry).
  PeerEntry fresh;
  fresh.key = peer.key;
  fresh.is_static = true;
  fresh.endpoint = peer.endpoint;
  fresh.connection = peer.connection;
  fresh.state = PeerState::kDead;
  fresh.last_heard = peer.last_heard;
  if (peer.id != 0) {
    fresh.last_id = peer.id;
    fresh.last_pe_count = peer.state == PeerState::kDead ? peer.last_pe_count : hs_.pe_count_of_owner(peer.id);
  } else {
    fresh.last_id = peer.last_id;
    fresh.last_pe_count = peer.last_pe_count;
  }
  peer = std::move(fresh);
}

void EnrpServer::drop_taken_over(std::optional<RegistrarId> target) {
  if (!target) return;
  if (PeerEntry* t = peers_.find_by_id(*target)) drop_peer(*t);
}

void EnrpServer::refresh_state_counters() {
  std::uint64_t n[4] = {0, 0, 0, 0};
  for (const auto& [key, e] : peers_.entries()) ++n[static_cast<int>(e.state)];
  counters_.peers_unknown = n[0];
  counters_.peers_alive = n[1];
  counters_.peers_probing = n[2];
  counters_.peers_dead = n[3];
}

void EnrpServer::maybe_choose_mentor(PeerEntry& peer) {
  if (startup_complete_ || mentor_ || peer.id == 0) return;
  mentor_ = peer.key;
  if (!peer.list_synced) {
    peer.list_synced = true;
    links_.send_to(peer, wire::ListRequest{config_.own_id, peer.id});
  }
  sync_.abort(peer.key);
  sync_.start(peer, /*own_children_only=*/false, /*purge_at_end=*/false);
}

// ------------------------------------------------------------------------------------------
// Presence

void EnrpServer::handle_presence(PeerEntry& peer, const wire::Presence& m, bool via_multicast, bool is_new,
                                 std::span<const IpAddress> sources) {
  peer.ng_capabilities = config_.next_gen ? m.ng_capabilities : std::nullopt;  // no TLV → RFC peer
  peer.announced_checksum16 = m.checksum;
  peer.announced_checksum32 = m.checksum32;
  if (m.server_info && !peer.is_static) {
    TransportEndpoint ep = m.server_info->transport;
    std::erase_if(ep.addresses, [](const IpAddress& a) { return is_unspecified(a); });
    if (ep.addresses.empty()) ep.addresses.assign(sources.begin(), sources.end());
    if (ep.port != 0 && !ep.addresses.empty()) peer.endpoint = std::move(ep);
  }
  mark_alive(peer);

  if (is_new) {
    send_presence(peer, true);  // ENRP-PEER-03 (also serves as the reply)
  } else if (m.reply_required && !via_multicast) {
    send_presence(peer, false);  // ENRP-PEER-02
  }
  maybe_choose_mentor(peer);
  if (via_multicast) return;

  if (!peer.list_synced) {
    peer.list_synced = true;
    links_.send_to(peer, wire::ListRequest{config_.own_id, peer.id});
  }
  sync_.audit(peer, m);  // ENRP-AUD-01
}

wire::Presence EnrpServer::build_presence(const PeerEntry* peer, bool reply_required) const {
  wire::Presence m;
  m.sender = config_.own_id;
  m.receiver = peer != nullptr ? peer->id : 0;
  m.reply_required = reply_required;
  // checksum.md section 3: RSPLIB writes its host-order value raw; the message field holds
  // the big-endian reading of the wire bytes, i.e. the byte-swapped host value.
  m.checksum = announced_checksum16();
  m.server_info = wire::ServerInformation{config_.own_id, config_.own_endpoint};
  if (config_.next_gen) {
    m.ng_capabilities = config_.ng_capabilities;
    if (peer != nullptr && uses_ng(config_, *peer, wire::kNgCapCk32)) m.checksum32 = hs_.checksum32(config_.own_id);
  }
  return m;
}

void EnrpServer::send_presence(PeerEntry& peer, bool reply_required) {
  if (links_.send_to(peer, build_presence(&peer, reply_required))) ++counters_.presence_sent;
}

void EnrpServer::send_presence_to_all() {
  // The Presence announces our checksum: held updates go first, so peers that applied them
  // agree with it (no needless sync for a damped update).
  flush_coalesced_updates(true);
  for (auto& [key, e] : peers_.entries()) send_presence(e, false);
  send_multicast_presence();
}

void EnrpServer::send_multicast_presence() {
  if (!config_.multicast || multicast_ == nullptr) return;
  const auto encoded = links_.encode(build_presence(nullptr, false), decode_options(config_));
  if (!encoded) return;
  if (multicast_->send_presence(*encoded)) ++counters_.multicast_presence_sent;
}

std::uint16_t EnrpServer::announced_checksum16() const {
  return enrp::announced_checksum16(hs_.checksum16(config_.own_id));
}

// ------------------------------------------------------------------------------------------
// Sending

void EnrpServer::send_error(ConnectionId connection, std::span<const std::uint8_t> bytes,
                            const wire::DecodeError& error) {
  RegistrarId receiver = 0;
  if (bytes.size() >= 8)
    receiver = (RegistrarId{bytes[4]} << 24) | (RegistrarId{bytes[5]} << 16) | (RegistrarId{bytes[6]} << 8) | bytes[7];
  auto info = error.offending(bytes);
  if (info.size() > kMaxErrorInfo) info = info.first(kMaxErrorInfo);
  wire::WireOptions o = decode_options(config_);
  o.next_gen = false;
  if (const PeerEntry* p = peers_.find_by_connection(connection)) o = options_for(config_, *p);
  if (links_.send_error(connection, receiver, error.cause, info, o)) ++counters_.errors_sent;
}

// ------------------------------------------------------------------------------------------
// Handle Updates

void EnrpServer::send_update(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action) {
  wire::EnrpMessage msg{wire::HandleUpdate{}};
  auto& u = std::get<wire::HandleUpdate>(msg);
  u.sender = config_.own_id;
  u.action = action;
  u.pool_handle = handle;
  u.element = pe;
  u.element.home_registrar = config_.own_id;
  // Kept graceful addresses travel with the time they have left (the codec leaves them and
  // every type out toward RFC peers).
  retiring_to_remaining(u.element, clock_.now());
  const bool tcp_pe = pe.asap_transport && pe.asap_transport->protocol == TransportProtocol::kTcp;
  for (auto& [key, e] : peers_.entries()) {
    // Only to peers heard from: a static peer that never answered (or is dead) syncs its table
    // from a mentor when it comes up; updates queued for it meanwhile would only pile up in the
    // transport in front of that sync (and be dropped once its queue is full).
    if (e.state == PeerState::kDead || e.state == PeerState::kUnknown) continue;
    u.receiver = e.id;
    if (tcp_pe) {
      u.element.asap_transport = pe.asap_transport;
      adapt_for_peer(config_, u.element, e);
    }
    if (links_.send_to(e, msg)) ++counters_.updates_sent;
  }
  // NG-TKS-01 / nextgen.md section 4: one extra T=1 copy to the peer maximising ID XOR PE ID,
  // if it beats our own metric. Not for TCP PEs (nextgen.md section 6 item 8).
  if (action != wire::UpdateAction::kAddPe || !config_.takeover_suggestion) return;
  if (tcp_pe) return;
  PeerEntry* best = nullptr;
  std::uint64_t best_margin_metric = 0;
  for (auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.state != PeerState::kAlive) continue;
    const bool full = uses_ng(config_, e, wire::kNgCapId64);
    const std::uint64_t theirs = full ? (e.id ^ pe.id) : (short_id(e.id) ^ short_id(pe.id));
    const std::uint64_t ours = full ? (config_.own_id ^ pe.id) : (short_id(config_.own_id) ^ short_id(pe.id));
    if (theirs <= ours) continue;
    if (best == nullptr || theirs > best_margin_metric) {
      best = &e;
      best_margin_metric = theirs;
    }
  }
  if (best == nullptr) return;
  u.receiver = best->id;
  u.takeover_suggested = true;
  if (links_.send_to(*best, msg)) ++counters_.takeover_suggestions_sent;
}

void EnrpServer::on_owned_pe_registered(const PoolHandle& handle, const PoolElement& pe) {
  offer_update(handle, pe, wire::UpdateAction::kAddPe);
}

void EnrpServer::on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) {
  offer_update(handle, pe, wire::UpdateAction::kDeletePe);
}

void EnrpServer::on_owned_pe_transport_changed(const PoolHandle& handle, const PoolElement& pe) {
  if (config_.transport_update_delay == 0) {
    offer_update(handle, pe, wire::UpdateAction::kAddPe);
    return;
  }
  coalescer_.offer_transport_only(handle, pe, clock_.now(), config_.transport_update_delay);
  counters_.updates_coalesced = coalescer_.coalesced();
}

void EnrpServer::offer_update(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action) {
  if (config_.update_coalesce == 0) {
    if (coalescer_.held() != 0) coalescer_.supersede(handle, pe.id);  // a waiting transport change
    send_update(handle, pe, action);
  } else if (coalescer_.offer(handle, pe, action, clock_.now(), config_.update_coalesce)) {
    send_update(handle, pe, action);
  }
  counters_.updates_coalesced = coalescer_.coalesced();
}

void EnrpServer::flush_coalesced_updates(bool all) {
  // The pass also forgets quiet PEs, so it runs when a window ended even with nothing held.
  if (all ? coalescer_.held() == 0 : !coalescer_.pass_due(clock_.now())) return;
  std::vector<UpdateCoalescer::Update> due;
  if (all) coalescer_.take_all(due);
  else coalescer_.take_due(clock_.now(), config_.update_coalesce, due);
  for (const auto& u : due) send_update(u.handle, u.pe, u.action);
  counters_.updates_coalesced = coalescer_.coalesced();
}

void EnrpServer::handle_update(PeerEntry& peer, const wire::HandleUpdate& m, std::uint32_t hop_ms) {
  ++counters_.updates_received;
  if (m.action == wire::UpdateAction::kAddPe) {
    PoolElement pe = m.element;
    pe.home_registrar = resolve_id(pe.home_registrar);
    add_hop_distance(pe.policy, hop_ms);  // the sender's distance plus ours to the sender
    if (is_self(pe.home_registrar)) {  // ENRP-UPD-03: stale echo of our own PE
      ++counters_.updates_ignored;
      return;
    }
    // A PE registered here over a live association stays ours (ENRP twin of ASAP cause 0x4).
    if (owned_over_live_association(hs_, config_.own_id, m.pool_handle, pe.id)) {
      ++counters_.updates_refused_owned_live;
      ++counters_.updates_ignored;
      return;
    }
    if (!store_peer_pe(hs_, clock_.now(), m.pool_handle, pe, events_)) {  // ENRP-UPD-01
      ++counters_.updates_ignored;
      return;
    }
    ++counters_.updates_applied;
    // NG-TKS-01 receiver side: probe the PE with H=1, at most once per PE per registration life.
    if (m.takeover_suggested && config_.takeover_suggestion &&
        !(pe.asap_transport && pe.asap_transport->protocol == TransportProtocol::kTcp)) {
      const TimeNs now = clock_.now();
      const SuggestionKey key{m.pool_handle, pe.id};
      auto it = suggestions_accepted_.find(key);
      if (it == suggestions_accepted_.end() || it->second <= now) {
        suggestions_accepted_[key] = now + registration_life_ns(pe);
        ++counters_.takeover_suggestions_accepted;
        pe_monitor_.monitor_as_new_home(m.pool_handle, pe);
      }
    }
    return;
  }
  // DEL (ENRP-UPD-02 + SEC-05): only the PE's current owner may delete it.
  RegistrarId current = 0;
  const bool found = hs_.lookup(m.pool_handle, m.element.id,
                                [&](const handlespace::PoolElementView& v) { current = v.home(); });
  if (!found) {
    ++counters_.updates_ignored;
    return;
  }
  if (current != peer.id) {
    ++counters_.rejected_not_owner;
    ++counters_.updates_ignored;
    return;
  }
  remove_peer_pe(hs_, m.pool_handle, m.element.id, events_, PeRemovalCause::kEnrpPeer);
  ++counters_.updates_applied;
}

// ------------------------------------------------------------------------------------------
// List Request / Response (ENRP-LIST-01)

void EnrpServer::handle_list_request(PeerEntry& peer, const wire::ListRequest& /*m*/) {
  ++counters_.list_requests_received;
  wire::ListResponse resp;
  resp.sender = config_.own_id;
  resp.receiver = peer.id;
  for (const auto& [key, e] : peers_.entries()) {
    if (e.id == 0 || e.key == peer.key || e.state == PeerState::kDead) continue;
    if (e.endpoint.addresses.empty() || e.endpoint.port == 0) continue;
    if (resp.servers.size() >= kMaxListEntries) break;
    resp.servers.push_back(wire::ServerInformation{e.id, e.endpoint});
  }
  links_.send_to(peer, resp);
}

void EnrpServer::handle_list_response(PeerEntry& /*peer*/, const wire::ListResponse& m) {
  ++counters_.list_responses_received;
  if (m.reject) return;
  const TimeNs now = clock_.now();
  for (const wire::ServerInformation& si : m.servers) {
    const RegistrarId id = resolve_id(si.registrar_id);
    if (id == 0 || is_self(id) || peers_.find_by_id(id) != nullptr) continue;
    TransportEndpoint ep = si.transport;
    std::erase_if(ep.addresses, [](const IpAddress& a) { return is_unspecified(a); });
    if (ep.addresses.empty() || ep.port == 0) continue;
    PeerEntry* p = peers_.find_static_by_endpoint(ep.addresses, ep.port);
    if (p != nullptr && p->id != 0) continue;  // a static peer known under another ID
    if (p == nullptr) {
      p = &peers_.add();
      p->endpoint = std::move(ep);
    }
    p->id = id;
    p->state = PeerState::kAlive;  // start its MAX-TIME-LAST-HEARD
    p->last_heard = now;
    p->deadline = now + config_.max_time_last_heard;
    send_presence(*p, true);  // ENRP-PEER-03
  }
}

// ------------------------------------------------------------------------------------------
// Sync and takeover messages: the parts do the work, the façade keeps start-up and presence

void EnrpServer::handle_table_response(PeerEntry& peer, wire::HandleTableResponse& m, std::size_t wire_bytes,
                                       std::uint32_t hop_ms) {
  const auto outcome = sync_.on_response(peer, m, wire_bytes, hop_ms);
  if (outcome == HandleTableSync::ResponseOutcome::kCompleted && mentor_ && *mentor_ == peer.key)
    startup_complete_ = true;  // ENRP-START-01: the mentor's whole table arrived
}

void EnrpServer::handle_init_takeover(PeerEntry& peer, const wire::InitTakeover& m) {
  if (takeover_.on_init_takeover(peer, m) == TakeoverCoordinator::InitTakeoverReply::kTargetIsUs)
    send_presence_to_all();  // ENRP-TKO-02: we are alive — tell everybody at once
}

// ------------------------------------------------------------------------------------------
// Timers

void EnrpServer::run_timers(TimeNs now) {
  if (!started_) return;
  if (!startup_complete_ && now >= startup_deadline_) startup_complete_ = true;

  flush_coalesced_updates(false);
  if (now >= next_heartbeat_) {  // ENRP-PEER-01
    send_presence_to_all();
    next_heartbeat_ = now + jittered_heartbeat();
  }

  // Sync timeouts abort requests only (no messages, no peer changes), so they may go first.
  sync_.run_timers(now);

  // Liveness (ENRP-PEER-04). Collect keys first: handlers may erase entries.
  std::vector<PeerKey> due;
  for (const auto& [key, e] : peers_.entries())
    if (e.deadline != 0 && e.deadline <= now) due.push_back(key);
  for (PeerKey key : due) {
    PeerEntry* e = peers_.find(key);
    if (e == nullptr) continue;
    if (e->deadline == 0 || e->deadline > now) continue;
    if (e->state == PeerState::kAlive) {
      e->reported_up = false;
      publish_peer(RegistrarEventKind::kPeerDown, *e);
      e->state = PeerState::kProbing;
      e->deadline = now + config_.max_time_no_response;
      send_presence(*e, true);
    } else {
      peer_dead(*e);
    }
  }

  // TAKEOVER-EXPIRY: RSPSIM assumes consent (enrp.md 4.7 step 4).
  for (RegistrarId target : takeover_.run_timers(now)) drop_taken_over(target);

  // Registration life of peer-owned PEs.
  // The PE is copied for the event only when someone listens.
  const bool publish = events_ != nullptr && events_->interest() != 0;
  counters_.pes_expired += hs_.expire_due(now, [&](const handlespace::RemovedPeView& r) {
    if (publish)
      publish_pe_removed(events_, r.handle, r.pe.to_pool_element(), r.pool_removed, PeRemovalCause::kExpired);
  });
  // Kept graceful addresses (RFC 8653) whose lifetime ended, own PEs and peers' alike: every
  // next-gen registrar holding the PE drops them at the same time, so no Handle Update is sent.
  counters_.graceful_addresses_retired += hs_.retire_due(now);

  std::erase_if(suggestions_accepted_, [now](const auto& kv) { return kv.second <= now; });
  refresh_state_counters();
}

TimeNs EnrpServer::next_timer_due() const {
  if (!started_) return std::numeric_limits<TimeNs>::max();
  TimeNs due = next_heartbeat_;
  if (!startup_complete_) due = std::min(due, startup_deadline_);
  for (const auto& [key, e] : peers_.entries())
    if (e.deadline != 0) due = std::min(due, e.deadline);
  due = std::min(due, sync_.next_timer_due());
  due = std::min(due, takeover_.next_timer_due());
  if (auto x = hs_.next_expiry()) due = std::min(due, *x);
  if (auto x = hs_.next_retirement()) due = std::min(due, *x);
  if (auto x = coalescer_.next_due()) due = std::min(due, *x);
  return due;
}

// ------------------------------------------------------------------------------------------
// Status

std::vector<PeerSnapshot> EnrpServer::peers() const {
  std::vector<PeerSnapshot> out;
  out.reserve(peers_.size());
  for (const auto& [key, e] : peers_.entries()) {
    PeerSnapshot s;
    s.id = e.id;
    s.endpoint = e.endpoint;
    s.state = e.state;
    s.is_static = e.is_static;
    s.last_heard = e.last_heard;
    s.ng_capabilities = e.ng_capabilities;
    s.their_checksum16 = e.announced_checksum16;
    s.their_checksum32 = e.announced_checksum32;
    if (e.id != 0) {
      s.our_checksum16 = enrp::announced_checksum16(hs_.checksum16(e.id));
      s.our_checksum32 = hs_.checksum32(e.id);
      s.pe_count = hs_.pe_count_of_owner(e.id);
    } else {
      s.our_checksum16 = enrp::announced_checksum16(hs_.checksum16(0));
      s.our_checksum32 = hs_.checksum32(0);
    }
    if (uses_ng(config_, e, wire::kNgCapCk32) && e.announced_checksum32)
      s.in_sync = *e.announced_checksum32 == s.our_checksum32;
    else
      s.in_sync = e.announced_checksum16 && *e.announced_checksum16 == s.our_checksum16;
    s.sync_running = sync_.running(key);
    s.mentor = mentor_ && *mentor_ == key;
    s.taker = e.taker;
    s.last_id = e.id != 0 ? e.id : e.last_id;
    s.last_pe_count = e.last_pe_count;
    out.push_back(std::move(s));
  }
  return out;
}

void EnrpServer::force_audit() { sync_.force_audit(); }

std::vector<TakeoverStatus> EnrpServer::takeover_status() const { return takeover_.status(); }

const EnrpCounters& EnrpServer::counters() const noexcept {
  static_cast<HandleTableSyncCounters&>(counters_) = sync_.counters();
  static_cast<TakeoverCounters&>(counters_) = takeover_.counters();
  counters_.send_failures = links_.send_failures();
  return counters_;
}

bool EnrpServer::corrupt_view_for_test(const PoolHandle& handle, PoolElementId id) {
  return remove_peer_pe(hs_, handle, id, events_, PeRemovalCause::kTest);
}

}  // namespace poolreg::enrp
