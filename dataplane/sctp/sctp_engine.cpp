#include "dataplane/sctp/sctp_engine.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "dataplane/runtime/errno_text.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "dataplane/sctp/sctp_address_params.hpp"
#include "dataplane/sctp/state_cookie.hpp"
#include "registrar/common/pe_distance.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::sctp {
namespace {

void debug_printf(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  std::vfprintf(stderr, format, ap);
  va_end(ap);
}

// usrsctp's output callback is one per stack (copy of the library), with no user pointer: the
// engine is found through the AF_CONN address, a RemoteEndpoint of the engine's own table.
int conn_output(void* address, void* buffer, std::size_t length, std::uint8_t /*tos*/,
                std::uint8_t /*set_df*/) {
  if (address == nullptr) return 0;
  auto* engine = static_cast<SctpEngine*>(static_cast<RemoteEndpoint*>(address)->owner);
  if (engine == nullptr) return 0;
  return engine->output(address, buffer, length);
}

std::optional<WireProtocol> protocol_of_ppid(std::uint32_t ppid) {
  if (ppid == kAsapPpid || ppid == kAsapLegacyPpid) return WireProtocol::kAsap;
  if (ppid == kEnrpPpid || ppid == kEnrpLegacyPpid) return WireProtocol::kEnrp;
  return std::nullopt;
}

constexpr auto kHandleResolutionType = static_cast<std::uint8_t>(wire::AsapType::kHandleResolution);
constexpr auto kHandleResolutionResponseType = static_cast<std::uint8_t>(wire::AsapType::kHandleResolutionResponse);

// Latency samples: the steady clock (vDSO, no syscall), nanoseconds.
std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS; }

IpAddress ip_of_packet(const SctpPacketFrom& f) {
  if (!f.ipv6) return IpAddress::v4({f.src_ip[0], f.src_ip[1], f.src_ip[2], f.src_ip[3]});
  std::array<std::uint8_t, 16> b;
  std::memcpy(b.data(), f.src_ip, 16);
  return IpAddress::v6(b);
}

IpAddress ip_of(const SctpPeer& a) {
  if (!a.ipv6) return IpAddress::v4({a.ip[0], a.ip[1], a.ip[2], a.ip[3]});
  std::array<std::uint8_t, 16> b;
  std::memcpy(b.data(), a.ip, 16);
  return IpAddress::v6(b);
}

}  // namespace

struct SctpEngine::Socket {
  SctpEngine* engine = nullptr;
  const UsrsctpApi* api = nullptr;
  struct socket* so = nullptr;
  WireProtocol protocol = WireProtocol::kAsap;
  bool listener = false;
  bool own = false;  // ConnectFrom::kOwnSocket: closed once its association is gone
  std::uint16_t port = 0;
  std::unordered_map<sctp_assoc_t, ConnectionId> assocs;
};

namespace {

int receive_cb(struct socket* /*so*/, union sctp_sockstore /*addr*/, void* data, std::size_t length,
               struct sctp_rcvinfo info, int flags, void* ulp_info) {
  if (data == nullptr) return 1;  // the socket is being closed
  auto* s = static_cast<SctpEngine::Socket*>(ulp_info);
  if (s == nullptr) return 1;  // cannot happen: every socket is opened with its Socket (leak, not a wrong free)
  if (s->engine == nullptr) {
    s->api->free(data);
    return 1;
  }
  s->engine->receive(*s, data, length, info, flags);
  return 1;
}

}  // namespace

Expected<std::unique_ptr<SctpEngine>, std::string> SctpEngine::create(const SctpEngineConfig& config,
                                                                      std::atomic<std::uint64_t>& ids,
                                                                      UsrsctpStack* stack) {
  if (stack == nullptr) stack = &UsrsctpStack::linked();
  std::unique_ptr<SctpEngine> engine(new SctpEngine(config, ids, *stack));
  if (!stack->claim())  // its destructor sees it holds no claim and touches nothing
    return unexpected(std::string("this usrsctp copy already runs an SctpEngine (one engine per usrsctp stack)"));
  engine->claimed_ = true;
  // Port 0: no UDP encapsulation socket; packets come and go through conninput / conn_output.
  engine->api_.init_nothreads(0, conn_output, config.debug_output ? debug_printf : nullptr);
  if (config.crc32c_offload) engine->api_.enable_crc32c_offload();
  apply_usrsctp_tunables(config, engine->api_);
  return engine;
}

SctpEngine::SctpEngine(const SctpEngineConfig& config, std::atomic<std::uint64_t>& ids, UsrsctpStack& stack)
    : config_(config),
      ids_(ids),
      stack_(stack),
      api_(stack.api()),
      endpoints_(stack.api(), this, config.max_pending_peers, endpoint_expiry_ms(config),
                 config.evict_init_only_peers ? std::optional<std::uint64_t>(config.min_init_age_ms)
                                              : std::nullopt) {}

