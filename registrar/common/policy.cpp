#include "registrar/common/policy.hpp"

#include <array>

namespace poolreg {
namespace {

struct PolicyInfo {
  PolicyType type;
  std::string_view name;
  std::string_view short_name;
  bool wire;
};

constexpr std::array kPolicies{
    PolicyInfo{PolicyType::kRoundRobin, "RoundRobin", "RR", true},
    PolicyInfo{PolicyType::kWeightedRoundRobin, "WeightedRoundRobin", "WRR", true},
    PolicyInfo{PolicyType::kRandom, "Random", "RAND", true},
    PolicyInfo{PolicyType::kWeightedRandom, "WeightedRandom", "WRAND", true},
    PolicyInfo{PolicyType::kPriority, "Priority", "PRI", true},
    PolicyInfo{PolicyType::kLeastUsed, "LeastUsed", "LU", true},
    PolicyInfo{PolicyType::kLeastUsedDegradation, "LeastUsedDegradation", "LUD", true},
    PolicyInfo{PolicyType::kPriorityLeastUsed, "PriorityLeastUsed", "PLU", true},
    PolicyInfo{PolicyType::kRandomizedLeastUsed, "RandomizedLeastUsed", "RLU", true},
    PolicyInfo{PolicyType::kRandomizedPriorityLeastUsed, "RandomizedPriorityLeastUsed", "RPLU", true},
    PolicyInfo{PolicyType::kRandomizedLeastUsedDegradation, "RandomizedLeastUsedDegradation", "RLUD", true},
    PolicyInfo{PolicyType::kPriorityLeastUsedDegradation, "PriorityLeastUsedDegradation", "PLUD", true},
    PolicyInfo{PolicyType::kRandomizedPriorityLeastUsedDegradation, "RandomizedPriorityLeastUsedDegradation",
               "RPLUD", true},
    PolicyInfo{PolicyType::kWeightedRandomDpf, "WeightedRandomDPF", "WRAND-DPF", true},
    PolicyInfo{PolicyType::kLeastUsedDpf, "LeastUsedDPF", "LU-DPF", true},
    PolicyInfo{PolicyType::kLeastUsedDegradationDpf, "LeastUsedDegradationDPF", "LUD-DPF", true},
    PolicyInfo{PolicyType::kPriorityLeastUsedDpf, "PriorityLeastUsedDPF", "PLU-DPF", false},
    PolicyInfo{PolicyType::kPriorityLeastUsedDegradationDpf, "PriorityLeastUsedDegradationDPF", "PLUD-DPF",
               false},
};

const PolicyInfo* find(PolicyType type) noexcept {
  for (const auto& p : kPolicies)
    if (p.type == type) return &p;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<PolicyType> policy_type_from_wire(std::uint32_t code) noexcept {
  for (const auto& p : kPolicies)
    if (static_cast<std::uint32_t>(p.type) == code && p.wire) return p.type;
  return std::nullopt;
}

std::string_view policy_name(PolicyType type) noexcept {
  const auto* p = find(type);
  return p ? p->name : "Unknown";
}

std::string_view policy_short_name(PolicyType type) noexcept {
  const auto* p = find(type);
  return p ? p->short_name : "?";
}

std::optional<PolicyType> policy_from_name(std::string_view name) noexcept {
  for (const auto& p : kPolicies)
    if (iequals(name, p.name) || iequals(name, p.short_name)) return p.type;
  return std::nullopt;
}

bool policy_has_wire_codec(PolicyType type) noexcept {
  const auto* p = find(type);
  return p && p->wire;
}

}  // namespace poolreg
