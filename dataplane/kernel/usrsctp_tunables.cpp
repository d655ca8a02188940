#include "dataplane/kernel/usrsctp_tunables.hpp"

#include <usrsctp.h>

namespace poolreg::kernel {

void apply_usrsctp_tunables(const UsrsctpTunables& t) {
  usrsctp_sysctl_set_sctp_sendspace(t.send_space);
  usrsctp_sysctl_set_sctp_recvspace(t.receive_space);
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(t.heartbeat_interval_ms);
  usrsctp_sysctl_set_sctp_init_rtx_max_default(t.init_rtx_max);
  usrsctp_sysctl_set_sctp_assoc_rtx_max_default(t.assoc_rtx_max);
  usrsctp_sysctl_set_sctp_rto_initial_default(t.rto_initial_ms);
  usrsctp_sysctl_set_sctp_rto_min_default(t.rto_min_ms);
  usrsctp_sysctl_set_sctp_rto_max_default(t.rto_max_ms);
  usrsctp_sysctl_set_sctp_init_rto_max_default(t.rto_max_ms);
  // ECN/ASCONF stay default; no blackholing so refused INITs are answered with ABORT quickly.
  usrsctp_sysctl_set_sctp_blackhole(0);
}

AssocChangeAction assoc_change_action(std::uint16_t sac_state) {
  using Kind = AssocChangeAction::Kind;
  switch (sac_state) {
    case SCTP_COMM_UP:
      return {Kind::kUp, false, CloseReason::kPeerClosed};
    case SCTP_RESTART:
      return {Kind::kUp, true, CloseReason::kPeerClosed};
    case SCTP_COMM_LOST:
      return {Kind::kGone, false, CloseReason::kCommLost};
    case SCTP_SHUTDOWN_COMP:
      return {Kind::kGone, false, CloseReason::kPeerClosed};
    case SCTP_CANT_STR_ASSOC:
      return {Kind::kGone, false, CloseReason::kConnectFailed};
    default:
      return {};
  }
}

}  // namespace poolreg::kernel
