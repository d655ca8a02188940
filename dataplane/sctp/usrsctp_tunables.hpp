// UsrsctpTunables: the usrsctp stack-wide defaults the SctpEngine sets after usrsctp_init*; and
// the mapping of an SCTP_ASSOC_CHANGE state to what the engine does with the association.
#pragma once

#include <cstdint>

#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/sctp/usrsctp_stack.hpp"

namespace poolreg::sctp {

struct UsrsctpTunables {
  std::uint32_t send_space = 1u << 20;     // default SO_SNDBUF of SCTP sockets
  std::uint32_t receive_space = 1u << 20;  // default SO_RCVBUF
  std::uint32_t heartbeat_interval_ms = 30000;
  std::uint32_t init_rtx_max = 8;  // INIT retransmissions before connect fails
  std::uint32_t assoc_rtx_max = 10;
  // Path.Max.Retrans: unanswered heartbeats / retransmissions before usrsctp reports a path
  // unreachable (the engine's multi-homing failover, sctp_engine.hpp). Below assoc_rtx_max, so
  // the association outlives its failed path. RFC 9260's 5: usrsctp also counts unanswered INIT
  // retransmissions against it, and an association that came up after more of them than this
  // starts on a path usrsctp holds unreachable and sends no data there until a heartbeat is
  // answered (a PU that had to retry its INIT at a flooded registrar with 2 here waited for it);
  // the engine asks for that heartbeat at once (SctpEngine::check_path_after_up).
  std::uint32_t path_rtx_max = 5;
  std::uint32_t rto_initial_ms = 1000;
  std::uint32_t rto_min_ms = 200;
  std::uint32_t rto_max_ms = 5000;
  // How long a state cookie in our INIT ACK stays valid (RFC 9260 Valid.Cookie.Life; RFC default
  // 60 s). Shorter here: a cookie must only outlive one INIT ACK -> COOKIE ECHO round trip and
  // its retransmissions (INIT ACK is not retransmitted; the peer resends INIT, which gets a fresh
  // cookie), and an endpoint that answered an INIT must be kept as long as a cookie naming it can
  // be accepted (remote_endpoint_table.hpp), so the cookie life bounds what an INIT flood holds.
  std::uint32_t cookie_life_ms = 10000;
};

// How long a RemoteEndpoint without an association is kept after its last packet: every cookie
// naming it is stale by then (cookie life + 1 s for usrsctp's clock granularity), and a usrsctp
// association still winding down on it would have retransmitted to it (its longest RTO).
inline std::uint64_t endpoint_expiry_ms(const UsrsctpTunables& t) {
  return std::uint64_t{t.cookie_life_ms} + t.rto_max_ms + 1000;
}

// Sets the tunables on one usrsctp stack (the linked one unless told); call right after
// usrsctp_init*. A failing setter leaves usrsctp's default, which also works.
void apply_usrsctp_tunables(const UsrsctpTunables& t, const UsrsctpApi& api = UsrsctpStack::linked().api());

// What an SCTP_ASSOC_CHANGE notification means for a transport's association table.
struct AssocChangeAction {
  enum class Kind : std::uint8_t { kIgnore, kUp, kGone };
  Kind kind = Kind::kIgnore;
  bool restart = false;                         // kUp: the peer restarted the association
  runtime::CloseReason reason = runtime::CloseReason::kPeerClosed;  // kGone
};
AssocChangeAction assoc_change_action(std::uint16_t sac_state);

}  // namespace poolreg::sctp
