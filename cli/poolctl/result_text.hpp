// Human-readable renderings of the control command results (shapes: dataplane/control/README.md).
// Each function takes the "result" member of an {"ok":true} response and returns text ending in
// '\n'. Missing members render as "-" (an older or newer daemon never makes poolctl crash).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace poolreg::poolctl {

using json = nlohmann::json;

std::string render_status(const json& r);
std::string render_health(const json& r);
std::string render_pools(const json& r);
std::string render_pool(const json& r);
std::string render_pe(const json& r);
std::string render_peers(const json& r);
std::string render_resolve(const json& r);
std::string render_deregister(const json& r);
std::string render_audit(const json& r);
std::string render_takeovers(const json& r);
std::string render_stats(const json& r);
std::string render_log_level(const json& r);
std::string render_reload(const json& r);
std::string render_config(const json& r);

// Helpers shared with the watch view.
std::string text_of(const json& v);            // strings as is, numbers, bools, null -> "-"
std::string format_duration_s(double seconds);  // "3d04h", "1h02m03s", "12.3s"
std::string format_ns(std::uint64_t ns);        // "850ns", "12.5us", "3.2ms", "1.05s"
std::string transport_text(const json& t);      // "sctp 127.0.0.1,10.0.0.1:7000"
std::string policy_text(const json& p);         // "LU load=30%"

}  // namespace poolreg::poolctl
