// Name/value walks over the counter structs that have no for_each of their own (ENRP, transport),
// so `poolctl stats` and /metrics list every field under one stable name.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/runtime/message_transport.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "registrar/common/function_ref.hpp"

namespace poolreg::control {

using CounterVisitor = FunctionRef<void(std::string_view name, std::uint64_t value)>;

// Every monotonic ENRP counter (not the peers_* state gauges).
void for_each_enrp_counter(const enrp::EnrpCounters& counters, CounterVisitor visit);
// peers_unknown / peers_alive / peers_probing / peers_dead as ("unknown", n), ("alive", n)...
void for_each_enrp_peer_state(const enrp::EnrpCounters& counters, CounterVisitor visit);
void for_each_transport_counter(const runtime::TransportCounters& counters, CounterVisitor visit);

}  // namespace poolreg::control
