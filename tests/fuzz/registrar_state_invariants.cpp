#include "tests/fuzz/registrar_state_invariants.hpp"

#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "registrar/handlespace/checksum_audit.hpp"

namespace poolreg::fuzz {

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

RegistrarStateInvariants::CounterWords RegistrarStateInvariants::words_of(const asap::AsapCounters& c) {
  CounterWords words{};
  std::memcpy(words.data(), &c, sizeof c);
  return words;
}

void RegistrarStateInvariants::check(const RegistrarStateHarness& h) {
  const handlespace::Handlespace& hs = h.handlespace();
  require(handlespace::audit_checksums(hs, handlespace::AuditExecution::kSequential).ok());

  std::set<std::pair<PoolHandle, PoolElementId>> seen;
  std::map<std::uint64_t, std::size_t> per_association;
  std::size_t owned = 0;
  std::size_t bound = 0;
  const bool teardown_running = h.asap().pending_teardowns() > 0;
  for (std::size_t shard = 0; shard < hs.shard_count(); ++shard) {
    hs.for_each_pe(shard, [&](const PoolHandle& handle, const handlespace::PoolElementView& pe) {
      require(seen.emplace(handle, pe.id()).second);
      if (pe.home() == kOwnId) ++owned;
      if (pe.association() == 0) return;
      ++bound;
      require(++per_association[pe.association()] <= h.asap().config().max_pes_per_association);
      require(pe.home() == kOwnId);
      require(teardown_running || h.open_asap().contains(pe.association()));
    });
  }
  require(seen.size() == hs.counters().pes);
  require(owned == hs.pe_count_of_owner(kOwnId));
  require(bound <= h.asap().monitored_pes());

  // Word by word over a copy of the struct: every field and every array slot is a uint64_t
  // (static_asserts in the header), so no counter may be below its value at the last check.
  // Looking them up by name through for_each() took ~20 % of the target's time under the
  // fuzzer's string-compare tracing.
  const CounterWords now = words_of(h.asap().counters());
  if (have_last_)
    for (std::size_t i = 0; i < now.size(); ++i) require(now[i] >= last_counters_[i]);
  last_counters_ = now;
  have_last_ = true;
}

}  // namespace poolreg::fuzz
