// DPDK telemetry commands of poolregd (read with DPDK's usertools/dpdk-telemetry.py or any client
// of the telemetry socket <runtime dir>/dpdk_telemetry.v2):
//   /poolreg/lcores            list of poll-mode lcore ids
//   /poolreg/lcore_stats,<id>  every counter of that poll lcore (default: the first), drops as
//                              drop_<reason>, ASAP messages by type asap_in_<type>/asap_out_<type>
//   /poolreg/drops             drops by reason summed over the poll lcores
//   /poolreg/resolution_latency,<id>  Handle Resolution latency histogram (le_<2^k>us
//                              buckets, count, mean, p50/p90/p99) measured on that poll lcore
// The callbacks run on DPDK's telemetry thread and only read the single-writer atomic
// LcoreCounters (lcore_counters.hpp): no lock, no effect on the packet path.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/dpdk/lcore_counters.hpp"

namespace poolreg::dpdk {

struct TelemetrySource {
  const LcoreCounters* counters = nullptr;  // array indexed by lcore id (RTE_MAX_LCORE entries)
  std::vector<unsigned> poll_lcores;
};

// Registers the commands once per process (later calls only swap the source). source may be
// nullptr (commands then answer with an empty result); it must stay valid until replaced.
void set_telemetry_source(const TelemetrySource* source);

}  // namespace poolreg::dpdk
