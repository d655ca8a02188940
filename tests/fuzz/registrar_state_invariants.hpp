// Invariants the stateful fuzz target checks after every step of RegistrarStateHarness; a
// violation traps (libFuzzer reports it as a crash and keeps the input).
// - the incremental checksums and per-owner PE counts equal a recomputation (checksum_audit);
// - walking the pools finds each (pool, PE ID) once and as many PEs as the handlespace counts,
//   and as many owned by us as its owner index says;
// - a PE bound to an association is ours, and the association is one AsapServer has open,
//   unless a lost association's teardown is still running; every bound PE is monitored; no
//   association holds more PEs than max_pes_per_association;
// - AsapServer's counters never go down.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "tests/fuzz/registrar_state_harness.hpp"

namespace poolreg::fuzz {

class RegistrarStateInvariants {
 public:
  // Traps on the first violation. `counters`: also check that AsapServer's counters did not go
  // down since the last check that looked at them (the costliest part: once per step is enough).
  void check(const RegistrarStateHarness& h, bool counters = true);

 private:
  std::map<std::string, std::uint64_t, std::less<>> last_counters_;
};

}  // namespace poolreg::fuzz
