// EventFilter: which registrar events one `events` subscriber gets: a set of kinds and,
// optionally, a set of pools. With pools given, only PE and pool events of those pools pass
// (peer, takeover and audit events belong to no pool and are left out).
//
// Contract: a value type; parse_event_filter() reads the `events` command's args and throws
// CommandError(bad_request) naming the bad word, never anything else.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/control/command_registry.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/registrar_event.hpp"

namespace poolreg::control {

// At most this many pools in one filter (a subscriber watching more wants them all).
inline constexpr std::size_t kMaxFilterPools = 64;

struct EventFilter {
  std::uint32_t kinds = kAllEventKinds;  // event_kind_bit mask
  std::vector<PoolHandle> pools;         // empty: every pool

  bool matches(const RegistrarEvent& event) const noexcept;
};

// args: {"kinds": ["pe_registered", "peer", ...] (kind names, families or "all"; absent or
// empty: all), "pools": ["echo", "0x0102", ...] (pool handles as the other commands take them;
// absent or empty: every pool)}.
EventFilter parse_event_filter(const json& args);

// The kind names of a mask, in kind order.
json event_kind_names(std::uint32_t kinds);

}  // namespace poolreg::control
