#include "dataplane/sctp/usrsctp_tunables.hpp"

#include <usrsctp.h>

namespace poolreg::sctp {

void apply_usrsctp_tunables(const UsrsctpTunables& t, const UsrsctpApi& api) {
  api.set_sendspace(t.send_space);
  api.set_recvspace(t.receive_space);
  api.set_heartbeat_interval(t.heartbeat_interval_ms);
  api.set_init_rtx_max(t.init_rtx_max);
  api.set_assoc_rtx_max(t.assoc_rtx_max);
  api.set_path_rtx_max(t.path_rtx_max);
  api.set_rto_initial(t.rto_initial_ms);
  api.set_rto_min(t.rto_min_ms);
  api.set_rto_max(t.rto_max_ms);
  api.set_init_rto_max(t.rto_max_ms);
  api.set_valid_cookie_life(t.cookie_life_ms);
  // ECN/ASCONF stay default; no blackholing so refused INITs are answered with ABORT quickly.
  api.set_blackhole(0);
}

AssocChangeAction assoc_change_action(std::uint16_t sac_state) {
  using Kind = AssocChangeAction::Kind;
  switch (sac_state) {
    case SCTP_COMM_UP:
      return {Kind::kUp, false, runtime::CloseReason::kPeerClosed};
    case SCTP_RESTART:
      return {Kind::kUp, true, runtime::CloseReason::kPeerClosed};
    case SCTP_COMM_LOST:
      return {Kind::kGone, false, runtime::CloseReason::kCommLost};
    case SCTP_SHUTDOWN_COMP:
      return {Kind::kGone, false, runtime::CloseReason::kPeerClosed};
    case SCTP_CANT_STR_ASSOC:
      return {Kind::kGone, false, runtime::CloseReason::kConnectFailed};
    default:
      return {};
  }
}

}  // namespace poolreg::sctp
