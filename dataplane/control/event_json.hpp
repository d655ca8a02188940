// event_json(): one registrar event as the `events` stream sends it, one JSON object per line
// (dataplane/control/README.md, "events"):
//   {"seq":17,"time":"2026-12-07T01:42:50.123Z","time_ns":...,"kind":"pe_removed",
//    "pool":"echo","pool_hex":"0x6563686f","id":"0x00000100","cause":"deregistration",
//    "pe":{PE object as `pe` shows it}}
// Only the members that apply to the kind are present: pool/pool_hex (PE and pool events), id/pe
// (PE events), cause (pe_removed, pool_removed), previous_home (pe_moved re-homed), peer,
// peer_endpoint (peer, takeover, audit events), taker (takeover_*), pes (takeover_started: PEs
// the target owns; takeover_won: PEs taken; audit_mismatch: PEs we hold with that home;
// audit_repaired: PEs purged).
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/control/command_registry.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/registrar_event.hpp"

namespace poolreg::control {

json event_json(const RegistrarEvent& event, RegistrarId own_id);
// "2026-12-07T01:42:50.123Z" (UTC, milliseconds).
std::string utc_time_text(std::int64_t ns_since_epoch);

}  // namespace poolreg::control
