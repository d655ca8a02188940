// The EAL of the in-process DPDK benchmarks (packet path, lane resolutions, lane writes): no
// hugepages, no PCI, no shared configuration, lcores 0-1, a file prefix of the process's own (so
// concurrent runs never share a runtime directory), EAL logs at error level only.
#pragma once

namespace poolreg::perf {

// rte_eal_init with those arguments; false when it fails. `name` becomes part of the file prefix
// (poolreg-NAME-PID); memory_mb is EAL's -m.
bool start_bench_eal(const char* argv0, const char* name, unsigned memory_mb);
// Removes the runtime directory EAL leaves behind; after the last use of EAL.
void remove_eal_runtime_dir();

}  // namespace poolreg::perf
