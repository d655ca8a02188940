#include "dataplane/control/element_json.hpp"

#include "registrar/common/pool_element_addresses.hpp"

#include <cstdint>
#include <string>

#include "dataplane/control/operator_arguments.hpp"
#include "registrar/common/pe_distance.hpp"
#include "registrar/common/policy.hpp"

namespace poolreg::control {

const char* transport_protocol_name(TransportProtocol protocol) noexcept {
  switch (protocol) {
    case TransportProtocol::kSctp: return "sctp";
    case TransportProtocol::kTcp: return "tcp";
    case TransportProtocol::kUdp: return "udp";
    case TransportProtocol::kUdpLite: return "udp-lite";
    case TransportProtocol::kDccp: return "dccp";
  }
  return "unknown";
}

const char* transport_use_name(TransportUse use) noexcept {
  return use == TransportUse::kDataPlusControl ? "data+control" : "data";
}

nlohmann::json transport_json(const TransportEndpoint& endpoint) {
  nlohmann::json addresses = nlohmann::json::array();
  for (const auto& a : endpoint.addresses) addresses.push_back(a.to_string());
  nlohmann::json t = {{"protocol", transport_protocol_name(endpoint.protocol)},
                      {"port", endpoint.port},
                      {"use", transport_use_name(endpoint.use)},
                      {"addresses", std::move(addresses)}};
  if (endpoint.protocol == TransportProtocol::kDccp) t["dccp_service_code"] = endpoint.dccp_service_code;
  return t;
}

nlohmann::json policy_json(const PolicyParams& p) {
  nlohmann::json j = {{"type", std::string(policy_name(p.type))},
                      {"short", std::string(policy_short_name(p.type))},
                      {"code", static_cast<std::uint32_t>(p.type)}};
  // Only the values the policy carries: a zero weight of a load policy means "not sent".
  auto put = [&j](const char* name, std::uint32_t v) {
    if (v != 0) j[name] = v;
  };
  put("weight", p.weight);
  put("priority", p.priority);
  put("load", p.load);
  put("load_degradation", p.load_degradation);
  put("weight_dpf", p.weight_dpf);
  put("load_dpf", p.load_dpf);
  // The DPF policies' distance is the registrar's measurement (registrar/common/pe_distance.hpp):
  // shown for them also when it is 0 (a nearby PE), never for the others.
  if (is_distance_policy(p.type)) j["distance_ms"] = p.distance_ms;
  return j;
}

nlohmann::json pool_element_json(const PoolElement& pe, std::optional<RegistrarId> own_id) {
  nlohmann::json j = {{"id", format_id(pe.id)},
                      {"home", format_id(pe.home_registrar)},
                      {"registration_life_ms", pe.registration_life_ms},
                      {"policy", policy_json(pe.policy)},
                      {"user_transport", transport_json(pe.user_transport)},
                      {"asap_transport", pe.asap_transport ? transport_json(*pe.asap_transport) : nlohmann::json(nullptr)}};
  if (own_id) j["owned"] = pe.home_registrar == *own_id;
  if (has_address_types(pe)) {
    nlohmann::json types = nlohmann::json::array();
    for (std::size_t i = 0; i < pe.address_types.size(); ++i) {
      const AddressTypeEntry& e = pe.address_types[i];
      nlohmann::json t = {{"address", pe.user_transport.addresses[i].to_string()},
                          {"type", std::string(address_type_name(e.type))}};
      if (e.retiring) {
        t["retiring"] = true;
        if (e.lifetime_ms != 0) t["retire_in_ms"] = e.lifetime_ms;
      } else if (e.type == AddressType::kGracefulReplacement) {
        t["lifetime_ms"] = e.lifetime_ms;
      }
      types.push_back(std::move(t));
    }
    j["address_types"] = std::move(types);
  }
  return j;
}

nlohmann::json pool_name_json(const PoolHandle& handle) {
  return {{"handle", handle.to_display()}, {"handle_hex", handle_hex(handle)}};
}

}  // namespace poolreg::control
