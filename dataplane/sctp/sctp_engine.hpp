// SctpEngine: the one usrsctp user of poolreg. usrsctp in AF_CONN mode on one lane: SCTP packets
// a packet source read (a DPDK port queue, a kernel UDP socket) go in with usrsctp_conninput();
// what usrsctp sends comes out of its output callback and leaves through the lane's
// SctpPacketPath (sctp_packet_path.hpp) the peer is reached through. ASAP/ENRP messages,
// association events and closes are reported to an EngineEventSink, except the ASAP messages a
// LocalAnswerer answers right here (Handle Resolutions, runtime::LaneResolver) or a LocalConsumer
// takes (Keep-Alive Acks, runtime::LaneKeepAlives); sends, connects,
// closes and aborts come in as calls on the same lane.
//
// Threads and locks (why this is "no lock on the packet path"):
// - usrsctp_init_nothreads(): usrsctp starts no timer thread and no UDP receive thread. A copy
//   of usrsctp is one stack (global state, one output callback), so an engine owns one copy
//   (UsrsctpStack: the linked one, or a private dlmopen'd one per further lane); create()
//   refuses a copy that already runs an engine. The output callback finds the engine through the
//   AF_CONN address (RemoteEndpoint::owner).
// - Every call into the engine's usrsctp copy is made by the one thread that runs the lane:
//   conninput, sendv, connect, close, and usrsctp_handle_timers() (run_timers(), driven by the
//   lane's loop, every >= 1 ms). usrsctp still takes its internal pthread mutexes (INP/TCB/socket
//   locks), but only this one thread ever takes them, so they are never contended: an
//   uncontended lock is one atomic instruction, no syscall, no waiting. The control thread never
//   calls usrsctp; it talks to the engine through rings (runtime/lane_transport.hpp).
// - Callbacks (receive_cb, the output callback) run synchronously inside those calls on the
//   lane. The engine never calls back into usrsctp from inside a receive callback (local answers
//   are kept and sent once usrsctp_conninput() has returned).
//
// Model: one one-to-many (SOCK_SEQPACKET) AF_CONN socket per listener (ASAP 3863, ENRP 9901),
// bound to the wildcard conn address; outgoing associations leave from the listener of their
// protocol (or one client socket per protocol when there is none). A peer is one RemoteEndpoint
// (IP + UDP port); usrsctp has one AF_CONN path per association, multi-homing is done around it
// (below). Messages above max_message_size are dropped and counted. Peers without an association
// (a bare INIT's sender) are bounded (max_pending_peers) and forgotten once every cookie naming
// them is stale; a peer with an association never is (remote_endpoint_table.hpp).
//
// Peer addresses (ConnectionPeer::addresses, what ASAP-REG-06's address check compares with):
// the source address of the packets the association runs on first, then the IPv4 / IPv6
// addresses the peer listed in its INIT (we accept) or INIT ACK (we connect), in its order,
// without duplicates and without unspecified / multicast / broadcast ones. The engine reads them
// from the raw handshake packet before usrsctp sees it (sctp_address_params.hpp) and keeps them
// briefly per peer and SCTP port (ListedAddressCache: bounded, expiring) until the association
// comes up. Trust: the listed addresses are the peer's claim, unverified, exactly what kernel
// SCTP and the former threaded usrsctp stack reported (getpaddrs); only the first address has
// answered us. A peer that lists nothing (one address) is reported with its source address.
//
// Address changes of a live association (RFC 5061 ADD-IP / DELETE-IP / SET-PRIMARY): the engine
// follows what usrsctp itself accepted, its SCTP_PEER_ADDR_CHANGE notifications (ADDED, REMOVED,
// MADE_PRIM) for an IPv4 / IPv6 address. usrsctp reports them only after the ASCONF passed its
// checks (AUTH required for ASCONF, verification tag, serial number in sequence) and the
// parameter succeeded, so an ASCONF it refuses changes nothing here. The association's list is
// then updated (additions last, a new primary first, at most kMaxPeerAddresses) and reported
// with on_addresses_changed. See README.md "Address changes" for why not a parser of our own.
//
// Multi-homing (a peer with several addresses keeps its association when one path dies):
// usrsctp knows the association by one conn address (its RemoteEndpoint), so it has exactly one
// path and its own failover never has anywhere to go. The engine does it around usrsctp:
// - in: when the association comes up, every address the peer listed (same family as the
//   endpoint) becomes an alias of its endpoint (RemoteEndpointTable::add_alias), so packets the
//   peer sends from its other address reach the same association;
// - out: usrsctp reports the conn path SCTP_ADDR_UNREACHABLE once its path error count passed
//   path_rtx_max (heartbeats or DATA unanswered; the association lives on until assoc_rtx_max,
//   which is larger). The engine then moves the endpoint's output to the next address of the
//   peer's list that leads to the endpoint (round robin; move_to), and usrsctp's next heartbeat
//   or retransmission goes there. While the path is failed, a packet from another of the peer's
//   addresses moves the output to that address (the peer's routing chose it: the best evidence
//   of a working path). SCTP_ADDR_AVAILABLE (a heartbeat or DATA acknowledged) ends the failed
//   state. Counted in LaneCounters::sctp_paths_unreachable / sctp_path_failovers.
// Confirmation (RFC 9260 §5.4): the new address is used without a HEARTBEAT of its own to it
// first; usrsctp's heartbeat is what follows the move and its ACK is what makes the path
// available again, so an address that does not answer fails over again (or the association
// ends at assoc_rtx_max). The peer's address list, its PEs and ENRP are unchanged by a failover.
//
// Path RTT (the DPF policies' distance, registrar/common/pe_distance.hpp): ConnectionPeer::srtt_us
// and MessageInfo::srtt_us carry the association's smoothed RTT as usrsctp measured it
// (SCTP_GET_PEER_ADDR_INFO on the association's AF_CONN path, SCTP_STATUS's primary as fallback;
// usrsctp reports milliseconds). It is read only outside usrsctp's callbacks: when an association
// comes up and after every input that delivered a message that carries it (message_wants_path_rtt),
// once usrsctp_conninput() returned. Such a message therefore carries the SRTT read after the
// association's previous one (an accepted association's first message: the RTT of its COOKIE
// ECHO), which is the value at hand without calling into usrsctp from its receive callback. Not
// after other messages: each read looks the association up in usrsctp's 32-bucket id table.
//
// Counters: the engine's own (EngineCounters, lane thread only) and, when attached, the lane's
// runtime::LaneCounters (messages by type, resolution latency; readable from any thread).
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/runtime/alias_owner_table.hpp"
#include "dataplane/runtime/lane_counters.hpp"
#include "dataplane/runtime/lane_order.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/sctp/listed_address_cache.hpp"
#include "dataplane/sctp/peer_address_change.hpp"
#include "dataplane/sctp/remote_endpoint_table.hpp"
#include "dataplane/sctp/sctp_address_params.hpp"
#include "dataplane/sctp/sctp_packet_path.hpp"
#include "dataplane/sctp/usrsctp_stack.hpp"
#include "dataplane/sctp/usrsctp_tunables.hpp"
#include "registrar/common/expected.hpp"

