#include "dataplane/control/event_filter.hpp"

#include <algorithm>
#include <string>

#include "dataplane/control/operator_arguments.hpp"

namespace poolreg::control {
namespace {

std::string valid_kinds_text() {
  std::string text;
  for (std::size_t i = 0; i < kRegistrarEventKinds; ++i) {
    text += std::string(event_kind_name(static_cast<RegistrarEventKind>(i)));
    text += ", ";
  }
  return text + "or a family: pe, pool, peer, takeover, audit, all";
}

const json* array_member(const json& args, const char* name) {
  if (!args.is_object()) return nullptr;
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return nullptr;
  if (!it->is_array()) throw CommandError(error_code::kBadRequest, std::string("\"") + name + "\" must be an array of strings");
  return &*it;
}

}  // namespace

bool EventFilter::matches(const RegistrarEvent& event) const noexcept {
  if ((kinds & event_kind_bit(event.kind)) == 0) return false;
  if (pools.empty()) return true;
  if (!event.handle) return false;
  return std::any_of(pools.begin(), pools.end(), [&](const PoolHandle& p) { return p == *event.handle; });
}

EventFilter parse_event_filter(const json& args) {
  EventFilter f;
  if (const json* kinds = array_member(args, "kinds"); kinds != nullptr && !kinds->empty()) {
    f.kinds = 0;
    for (const json& k : *kinds) {
      if (!k.is_string()) throw CommandError(error_code::kBadRequest, "\"kinds\" must be an array of strings");
      const std::uint32_t mask = event_kinds_named(k.get_ref<const std::string&>());
      if (mask == 0)
        throw CommandError(error_code::kBadRequest,
                           "unknown event kind '" + k.get<std::string>() + "' (valid: " + valid_kinds_text() + ")");
      f.kinds |= mask;
    }
  }
  if (const json* pools = array_member(args, "pools"); pools != nullptr) {
    if (pools->size() > kMaxFilterPools)
      throw CommandError(error_code::kBadRequest,
                         "at most " + std::to_string(kMaxFilterPools) + " pools in an events filter");
    for (const json& p : *pools) {
      if (!p.is_string()) throw CommandError(error_code::kBadRequest, "\"pools\" must be an array of strings");
      auto handle = parse_pool_handle(p.get_ref<const std::string&>());
      if (!handle) throw CommandError(error_code::kBadRequest, "bad pool handle '" + p.get<std::string>() + "'");
      f.pools.push_back(*handle);
    }
  }
  return f;
}

json event_kind_names(std::uint32_t kinds) {
  json names = json::array();
  for (std::size_t i = 0; i < kRegistrarEventKinds; ++i)
    if (kinds & (std::uint32_t{1} << i)) names.push_back(std::string(event_kind_name(static_cast<RegistrarEventKind>(i))));
  return names;
}

}  // namespace poolreg::control
