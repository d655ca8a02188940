// DPDK preflight: what `poolregd --dpdk --check-config` checks before the appliance starts, and
// the setup plan `--print-dpdk-setup` hands to poolreg-dpdk-setup (one parser for both).
//
// rte_eal_init() can run once per process and takes the devices it probes, so nothing here calls
// DPDK: the EAL arguments are read statically (the options poolregd's appliance mode uses: -l,
// --lcores, -c, --main-lcore, -a/--allow/-w, --vdev, --no-pci, --no-huge, -m, --socket-mem,
// --huge-dir) and compared with the host as sysfs describes it (online and isolated CPUs, PCI
// devices and their drivers, free hugepages). Pure functions over the configuration and a sysfs
// root (tests point it at a directory of their own); no side effects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/registrar_config.hpp"

namespace poolreg::daemon {

// What the EAL arguments (and dpdk.lcores) ask for.
struct EalPlan {
  std::vector<unsigned> lcores;      // the EAL core list, ascending; empty = EAL default (every CPU)
  bool lcores_checked = true;        // false: a --lcores form with '@' or groups, not parsed here
  int main_lcore = -1;               // --main-lcore; -1 = the first of lcores
  std::vector<std::string> pci;      // -a / --allow / -w, the address part (before any ',')
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

struct PreflightReport {
  std::vector<std::string> summary;   // one line per thing checked and found usable
  std::vector<std::string> warnings;  // works, but not as an appliance should (not isolated, ...)
  std::vector<std::string> problems;  // start-up would fail or misbehave: --check-config exits 2
};

// Every check, every problem (not only the first). sysfs_root: "/sys" on a real host.
PreflightReport check_dpdk_preflight(const config::RegistrarConfig& c, const std::string& sysfs_root);

// key=value lines for poolreg-dpdk-setup: hugepages, hugepage_size_kb, huge_dir (when given),
// one pci= per device of -a/--allow/-w.
std::string dpdk_setup_plan(const config::RegistrarConfig& c);

}  // namespace poolreg::daemon