struct socket;  // usrsctp

namespace poolreg::sctp {

using runtime::CloseReason;

// Receives what the engine reports, on the lane's thread.
class EngineEventSink {
 public:
  virtual ~EngineEventSink() = default;
  virtual void on_connected(ConnectionId id, const ConnectionPeer& peer) = 0;
  // data is a malloc()ed buffer of `length` bytes; ownership passes to the sink (free() it).
  virtual void on_message(ConnectionId id, const runtime::MessageInfo& info, std::uint8_t* data,
                          std::size_t length) = 0;
  virtual void on_closed(ConnectionId id, CloseReason reason) = 0;
  virtual void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) = 0;
  // Messages on `id` were answered on the lane (LocalAnswerer) and not forwarded: the
  // association is in use. Reported at most once per kActivityReportMs per association, so the
  // control side's idle timeout does not close a peer that only resolves.
  virtual void on_activity(ConnectionId id) = 0;
  // The peer changed the address set of a live association (RFC 5061 ASCONF that usrsctp
  // accepted: ADD-IP, DELETE-IP, SET-PRIMARY). peer: the association's peer with its whole
  // current address list, primary first.
  virtual void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) = 0;
};

// Answers some ASAP messages on the lane itself instead of forwarding them to the control thread
// (Handle Resolutions: runtime/lane_resolver.hpp). Lane thread only.
class LocalAnswerer {
 public:
  virtual ~LocalAnswerer() = default;
  // One whole ASAP message received on association `id`. Returns the answer to send back on it
  // (valid until the next call), or an empty span: not answered here, forward the message.
  virtual std::span<const std::uint8_t> answer(ConnectionId id, std::span<const std::uint8_t> message) = 0;
  // The association is gone: drop what is kept for it.
  virtual void forget(ConnectionId id) = 0;
};

