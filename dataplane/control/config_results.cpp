// reload_result / config_result.
#include "dataplane/control/config_results.hpp"

namespace poolreg::control {
namespace {

json changes_json(const std::vector<config::ConfigChange>& changes) {
  json rows = json::array();
  for (const auto& c : changes) rows.push_back({{"key", c.key}, {"before", c.before}, {"after", c.after}});
  return rows;
}

}  // namespace

json reload_result(const ReloadReport& r) {
  return {{"source", r.source},
          {"reloaded", r.reloaded},
          {"applied", changes_json(r.applied)},
          {"refused", changes_json(r.refused)},
          {"log_file_reopened", r.log_to_file ? json(r.log_reopened) : json(nullptr)},
          {"log_error", r.log_error.empty() ? json(nullptr) : json(r.log_error)},
          {"tls_reloaded", r.tls_on ? json(r.tls_reloaded) : json(nullptr)},
          {"tls_error", r.tls_error.empty() ? json(nullptr) : json(r.tls_error)}};
}

json config_result(const std::string& source, const std::vector<config::ConfigValue>& values) {
  json keys = json::object();  // a JSON object: sorted by key
  for (const auto& v : values) keys[v.key] = v.value;
  return {{"source", source}, {"keys", std::move(keys)}};
}

}  // namespace poolreg::control
