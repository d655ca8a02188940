// libFuzzer target: the control socket's request reader (CommandRegistry::handle_line, what
// ControlServer runs for every line a local client sends) on arbitrary bytes. Whatever comes in,
// the answer is one JSON object with a boolean "ok" (and a string "code" when false), nothing
// throws, and the audit hook runs exactly for the one mutating command, once. A violation aborts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dataplane/control/command_registry.hpp"

namespace {

using namespace poolreg::control;  // NOLINT

void require(bool condition) {
  if (!condition) std::abort();
}

struct Registry {
  CommandRegistry registry;
  int audits = 0;
  Registry() {
    registry.add_command("echo", [](const json& args) { return args; }, "returns its args");
    registry.add_command("pe", [](const json& args) { return json{{"id", args.at("id").get<std::string>()}}; });
    registry.add_command(
        "deregister",
        [](const json& args) -> json {
          if (args.contains("missing")) throw CommandError(error_code::kNotFound, "no such PE");
          return json{{"removed", args.value("id", std::string())}};
        },
        "", CommandKind::kMutating);
    registry.set_audit([this](const CommandAudit& a) {
      ++audits;
      require(a.command == "deregister");
      require(!audit_line(a).empty());
    });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Registry r;
  r.audits = 0;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const std::string response = r.registry.handle_line(line, CommandCaller{1, 0});
  const json parsed = json::parse(response, nullptr, /*allow_exceptions=*/false);
  require(parsed.is_object());
  require(parsed.contains("ok") && parsed["ok"].is_boolean());
  if (!parsed["ok"].get<bool>()) require(parsed.contains("code") && parsed["code"].is_string());
  require(r.audits <= 1);
  return 0;
}