// Takes some ASAP messages on the lane that need no answer and must not reach the control thread
// (Endpoint Keep-Alive Acks of the PEs the lane monitors: runtime/lane_keepalives.hpp). Asked
// before the LocalAnswerer. Lane thread only.
class LocalConsumer {
 public:
  virtual ~LocalConsumer() = default;
  // One whole ASAP message received on association `id`. True: consumed here (nothing is sent,
  // nothing forwarded); false: go on as without a consumer.
  virtual bool consume(ConnectionId id, std::span<const std::uint8_t> message) = 0;
};

struct SctpEngineConfig : UsrsctpTunables {
  std::size_t max_message_size = runtime::kMaxMessageSize;
  std::size_t max_queued_messages = 16384;  // per association, while usrsctp's send buffer is full
  // Outbound streams, and the most inbound streams a peer gets (its INIT asks, we grant at most
  // this). Every message leaves on stream 0; usrsctp keeps ~40 B per stream and direction per
  // association (16 -> 8: -640 B per association, perf/dataplane/assoc_scale_results.md).
  std::uint16_t streams = 8;
  std::uint64_t close_linger_ms = 10000;  // a closing association is aborted after this
  // SCTP packet size limit (path MTU as usrsctp sees it): the link MTU minus the IPv6+UDP
  // encapsulation (48 bytes), set with PMTU discovery off; 0 = usrsctp's default.
  std::uint32_t path_mtu = 0;
  // usrsctp's timers run at most this often (ms; run_timers may be called more often). usrsctp
  // walks all its callouts per run, O(associations): at 8000 idle associations the timer runs
  // took 0.034 CPU-s/s every 1 ms, 0.022 every 10 ms (the heartbeats they send included). SCTP's
  // own timers are >= 200 ms (RTO min, delayed SACK), so 10 ms late is harmless.
  std::uint32_t timer_granularity_ms = 10;
  // Bound of the peers without an association (a bare INIT's sender, an association gone):
  // RemoteEndpointTable's pending set. Beyond it a new peer takes the place of the least
  // recently used one only once that one has expired (endpoint_expiry_ms), else it is refused.
  std::size_t max_pending_peers = 16384;
  // With the pending set full, a new peer takes the place of an endpoint that only sent INITs
  // and has been quiet for min_init_age_ms (remote_endpoint_table.hpp "Eviction";
  // limits.sctp_init_only_evict_ms). It must exceed the peers' INIT ACK -> COOKIE ECHO round
  // trip: usrsctp accepts a COOKIE ECHO only on the endpoint its INIT came in on (tested), so a
  // real peer evicted before its COOKIE ECHO is back has to start again with a new INIT. A flood
  // then admits max_pending_peers new peers per min_init_age_ms. false: no eviction, a full
  // set refuses new peers until entries expire.
  bool evict_init_only_peers = true;
  std::uint64_t min_init_age_ms = 1000;
  bool debug_output = false;  // usrsctp debug printf to stderr
  // The CRC32c leaves usrsctp (usrsctp_enable_crc32c_offload on this engine's copy): usrsctp
  // neither computes it on output nor checks it on input. The engine then computes it for every
  // packet whose path does not offload it (SctpPacketPath::offloads_crc32c), and checks it in
  // on_sctp_packet() for every packet its source did not (SctpPacketFrom::crc32c_checked: the
  // native parser, a DPDK port's RX verdict), before the sender's endpoint is looked up; a
  // mismatch is dropped and counted (bad_crc32c). So each packet's CRC32c is checked once, with
  // the crc32 instruction where the CPU has it (usrsctp 0.9.5 checks it with a table), and a bad
  // one takes no pending endpoint. usrsctp has no per-packet form of this (usrsctp_conninput
  // passes "check the CRC32c" = !crc32c_offloaded to its input processing; its
  // sctp_no_csum_on_loopback applies to its own raw and UDP sockets only, not to AF_CONN), hence
  // the engine-wide switch. false: usrsctp computes and checks it (the engine writes none).
  bool crc32c_offload = true;
};