SctpEngine::~SctpEngine() {
  if (!claimed_) return;  // create() refused: usrsctp was never initialised by us
  paths_.clear();         // output during teardown is dropped
  events_ = nullptr;
  // Callbacks from here on (the ABORTs below report the associations gone synchronously) must
  // not reach the engine: they would erase from connections_ while it is walked.
  for (auto& s : sockets_) s->engine = nullptr;
  for (auto& [id, c] : connections_) send_control(c, SCTP_ABORT);
  connections_.clear();
  // Linger 0: closing a socket aborts what is left on it, also associations the engine already
  // forgot (a SHUTDOWN ACK still waiting for its SHUTDOWN COMPLETE), so usrsctp_finish() can
  // succeed instead of waiting for their retransmission timers.
  const linger abort_on_close{1, 0};
  for (auto& s : sockets_) {
    api_.setsockopt(s->so, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    api_.close(s->so);
  }
  // usrsctp_finish() refuses while endpoints are still being torn down; their timers only run
  // when we drive them (no timer thread).
  endpoints_.deregister_all();
  bool finished = false;
  for (int i = 0; i < 200 && !finished; ++i) {
    finished = api_.finish() == 0;
    if (!finished) api_.handle_timers(10);
  }
  // Not finished: the copy still holds a stack, so it stays claimed (a new engine on it would
  // initialise usrsctp a second time).
  if (finished) stack_.release();
}

void SctpEngine::attach(const std::vector<SctpPacketPath*>& paths, EngineEventSink* events,
                        runtime::LaneCounters* counters) {
  paths_.clear();
  for (SctpPacketPath* p : paths)
    if (p != nullptr) paths_.push_back(p);
  lane_counters_ = counters;
  events_ = events;
}

SctpPacketPath* SctpEngine::path_for(SctpPeer& to) {
  if (paths_.empty()) return nullptr;
  if (to.path_known && to.path_index < paths_.size()) return paths_[to.path_index];
  if (paths_.size() == 1) return paths_.front();
  // A peer that never sent us a packet (an outgoing association): the path that reaches it.
  // None yet: the caller sends on every path (DPDK: each asks by ARP, the packet is lost and
  // SCTP retransmits it once the answer taught one port the peer's MAC).
  for (SctpPacketPath* p : paths_) {
    if (p->reaches(to)) {
      to.path_known = true;
      to.path_index = p->path_index();
      return p;
    }
  }
  return nullptr;
}

SctpEngine::Socket* SctpEngine::open_socket(WireProtocol protocol, bool listener) {
  auto s = std::make_unique<Socket>();
  s->engine = this;
  s->api = &api_;
  s->protocol = protocol;
  s->listener = listener;
  struct socket* so = api_.socket(AF_CONN, SOCK_SEQPACKET, IPPROTO_SCTP, receive_cb, nullptr, 0, s.get());
  if (so == nullptr) return nullptr;
  s->so = so;
  api_.set_non_blocking(so, 1);
  const int on = 1;
  api_.setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  api_.setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
  sctp_initmsg init{};
  init.sinit_num_ostreams = config_.streams;
  // usrsctp keeps state per inbound stream for every association (~40 B each): a peer asking
  // for 65535 streams would cost ~2.6 MB here (perf/dataplane/assoc_scale_results.md). ASAP and
  // ENRP use stream 0, so the inbound streams are capped at what we open ourselves.
  init.sinit_max_instreams = config_.streams;
  api_.setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  if (config_.path_mtu != 0) {
    // usrsctp does not know about our UDP/IP encapsulation: keep its packets within the port MTU.
    sctp_paddrparams pp{};
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = config_.path_mtu;
    api_.setsockopt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
  }
  for (std::uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT, SCTP_PEER_ADDR_CHANGE}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    api_.setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  }
  sockets_.push_back(std::move(s));
  return sockets_.back().get();
}

