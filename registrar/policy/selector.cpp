#include "registrar/policy/selector.hpp"

#include <new>

#include "registrar/policy/ordered_selector.hpp"
#include "registrar/policy/policy_state.hpp"
#include "registrar/policy/random_selector.hpp"
#include "registrar/policy/round_robin_selector.hpp"
#include "registrar/policy/weighted_round_robin_selector.hpp"

namespace poolreg::policy {
namespace {
template <typename T>
constexpr bool fits_storage() {
  return sizeof(T) <= kSelectorStorageBytes && alignof(T) <= kSelectorStorageAlign;
}
}  // namespace

std::unique_ptr<Selector> make_selector(PolicyType type, Reclaimer& reclaimer) {
  // RR is the ordered family with a single key: its own selector spares the group list.
  if (type == PolicyType::kRoundRobin) return std::make_unique<RoundRobinSelector>(reclaimer);
  switch (policy_family(type)) {
    case PolicyFamily::kOrdered:
      return std::make_unique<OrderedSelector>(type, reclaimer);
    case PolicyFamily::kWeightedRoundRobin:
      return std::make_unique<WeightedRoundRobinSelector>(reclaimer);
    case PolicyFamily::kRandom:
      return std::make_unique<RandomSelector>(type, reclaimer);
  }
  return std::make_unique<OrderedSelector>(type, reclaimer);
}

Selector* construct_selector(PolicyType type, Reclaimer& reclaimer, void* storage) {
  static_assert(fits_storage<RoundRobinSelector>() && fits_storage<OrderedSelector>() &&
                fits_storage<RandomSelector>() && fits_storage<WeightedRoundRobinSelector>());
  if (type == PolicyType::kRoundRobin) return new (storage) RoundRobinSelector(reclaimer);
  switch (policy_family(type)) {
    case PolicyFamily::kOrdered:
      return new (storage) OrderedSelector(type, reclaimer);
    case PolicyFamily::kWeightedRoundRobin:
      return new (storage) WeightedRoundRobinSelector(reclaimer);
    case PolicyFamily::kRandom:
      return new (storage) RandomSelector(type, reclaimer);
  }
  return new (storage) OrderedSelector(type, reclaimer);
}

}  // namespace poolreg::policy
