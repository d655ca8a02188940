// The one JSON form of a PE, its policy and its transports, shared by the control results
// (poolctl), poolreg-pu and anything else that prints PEs, so the tools cannot disagree.
// The forms are the contract written down in dataplane/control/poolreg-json.schema.json
// ($defs pool_element, policy, transport); tests/cli/json_schema_test.cpp checks every tool's
// output against it.
//
// Conventions of that schema: PE and registrar IDs are hex strings ("0x" + 8 or 16 digits, as
// format_id prints them); a pool is named by "handle" (display text) and "handle_hex"; a policy
// by its full name "type", its short name "short" and its RFC 5356 "code"; arrays are plural
// nouns ("pes", "pools", "peers"), counts end in "_count".
//
// Pure functions of their arguments: callable from any thread.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg::control {

// "sctp", "tcp", "udp", "udp-lite", "dccp".
const char* transport_protocol_name(TransportProtocol protocol) noexcept;
// "data" or "data+control".
const char* transport_use_name(TransportUse use) noexcept;

// {"protocol":"sctp","port":7,"use":"data"|"data+control","addresses":["127.0.0.1"]}
// (+"dccp_service_code" for DCCP).
nlohmann::json transport_json(const TransportEndpoint& endpoint);
// {"type":"RoundRobin","short":"RR","code":1, plus the values the policy uses: "weight",
//  "priority", "load", "load_degradation", "load_dpf", "weight_dpf" when not 0; "distance_ms" for
//  every DPF policy, 0 included: the registrar's measured distance}
nlohmann::json policy_json(const PolicyParams& policy);
// {"id":"0x00000001","home":"0x10000001","registration_life_ms":N,"policy":{...},
//  "user_transport":{...},"asap_transport":{...}|null} plus "owned":bool when the caller is a
// registrar (own_id given): a PU has no "own" registrar to compare with. A PE with RFC 8653
// types adds "address_types":[{"address","type", "lifetime_ms" (graceful) | "retiring":true
// + "retire_in_ms" (when known)}], one per user address in the same order.
nlohmann::json pool_element_json(const PoolElement& pe, std::optional<RegistrarId> own_id = std::nullopt);
// {"handle":"EchoPool","handle_hex":"0x4563686f506f6f6c"}: how every result names its pool.
nlohmann::json pool_name_json(const PoolHandle& handle);

}  // namespace poolreg::control