runtime::ListenResult SctpEngine::listen(WireProtocol protocol, std::uint16_t port) {
  Socket* s = open_socket(protocol, true);
  if (s == nullptr) return runtime::listen_error(api_.last_error(), "usrsctp_socket(AF_CONN) failed");
  // Wildcard conn address: every RemoteEndpoint reaches this port.
  sockaddr_conn local{};
  local.sconn_family = AF_CONN;
  local.sconn_port = htons(port);
  local.sconn_addr = nullptr;
  if (api_.bind(s->so, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      api_.listen(s->so, 1024) != 0) {
    const int e = api_.last_error();
    api_.close(s->so);
    sockets_.pop_back();
    return runtime::listen_error(e, std::string("bind/listen: ") + runtime::errno_text(e));
  }
  s->port = port;
  return port;
}

SctpEngine::Socket* SctpEngine::socket_for(WireProtocol protocol) {
  for (auto& s : sockets_)
    if (s->protocol == protocol) return s.get();  // the listener (or the earlier client socket)
  Socket* s = open_socket(protocol, false);
  if (s == nullptr) return nullptr;
  sockaddr_conn local{};
  local.sconn_family = AF_CONN;
  api_.bind(s->so, reinterpret_cast<sockaddr*>(&local), sizeof local);
  return s;
}

SctpEngine::Socket* SctpEngine::source_for(WireProtocol protocol, const ConnectFrom& from) {
  switch (from.kind) {
    case ConnectFrom::Kind::kProtocolSocket:
      return socket_for(protocol);
    case ConnectFrom::Kind::kListener:
      for (auto& s : sockets_)
        if (s->listener && s->port == from.port) return s.get();
      return nullptr;
    case ConnectFrom::Kind::kOwnSocket: {
      Socket* s = open_socket(protocol, false);
      if (s == nullptr) return nullptr;
      s->own = true;
      sockaddr_conn local{};
      local.sconn_family = AF_CONN;
      api_.bind(s->so, reinterpret_cast<sockaddr*>(&local), sizeof local);
      return s;
    }
  }
  return nullptr;
}

void SctpEngine::release_socket(Socket* s) {
  if (std::find(released_.begin(), released_.end(), s) == released_.end()) released_.push_back(s);
}

void SctpEngine::close_released_sockets() {
  if (released_.empty()) return;
  std::vector<Socket*> released;
  released.swap(released_);
  for (Socket* s : released) {
    if (!s->assocs.empty()) continue;
    s->engine = nullptr;
    api_.close(s->so);
    for (auto it = sockets_.begin(); it != sockets_.end(); ++it) {
      if (it->get() != s) continue;
      sockets_.erase(it);
      break;
    }
  }
}

void SctpEngine::stop_listening(std::uint16_t port) {
  for (auto& s : sockets_) {
    if (!s->listener || s->port != port) continue;
    api_.listen(s->so, 0);  // one-to-many socket: backlog 0 turns accepting off
    s->listener = false;
  }
}

void SctpEngine::set_queue_limit(ConnectionId id, std::size_t messages, std::size_t bytes) {
  if (Connection* c = find(id)) {
    c->max_queued = messages;
    c->max_queued_bytes = bytes;
  }
}

std::size_t SctpEngine::queued_messages(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? 0 : it->second.queue.size();
}

std::uint16_t SctpEngine::local_port(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() || it->second.socket == nullptr ? 0 : it->second.socket->port;
}

const ConnectionPeer* SctpEngine::peer_of(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second.peer;
}

SctpEngine::Connection* SctpEngine::find(ConnectionId id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

// ---- input ----

void SctpEngine::on_sctp_packet(const SctpPacketFrom& from, const std::uint8_t* packet, std::uint16_t length) {
  if (length < 12) return;  // shorter than an SCTP common header: the source should have dropped it
  if (config_.crc32c_offload && !from.crc32c_checked &&
      !sctp_crc_ok(std::span<const std::uint8_t>(packet, length))) {
    // usrsctp does not check it (crc32c_offload): the one check of this packet, before its
    // sender takes an endpoint.
    ++counters_.bad_crc32c;
    if (lane_counters_ != nullptr) lane_counters_->sctp_bad_crc32c.add();
    return;
  }
  const std::uint8_t first_chunk = length > 12 ? packet[12] : 0;
  RemoteEndpoint* e = endpoints_.get(from.src_ip, from.ipv6, from.src_port, now_ms_, /*outgoing=*/false,
                                     /*init=*/first_chunk == kSctpChunkInit);
  if (e == nullptr) return;  // counted by the table (pending set full of young endpoints, or the table full)
  if (first_chunk == kSctpChunkCookieEcho) {
    // A cookie that names a conn address other than the endpoint this COOKIE ECHO came in on
    // (one evicted since the INIT, its memory perhaps reused) never reaches usrsctp
    // (remote_endpoint_table.hpp "Eviction"). usrsctp 0.9.5 names none (a zero address).
    const auto named = cookie_conn_address(std::span<const std::uint8_t>(packet, length));
    if (named.has_value() && *named != nullptr && *named != static_cast<const void*>(e)) {
      ++counters_.cookies_for_other_endpoint;
      if (lane_counters_ != nullptr) lane_counters_->sctp_cookies_for_other_endpoint.add();
      return;
    }
  }
  input(*e, from, packet, length);
}

void SctpEngine::input(RemoteEndpoint& endpoint, const SctpPacketFrom& from, const std::uint8_t* packet,
                       std::uint16_t length) {
  RemoteEndpoint* e = &endpoint;
  if (e->path_failed && from.ipv6 == e->address.ipv6 &&
      std::memcmp(e->address.ip, from.src_ip, from.ipv6 ? 16 : 4) != 0 &&
      std::memcmp(e->failed_ip.data(), from.src_ip, from.ipv6 ? 16 : 4) != 0) {
    // Our path to the peer failed and it sends from another of its addresses (one it listed or
    // added, else the packet would not have reached this endpoint) than the one that failed:
    // its routing chose that one, so our output follows it.
    move_output(*e, ip_of_packet(from));
  }
  // Our address the peer used and the path it came in on: replies go back the way the packet came.
  std::memcpy(e->address.local_ip, from.dst_ip, from.ipv6 ? 16 : 4);
  e->address.local_known = true;
  e->address.path_index = from.path_index;
  e->address.path_known = true;
  current_endpoint_ = e;
  current_source_ = ip_of_packet(from);
  current_sctp_port_ = static_cast<std::uint16_t>((packet[0] << 8) | packet[1]);
  const std::span<const std::uint8_t> bytes(packet, length);
  if (starts_with_handshake_chunk(bytes)) note_listed_addresses(*e, bytes);
  api_.conninput(e, packet, length, 0);
  current_endpoint_ = nullptr;
  if (answers_used_ != 0) send_answers();
  if (!srtt_due_.empty()) refresh_srtts();
}

void SctpEngine::note_srtt_due(Connection& c) {
  if (c.srtt_due) return;
  c.srtt_due = true;
  srtt_due_.push_back(c.id);
}

void SctpEngine::refresh_srtts() {
  for (const ConnectionId id : srtt_due_) {
    Connection* c = find(id);
    if (c == nullptr || !c->srtt_due) continue;
    c->srtt_due = false;
    if (c->path_check_due) {
      c->path_check_due = false;
      if (sctp_paddrinfo info{}; read_conn_path(*c, info)) check_path_after_up(*c, info);
    }
    if (const std::uint32_t srtt = read_srtt_us(*c); srtt != 0) c->peer.srtt_us = srtt;
  }
  srtt_due_.clear();
}

bool SctpEngine::read_conn_path(const Connection& c, sctp_paddrinfo& info) {
  if (c.socket == nullptr || c.assoc == 0 || c.endpoint == nullptr) return false;
  info = sctp_paddrinfo{};
  info.spinfo_assoc_id = c.assoc;
  sockaddr_conn path{};
  path.sconn_family = AF_CONN;
  path.sconn_port = htons(c.peer.port);
  path.sconn_addr = c.endpoint;
  std::memcpy(&info.spinfo_address, &path, sizeof path);
  socklen_t len = sizeof info;
  return api_.getsockopt(c.socket->so, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &info, &len) == 0;
}

void SctpEngine::check_path_after_up(Connection& c, const sctp_paddrinfo& info) {
  if (info.spinfo_state != SCTP_INACTIVE) return;
  sctp_paddrparams pp{};
  pp.spp_assoc_id = c.assoc;
  std::memcpy(&pp.spp_address, &info.spinfo_address, sizeof pp.spp_address);
  pp.spp_flags = SPP_HB_DEMAND;
  api_.setsockopt(c.socket->so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
  ++counters_.paths_inactive_at_up;
  if (lane_counters_ != nullptr) lane_counters_->sctp_paths_inactive_at_up.add();
}

std::uint32_t SctpEngine::read_srtt_us(const Connection& c) {
  if (c.socket == nullptr || c.assoc == 0) return 0;
  constexpr std::uint32_t kMaxMs = 0xFFFFFFFFu / 1000;
  // The AF_CONN path the association's packets really take (an ASCONF-added IPv4/IPv6 address is
  // a path usrsctp cannot send to, so it has no RTT of its own).
  if (sctp_paddrinfo info{}; read_conn_path(c, info) && info.spinfo_srtt != 0)
    return std::min(info.spinfo_srtt, kMaxMs) * 1000;
  sctp_status status{};
  status.sstat_assoc_id = c.assoc;
  socklen_t len = sizeof status;
  if (api_.getsockopt(c.socket->so, IPPROTO_SCTP, SCTP_STATUS, &status, &len) != 0) return 0;
  return std::min(status.sstat_primary.spinfo_srtt, kMaxMs) * 1000;
}

void SctpEngine::note_listed_addresses(const RemoteEndpoint& from, std::span<const std::uint8_t> packet) {
  auto listed = read_listed_addresses(packet);
  if (!listed) {
    // usrsctp decides about the packet itself; we only keep no addresses from it.
    ++counters_.handshake_address_lists_malformed;
    return;
  }
  counters_.handshake_addresses_skipped += listed->skipped;
  const std::uint64_t evicted_before = listed_.evicted();
  listed_.remember(from.serial, listed->peer_port, std::move(listed->addresses), now_ms_);
  counters_.handshake_address_lists_evicted += listed_.evicted() - evicted_before;
}

void SctpEngine::add_listed_addresses(ConnectionPeer& peer) {
  if (current_endpoint_ == nullptr) return;
  const std::uint64_t evicted_before = listed_.evicted();
  const std::vector<IpAddress> listed = listed_.take(current_endpoint_->serial, current_sctp_port_, now_ms_);
  counters_.handshake_address_lists_evicted += listed_.evicted() - evicted_before;
  if (listed.empty() || peer.addresses.empty()) return;
  peer.addresses = merge_addresses(peer.addresses.front(), listed);
}

int SctpEngine::output(void* address, void* buffer, std::size_t length) {
  if (paths_.empty() || address == nullptr || length > 65535) return 0;
  auto* e = static_cast<RemoteEndpoint*>(address);
  const auto* bytes = static_cast<const std::uint8_t*>(buffer);
  endpoints_.touch(*e, now_ms_);  // usrsctp still sends to it: keep it
  // A native peer's association leaves from this SCTP port: its answers are ours.
  if (e->address.udp_port == 0 && length >= 2) native_ports_.set(static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]));
  SctpPacketPath* path = path_for(e->address);
  if (config_.crc32c_offload && (path == nullptr || !path->offloads_crc32c(e->address))) {
    // usrsctp left the checksum to us (its buffer, ours to write until we return).
    set_sctp_crc(std::span<std::uint8_t>(static_cast<std::uint8_t*>(buffer), length));
  }
  if (SctpPacketPath* p = path) {
    p->send_sctp(e->address, bytes, static_cast<std::uint16_t>(length));
  } else {
    for (SctpPacketPath* q : paths_) q->send_sctp(e->address, bytes, static_cast<std::uint16_t>(length));
  }
  return 0;  // a dropped packet is a lost packet for SCTP: it retransmits
}

void SctpEngine::receive(Socket& s, void* data, std::size_t length, const sctp_rcvinfo& info, int flags) {
  if (api_.private_heap) {
    // A private usrsctp copy allocates from its own libc's heap: move the bytes to ours, so that
    // everything below (and the control thread) frees with std::free.
    void* own = std::malloc(length == 0 ? 1 : length);
    if (own != nullptr && length != 0) std::memcpy(own, data, length);
    api_.free(data);
    if (own == nullptr) return;
    data = own;
  }
  auto* bytes = static_cast<std::uint8_t*>(data);
  if ((flags & MSG_NOTIFICATION) != 0) {
    handle_notification(s, bytes, length);
    std::free(data);
    return;
  }
  auto it = s.assocs.find(info.rcv_assoc_id);
  Connection* c = it == s.assocs.end() ? nullptr : find(it->second);
  if (c == nullptr || c->state == State::kClosing) {
    std::free(data);
    return;
  }
  const bool complete = (flags & MSG_EOR) != 0;
  if (!complete || !c->partial.empty() || c->partial_oversize) {
    // A message split over several callbacks: collect it (bounded by max_message_size).
    if (c->partial.size() + length > config_.max_message_size) {
      c->partial_oversize = true;
      c->partial.clear();
    } else if (!c->partial_oversize) {
      c->partial.insert(c->partial.end(), bytes, bytes + length);
    }
    std::free(data);
    if (!complete) return;
    if (c->partial_oversize) {
      c->partial_oversize = false;
      ++counters_.oversize_messages;
      return;
    }
    length = c->partial.size();
    bytes = static_cast<std::uint8_t*>(std::malloc(length == 0 ? 1 : length));
    if (bytes == nullptr) return;
    std::memcpy(bytes, c->partial.data(), length);
    c->partial.clear();
  } else if (length > config_.max_message_size) {
    ++counters_.oversize_messages;
    std::free(data);
    return;
  }
  deliver(*c, ntohl(info.rcv_ppid), info.rcv_sid, bytes, length);
}

void SctpEngine::deliver(Connection& c, std::uint32_t ppid, std::uint16_t stream, std::uint8_t* data,
                             std::size_t n) {
  const auto protocol = protocol_of_ppid(ppid);
  if (events_ == nullptr) {
    std::free(data);
    return;
  }
  if (!protocol) {
    std::free(data);
    events_->on_unknown_ppid(c.id, ppid);
    return;
  }
  ++counters_.messages_received;
  const bool asap = *protocol == WireProtocol::kAsap;
  const std::uint8_t type = n > 0 ? data[0] : 0;
  if (lane_counters_ != nullptr) {
    runtime::LaneCounters& lc = *lane_counters_;
    if (asap) {
      lc.asap_messages_in.add();
      lc.asap_in_by_type[runtime::asap_type_slot(type)].add();
    } else {
      lc.enrp_messages_in.add();
    }
  }
  if (asap && (answerer_ != nullptr || consumer_ != nullptr) && answer_locally(c, data, n)) {
    std::free(data);
    return;
  }
  if (asap && type == kHandleResolutionType && !c.latency_off) {
    if (c.pending_resolutions.size() < kMaxPendingResolutions) {
      c.pending_resolutions.push_back(now_ns());
    } else {  // more in flight than we track: pairing would break, stop sampling this one
      c.latency_off = true;
      c.pending_resolutions.clear();
    }
  }
  runtime::MessageInfo info;
  info.protocol = *protocol;
  info.ppid = ppid;
  info.stream = stream;
  // A message that carries the SRTT: it is read again once usrsctp_conninput() returned, so the
  // next one (a re-registration, the next Handle Update) carries the value read after this one.
  // Only then: the read looks the association up by id in usrsctp's 32-bucket table, O(associations),
  // and a keep-alive ack per PE every few seconds does not need it (perf/dataplane/assoc_scale_results.md).
  if (message_wants_path_rtt(*protocol, type)) {
    info.srtt_us = c.peer.srtt_us;
    note_srtt_due(c);
  }
  if (order_ != nullptr) info.lane_stamp = c.last_handover = order_->stamp();
  events_->on_message(c.id, info, data, n);
}

void SctpEngine::handle_notification(Socket& s, const std::uint8_t* data, std::size_t n) {
  std::uint16_t type;
  if (n < sizeof type) return;
  std::memcpy(&type, data, sizeof type);
  if (type == SCTP_ASSOC_CHANGE && n >= sizeof(sctp_assoc_change)) {
    sctp_assoc_change change;
    std::memcpy(&change, data, sizeof change);
    const AssocChangeAction action = assoc_change_action(change.sac_state);
    if (action.kind == AssocChangeAction::Kind::kUp) assoc_up(s, change.sac_assoc_id, action.restart);
    else if (action.kind == AssocChangeAction::Kind::kGone) assoc_gone(s, change.sac_assoc_id, action.reason);
  } else if (type == SCTP_SHUTDOWN_EVENT && n >= sizeof(sctp_shutdown_event)) {
    sctp_shutdown_event ev;
    std::memcpy(&ev, data, sizeof ev);
    assoc_gone(s, ev.sse_assoc_id, CloseReason::kPeerClosed);
  } else if (type == SCTP_PEER_ADDR_CHANGE && n >= sizeof(sctp_paddr_change)) {
    sctp_paddr_change change;
    std::memcpy(&change, data, sizeof change);
    peer_address_changed(s, change);
  }
}

void SctpEngine::peer_address_changed(Socket& s, const sctp_paddr_change& change) {
  PeerAddressChange kind;
  switch (change.spc_state) {
    case SCTP_ADDR_ADDED:
      kind = PeerAddressChange::kAdded;
      break;
    case SCTP_ADDR_REMOVED:
      kind = PeerAddressChange::kRemoved;
      break;
    case SCTP_ADDR_MADE_PRIM:
      kind = PeerAddressChange::kMadePrimary;
      break;
    case SCTP_ADDR_UNREACHABLE:
    case SCTP_ADDR_AVAILABLE:
    case SCTP_ADDR_CONFIRMED:
      // Path states: those of the association's conn path drive multi-homing; those of an
      // IPv4/IPv6 path (ASCONF-added; usrsctp cannot send to it, no socket) say nothing.
      conn_path_state(s, change);
      return;
    default:
      return;
  }
  auto it = s.assocs.find(change.spc_assoc_id);
  Connection* c = it == s.assocs.end() ? nullptr : find(it->second);
  const std::optional<IpAddress> ip = runtime::ip_of(reinterpret_cast<const sockaddr*>(&change.spc_aaddr));
  if (c == nullptr || c->state != State::kUp || !ip) {
    ++counters_.peer_address_changes_ignored;
    return;
  }
  switch (apply_peer_address_change(c->peer.addresses, kind, *ip, kMaxPeerAddresses)) {
    case PeerAddressChangeResult::kChanged:
      break;
    case PeerAddressChangeResult::kUnchanged:
      return;
    case PeerAddressChangeResult::kOverLimit:
    case PeerAddressChangeResult::kUnusable:
      ++counters_.peer_address_changes_ignored;
      return;
  }
  switch (kind) {
    case PeerAddressChange::kAdded: ++counters_.peer_addresses_added; break;
    case PeerAddressChange::kRemoved: ++counters_.peer_addresses_removed; break;
    case PeerAddressChange::kMadePrimary: ++counters_.peer_primary_changes; break;
  }
  follow_peer_path(*c, kind, *ip);
  if (events_ != nullptr) events_->on_addresses_changed(c->id, c->peer);
}

void SctpEngine::follow_peer_path(Connection& c, PeerAddressChange kind, const IpAddress& ip) {
  if (c.endpoint == nullptr) return;
  RemoteEndpoint& e = *c.endpoint;
  switch (kind) {
    case PeerAddressChange::kAdded:
      // The peer may send from its new address (make-before-break): same conn address. Same
      // family only, as for listed addresses: the endpoint's output keeps its path and our
      // address of its family, so an address of the other family cannot carry it.
      if (ip.is_v4() == e.address.ipv6) break;
      if (std::find(c.aliases.begin(), c.aliases.end(), ip) != c.aliases.end()) break;
      if (endpoints_.add_alias(e, ip)) {
        c.aliases.push_back(ip);
        publish_alias(c, ip);
      }
      break;
    case PeerAddressChange::kRemoved:
      if (auto held = std::find(c.aliases.begin(), c.aliases.end(), ip); held != c.aliases.end()) {
        withdraw_alias(c, ip);
        endpoints_.remove_alias(e, ip);
        c.aliases.erase(held);
      }
      // Our packets went to the address the peer gave up: send to its primary instead (the first
      // of its addresses in the endpoint's family).
      if (ip == ip_of(e.address)) {
        for (const IpAddress& next : c.peer.addresses) {
          if (next.is_v4() == e.address.ipv6) continue;
          endpoints_.move_to(e, next);
          ++counters_.peer_path_moves;
          break;
        }
      }
      break;
    case PeerAddressChange::kMadePrimary:
      // Reported (primary first) but our packets stay where they go: the peer's request names
      // a path nobody has verified yet (no HEARTBEAT over AF_CONN), and its packets still
      // reach us from the old one. They move when the old address is deleted.
      break;
  }
}

void SctpEngine::hold_aliases(Connection& c) {
  if (c.endpoint == nullptr) return;
  RemoteEndpoint& e = *c.endpoint;
  for (std::size_t i = 1; i < c.peer.addresses.size(); ++i) {
    const IpAddress& ip = c.peer.addresses[i];
    // Same family only: an endpoint's output keeps its path and our address of that family.
    if (ip.is_v4() == e.address.ipv6) continue;
    if (std::find(c.aliases.begin(), c.aliases.end(), ip) != c.aliases.end()) continue;
    if (endpoints_.add_alias(e, ip)) {
      c.aliases.push_back(ip);
      publish_alias(c, ip);
    } else if (ip != ip_of(e.address)) {
      ++counters_.peer_aliases_refused;
    }
  }
}

void SctpEngine::publish_alias(Connection& c, const IpAddress& ip) {
  if (publishing_.table == nullptr || c.endpoint == nullptr) return;
  // The steering key of the alias: its UDP port (the endpoint's), or for a native peer its SCTP
  // port (a native endpoint has UDP port 0).
  const bool native = c.endpoint->address.udp_port == 0;
  const std::uint16_t port = native ? c.peer.port : c.endpoint->address.udp_port;
  if (publishing_.natural_owner && publishing_.natural_owner(ip, port, native) == publishing_.lane) return;
  if (publishing_.table->publish(ip.data(), !ip.is_v4(), port, native, publishing_.lane) ==
      runtime::AliasOwnerTable::PublishResult::kPublished) {
    c.published.push_back(ip);
    ++counters_.aliases_published;
    if (lane_counters_ != nullptr) lane_counters_->sctp_aliases_published.add();
  } else {
    ++counters_.alias_publish_refused;
    if (lane_counters_ != nullptr) lane_counters_->sctp_alias_publish_refused.add();
  }
}

void SctpEngine::withdraw_alias(Connection& c, const IpAddress& ip) {
  auto at = std::find(c.published.begin(), c.published.end(), ip);
  if (at == c.published.end() || publishing_.table == nullptr || c.endpoint == nullptr) return;
  const bool native = c.endpoint->address.udp_port == 0;
  const std::uint16_t port = native ? c.peer.port : c.endpoint->address.udp_port;
  publishing_.table->withdraw(ip.data(), !ip.is_v4(), port, native, publishing_.lane);
  c.published.erase(at);
}

void SctpEngine::conn_path_state(Socket& s, const sctp_paddr_change& change) {
  if (change.spc_aaddr.ss_family != AF_CONN) return;
  sockaddr_conn path;
  std::memcpy(&path, &change.spc_aaddr, sizeof path);
  auto it = s.assocs.find(change.spc_assoc_id);
  Connection* c = it == s.assocs.end() ? nullptr : find(it->second);
  if (c == nullptr || c->endpoint == nullptr || path.sconn_addr != c->endpoint) return;
  if (change.spc_state != SCTP_ADDR_UNREACHABLE) {
    c->endpoint->path_failed = false;  // acknowledged again (or confirmed): the path works
    return;
  }
  c->endpoint->path_failed = true;
  std::memcpy(c->endpoint->failed_ip.data(), c->endpoint->address.ip, c->endpoint->failed_ip.size());
  ++counters_.peer_paths_unreachable;
  if (lane_counters_ != nullptr) lane_counters_->sctp_paths_unreachable.add();
  fail_over(*c);
}

void SctpEngine::fail_over(Connection& c) {
  RemoteEndpoint& e = *c.endpoint;
  const IpAddress current = ip_of(e.address);
  // The peer's addresses our output may go to: those whose packets reach this endpoint, in the
  // peer's order. The next one after the current (round robin over repeated failures).
  std::vector<IpAddress> usable;
  for (const IpAddress& ip : c.peer.addresses)
    if (ip.is_v4() != e.address.ipv6 && endpoints_.leads_to(e, ip)) usable.push_back(ip);
  if (usable.size() < 2) return;  // single-homed: usrsctp retries the one path until assoc_rtx_max
  auto at = std::find(usable.begin(), usable.end(), current);
  const IpAddress& next = at == usable.end() || at + 1 == usable.end() ? usable.front() : *(at + 1);
  if (next != current) move_output(e, next);
}

void SctpEngine::claim_endpoint(Connection& c, RemoteEndpoint& e, const IpAddress& first) {
  c.endpoint = &e;
  const bool shared = e.associations != 0;
  endpoints_.retain(e);  // released in forget()
  if (shared) return;  // shared with a live association: its output stands
  e.path_failed = false;
  if (first.is_v4() != e.address.ipv6 && first != ip_of(e.address)) endpoints_.move_to(e, first);
}

void SctpEngine::move_output(RemoteEndpoint& e, const IpAddress& to) {
  endpoints_.move_to(e, to);
  ++counters_.peer_path_failovers;
  if (lane_counters_ != nullptr) lane_counters_->sctp_path_failovers.add();
}

void SctpEngine::refresh_peer(Connection& c) {
  // No usrsctp call here (we may be inside a receive callback): the association came up because
  // of the packet being processed, so its sender is the peer.
  if (current_endpoint_ == nullptr) return;
  claim_endpoint(c, *current_endpoint_, current_source_);
  c.peer.addresses = {ip_of(current_endpoint_->address)};
  c.peer.port = current_sctp_port_;
  c.peer.udp_encapsulation_port = current_endpoint_->address.udp_port;
  add_listed_addresses(c.peer);
}

void SctpEngine::assoc_up(Socket& s, sctp_assoc_t assoc, bool restart) {
  auto it = s.assocs.find(assoc);
  if (it != s.assocs.end()) {
    Connection* c = find(it->second);
    if (c == nullptr) {
      s.assocs.erase(it);
    } else if (c->state == State::kConnecting && !restart) {
      c->state = State::kUp;
      ++counters_.associations_opened;
      add_listed_addresses(c->peer);  // from the peer's INIT ACK
      hold_aliases(*c);
      c->path_check_due = true;
      note_srtt_due(*c);
      if (events_ != nullptr) events_->on_connected(c->id, c->peer);
      return;
    } else if (c->state == State::kClosing) {
      return;
    } else {
      assoc_gone(s, assoc, CloseReason::kPeerRestarted);
    }
  }
  Connection c;
  c.id = ids_.fetch_add(1, std::memory_order_relaxed);
  c.max_queued = config_.max_queued_messages;
  c.socket = &s;
  c.assoc = assoc;
  c.state = State::kUp;
  c.peer.kind = TransportProtocol::kSctp;
  c.peer.protocol = s.protocol;
  c.peer.outgoing = false;
  refresh_peer(c);
  const ConnectionId id = c.id;
  auto [cit, inserted] = connections_.emplace(id, std::move(c));
  hold_aliases(cit->second);
  s.assocs[assoc] = id;
  cit->second.path_check_due = true;
  note_srtt_due(cit->second);  // its COOKIE ECHO's RTT, for its first message
  ++counters_.associations_accepted;
  if (events_ != nullptr) events_->on_connected(id, cit->second.peer);
}

void SctpEngine::assoc_gone(Socket& s, sctp_assoc_t assoc, CloseReason reason) {
  auto it = s.assocs.find(assoc);
  if (it == s.assocs.end()) return;
  const ConnectionId id = it->second;
  Connection* c = find(id);
  if (c == nullptr) {
    s.assocs.erase(it);
    return;
  }
  const State state = c->state;
  forget(id);
  if (state == State::kClosing) return;  // the control side already reported it
  if (state == State::kConnecting) {
    ++counters_.connect_failures;
    reason = CloseReason::kConnectFailed;
  }
  if (events_ != nullptr) events_->on_closed(id, reason);
}

void SctpEngine::forget(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr) return;
  if (c->socket != nullptr) {
    auto it = c->socket->assocs.find(c->assoc);
    if (it != c->socket->assocs.end() && it->second == id) c->socket->assocs.erase(it);
    if (c->socket->own && c->socket->assocs.empty()) release_socket(c->socket);
  }
  if (c->endpoint != nullptr) {
    while (!c->published.empty()) withdraw_alias(*c, c->published.back());
    for (const IpAddress& ip : c->aliases) endpoints_.remove_alias(*c->endpoint, ip);
    endpoints_.release(*c->endpoint, now_ms_);
  }
  pending_.erase(id);
  closing_.erase(id);
  connections_.erase(id);
  if (answerer_ != nullptr) answerer_->forget(id);
}

