// Helpers for the selector tests: PE names a, b, c... are slots 0, 1, 2...
#pragma once

#include <string>
#include <vector>

#include "registrar/common/policy.hpp"
#include "registrar/common/reclaimer.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::policy::testing {

inline constexpr std::uint32_t percent(double p) {
  return static_cast<std::uint32_t>(p / 100.0 * static_cast<double>(kPolicyValueMax));
}

inline PolicyParams params_with(PolicyType type) {
  PolicyParams p;
  p.type = type;
  return p;
}

// One answer as letters: "abc".
inline std::string select_names(const Selector& selector, SelectorContext& ctx, std::size_t k) {
  std::vector<Slot> out(k < kMaxSelectItems ? k : kMaxSelectItems);
  const std::size_t n = selector.select(k, ctx, out.data());
  std::string names;
  for (std::size_t i = 0; i < n; ++i) names.push_back(static_cast<char>('a' + out[i]));
  return names;
}

// n single-item answers concatenated: "abab".
inline std::string select_sequence(Selector& selector, SelectorContext& ctx, std::size_t n,
                                   bool feed_back = false) {
  std::string names;
  for (std::size_t i = 0; i < n; ++i) {
    Slot slot = 0;
    if (selector.select(1, ctx, &slot) != 1) return names + "?";
    names.push_back(static_cast<char>('a' + slot));
    if (feed_back) selector.on_selected(slot);
  }
  return names;
}

}  // namespace poolreg::policy::testing