// Where an outgoing association leaves from (connect()).
struct ConnectFrom {
  enum class Kind : std::uint8_t {
    kProtocolSocket,  // the first socket of the protocol: its listener, else one client socket
    kListener,        // the listener bound to `port`
    kOwnSocket,       // a socket of its own (ephemeral port), closed once the association is gone
  };
  Kind kind = Kind::kProtocolSocket;
  std::uint16_t port = 0;
};

struct EngineCounters {
  std::uint64_t associations_accepted = 0;
  std::uint64_t associations_opened = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t send_failed = 0;
  std::uint64_t batches_corked = 0;  // send_batch() calls that held messages for bundling
  std::uint64_t oversize_messages = 0;
  // RemoteEndpointTable (copied from the table at every timer tick): new peers refused (pending
  // set full of endpoints that have not expired, or kMaxEndpoints), pending endpoints freed.
  std::uint64_t endpoints_refused = 0;
  std::uint64_t endpoints_expired = 0;
  // INIT-only pending endpoints freed early for a new peer (remote_endpoint_table.hpp
  // "Eviction"), and COOKIE ECHOs dropped because their cookie named another endpoint than the
  // one they came in on (an evicted one, or the peer sent it from another address or port).
  std::uint64_t endpoints_evicted = 0;
  std::uint64_t cookies_for_other_endpoint = 0;
  // INIT / INIT ACK address parameters (sctp_address_params.hpp, ListedAddressCache):
  std::uint64_t handshake_address_lists_malformed = 0;  // chunk unreadable: no addresses kept
  std::uint64_t handshake_addresses_skipped = 0;        // unspecified, multicast, duplicate, over the bound
  std::uint64_t handshake_address_lists_evicted = 0;    // dropped before their association came up
  // ASCONF address changes usrsctp accepted and reported (SCTP_PEER_ADDR_CHANGE):
  std::uint64_t peer_addresses_added = 0;
  std::uint64_t peer_addresses_removed = 0;
  std::uint64_t peer_primary_changes = 0;
  // The association's packets now go to another of the peer's addresses (its old one was
  // deleted, or it asked for a new primary).
  std::uint64_t peer_path_moves = 0;
  // Reported but not applied: beyond kMaxPeerAddresses, unusable, not an IP address, or an
  // association the engine does not report (connecting, closing, unknown).
  std::uint64_t peer_address_changes_ignored = 0;
  // Multi-homing: usrsctp reported the association's (conn) path unreachable; our output moved
  // to another address the peer listed (after that report, or because a packet came from it
  // while the path was failed); listed addresses that could not become aliases of the
  // association's endpoint (the address has an endpoint of its own, or the table is full).
  std::uint64_t peer_paths_unreachable = 0;
  std::uint64_t peer_path_failovers = 0;
  std::uint64_t peer_aliases_refused = 0;
  // Associations that came up on a path usrsctp held unreachable (an INIT or COOKIE ECHO lost
  // more than Path.Max.Retrans times): a heartbeat was asked for at once (check_path_after_up).
  std::uint64_t paths_inactive_at_up = 0;
  // Several lanes (set_alias_publishing): aliases published for the other lanes to hand their
  // packets here; refused ones (another lane holds the address, or the shared table is full)
  // stay local (their packets reach the association only when they steer to this lane).
  std::uint64_t aliases_published = 0;
  std::uint64_t alias_publish_refused = 0;
  // Bad input the engine or its usrsctp copy dropped: a CRC32c mismatch found by the engine
  // (crc32c_offload: packets their source did not check), and usrsctp's count of packets whose
  // verification tag was not the association's (sctps_badvtag, read at the timer tick).
  std::uint64_t bad_crc32c = 0;
  std::uint64_t bad_vtag = 0;
};

