// Operator-facing text forms of registrar values, shared by the control commands and poolctl:
// pool handles typed as text or hex, PE/PR IDs in hex or decimal, and the reverse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/control/command_registry.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::control {

// A handle as an operator types it:
//   "0x" + an even number of hex digits  -> those bytes (how PoolHandle::to_display() shows
//                                           handles that are not printable ASCII);
//   "text:" + anything                   -> the text after the prefix, verbatim (for a text
//                                           handle that itself looks like hex);
//   anything else                        -> the text itself.
// nullopt when empty or longer than kPoolHandleCapacity bytes.
std::optional<PoolHandle> parse_pool_handle(std::string_view text);
// Lower-case hex of the handle bytes, with "0x".
std::string handle_hex(const PoolHandle& handle);

// "0x1f" (hex) or "31" (decimal), full 64-bit range; nullopt when malformed or out of range.
std::optional<std::uint64_t> parse_id(std::string_view text);
// "0x" + 8 hex digits when the value fits 32 bits, else 16.
std::string format_id(std::uint64_t id);

// Argument readers for command handlers; they throw CommandError(bad_request) with a readable
// message when the argument is missing or malformed.
// "handle" (text/hex rules above; a JSON string) or "handle_hex" (hex digits, "0x" optional).
PoolHandle handle_arg(const json& args);
// A PE or PR ID given as a JSON string (parse_id rules) or a non-negative JSON number; non-zero.
std::uint64_t id_arg(const json& args, const char* name);
// An optional non-negative integer argument.
std::optional<std::uint64_t> uint_arg(const json& args, const char* name);

}  // namespace poolreg::control
