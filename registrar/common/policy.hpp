// Pool member selection policies (RFC 5356 + RSPLIB extensions, shared/spec/policies.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace poolreg {

enum class PolicyType : std::uint32_t {
  kRoundRobin = 0x00000001,
  kWeightedRoundRobin = 0x00000002,
  kRandom = 0x00000003,
  kWeightedRandom = 0x00000004,
  kPriority = 0x00000005,
  kLeastUsed = 0x40000001,
  kLeastUsedDegradation = 0x40000002,
  kPriorityLeastUsed = 0x40000003,
  kRandomizedLeastUsed = 0x40000004,
  kRandomizedPriorityLeastUsed = 0xb0001001,
  kRandomizedLeastUsedDegradation = 0xb0001002,
  kPriorityLeastUsedDegradation = 0xb0001003,
  kRandomizedPriorityLeastUsedDegradation = 0xb0001004,
  kWeightedRandomDpf = 0xb0002001,
  kLeastUsedDpf = 0xb0002002,
  kLeastUsedDegradationDpf = 0xb0002003,
  kPriorityLeastUsedDpf = 0xb0002004,            // selection only; no wire codec (as RSPLIB)
  kPriorityLeastUsedDegradationDpf = 0xb0002005, // selection only; no wire codec (as RSPLIB)
};

// 100 % for load-type fields (load, load degradation, load DPF, weight DPF).
inline constexpr std::uint32_t kPolicyValueMax = 0xFFFFFFFFu;

// A PE's policy and the values it announced. Fields a policy does not use stay 0.
// Which fields travel on the wire for each type is the wire codec's business
// (shared/spec/parameters.md section 6).
struct PolicyParams {
  PolicyType type = PolicyType::kRoundRobin;
  std::uint32_t weight = 0;            // WRR, WRAND, WRAND-DPF
  std::uint32_t priority = 0;          // PRI (bigger wins)
  std::uint32_t load = 0;              // LU family
  std::uint32_t load_degradation = 0;  // LUD, PLU and the RSPLIB LU variants
  std::uint32_t weight_dpf = 0;        // WRAND-DPF
  std::uint32_t load_dpf = 0;          // *-DPF
  std::uint32_t distance_ms = 0;       // *-DPF, filled in by the registrar

  friend bool operator==(const PolicyParams&, const PolicyParams&) = default;
};

std::optional<PolicyType> policy_type_from_wire(std::uint32_t code) noexcept;
std::string_view policy_name(PolicyType type) noexcept;          // e.g. "LeastUsed"
std::string_view policy_short_name(PolicyType type) noexcept;    // e.g. "LU"
std::optional<PolicyType> policy_from_name(std::string_view name) noexcept;  // either form
bool policy_has_wire_codec(PolicyType type) noexcept;

}  // namespace poolreg
