// Lane partition: how `--threads N` splits one poolgen run over N generator lanes. Each lane is
// one thread with its own EventLoop, its own SctpStack on its own usrsctp copy (lane 0 the linked
// one, lanes 1.. a private dlmopen'd copy, as the registrar's kernel lanes) and its own LoadDriver
// that drives its share of the PEs, associations, PUs and rates. Pure: no threads, no I/O.
//
// Why engine lanes and not oneTBB tasks: usrsctp keeps one stack in process-global state and is
// run without its own threads (usrsctp_init_nothreads); every call into one copy must come from
// the one thread that owns it. Tasks migrating between worker threads would need a lock around
// every usrsctp call (and every timer tick), serialising exactly what should run in parallel.
// A lane owns its copy, its UDP socket and its PEs outright: no lock, no shared state.
#pragma once

#include <cstdint>
#include <vector>

#include "perf/poolgen/poolgen_config.hpp"

namespace poolreg::poolgen {

// The share of `total` lane `lane` of `lanes` gets: total / lanes, the first total % lanes lanes
// one more (every item goes to exactly one lane).
std::uint64_t lane_share(std::uint64_t total, std::uint32_t lanes, std::uint32_t lane) noexcept;
// The first item of lane `lane` under lane_share().
std::uint64_t lane_first(std::uint64_t total, std::uint32_t lanes, std::uint32_t lane) noexcept;

// One configuration per lane (config.threads of them, at least one): PEs, PUs, rates and
// pe_associations split with lane_share() (rates in proportion to the lane's share), probes on
// lane 0 only, lane / lanes / pe_id_base set so PE IDs are unique over the lanes (lane k's PEs
// follow lane k-1's, probes included), seed + lane. A lane without PUs (and without probes) opens
// no PU association; every lane with PEs keeps at least one PE association per registrar.
std::vector<PoolgenConfig> partition_lanes(const PoolgenConfig& config);

}  // namespace poolreg::poolgen
