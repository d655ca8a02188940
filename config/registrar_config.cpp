// RegistrarConfig helpers: mode/profile defaults, names, address scope, control socket path.
#include "config/registrar_config.hpp"

#include <unistd.h>

#include <cstdlib>

namespace poolreg::config {

RegistrarConfig RegistrarConfig::defaults(WireMode mode, EnrpProfile profile) {
  RegistrarConfig c;
  c.registrar.mode = mode;
  c.enrp.profile = profile;
  if (profile == EnrpProfile::kFast) {
    // RSPLIB rspregistrar.h values (registrar-defaults.md), the "fast failover" profile of enrp.md 5.
    c.enrp.heartbeat_interval_ms = 2444;
    c.enrp.max_time_last_heard_ms = 5000;
    c.enrp.max_time_no_response_ms = 5000;
    c.enrp.takeover_expiry_ms = 5000;
  }
  if (mode == WireMode::kNextgen) {
    // Next-gen peers accept full-size messages; fewer, larger handle table responses.
    c.enrp.max_handle_table_response_bytes = 16384;
  }
  return c;
}

const char* to_string(WireMode mode) noexcept { return mode == WireMode::kRfc ? "rfc" : "nextgen"; }

const char* to_string(EnrpProfile profile) noexcept { return profile == EnrpProfile::kRfc ? "rfc" : "fast"; }

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

const char* to_string(LogFormat format) noexcept { return format == LogFormat::kText ? "text" : "json"; }

std::string to_string(const SocketAddress& address) {
  std::string host = address.address.to_string();
  if (!address.address.is_v4()) host = "[" + host + "]";
  return host + ":" + std::to_string(address.port);
}

std::string default_control_socket_path(unsigned euid, const char* xdg_runtime_dir) {
  if (euid == 0) return "/run/poolreg/poolregd.sock";
  if (xdg_runtime_dir != nullptr && xdg_runtime_dir[0] != '\0') {
    return std::string(xdg_runtime_dir) + "/poolreg/poolregd.sock";
  }
  return "/tmp/poolreg-" + std::to_string(euid) + "/poolregd.sock";
}

std::string effective_control_socket_path(const ControlSection& control) {
  if (!control.socket_path.empty()) return control.socket_path;
  return default_control_socket_path(static_cast<unsigned>(::geteuid()), std::getenv("XDG_RUNTIME_DIR"));
}

}  // namespace poolreg::config
