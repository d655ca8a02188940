#include "registrar/policy/policy_state.hpp"

namespace poolreg::policy {
namespace {

// distance (ms) x DPF (raw u32 fraction per ms), clamped at MAX (policies.md §3).
std::uint32_t distance_penalty(const PolicyParams& params) noexcept {
  const std::uint64_t product = static_cast<std::uint64_t>(params.distance_ms) * params.load_dpf;
  return product > kPolicyValueMax ? kPolicyValueMax : static_cast<std::uint32_t>(product);
}

bool is_randomized_least_used(PolicyType type) noexcept {
  switch (type) {
    case PolicyType::kRandomizedLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      return true;
    default:
      return false;
  }
}

}  // namespace

PolicyFamily policy_family(PolicyType type) noexcept {
  switch (type) {
    case PolicyType::kWeightedRoundRobin:
      return PolicyFamily::kWeightedRoundRobin;
    case PolicyType::kRandom:
    case PolicyType::kWeightedRandom:
    case PolicyType::kWeightedRandomDpf:
    case PolicyType::kRandomizedLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      return PolicyFamily::kRandom;
    default:
      return PolicyFamily::kOrdered;
  }
}

bool policy_degrades(PolicyType type) noexcept {
  switch (type) {
    case PolicyType::kLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsedDegradation:
    case PolicyType::kLeastUsedDegradationDpf:
    case PolicyType::kPriorityLeastUsedDegradationDpf:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      return true;
    default:
      return false;
  }
}

std::uint32_t weighted_random_dpf_value(const PolicyParams& params) noexcept {
  const unsigned __int128 product =
      static_cast<unsigned __int128>(params.weight) * params.distance_ms * params.weight_dpf;
  const unsigned __int128 reduction = (product + kPolicyValueMax / 2) / kPolicyValueMax;
  if (reduction > params.weight) return 1;
  return params.weight - static_cast<std::uint32_t>(reduction);
}

PolicyState make_policy_state(PolicyType type, const PolicyParams& p) noexcept {
  PolicyState s;
  const bool degrades = policy_degrades(type);
  switch (type) {
    case PolicyType::kRoundRobin:
      break;  // one key for all: pure rotation
    case PolicyType::kPriority:
      s.base = kPolicyValueMax - p.priority;  // bigger priority = smaller key = first
      break;
    case PolicyType::kLeastUsed:
    case PolicyType::kLeastUsedDegradation:
    case PolicyType::kRandomizedLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
      s.base = p.load;
      break;
    case PolicyType::kPriorityLeastUsed:
    case PolicyType::kPriorityLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      s.base = saturating_add(p.load, p.load_degradation);
      break;
    case PolicyType::kLeastUsedDpf:
    case PolicyType::kLeastUsedDegradationDpf:
      s.base = saturating_add(p.load, distance_penalty(p));
      break;
    case PolicyType::kPriorityLeastUsedDpf:
    case PolicyType::kPriorityLeastUsedDegradationDpf:
      s.base = saturating_add(saturating_add(p.load, p.load_degradation), distance_penalty(p));
      break;
    case PolicyType::kRandom:
      s.base = 1;
      break;
    case PolicyType::kWeightedRandom:
      s.base = p.weight;
      break;
    case PolicyType::kWeightedRoundRobin:
      s.base = p.weight == 0 ? 1 : p.weight;  // weight 0 behaves as 1 (policies.md §3)
      break;
    case PolicyType::kWeightedRandomDpf:
      s.base = weighted_random_dpf_value(p);
      break;
  }
  if (degrades) s.step = p.load_degradation;
  return s;
}

std::uint32_t random_value(PolicyType type, const PolicyState& state) noexcept {
  if (!is_randomized_least_used(type)) return state.base;
  const std::uint32_t used = saturating_add(state.base, state.degradation);
  const std::uint32_t free = kPolicyValueMax - used;
  return free == 0 ? 1 : free;  // max(1, MAX - ...): a full PE keeps a tiny chance, as RSPLIB
}

}  // namespace poolreg::policy