// ---- commands from the control side ----

void SctpEngine::connect(ConnectionId id, WireProtocol protocol, std::span<const IpAddress> addresses,
                             std::uint16_t port, std::uint16_t remote_udp_port, ConnectFrom from) {
  Socket* s = nullptr;
  auto fail = [&] {
    ++counters_.connect_failures;
    if (s != nullptr && s->own && s->assocs.empty()) release_socket(s);
    if (events_ != nullptr) events_->on_closed(id, CloseReason::kConnectFailed);
  };
  if (addresses.empty() || port == 0) return fail();
  const IpAddress& a = addresses.front();
  const std::uint16_t udp = remote_udp_port;  // 0: native SCTP
  RemoteEndpoint* e = endpoints_.get(a.data(), !a.is_v4(), udp, now_ms_, /*outgoing=*/true);
  if (e != nullptr) s = source_for(protocol, from);
  if (e == nullptr || s == nullptr) return fail();
  sockaddr_conn to{};
  to.sconn_family = AF_CONN;
  to.sconn_port = htons(port);
  to.sconn_addr = e;
  // usrsctp_connect, not usrsctp_connectx: the latter does not take AF_CONN addresses in
  // usrsctp 0.9.5 (EINVAL). One address is all an AF_CONN path has anyway.
  const int rc = api_.connect(s->so, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (rc != 0 && api_.last_error() != EINPROGRESS) return fail();
  const sctp_assoc_t assoc = api_.getassocid(s->so, reinterpret_cast<sockaddr*>(&to));
  if (assoc == 0 || s->assocs.count(assoc) != 0) return fail();
  Connection c;
  c.id = id;
  c.max_queued = config_.max_queued_messages;
  c.socket = s;
  c.assoc = assoc;
  c.state = State::kConnecting;
  c.peer.kind = TransportProtocol::kSctp;
  c.peer.protocol = protocol;
  c.peer.outgoing = true;
  c.peer.addresses = {a};
  c.peer.port = port;
  c.peer.udp_encapsulation_port = udp;
  claim_endpoint(c, *e, a);
  connections_.emplace(id, std::move(c));
  s->assocs[assoc] = id;
}

long SctpEngine::send_raw(Connection& c, WireProtocol protocol, const std::uint8_t* data, std::size_t len,
                              std::uint16_t flags) {
  sctp_sndinfo info{};
  info.snd_sid = 0;
  info.snd_flags = flags;
  info.snd_ppid = htonl(ppid_of(protocol));
  info.snd_assoc_id = c.assoc;
  return api_.sendv(c.socket->so, data, len, nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0);
}

void SctpEngine::send_control(Connection& c, std::uint16_t flags) {
  std::uint8_t none = 0;
  if (c.socket != nullptr) send_raw(c, WireProtocol::kAsap, &none, 0, flags);
}

runtime::SendResult SctpEngine::send(ConnectionId id, WireProtocol protocol,
                                        std::span<const std::uint8_t> message) {
  Connection* c = find(id);
  if (c == nullptr || c->state == State::kClosing) {
    ++counters_.send_failed;
    return runtime::SendResult::kNoConnection;
  }
  return send_on(*c, protocol, message, false);
}

void SctpEngine::set_nodelay(Socket& s, bool on) {
  const int value = on ? 1 : 0;
  api_.setsockopt(s.so, IPPROTO_SCTP, SCTP_NODELAY, &value, sizeof value);
}

void SctpEngine::send_batch(ConnectionId id, WireProtocol protocol,
                            std::span<const std::span<const std::uint8_t>> messages,
                            std::span<runtime::SendResult> results) {
  Connection* c = find(id);
  // Only a listener's socket is corked: it outlives its associations (a connecting socket of our
  // own may go with its association during a send), and the lane runs nothing else in between,
  // so its other associations never see Nagle. A queue of our own already holds the order.
  Socket* corked = (messages.size() > 1 && c != nullptr && c->state != State::kClosing && c->queue.empty() &&
                    c->socket != nullptr && c->socket->listener)
                       ? c->socket
                       : nullptr;
  if (corked != nullptr) {
    set_nodelay(*corked, false);
    ++counters_.batches_corked;
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (corked != nullptr && i + 1 == messages.size()) {
      set_nodelay(*corked, true);  // before the last send: it flushes what Nagle held
      corked = nullptr;
    }
    c = find(id);  // a send may end the association (usrsctp reports an error)
    if (c == nullptr || c->state == State::kClosing) {
      ++counters_.send_failed;
      results[i] = runtime::SendResult::kNoConnection;
      continue;
    }
    results[i] = send_on(*c, protocol, messages[i], false);
  }
  if (corked != nullptr) set_nodelay(*corked, true);  // not reached with >= 2 messages; kept for safety
}

runtime::SendResult SctpEngine::send_on(Connection& c, WireProtocol protocol, std::span<const std::uint8_t> message,
                                           bool answered_here) {
  if (message.empty() || message.size() > config_.max_message_size) {
    ++counters_.send_failed;
    return runtime::SendResult::kTooBig;
  }
  if (c.queue.empty()) {
    if (send_raw(c, protocol, message.data(), message.size(), 0) >= 0) {
      note_sent(c, protocol, message.data(), message.size(), answered_here);
      return runtime::SendResult::kSent;
    }
    if (!would_block(api_.last_error())) {
      ++counters_.send_failed;
      return runtime::SendResult::kError;
    }
  }
  if (c.queue.size() >= c.max_queued || c.queued_bytes + message.size() > c.max_queued_bytes) {
    ++counters_.send_failed;
    return runtime::SendResult::kQueueFull;
  }
  c.queue.push_back(Queued{protocol, answered_here, std::vector<std::uint8_t>(message.begin(), message.end())});
  c.queued_bytes += message.size();
  pending_.insert(c.id);
  return runtime::SendResult::kQueued;
}

bool SctpEngine::answer_locally(Connection& c, const std::uint8_t* data, std::size_t n) {
  // Consumed (a Keep-Alive Ack of a PE registered over this association): no activity report.
  // The association carries a registered PE, which the idle timeout never closes, and one report
  // per Ack would bring the control thread one event per PE and interval where PEs have an
  // association each.
  if (consumer_ != nullptr && consumer_->consume(c.id, std::span<const std::uint8_t>(data, n))) return true;
  if (answerer_ == nullptr) return false;
  // Order per association (lane_order.hpp): a message handed over before this one (a
  // Registration, say) is not applied yet, so an answer from here could miss it. Handed over
  // too, behind it: the control thread answers after it.
  if (order_ != nullptr && !order_->finished(c.last_handover)) {
    if (lane_counters_ != nullptr && n > 0 && data[0] == kHandleResolutionType)
      lane_counters_->resolutions_after_write_forwarded.add();
    return false;
  }
  const std::uint64_t t0 = now_ns();
  const std::span<const std::uint8_t> reply = answerer_->answer(c.id, std::span<const std::uint8_t>(data, n));
  if (reply.empty()) return false;
  // We are inside usrsctp's receive callback: the answer is sent once usrsctp_conninput()
  // returned (send_answers), never from here. Slots are reused, so this does not allocate
  // once the buffers have grown to the largest burst.
  if (answers_used_ == answers_.size()) answers_.emplace_back();
  Answer& a = answers_[answers_used_++];
  a.id = c.id;
  a.received_ns = t0;
  a.bytes.assign(reply.begin(), reply.end());
  if (events_ != nullptr && now_ms_ >= c.next_activity_report_ms) {
    c.next_activity_report_ms = now_ms_ + kActivityReportMs;
    events_->on_activity(c.id);
  }
  return true;
}

void SctpEngine::send_answers() {
  for (std::size_t i = 0; i < answers_used_; ++i) {
    const Answer& a = answers_[i];
    Connection* c = find(a.id);
    if (c == nullptr || c->state == State::kClosing) {
      ++counters_.send_failed;
      continue;
    }
    send_on(*c, WireProtocol::kAsap, a.bytes, true);
    if (lane_counters_ != nullptr)
      lane_counters_->resolution_latency.record(static_cast<TimeNs>(now_ns() - a.received_ns));
  }
  answers_used_ = 0;
}

void SctpEngine::note_sent(Connection& c, WireProtocol protocol, const std::uint8_t* data, std::size_t n,
                               bool answered_here) {
  ++counters_.messages_sent;
  if (lane_counters_ == nullptr) return;
  runtime::LaneCounters& lc = *lane_counters_;
  lc.messages_out.add();
  if (protocol != WireProtocol::kAsap || n == 0) return;
  lc.asap_out_by_type[runtime::asap_type_slot(data[0])].add();
  // A Handle Resolution Response from the control thread closes the oldest forwarded request
  // (answers leave in order).
  if (!answered_here && data[0] == kHandleResolutionResponseType && !c.pending_resolutions.empty()) {
    const std::uint64_t ns = now_ns() - c.pending_resolutions.front();
    c.pending_resolutions.pop_front();
    lc.resolution_latency.record(static_cast<TimeNs>(ns));
  }
}

bool SctpEngine::flush(Connection& c) {
  while (!c.queue.empty()) {
    const Queued& q = c.queue.front();
    if (send_raw(c, q.protocol, q.bytes.data(), q.bytes.size(), 0) < 0) {
      if (would_block(api_.last_error())) return false;
      counters_.send_failed += c.queue.size();
      c.queue.clear();
      c.queued_bytes = 0;
      break;
    }
    note_sent(c, q.protocol, q.bytes.data(), q.bytes.size(), q.answered_here);
    c.queued_bytes -= q.bytes.size();
    c.queue.pop_front();
  }
  if (c.state == State::kClosing) send_control(c, SCTP_EOF);
  return true;
}

void SctpEngine::flush_pending() {
  close_released_sockets();
  if (pending_.empty()) return;
  std::vector<ConnectionId> ids(pending_.begin(), pending_.end());
  for (ConnectionId id : ids) {
    Connection* c = find(id);
    if (c == nullptr || flush(*c)) pending_.erase(id);
  }
}

void SctpEngine::close(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr || c->state == State::kClosing) return;
  c->state = State::kClosing;
  c->linger_deadline_ms = now_ms_ + config_.close_linger_ms;
  closing_.insert(id);
  if (c->queue.empty()) send_control(*c, SCTP_EOF);
}

