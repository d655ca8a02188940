// JSON results of the configuration commands: `reload` (what a reload applied and refused) and
// `config` (the running configuration, key by key). Built on the event-loop thread.
#pragma once

#include <string>
#include <vector>

#include "config/config_diff.hpp"
#include "dataplane/control/command_registry.hpp"

namespace poolreg::control {

// What one reload did (SIGHUP or the `reload` command; the daemon's Application fills it).
struct ReloadReport {
  std::string source;                         // the file read again, or the embedded default
  bool reloaded = false;                      // false: the file was invalid, nothing changed
  std::vector<std::string> errors;            // the file's errors when !reloaded
  std::vector<config::ConfigChange> applied;  // live keys changed, now in effect
  std::vector<config::ConfigChange> refused;  // other keys changed: not applied, restart needed
  bool log_to_file = false;                   // registrar.log_file set
  bool log_reopened = false;                  // that file was opened again
  std::string log_error;                      // why it could not be
  bool tls_on = false;                        // [tls] configured: its files are read again
  bool tls_reloaded = false;                  // new certificate, key and CA in use for new connections
  std::string tls_error;                      // why not (the running ones stay)
};

// {source, reloaded:true, applied[{key, before, after}], refused[...], log_file_reopened
// (true/false, null when logging to stderr), log_error (or null), tls_reloaded (true/false, null
// when TLS is off), tls_error (or null)}. Values are TOML text.
json reload_result(const ReloadReport& report);

// {source, keys{"section.key": TOML value text}} (every key; a JSON object, sorted by key).
json config_result(const std::string& source, const std::vector<config::ConfigValue>& values);

}  // namespace poolreg::control
