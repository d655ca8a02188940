// diff_configs(): both configurations rendered key by key (config_values) and compared as text,
// so every key the schema knows is compared the way the file spells it.
#include "config/config_diff.hpp"

namespace poolreg::config {

std::vector<ConfigChange> diff_configs(const RegistrarConfig& before, const RegistrarConfig& after) {
  const std::vector<ConfigValue> a = config_values(before);
  const std::vector<ConfigValue> b = config_values(after);
  std::vector<ConfigChange> changes;
  // Same schema walk on both sides: the lists are aligned key by key.
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].value != b[i].value) changes.push_back({a[i].key, a[i].value, b[i].value});
  }
  return changes;
}

}  // namespace poolreg::config