// The engine learns the caller's clock from its first run_timers(). A packet source may deliver
// packets (or the caller connect) before that: what they stamped got time 0, which the first
// tick would take for a time long past. A pending peer endpoint stamped 0 would then be freed at
// once although the INIT ACK just sent carries a cookie naming it, and usrsctp would build the
// association on the freed endpoint when the COOKIE ECHO comes (a use-after-free ASan found).
// Everything stamped before the clock was known happened now.
void SctpEngine::start_clock(std::uint64_t now_ms) {
  clock_started_ = true;
  endpoints_.restamp_pending(now_ms);
  listed_.restamp(now_ms);
  for (ConnectionId id : closing_) {
    Connection* c = find(id);
    if (c != nullptr && c->linger_deadline_ms != 0) c->linger_deadline_ms += now_ms;
  }
}

void SctpEngine::abort(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr) return;
  counters_.send_failed += c->queue.size();
  send_control(*c, SCTP_ABORT);
  forget(id);
}

void SctpEngine::run_timers(std::uint64_t now_ms) {
  if (!clock_started_) start_clock(now_ms);
  now_ms_ = now_ms;
  if (last_timer_ms_ == 0) last_timer_ms_ = now_ms;
  const std::uint64_t elapsed = now_ms - last_timer_ms_;
  if (elapsed == 0) return;
  // usrsctp walks its whole callout list (several per association) on every call: at most one
  // call per timer_granularity_ms (perf/dataplane/assoc_scale_results.md).
  if (elapsed >= std::max<std::uint64_t>(config_.timer_granularity_ms, 1)) {
    last_timer_ms_ = now_ms;
    api_.handle_timers(static_cast<std::uint32_t>(elapsed));
    publish_usrsctp_drops();
  }
  if (answers_used_ != 0) send_answers();
  if (!srtt_due_.empty()) refresh_srtts();
  // Pending peer endpoints whose cookies are all stale go (bounded work per tick).
  endpoints_.expire(now_ms, kEndpointExpiryWork);
  publish_endpoint_counters();
  // Close lingers: a closing association whose SHUTDOWN never completes is aborted. Only the
  // closing ones are looked at: a walk over every association each millisecond cost ~0.1 CPU-s/s
  // per 10^4 idle associations (perf/dataplane/assoc_scale_results.md).
  if (closing_.empty()) return;
  std::vector<ConnectionId> expired;
  for (auto it = closing_.begin(); it != closing_.end();) {
    const Connection* c = find(*it);
    if (c == nullptr || c->state != State::kClosing) {
      it = closing_.erase(it);
      continue;
    }
    if (c->linger_deadline_ms != 0 && c->linger_deadline_ms <= now_ms) expired.push_back(*it);
    ++it;
  }
  for (ConnectionId id : expired) abort(id);
}

