// Generator lanes: runs one poolgen load over config.threads lanes (lane_partition.hpp says why
// lanes and how the run is split). Lane 0 runs on the calling thread with the linked usrsctp,
// lanes 1.. each on a thread of their own with a private usrsctp copy; each lane has its own
// EventLoop, SctpStack (SCTP over its own UDP socket; none over TCP) and LoadDriver.
//
// SIGINT/SIGTERM are watched by lane 0 (blocked before the other threads start, so only it sees
// them) and passed to every lane: the first ends the load phase, a second skips the cleanup.
// Progress: every lane leaves a snapshot of its stats each second; lane 0 merges the latest ones
// (merge_lane) and hands them to `progress` on its thread. The timeseries writer is lane 0's
// (validate() allows it with one lane only).
#pragma once

#include <functional>
#include <string>

#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "perf/poolgen/timeseries.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

using LaneProgress = std::function<void(const RunStats& merged, double elapsed_s)>;

// Runs the whole load (blocks until every lane finished) and returns the lanes' merged stats, or
// the first set-up error (SCTP stack, a lane's start). `progress` may be empty.
Expected<RunStats, std::string> run_generator_lanes(const PoolgenConfig& config, TimeseriesWriter* timeseries,
                                                    const LaneProgress& progress);

}  // namespace poolreg::poolgen
