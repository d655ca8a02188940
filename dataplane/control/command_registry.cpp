#include "dataplane/control/command_registry.hpp"

namespace poolreg::control {

json make_ok(json result) {
  json r = json::object();
  r["ok"] = true;
  r["result"] = std::move(result);
  return r;
}

json make_error(std::string_view code, std::string_view message) {
  json r = json::object();
  r["ok"] = false;
  r["error"] = std::string(message);
  r["code"] = std::string(code);
  return r;
}

std::string audit_line(const CommandAudit& audit) {
  std::string line = "control command " + std::string(audit.command) + " from uid " + std::to_string(audit.caller.uid) +
                     " pid " + std::to_string(audit.caller.pid) + ": args " +
                     audit.args.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto ok = audit.response.find("ok");
  if (ok != audit.response.end() && ok->is_boolean() && ok->get<bool>()) return line + ": ok";
  const std::string code = audit.response.value("code", std::string("?"));
  const std::string error = audit.response.value("error", std::string());
  return line + ": refused (" + code + ": " + error + ")";
}

void CommandRegistry::add_command(std::string name, Handler handler, std::string summary, CommandKind kind) {
  commands_[std::move(name)] =
      Entry{[h = std::move(handler)](const json& args, const CommandCaller&) { return h(args); }, std::move(summary),
            kind};
}

void CommandRegistry::add_caller_command(std::string name, CallerHandler handler, std::string summary,
                                         CommandKind kind) {
  commands_[std::move(name)] = Entry{std::move(handler), std::move(summary), kind};
}

bool CommandRegistry::has_command(std::string_view name) const { return commands_.find(name) != commands_.end(); }

json CommandRegistry::dispatch(const json& request, const CommandCaller& caller) const {
  if (!request.is_object()) return make_error(error_code::kBadRequest, "request must be a JSON object");
  auto cmd_it = request.find("cmd");
  if (cmd_it == request.end() || !cmd_it->is_string())
    return make_error(error_code::kBadRequest, "request needs a string member \"cmd\"");
  const std::string& name = cmd_it->get_ref<const std::string&>();
  json args = json::object();
  if (auto a = request.find("args"); a != request.end() && !a->is_null()) {
    if (!a->is_object()) return make_error(error_code::kBadRequest, "\"args\" must be a JSON object");
    args = *a;
  }
  if (name == "help" && !has_command("help")) {
    json list = json::object();
    for (const auto& [n, e] : commands_) list[n] = e.summary;
    return make_ok(json{{"commands", std::move(list)}});
  }
  auto it = commands_.find(name);
  if (it == commands_.end()) return make_error(error_code::kUnknownCommand, "unknown command '" + name + "'");
  json response = run(it->second, args, caller);
  if (it->second.kind == CommandKind::kMutating && audit_) audit_(CommandAudit{caller, name, args, response});
  return response;
}

json CommandRegistry::run(const Entry& entry, const json& args, const CommandCaller& caller) const {
  try {
    return make_ok(entry.handler(args, caller));
  } catch (const CommandError& e) {
    return make_error(e.code(), e.what());
  } catch (const json::exception& e) {
    return make_error(error_code::kBadRequest, std::string("bad arguments: ") + e.what());
  } catch (const std::exception& e) {
    return make_error(error_code::kInternal, std::string("internal error: ") + e.what());
  } catch (...) {
    return make_error(error_code::kInternal, "internal error");
  }
}

std::string CommandRegistry::handle_line(std::string_view line, const CommandCaller& caller) const {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  json response;
  json request = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) {
    response = make_error(error_code::kBadRequest, "malformed JSON request");
  } else {
    response = dispatch(request, caller);
  }
  // Invalid UTF-8 in strings a handler echoes back must not throw: replace it.
  return response.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace poolreg::control
