#include "registrar/policy/selector.hpp"

#include "registrar/policy/ordered_selector.hpp"
#include "registrar/policy/policy_state.hpp"
#include "registrar/policy/random_selector.hpp"
#include "registrar/policy/weighted_round_robin_selector.hpp"

namespace poolreg::policy {

std::unique_ptr<Selector> make_selector(PolicyType type, Reclaimer& reclaimer) {
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

}  // namespace poolreg::policy
