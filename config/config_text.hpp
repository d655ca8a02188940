// Small text helpers shared by the TOML reader and writer, and by poolregd when it turns command
// line flags into TOML override values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/registrar_config.hpp"

namespace poolreg::config {

// A TOML basic string literal with quotes and escapes: "a\"b".
std::string toml_quote(std::string_view text);
// Shortest text that reads back as the same double, always with a '.' or exponent ("0.0", "2.5").
std::string format_double(double value);
// "1.2.3.4:5" or "[v6]:5"; port 1..65535 required. nullopt and *reason set when malformed.
std::optional<SocketAddress> parse_socket_address(std::string_view text, std::string* reason);
// Decimal or 0x-hex unsigned 64-bit number, whole string.
std::optional<std::uint64_t> parse_u64(std::string_view text);

}  // namespace poolreg::config
