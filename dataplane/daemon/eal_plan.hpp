// EalPlan: what poolregd's DPDK configuration asks of the host, read statically from
// dpdk.lcores and dpdk.eal_args (the options the appliance uses: -l, --lcores, -c, --main-lcore,
// -a/--allow/-w, --vdev, --no-pci, --no-huge, -m, --socket-mem, --huge-dir). rte_eal_init() runs
// once per process and takes the devices it probes, so the checks before start
// (dpdk_preflight.hpp) and poolreg-dpdk-setup's plan (--print-dpdk-setup) read this instead.
// Pure functions, no DPDK.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/registrar_config.hpp"

namespace poolreg::daemon {

struct EalPlan {
  std::vector<unsigned> lcores;      // the EAL core list, ascending; empty = EAL default (every CPU)
  bool lcores_checked = true;        // false: a --lcores form with '@' or groups, not parsed here
  int main_lcore = -1;               // --main-lcore; -1 = the first of lcores
  std::vector<std::string> pci;      // -a / --allow / -w, the address part (before any ','), DDDD:BB:DD.F
  std::vector<std::string> vdevs;    // --vdev, whole (name,arg=value,...)
  bool no_pci = false;
  bool no_huge = false;
  std::uint64_t memory_mb = 0;       // -m, or the sum of --socket-mem; 0 = not given
  std::string huge_dir;              // --huge-dir
  std::vector<std::string> problems; // arguments that cannot be used (each a sentence)
};

EalPlan parse_eal_plan(const config::DpdkSection& dpdk);

// "0-2,4" -> {0,1,2,4}; false on anything else (the reason in *error).
bool parse_cpu_list(const std::string& text, std::vector<unsigned>* out, std::string* error);

// key=value lines for poolreg-dpdk-setup (--print-dpdk-setup): hugepages (0 with --no-huge),
// hugepage_size_kb, huge_dir (when given), one pci= per device of -a/--allow/-w.
std::string dpdk_setup_plan(const config::RegistrarConfig& c);

}  // namespace poolreg::daemon
