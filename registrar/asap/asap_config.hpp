// AsapConfig: the ASAP options of the registrar, filled by the daemon from its configuration
// (defaults = RSPLIB's, shared/spec/registrar-defaults.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "registrar/common/address_scope.hpp"
#include "registrar/asap/rate_limiter.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::asap {

struct AsapConfig {
  // This registrar's ID (non-zero; its low 32 bits must be non-zero too — nextgen.md 2).
  RegistrarId registrar_id = 0;

  // Next-gen mode (nextgen.md): when on, a PE/PU that sends NG-Capabilities (0x8040) gets
  // next-gen encoding (64-bit ID TLVs) and the registrar's flags echoed in the Registration
  // Response. Off: pure RFC mode, received extension TLVs are skipped.
  bool next_gen = false;
  // Flags this registrar advertises (wire::kNgCap*). kNgCapHro also switches honouring the
  // Handle Resolution Option on or off — in both modes, since RSPLIB PUs send it (NG-HRO-01).
  std::uint32_t ng_capabilities = wire::kNgCapId64 | wire::kNgCapHro | wire::kNgCapTcp;

  // Endpoint keep-alive (asap.md 4.4, 5): idle time before a Keep-Alive, wait for its Ack.
  TimeNs keepalive_interval = 5 * kNsPerSec;
  TimeNs keepalive_timeout = 5 * kNsPerSec;
  // Abort the association of a PE that missed its keep-alive when no other owned PE uses it
  // (RSPLIB aborts always; we spare associations still carrying live PEs).
  bool abort_on_keepalive_timeout = true;
  // Issue 16 item 2: a PE whose monitoring settles (registered, Ack received) over an association
  // that runs on a lane is handed to that lane (MessageOutput::watch_keepalives): the lane sends
  // its Keep-Alives and consumes their Acks; only a timeout comes back. Off: every keep-alive runs
  // here as before. Live: turned off, the lanes' PEs are taken back at once; turned on, PEs move
  // to the lanes at their next Ack.
  bool keepalive_on_lanes = true;
  // Keep-alives on lanes: those due in the same timer tick for PEs on the same association leave
  // in one engine send (bundled into as few SCTP packets as usrsctp packs them). Off: one send
  // each. Read when the lanes start.
  bool keepalive_batch = true;
  // Timer wheel resolution / size (keep-alive timers fire at most one tick late).
  TimeNs timer_tick = 10 * kNsPerMs;
  std::size_t timer_slots = 4096;

  // Endpoint Unreachable reports before a PE is removed (MAX-BAD-PE-REPORT), one per reporting
  // source address; a PE owned here over a live association is probed first (keepalive_timeout).
  std::uint32_t max_bad_pe_reports = 3;

  // Handle resolution: default answer size (no HRO or HRO 0) and cap (HRO 0xFFFFFFFF).
  // The cap is clamped to the handlespace's hard limit (128, handlespace::kMaxResolveItems).
  std::uint32_t hr_default_items = 3;
  std::uint32_t hr_max_items = 128;
  // RSPLIB MaxIncrement. Informational: the selectors fix MaxIncrement per policy
  // (registrar/policy/selector.hpp); kept so the daemon's configuration has one home.
  std::uint32_t max_increment = 0;
  // The DPF policies' distance (WRAND-DPF, LU-DPF, LUD-DPF, PLU-DPF, PLUD-DPF): the registrar sets
  // a PE's distance_ms to half the SRTT of its association rounded to this step (ms; RSPLIB 50),
  // overwriting what the PE sent (registrar/common/pe_distance.hpp). 0 acts as 1.
  std::uint32_t distance_step_ms = 50;

  // PE address filter (ASAP-REG-06, SEC-06). Addresses below min_address_scope are always
  // dropped; with address_check also those that are not peer addresses of the association.
  // No address left → Registration Response R=1, cause 0x3, or 0xa when
  // address_rejection_is_security is set.
  AddressScope min_address_scope = AddressScope::kSiteLocal;
  bool address_check = true;
  bool address_rejection_is_security = false;

  // Per-association rate limits (SEC-01; 0 = off). Excess Handle Resolutions are answered as
  // an unknown pool (0x9), excess Endpoint Unreachable reports are dropped silently.
  RateLimit hr_rate_limit;
  RateLimit eu_rate_limit;

  // Limits.
  std::size_t max_pool_handle = kDefaultMaxPoolHandleBytes;  // WIRE-07 (cause 0x3 beyond)
  std::size_t max_addresses = kMaxAddressesPerTransport;     // per transport TLV
  std::size_t max_message = 65535;
  // Per-client quotas (issue 17; 0 = off). Beyond a PE quota a new PE is refused with
  // Registration Response R=1, cause 0x6 (Lack of Resources); re-registrations still pass. An
  // association from a source address that already holds max_associations_per_address accepted
  // associations is aborted at once, like one over max_associations. The source address is the
  // association's first peer address (the SCTP primary path, the TCP peer).
  std::size_t max_pes_per_association = 0;
  std::size_t max_associations_per_address = 0;
  std::size_t max_pes_per_address = 0;
  // Accepted associations/connections at once (0 = unlimited); one more is aborted at once.
  // Associations this registrar opens itself (takeover keep-alives) are not limited.
  std::size_t max_associations = 0;
  // An accepted association that carries no PE and has received nothing for this long is
  // closed gracefully (RSPLIB's SCTP autoclose; PU associations after their last request).
  // 0 = never. PE associations are kept: their keep-alive acks are traffic anyway.
  TimeNs association_idle_timeout = 0;
  // An accepted association that has delivered no whole ASAP message this long is closed
  // (limits.first_message_timeout_ms, shared with the TCP transport's own check; SCTP
  // associations are covered here). 0 = off.
  TimeNs first_message_timeout = 0;
  // PEs of lost associations removed per pass (on_connection_closed, then each run_timers): a
  // teardown of 10^6 PEs is spread over many event-loop passes, so resolutions and other
  // messages are answered between them. Not a configuration key: fixed by measurement
  // (perf/registrar/daemon_results.md); tests set it small.
  std::size_t teardown_batch = 512;
  // operator_deregister() of a PE registered here: its re-registration is refused this long
  // (R=1, cause 0xa) so that the removal sticks (issue 17). 0 = off: it may come back at once.
  TimeNs deregister_hold = 0;
  // Break-before-make rebind (issue 14 item 2): a registration of a PE bound here to another
  // live association waits this long while the old binding is probed (Endpoint Keep-Alive over
  // it); no Ack → the PE is rebound to the new association and the registration accepted; Ack →
  // refused with cause 0x4 as without a probe. 0 = off: refused at once (SEC-02). The daemon's
  // default is asap.rebind_probe_ms; the library keeps 0 so a bare AsapServer behaves as RFC 5352.
  TimeNs rebind_probe = 0;
  // Registrations parked for a probe at once; one more is refused with 0x4 (counted).
  std::size_t max_pending_rebinds = 65536;
  // Handover hold (issue 14 item 3): the PEs of a lost association stay this long, held (not
  // offered in resolutions, no ENRP DEL); a registration within it resumes the PE (one ENRP
  // update), the hold's end removes the rest as association loss does. 0 = off: removed at once.
  // The daemon's default is asap.handover_hold_ms; the library keeps 0 (RFC 5352 behaviour).
  TimeNs handover_hold = 0;
};

}  // namespace poolreg::asap
