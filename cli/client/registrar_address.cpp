// The registrar address parser shared by the client tools (see registrar_address.hpp).
#include "cli/client/registrar_address.hpp"

#include <algorithm>

namespace poolreg::client {

namespace {

// A decimal port 1..65535; nullopt otherwise (empty, sign, letters, 0, too large).
std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

Expected<RegistrarAddress, std::string> parse_registrar_address(std::string_view text, std::uint16_t default_port) {
  const std::string quoted = "registrar '" + std::string(text) + "'";
  RegistrarAddress out;
  out.port = default_port;
  std::string_view rest = text;
  // IPv6 addresses hold no '/', so the last one (if any) introduces the UDP port.
  if (const auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    out.udp_port = parse_port(rest.substr(slash + 1));
    if (!out.udp_port) return unexpected("bad UDP encapsulation port in " + quoted + " (want 1..65535)");
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return unexpected("missing ']' in " + quoted);
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected("expected ':PORT' after ']' in " + quoted);
      port = after.substr(1);
      has_port = true;
    }
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    has_port = true;
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return unexpected("bad address '" + std::string(host) + "' in " + quoted);
  out.address = *ip;
  if (has_port) {
    auto p = parse_port(port);
    if (!p) return unexpected("bad ASAP port in " + quoted + " (want 1..65535)");
    out.port = *p;
  }
  return out;
}

}  // namespace poolreg::client
