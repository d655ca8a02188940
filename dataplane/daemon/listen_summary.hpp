// describe_listeners(): the one-line summary of every endpoint a configuration opens, as logged
// by poolregd at start-up ("ASAP SCTP/UDP-encaps 127.0.0.1:3863 (udp 9899), ASAP TCP ...").
#pragma once

#include <string>

#include "config/registrar_config.hpp"

namespace poolreg::daemon {

std::string describe_listeners(const config::RegistrarConfig& config);

// "0x" + 8 hex digits in RFC mode, 16 in next-gen mode.
std::string format_registrar_id(config::WireMode mode, RegistrarId id);

}  // namespace poolreg::daemon
