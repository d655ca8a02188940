// EnrpMulticast: the optional UDP multicast side of ENRP (Presence to 239.0.0.51:9901, enrp.md
// 4.1). Implemented by the daemon's transport; EnrpServer only calls it when
// EnrpConfig::multicast is set and an instance was injected. Called on the control thread.
#pragma once

#include <cstdint>
#include <span>

namespace poolreg::enrp {

class EnrpMulticast {
 public:
  virtual ~EnrpMulticast() = default;
  // Sends one encoded ENRP Presence to the configured multicast group; false on failure.
  virtual bool send_presence(std::span<const std::uint8_t> message) = 0;
};

}  // namespace poolreg::enrp
