// PolicyState: the per-PE numbers a selector keeps, and the policy table of policies.md §3
// turned into keys (ordered policies) and values (random policies).
#pragma once

#include <cstdint>

#include "registrar/common/policy.hpp"

namespace poolreg::policy {

enum class PolicyFamily {
  kOrdered,             // RR, PRI, LU, LUD, PLU, PLUD and the LU *-DPF orders: smallest key first
  kWeightedRoundRobin,  // WRR
  kRandom,              // RAND, WRAND, RLU, RPLU, RLUD, RPLUD, WRAND-DPF: draw ∝ value
};

PolicyFamily policy_family(PolicyType type) noexcept;

// True when the policy's update step changes per-PE state on the writer (degradation).
bool policy_degrades(PolicyType type) noexcept;

inline std::uint32_t saturating_add(std::uint32_t a, std::uint32_t b) noexcept {
  const std::uint32_t sum = a + b;
  return sum < a ? kPolicyValueMax : sum;
}

// Writer-side numbers of one PE.
//   ordered: key   = min(MAX, base + degradation)
//   random:  value = base for RAND/WRAND/WRAND-DPF,
//            max(1, MAX - min(MAX, base + degradation)) for the randomized LU family
struct PolicyState {
  std::uint32_t base = 0;         // static part computed from the announced values
  std::uint32_t step = 0;         // degradation added per selection (0: no degradation)
  std::uint32_t degradation = 0;  // grows by step in on_selected, reset by re-registration
};

PolicyState make_policy_state(PolicyType type, const PolicyParams& params) noexcept;

inline std::uint32_t ordered_key(const PolicyState& state) noexcept {
  return saturating_add(state.base, state.degradation);
}

std::uint32_t random_value(PolicyType type, const PolicyState& state) noexcept;

// WRAND-DPF: weight - round(weight * distance * weight_dpf / MAX); a negative result gives 1
// (policies.md §3). A result of exactly 0 stays 0 (never chosen), as for weight 0.
std::uint32_t weighted_random_dpf_value(const PolicyParams& params) noexcept;

}  // namespace poolreg::policy
