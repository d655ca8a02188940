// Loading, validating and printing a RegistrarConfig (TOML, toml++).
//
// Contract
// - Start-up only: call from the main thread before the dataplane starts. Functions never throw
//   on bad input; every problem becomes a ConfigError and the loader keeps going, so one run
//   reports all of them.
// - Keys are applied in this order: RegistrarConfig::defaults(mode, profile) (mode and profile
//   as finally configured), then the file, then each override in the order given (later wins).
// - Unknown sections/keys, wrong types, out-of-range values, malformed addresses and broken
//   cross-field rules are all errors; a LoadResult with errors must not be used to run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/registrar_config.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::config {

struct ConfigError {
  std::string source;      // file path, "<embedded poolregd.toml>", or "command line --set k=v"
  std::uint32_t line = 0;  // 1-based; 0 when the error has no position (cross-field, command line)
  std::uint32_t column = 0;
  std::string message;  // starts with the key path, e.g. "asap.sctp_port: ..."

  // "file:line:column: message", or "source: message" without a position.
  std::string to_string() const;
};

// One "--set section.key=value". The value is TOML (42, true, "text", [1, 2], {a = 1}); text
// that is not valid TOML is taken as a string, so --set registrar.mode=nextgen works unquoted.
struct ConfigOverride {
  std::string key;    // "section.key"
  std::string value;  // raw text after '='
};

// Splits "section.key=value"; the error (a message) when there is no '=' or no "section.key".
Expected<ConfigOverride, std::string> parse_override(std::string_view text);

struct LoadResult {
  RegistrarConfig config;
  std::vector<ConfigError> errors;
  bool ok() const noexcept { return errors.empty(); }
};

// Reads and loads a TOML file (unreadable file → one error).
LoadResult load_config_file(const std::string& path, const std::vector<ConfigOverride>& overrides = {});
// Loads TOML text; source_name appears in error messages.
LoadResult load_config_text(std::string_view text, std::string_view source_name,
                            const std::vector<ConfigOverride>& overrides = {});
// Loads the compiled-in config/poolregd.toml (what poolregd runs with when no -c is given).
LoadResult load_embedded_default_config(const std::vector<ConfigOverride>& overrides = {});

// The text of config/poolregd.toml as compiled into the binary.
std::string_view embedded_default_config_text();
inline constexpr std::string_view kEmbeddedConfigSourceName = "<embedded poolregd.toml>";

// Range and cross-field checks of a complete config (the loader runs these too). Messages start
// with the key path; source is empty and line 0.
std::vector<ConfigError> validate_config(const RegistrarConfig& config);

// The effective configuration as TOML: every key of every section, explicit values, loadable again
// by load_config_text() to an equal RegistrarConfig.
std::string dump_effective_config(const RegistrarConfig& config);

}  // namespace poolreg::config