// Several lanes: where an engine publishes its aliases (runtime/alias_owner_table.hpp) so that the
// lane a peer's other address steers to hands its packets to this one. natural_owner(ip, port,
// native): the lane steering gives a peer (IP + UDP port, or + SCTP port when native); an alias
// that steers to `lane` anyway is not published.
struct AliasPublishing {
  runtime::AliasOwnerTable* table = nullptr;
  unsigned lane = 0;
  std::function<unsigned(const IpAddress&, std::uint16_t port, bool native)> natural_owner;
};

class SctpEngine final : public SctpPacketSink {
 public:
  static constexpr std::size_t kMaxPendingResolutions = 16384;
  static constexpr std::uint64_t kActivityReportMs = 1000;
  // Pending endpoints freed per run_timers() at most (the rest wait for the next tick; a new
  // peer frees the oldest expired one itself when the pending set is full).
  static constexpr std::size_t kEndpointExpiryWork = 256;
  // Bound of ConnectionPeer::addresses of one association: its first address plus as many as an
  // INIT may list (kMaxListedAddresses); ASCONF additions beyond it are ignored and counted.
  static constexpr std::size_t kMaxPeerAddresses = 1 + kMaxListedAddresses;

  // On `stack` (nullptr: the linked usrsctp copy), which must outlive the engine. Fails when that
  // copy already runs an engine.
  static Expected<std::unique_ptr<SctpEngine>, std::string> create(const SctpEngineConfig& config,
                                                                   std::atomic<std::uint64_t>& ids,
                                                                   UsrsctpStack* stack = nullptr);
  // Aborts every association, closes the sockets and finishes usrsctp. Call on the lane's thread,
  // or on any thread once the lane has stopped.
  ~SctpEngine() override;
  SctpEngine(const SctpEngine&) = delete;
  SctpEngine& operator=(const SctpEngine&) = delete;

  // paths[i]: the lane's path of index i (its path_index()); output is dropped while there is
  // none. A peer's packets leave through the path its packets came in on; a peer not heard from
  // yet through a path that reaches() it (else through every path, each of which may start
  // resolving it, e.g. by ARP). events: where reports go. counters: the lane's (may be null).
  // Before the lane runs.
  void attach(const std::vector<SctpPacketPath*>& paths, EngineEventSink* events, runtime::LaneCounters* counters);
  // ASAP messages the answerer takes are answered here and never forwarded (nullptr: forward
  // everything). Set before the lane runs.
  void set_local_answerer(LocalAnswerer* answerer) noexcept { answerer_ = answerer; }
  // ASAP messages the consumer takes are dropped here after it saw them (nullptr: none). Set
  // before the lane runs.
  void set_local_consumer(LocalConsumer* consumer) noexcept { consumer_ = consumer; }
  // Order per association (runtime/lane_order.hpp): every message handed to the events sink is
  // stamped (MessageInfo::lane_stamp) and an association whose last stamped message the control
  // thread has not finished gets nothing answered by the LocalAnswerer: its message is handed
  // over behind it (counted in resolutions_after_write_forwarded). nullptr: no stamps, the
  // answerer answers whatever it can. Set before the lane runs; must outlive the engine's use.
  void set_lane_order(runtime::LaneOrder* order) noexcept { order_ = order; }
  // Several lanes: publish this engine's aliases in a table every lane's steering consults
  // (Multi-homing). Before the lane runs.
  void set_alias_publishing(AliasPublishing publishing) { publishing_ = std::move(publishing); }

  // Start-up (before the lane runs) or on the lane.
  runtime::ListenResult listen(WireProtocol protocol, std::uint16_t port);

