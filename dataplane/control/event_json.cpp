#include "dataplane/control/event_json.hpp"

#include <ctime>

#include "dataplane/control/operator_arguments.hpp"
#include "dataplane/control/registrar_results.hpp"

namespace poolreg::control {

std::string utc_time_text(std::int64_t ns) {
  std::int64_t seconds = ns / 1'000'000'000;
  std::int64_t ms = (ns % 1'000'000'000) / 1'000'000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b[48];
  const std::size_t n = std::strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(b + n, sizeof(b) - n, ".%03dZ", static_cast<int>(ms));
  return b;
}

json event_json(const RegistrarEvent& e, RegistrarId own_id) {
  json j = json::object();
  j["seq"] = e.seq;
  j["time"] = utc_time_text(e.wall_time_ns);
  j["time_ns"] = e.wall_time_ns;
  j["kind"] = std::string(event_kind_name(e.kind));
  if (e.handle) {
    // The schema's pool naming (poolreg-json.schema.json), as in every other result.
    j["handle"] = e.handle->to_display();
    j["handle_hex"] = handle_hex(*e.handle);
  }
  if (e.pe) {
    j["id"] = format_id(e.pe->id);
    j["pe"] = pool_element_json(*e.pe, own_id);
  }
  if (e.kind == RegistrarEventKind::kPeRemoved || e.kind == RegistrarEventKind::kPoolRemoved)
    j["cause"] = std::string(removal_cause_name(e.cause));
  if (e.previous_home != 0) j["previous_home"] = format_id(e.previous_home);
  switch (e.kind) {
    case RegistrarEventKind::kPeerUp:
    case RegistrarEventKind::kPeerDown:
    case RegistrarEventKind::kPeerDead:
    case RegistrarEventKind::kTakeoverStarted:
    case RegistrarEventKind::kTakeoverWon:
    case RegistrarEventKind::kTakeoverLost:
    case RegistrarEventKind::kAuditMismatch:
    case RegistrarEventKind::kAuditRepaired:
      j["peer"] = format_id(e.peer);
      j["peer_endpoint"] = e.peer_endpoint ? transport_json(*e.peer_endpoint) : json(nullptr);
      break;
    default: break;
  }
  switch (e.kind) {
    case RegistrarEventKind::kTakeoverStarted:
    case RegistrarEventKind::kTakeoverWon:
    case RegistrarEventKind::kTakeoverLost:
      j["taker"] = format_id(e.taker);
      j["pes"] = e.count;
      break;
    case RegistrarEventKind::kAuditMismatch:
    case RegistrarEventKind::kAuditRepaired: j["pes"] = e.count; break;
    default: break;
  }
  return j;
}

}  // namespace poolreg::control
