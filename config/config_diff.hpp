// Which configuration keys differ between two RegistrarConfigs (for a reload: the running
// configuration against the file read again), each with its value before and after as TOML text.
//
// Contract: pure functions over values; any thread. Keys are "section.key" as in the file, in
// schema order (config_schema.hpp), so the same list drives load, dump and this diff.
#pragma once

#include <string>
#include <vector>

#include "config/registrar_config.hpp"

namespace poolreg::config {

// One key with its value as TOML text ("registrar.log_level", "\"debug\"").
struct ConfigValue {
  std::string key;
  std::string value;
};

// One key whose value differs.
struct ConfigChange {
  std::string key;
  std::string before;
  std::string after;
};

// Every schema key of `config` with its value (what dump_effective_config prints, key by key).
std::vector<ConfigValue> config_values(const RegistrarConfig& config);

// The keys whose values differ between `before` and `after`, in schema order.
std::vector<ConfigChange> diff_configs(const RegistrarConfig& before, const RegistrarConfig& after);

}  // namespace poolreg::config