  // ---- lane thread only ----
  void on_sctp_packet(const SctpPacketFrom& from, const std::uint8_t* packet, std::uint16_t length) override;
  // Opens an association under the id the control side chose; reports on_connected or
  // on_closed(kConnectFailed). Only the first address is dialled (one AF_CONN path per peer);
  // the addresses the peer lists in its INIT ACK are its failover addresses (Multi-homing).
  // remote_udp_port 0: native SCTP (IP protocol 132, native_sctp_packet.hpp), else SCTP over UDP
  // to that port.
  void connect(ConnectionId id, WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
               std::uint16_t remote_udp_port, ConnectFrom from = {});
  // The listener bound to `port` stops accepting new associations (listen backlog 0); its
  // associations go on. Start-up or lane thread.
  void stop_listening(std::uint16_t port);
  // Per-association bound of the send queue (default: config.max_queued_messages, no byte bound).
  void set_queue_limit(ConnectionId id, std::size_t messages, std::size_t bytes);
  std::size_t queued_messages(ConnectionId id) const;
  // Native SCTP (IP protocol 132): a raw IP socket sees every SCTP packet of its host, also those
  // for other local SCTP users. native_port_ours(p): packets to SCTP port `p` are this engine's,
  // i.e. a listener opened to native peers with accept_native(p), or a port this engine has sent
  // native packets from (its outgoing associations; remembered for the engine's life). The
  // packet source drops (and counts) the others instead of letting usrsctp answer them with an
  // out-of-the-blue ABORT. Start-up or lane thread.
  void accept_native(std::uint16_t port) noexcept { native_ports_.set(port); }
  bool native_port_ours(std::uint16_t port) const noexcept override { return native_ports_.test(port); }
  // True when the peer (IP, UDP port; 0: native) has an endpoint of its own here (not an alias):
  // its packets stay on this lane even when another lane holds the address as an alias.
  bool knows_peer(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port) const override {
    return endpoints_.has_own(ip, ipv6, udp_port);
  }
  // The local SCTP port of an association's socket (its listener's port for an accepted one).
  std::uint16_t local_port(ConnectionId id) const;
  runtime::SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message);
  // Several messages on one association, in order, as few SCTP packets as usrsctp bundles them
  // into: on an accepted association (listener socket) Nagle is switched on (SCTP_NODELAY off)
  // for all but the last message, so usrsctp queues them behind the first one in flight and
  // sends full packets; the last is sent with SCTP_NODELAY on again, which pushes out what is
  // queued. results[i]: messages[i]'s, as send() would report it (results.size() >= messages).
  void send_batch(ConnectionId id, WireProtocol protocol,
                  std::span<const std::span<const std::uint8_t>> messages,
                  std::span<runtime::SendResult> results);
  // Graceful / immediate close requested by the control side: no on_closed is reported for it
  // (the control side reports it itself).
  void close(ConnectionId id);
  void abort(ConnectionId id);
  // usrsctp_handle_timers(elapsed) plus queued-send flushing and close lingers. now_ms: a
  // monotonic millisecond clock.
  void run_timers(std::uint64_t now_ms);
  // Sends queued messages that usrsctp would not take earlier.
  void flush_pending();
  // Aborts every association (reported as on_closed(kShutdown)) and closes the listeners.
  void shutdown();

  std::size_t connection_count() const noexcept { return connections_.size(); }
  std::size_t endpoint_count() const noexcept { return endpoints_.size(); }
  // Peer addresses whose packets lead to another address's endpoint (RemoteEndpointTable aliases).
  std::size_t alias_count() const noexcept { return endpoints_.alias_count(); }
  // Endpoints without an association (RemoteEndpointTable's pending set).
  std::size_t pending_endpoint_count() const noexcept { return endpoints_.pending_count(); }
  const EngineCounters& counters() const noexcept { return counters_; }
  // The peer of an open association (nullptr when unknown).
  const ConnectionPeer* peer_of(ConnectionId id) const;

  // Internal (usrsctp callbacks).
  struct Socket;
  int output(void* address, void* buffer, std::size_t length);
  void receive(Socket& s, void* data, std::size_t length, const struct sctp_rcvinfo& info, int flags);

 private:
  enum class State : std::uint8_t { kConnecting, kUp, kClosing };
  // A message usrsctp would not take yet. answered_here: produced by the LocalAnswerer (its
  // latency is not paired with a forwarded request).
  struct Queued {
    WireProtocol protocol = WireProtocol::kAsap;
    bool answered_here = false;
    std::vector<std::uint8_t> bytes;
  };
  struct Connection {
    ConnectionId id = 0;
    Socket* socket = nullptr;
    RemoteEndpoint* endpoint = nullptr;  // usrsctp's conn address of the association
    sctp_assoc_t assoc = 0;
    State state = State::kConnecting;
    ConnectionPeer peer;
    std::vector<std::uint8_t> partial;
    bool partial_oversize = false;
    std::deque<Queued> queue;
    std::size_t queued_bytes = 0;
    std::size_t max_queued = 0;        // messages; set from config_ when the connection is made
    std::size_t max_queued_bytes = ~std::size_t{0};
    std::uint64_t linger_deadline_ms = 0;
    // Arrival times (ns, steady clock) of Handle Resolutions forwarded to the control thread and not answered
    // yet, oldest first (answers leave in order on an association), for the latency histogram
    // only. Bounded: a peer with more than kMaxPendingResolutions in flight is no longer sampled
    // (latency_off). Resolutions answered on this lane are timed directly instead.
    std::deque<std::uint64_t> pending_resolutions;
    bool latency_off = false;
    std::uint64_t next_activity_report_ms = 0;  // see EngineEventSink::on_activity
    // The LaneOrder stamp of the last message handed to the events sink (0: none yet).
    std::uint64_t last_handover = 0;
    // peer.srtt_us is re-read (refresh_srtt) once usrsctp's call returned.
    bool srtt_due = false;
    // Just up: refresh_srtts() also looks at usrsctp's state of its path (check_path_after_up).
    bool path_check_due = false;
    // The aliases of `endpoint` this association holds (its listed and ASCONF-added addresses),
    // given back when it is forgotten.
    std::vector<IpAddress> aliases;
    // Those of `aliases` published in publishing_.table (withdrawn with them).
    std::vector<IpAddress> published;
  };

  SctpEngine(const SctpEngineConfig& config, std::atomic<std::uint64_t>& ids, UsrsctpStack& stack);
  Socket* open_socket(WireProtocol protocol, bool listener);
  // The path `to` is reached through; nullptr: not known on any path yet.
  SctpPacketPath* path_for(SctpPeer& to);
  Socket* socket_for(WireProtocol protocol);
  Socket* source_for(WireProtocol protocol, const ConnectFrom& from);
  // Closes the own sockets (ConnectFrom::kOwnSocket) whose association is gone (outside callbacks).
  void close_released_sockets();
  void release_socket(Socket* s);
  Connection* find(ConnectionId id);
  void handle_notification(Socket& s, const std::uint8_t* data, std::size_t n);
  void assoc_up(Socket& s, sctp_assoc_t assoc, bool restart);
  void assoc_gone(Socket& s, sctp_assoc_t assoc, CloseReason reason);
  // SCTP_PEER_ADDR_CHANGE: an ASCONF usrsctp accepted changed the peer's address set.
  void peer_address_changed(Socket& s, const struct sctp_paddr_change& change);
  // The association's packets follow its peer's addresses (RemoteEndpointTable aliases).
  void follow_peer_path(Connection& c, PeerAddressChange kind, const IpAddress& ip);
  // Multi-homing (see the header comment): the peer's listed addresses become aliases of the
  // association's endpoint; a path state usrsctp reported for the association's conn path; the
  // next of the peer's addresses our output fails over to.
  void hold_aliases(Connection& c);
  // An alias `c` took (or gives back): published for the other lanes (several lanes only).
  void publish_alias(Connection& c, const IpAddress& ip);
  void withdraw_alias(Connection& c, const IpAddress& ip);
  void conn_path_state(Socket& s, const struct sctp_paddr_change& change);
  void fail_over(Connection& c);
  void move_output(RemoteEndpoint& e, const IpAddress& to);
  // Connection `c` runs on `e`, whose first address is `first` (the address the association was
  // accepted from or dialled): an endpoint without associations starts over there.
  void claim_endpoint(Connection& c, RemoteEndpoint& e, const IpAddress& first);
  void deliver(Connection& c, std::uint32_t ppid, std::uint16_t stream, std::uint8_t* data, std::size_t n);
  void refresh_peer(Connection& c);
  // The SRTT of an association: read after usrsctp's call returned (never from inside one of
  // its callbacks), for the associations marked srtt_due since (note_srtt_due).
  void note_srtt_due(Connection& c);
  void refresh_srtts();
  // usrsctp counts unanswered INIT / COOKIE ECHO retransmissions against Path.Max.Retrans: an
  // association that needed more of them comes up on a path usrsctp holds unreachable, and
  // usrsctp sends no DATA there until a heartbeat to it is answered (its heartbeat interval, 30 s
  // by default). An association just up whose path is inactive gets a heartbeat on demand.
  void check_path_after_up(Connection& c, const sctp_paddrinfo& info);
  // usrsctp's view of the association's conn path; false when it cannot be read.
  bool read_conn_path(const Connection& c, sctp_paddrinfo& info);
  // First run_timers(): what was stamped before the caller's clock was known (time 0) is restamped now.
  void start_clock(std::uint64_t now_ms);
  std::uint32_t read_srtt_us(const Connection& c);
  // Keeps the addresses listed in an INIT / INIT ACK from `from` until its association is up.
  void note_listed_addresses(const RemoteEndpoint& from, std::span<const std::uint8_t> packet);
  // peer.addresses: its first address, then what the packet's sender listed in its handshake.
  void add_listed_addresses(ConnectionPeer& peer);
  void forget(ConnectionId id);
  // Endpoint table figures into counters_ and the lane's counters.
  void publish_endpoint_counters();
  // A packet of a known (or just admitted) peer into usrsctp.
  void input(RemoteEndpoint& e, const SctpPacketFrom& from, const std::uint8_t* packet, std::uint16_t length);
  // usrsctp's own drop counts (bad verification tag) into counters_ and the lane counters.
  void publish_usrsctp_drops();
  long send_raw(Connection& c, WireProtocol protocol, const std::uint8_t* data, std::size_t len,
                std::uint16_t flags);
  void send_control(Connection& c, std::uint16_t flags);
  void set_nodelay(Socket& s, bool on);
  bool flush(Connection& c);
  runtime::SendResult send_on(Connection& c, WireProtocol protocol, std::span<const std::uint8_t> message,
                             bool answered_here);
  // An ASAP message the LocalConsumer took, or the LocalAnswerer answered (the answer is kept for
  // send_answers(); reports activity). False: not taken here (forward it).
  bool answer_locally(Connection& c, const std::uint8_t* data, std::size_t n);
  // Sends the answers kept by answer_locally (outside usrsctp's callbacks) and times them.
  void send_answers();
  // Counts a message handed to usrsctp (by ASAP type) and closes a forwarded resolution's
  // latency sample.
  void note_sent(Connection& c, WireProtocol protocol, const std::uint8_t* data, std::size_t n, bool answered_here);

  SctpEngineConfig config_;
  std::atomic<std::uint64_t>& ids_;
  UsrsctpStack& stack_;
  const UsrsctpApi& api_;
  bool claimed_ = false;  // create() claimed stack_ and initialised it
  std::vector<SctpPacketPath*> paths_;  // by path index
  runtime::LaneCounters* lane_counters_ = nullptr;
  EngineEventSink* events_ = nullptr;
  LocalAnswerer* answerer_ = nullptr;
  LocalConsumer* consumer_ = nullptr;
  runtime::LaneOrder* order_ = nullptr;
  AliasPublishing publishing_;
  struct Answer {
    ConnectionId id = 0;
    std::uint64_t received_ns = 0;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Answer> answers_;  // [0, answers_used_) wait for send_answers()
  std::size_t answers_used_ = 0;
  RemoteEndpointTable endpoints_;
  ListedAddressCache listed_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::unordered_map<ConnectionId, Connection> connections_;
  std::unordered_set<ConnectionId> pending_;
  std::unordered_set<ConnectionId> closing_;  // State::kClosing: their lingers run_timers checks
  std::vector<ConnectionId> srtt_due_;  // associations whose SRTT refresh_srtts() re-reads
  std::vector<Socket*> released_;  // own sockets without an association, closed by close_released_sockets
  RemoteEndpoint* current_endpoint_ = nullptr;  // sender of the packet in usrsctp_conninput()

  IpAddress current_source_;                    // its source address
  std::uint16_t current_sctp_port_ = 0;
  std::uint64_t last_timer_ms_ = 0;
  std::uint64_t now_ms_ = 0;
  bool clock_started_ = false;  // run_timers() has told the engine the caller's clock (start_clock)
  EngineCounters counters_;
  std::uint64_t published_refused_ = 0;  // what the lane counters already have
  std::uint64_t published_expired_ = 0;
  std::uint64_t published_bad_vtag_ = 0;
  std::uint64_t published_evicted_ = 0;
  std::bitset<65536> native_ports_;  // SCTP ports native packets may reach (native_port_ours)
};

}  // namespace poolreg::sctp
