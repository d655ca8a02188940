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

  // By name: for_each lists the per-cause and per-kind slots only once they are non-zero.
  std::map<std::string, std::uint64_t, std::less<>> counters;
  h.asap().counters().for_each([&](std::string_view name, std::uint64_t v) { counters.emplace(name, v); });
  for (const auto& [name, before] : last_counters_) {
    const auto now = counters.find(name);
    require(now != counters.end() && now->second >= before);
  }
  last_counters_ = std::move(counters);
}

}  // namespace poolreg::fuzz
