// Mapping of the daemon's RegistrarConfig onto the DPDK backend's DpdkBackendConfig (built only
// with DPDK, POOLREG_HAVE_DPDK). A pure function like the other config mappings
// (config_mapping.hpp); the Application calls it once at start-up.
#pragma once

#include <string>

#include "config/registrar_config.hpp"
#include "dataplane/dpdk/dpdk_backend.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::daemon {

// From poolregd's configuration: argv = "poolregd" [-l lcores] eal_args...; addresses = the
// explicit unicast addresses of asap.listen (and enrp.listen); routing = dpdk.addresses,
// dpdk.routes, dpdk.gateway parsed (dpdk::parse_routing; laid on the ports by the backend); UDP port =
// asap.udp_encapsulation_port; native SCTP ports = native_sctp_ports() (config_mapping.hpp). Fails (the reason) when the configuration cannot work (no usable
// address, port 0, a malformed address, route or gateway).
Expected<dpdk::DpdkBackendConfig, std::string> to_backend_config(const config::RegistrarConfig& c);

}  // namespace poolreg::daemon
