// EnrpConfig: everything the ENRP server (enrp_server.hpp) is told at construction.
// Defaults are the RFC 5353 profile of shared/spec/enrp.md section 5; EnrpConfig::fast() gives
// the RSPLIB-like "fast failover" profile. The daemon fills it from config/registrar_config.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::enrp {

// One statically configured peer: its ENRP endpoint and, when known, its ID (0 = learn it from
// its first message; until then it is addressed with receiver ID 0 — ENRP-PEER-06).
struct EnrpStaticPeer {
  TransportEndpoint endpoint;
  RegistrarId id = 0;
};

struct EnrpConfig {
  // Own registrar ID, non-zero. RFC mode: must fit 32 bits. Next-gen: 64-bit with non-zero low
  // 32 bits (nextgen.md section 2).
  RegistrarId own_id = 0;
  // Own ENRP endpoint, announced in Server Information (SCTP, or TCP in next-gen TCP mode).
  TransportEndpoint own_endpoint;

  // Next-gen mode: send NG-Capabilities first in every Presence and use the features a peer
  // advertised back (nextgen.md section 1). false = pure RFC mode (extensions never sent,
  // received ones ignored).
  bool next_gen = false;
  std::uint32_t ng_capabilities = wire::kNgCapId64 | wire::kNgCapCk32 | wire::kNgCapTakeoverSuggestion;

  // Timers (enrp.md section 5).
  TimeNs heartbeat_interval = 30 * kNsPerSec;      // PEER-HEARTBEAT-CYCLE, jittered +-12.5 %
  TimeNs max_time_last_heard = 61 * kNsPerSec;
  TimeNs max_time_no_response = 5 * kNsPerSec;
  TimeNs takeover_expiry = 30 * kNsPerSec;
  TimeNs mentor_discovery = 5 * kNsPerSec;

  // Handle Table Response bounds (RSPLIB: 128 PEs, 1400 bytes). At least one PE is always sent.
  std::size_t max_elements_per_response = 128;
  std::size_t max_response_bytes = 1400;
  // Largest ENRP message produced or accepted (decoder limit).
  std::size_t max_message_bytes = 65535;
  std::size_t max_pool_handle_bytes = 32;

  // Handle Update damping per owned PE (issue 14 item 4, update_coalescer.hpp): after an update
  // of a PE goes out, further ones within this window are held and only the latest is sent when
  // it ends. 0 = off (every registration sends its update at once). The daemon's default is
  // enrp.update_coalesce_ms.
  TimeNs update_coalesce = 0;
  // A Handle Update that changes only an owned PE's ASAP transport (its association's addresses
  // moved: ADD-IP, DELETE-IP, SET-PRIMARY; PUs see nothing of it) waits up to this long for the
  // PE's next update to carry it (update_coalescer.hpp). A make-before-break move then costs one
  // Handle Update, not three; meanwhile a peer's copy lists the PE's older association addresses,
  // which only a takeover uses. 0 = sent like any update. The daemon's default is
  // enrp.transport_update_delay_ms.
  TimeNs transport_update_delay = 0;

  // The DPF policies' distance: a PE learned from a peer (Handle Update ADD, Handle Table
  // Response) gets half the SRTT of the ENRP association it came over, rounded to this step (ms),
  // added to the distance the peer announced (policies.md §3, RSPLIB). The daemon fills it from
  // asap.distance_step_ms, the step the home registrar rounds with.
  std::uint32_t distance_step_ms = 50;

  // Takeover suggestion (draft-dreibholz-rserpool-enrp-takeover, NG-TKS-01); RSPLIB default off.
  bool takeover_suggestion = false;

  // SEC-04 rule: a unicast ENRP message is processed only when it comes from a peer already in
  // the peer table (static, or learned from a trusted peer's List Response), over a connection
  // opened to such a peer, or from an address of a configured static peer. With
  // allow_dynamic_peers = true any PR may join by sending Presence (RSPLIB behaviour; needed
  // for multicast discovery).
  bool allow_dynamic_peers = false;

  // Multicast Presence (239.0.0.51:9901) through the injected EnrpMulticast; off by default.
  bool multicast = false;

  std::vector<EnrpStaticPeer> static_peers;

  // Seed of the heartbeat jitter generator (0 = derived from own_id).
  std::uint64_t jitter_seed = 0;

  // RSPLIB-like fast failover profile (enrp.md section 5).
  static EnrpConfig fast() {
    EnrpConfig c;
    c.heartbeat_interval = 2444 * kNsPerMs;
    c.max_time_last_heard = 5 * kNsPerSec;
    c.max_time_no_response = 5 * kNsPerSec;
    c.takeover_expiry = 5 * kNsPerSec;
    return c;
  }
};

}  // namespace poolreg::enrp
