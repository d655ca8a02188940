// CommandRegistry: the control socket's table of named commands and the one place that turns a
// request line into a response line.
//
// Protocol (one JSON object per line, both directions; dataplane/control/README.md):
//   request  {"cmd":"pools","args":{...}}          ("args" optional, must be an object)
//   response {"ok":true,"result":<any JSON>}
//            {"ok":false,"error":"readable text","code":"not_found"}
// Error codes: bad_request (malformed JSON, missing/invalid argument), unknown_command,
// not_found (unknown pool / PE), unavailable (feature not running, e.g. ENRP off), internal.
//
// Contract
// - Handlers run on the thread that calls handle_line()/dispatch() (for ControlServer: the
//   daemon's event-loop thread), one at a time; they may touch the registrar objects that thread
//   owns. They must not block.
// - Commands that change the registrar's state are added as CommandKind::kMutating; after one
//   ran (answered ok or not) the audit hook, when set, gets who sent it and what (issue 17:
//   poolregd logs every such command with the peer's uid/pid).
// - A handler reports a refusal by throwing CommandError; any other exception (including
//   nlohmann::json type errors from reading args) becomes an error response. Nothing escapes
//   handle_line()/dispatch(): a bad request never takes the daemon down.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace poolreg::control {

using json = nlohmann::json;

// Machine-readable error classes of {"ok":false} responses.
namespace error_code {
inline constexpr const char* kBadRequest = "bad_request";
inline constexpr const char* kUnknownCommand = "unknown_command";
inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kUnavailable = "unavailable";
inline constexpr const char* kInternal = "internal";
inline constexpr const char* kTooLarge = "too_large";
inline constexpr const char* kInvalidConfig = "invalid_config";  // reload: the file has errors
}  // namespace error_code

// Thrown by handlers (and argument helpers) to answer {"ok":false,"error":what(),"code":code()}.
class CommandError : public std::runtime_error {
 public:
  CommandError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Who sent a request: SO_PEERCRED of the control-socket peer (-1 = unknown, e.g. in-process calls),
// and the connection it came over (the ControlServer's descriptor; -1 in-process), which a
// streaming command (events) turns into its push stream.
struct CommandCaller {
  std::int64_t pid = -1;
  std::int64_t uid = -1;
  int connection = -1;
};

enum class CommandKind : std::uint8_t { kReadOnly, kMutating };

// One mutating command that ran: who, the command, its arguments and the response sent.
struct CommandAudit {
  const CommandCaller& caller;
  std::string_view command;
  const json& args;
  const json& response;
};
// The audit log line of a mutating command: "control command <cmd> from uid U pid P: args {...}:
// ok" or ": refused (<code>: <error>)". Arguments are JSON, invalid UTF-8 replaced.
std::string audit_line(const CommandAudit& audit);

json make_ok(json result);
json make_error(std::string_view code, std::string_view message);

class CommandRegistry {
 public:
  using Handler = std::function<json(const json& args)>;
  // A handler that needs to know who asked and over which connection (events).
  using CallerHandler = std::function<json(const json& args, const CommandCaller& caller)>;
  using AuditHook = std::function<void(const CommandAudit&)>;

  // Adds or replaces a command. `summary` is shown by the built-in "help" command.
  void add_command(std::string name, Handler handler, std::string summary = {},
                   CommandKind kind = CommandKind::kReadOnly);
  void add_caller_command(std::string name, CallerHandler handler, std::string summary = {},
                          CommandKind kind = CommandKind::kReadOnly);
  // Called after every mutating command (see the contract above).
  void set_audit(AuditHook hook) { audit_ = std::move(hook); }
  bool has_command(std::string_view name) const;
  std::size_t size() const noexcept { return commands_.size(); }

  // Runs a parsed request object. Always returns a response object.
  json dispatch(const json& request, const CommandCaller& caller = {}) const;
  // Parses one request line (without its '\n'; a trailing '\r' is ignored) and returns the
  // serialized response line (without '\n'). Never throws.
  std::string handle_line(std::string_view line, const CommandCaller& caller = {}) const;

 private:
  struct Entry {
    CallerHandler handler;
    std::string summary;
    CommandKind kind = CommandKind::kReadOnly;
  };
  json run(const Entry& entry, const json& args, const CommandCaller& caller) const;

  std::map<std::string, Entry, std::less<>> commands_;
  AuditHook audit_;
};

}  // namespace poolreg::control
