// PeerLinks: the ENRP server's associations/connections to its peers and the one way ENRP
// messages leave (encode + MessageOutput). EnrpServer, HandleTableSync and TakeoverCoordinator
// all send through it, so they share one connection per peer and one encode buffer.
//
// Contract
// - Single-threaded: the control thread that drives EnrpServer. No sockets of its own: it calls
//   MessageOutput::connect/send/abort, which queue in the daemon's transport.
// - Owns: the table of known connections (ConnectionPeer as the transport reported it, or as we
//   opened it), the reused encode buffer and the send-failure count. It does not own peers: it
//   writes PeerEntry::connection / next_connect_allowed of the entry it is handed.
// - The config, output and clock must outlive it.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/error_cause.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/wire/enrp_messages.hpp"
#include "registrar/wire/tlv_writer.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::enrp {

class PeerLinks {
 public:
  PeerLinks(const EnrpConfig& config, MessageOutput& output, const Clock& clock);
  PeerLinks(const PeerLinks&) = delete;
  PeerLinks& operator=(const PeerLinks&) = delete;

  // ---- what the transport reports ----
  void on_connection_up(ConnectionId connection, const ConnectionPeer& peer);
  // Forgets the connection (the caller clears PeerEntry::connection where it was used).
  void on_connection_closed(ConnectionId connection);
  // The far end of a known connection (nullptr: never announced nor opened by us).
  const ConnectionPeer* peer_of(ConnectionId connection) const;

  // ---- sending ----
  // The peer's connection, opened now when it has none and an endpoint (at most one connect
  // attempt per peer and second). kNoConnectionId: cannot reach it now.
  ConnectionId ensure_connection(PeerEntry& peer);
  // Encodes in the peer's wire form (Presence always in next-gen form in next-gen mode) and
  // sends over its connection, opening one when needed. False when not sent.
  bool send_to(PeerEntry& peer, const wire::EnrpMessage& message);
  // Encodes with `options` and sends on `connection` (replies to a requester not in the table).
  bool send_on(ConnectionId connection, const wire::EnrpMessage& message, const wire::WireOptions& options);
  // An ENRP Error quoting `info` (the caller bounds it). False when not sent.
  bool send_error(ConnectionId connection, RegistrarId receiver, ErrorCause cause,
                  std::span<const std::uint8_t> info, const wire::WireOptions& options);
  // The encoded message in the shared buffer (valid until the next encode or send), or why it
  // does not encode. Not counted as a send failure: nothing was sent.
  Expected<std::span<const std::uint8_t>, wire::EncodeStatus> encode(const wire::EnrpMessage& message,
                                                                     const wire::WireOptions& options);

  // nextgen.md 6.10: over TCP each PR pair keeps one connection; when both sides connected at
  // once, the one opened by the lower PR ID stays and the other is aborted. SCTP associations
  // are left alone (two of them are harmless).
  void resolve_duplicate_connection(PeerEntry& peer, ConnectionId other);

  std::uint64_t send_failures() const noexcept { return send_failures_; }

 private:
  const EnrpConfig& config_;
  MessageOutput& output_;
  const Clock& clock_;
  std::unordered_map<ConnectionId, ConnectionPeer> connections_;
  std::vector<std::uint8_t> scratch_;  // encode buffer, reused
  std::uint64_t send_failures_ = 0;
};

}  // namespace poolreg::enrp
