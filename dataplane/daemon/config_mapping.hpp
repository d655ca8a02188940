// Mapping of the daemon's RegistrarConfig (config/registrar_config.hpp) onto the option structs
// of the protocol logic it runs: HandlespaceConfig, AsapConfig, EnrpConfig.
//
// Pure functions (no I/O); the Application calls them once at start-up. Bound ports are passed
// in separately because the configuration may say 0 or the listener may be told the real port
// only after binding.
#pragma once

#include <cstdint>
#include <vector>

#include "config/registrar_config.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::daemon {

// Shards: [registrar].shards, 0 = one per CPU (clamped to the handlespace's 1..64).
handlespace::HandlespaceConfig to_handlespace_config(const config::RegistrarConfig& c, unsigned cpu_count);

asap::AsapConfig to_asap_config(const config::RegistrarConfig& c, RegistrarId id);

// The local ENRP endpoint announced in Server Information: SCTP on enrp_sctp_port (or TCP on
// enrp_tcp_port when [enrp].tcp is on), addresses = [enrp].listen or else [asap].listen
// (wildcards are left out: a peer could not use them).
enrp::EnrpConfig to_enrp_config(const config::RegistrarConfig& c, RegistrarId id, std::uint16_t enrp_sctp_port,
                                std::uint16_t enrp_tcp_port);

// The addresses to bind for a listener: empty = any address (a wildcard in the list).
std::vector<IpAddress> bind_addresses(const std::vector<IpAddress>& configured);

// True for 0.0.0.0 and ::.
bool is_unspecified(const IpAddress& a) noexcept;

// The SCTP listener ports native SCTP peers (IP protocol 132) may reach: asap.sctp_port when
// asap.sctp and asap.sctp_native, enrp.sctp_port when ENRP is on and enrp.sctp_native. Empty:
// native SCTP off (no raw socket on the kernel backend; protocol 132 dropped on DPDK ports).
std::vector<std::uint16_t> native_sctp_ports(const config::RegistrarConfig& c);

}  // namespace poolreg::daemon