void SctpEngine::publish_endpoint_counters() {
  counters_.endpoints_refused = endpoints_.refused();
  counters_.endpoints_expired = endpoints_.expired();
  counters_.endpoints_evicted = endpoints_.evicted();
  if (lane_counters_ == nullptr) return;
  lane_counters_->sctp_endpoints_evicted.add(counters_.endpoints_evicted - published_evicted_);
  published_evicted_ = counters_.endpoints_evicted;
  lane_counters_->sctp_endpoints_refused.add(counters_.endpoints_refused - published_refused_);
  lane_counters_->sctp_endpoints_expired.add(counters_.endpoints_expired - published_expired_);
  lane_counters_->sctp_pending_endpoints.set(endpoints_.pending_count());
  published_refused_ = counters_.endpoints_refused;
  published_expired_ = counters_.endpoints_expired;
}

void SctpEngine::publish_usrsctp_drops() {
  // This copy's statistics (usrsctp keeps them per stack, so per engine).
  sctpstat stat{};
  api_.get_stat(&stat);
  counters_.bad_vtag = stat.sctps_badvtag;
  if (lane_counters_ == nullptr) return;
  lane_counters_->sctp_bad_vtag.add(counters_.bad_vtag - published_bad_vtag_);
  published_bad_vtag_ = counters_.bad_vtag;
}

void SctpEngine::shutdown() {
  std::vector<ConnectionId> ids;
  for (auto& [id, c] : connections_) ids.push_back(id);
  for (ConnectionId id : ids) {
    Connection* c = find(id);
    const bool report = c != nullptr && c->state != State::kClosing;
    abort(id);
    if (report && events_ != nullptr) events_->on_closed(id, CloseReason::kShutdown);
  }
}

}  // namespace poolreg::sctp
