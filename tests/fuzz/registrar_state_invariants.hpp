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

#include <array>
#include <cstdint>
#include <type_traits>

#include "registrar/asap/asap_counters.hpp"
#include "tests/fuzz/registrar_state_harness.hpp"

namespace poolreg::fuzz {

class RegistrarStateInvariants {
 public:
  // Traps on the first violation.
  void check(const RegistrarStateHarness& h);

 private:
  // AsapCounters holds only uint64_t fields and arrays of them: compared as words.
  static_assert(std::is_trivially_copyable_v<asap::AsapCounters> &&
                std::has_unique_object_representations_v<asap::AsapCounters>);  // no padding bytes
  static_assert(sizeof(asap::AsapCounters) % sizeof(std::uint64_t) == 0 &&
                alignof(asap::AsapCounters) == alignof(std::uint64_t));
  using CounterWords = std::array<std::uint64_t, sizeof(asap::AsapCounters) / sizeof(std::uint64_t)>;
  static CounterWords words_of(const asap::AsapCounters& c);

  CounterWords last_counters_{};
  bool have_last_ = false;
};

}  // namespace poolreg::fuzz
