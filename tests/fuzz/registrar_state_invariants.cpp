#include "tests/fuzz/registrar_state_invariants.hpp"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "registrar/handlespace/checksum_audit.hpp"

namespace poolreg::fuzz {

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

void RegistrarStateInvariants::check(const RegistrarStateHarness& h, bool counters) {
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
  if (!counters) return;

  // By name: for_each lists the per-cause and per-kind slots only once they are non-zero, so a
  // name seen before must be listed again, with a value not below the last one. Updated in
  // place: building a fresh map per step took ~40 % of the target's time.
  std::size_t listed_again = 0;
  const std::size_t known = last_counters_.size();
  h.asap().counters().for_each([&](std::string_view name, std::uint64_t v) {
    const auto it = last_counters_.find(name);
    if (it == last_counters_.end()) {
      last_counters_.emplace(name, v);
      return;
    }
    require(v >= it->second);
    it->second = v;
    ++listed_again;
  });
  require(listed_again == known);
}

}  // namespace poolreg::fuzz
