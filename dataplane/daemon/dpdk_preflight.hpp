// DPDK preflight: what `poolregd --dpdk --check-config` checks before the appliance starts,
// without starting EAL: the EalPlan (eal_plan.hpp) compared with the host as sysfs describes it
// (online and isolated CPUs, PCI devices and their drivers, free hugepages). Pure function over
// the configuration and a sysfs root; no side effects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/registrar_config.hpp"
#include "dataplane/daemon/eal_plan.hpp"

namespace poolreg::daemon {

struct PreflightReport {
  std::vector<std::string> summary;   // one line per thing checked and found usable
  std::vector<std::string> warnings;  // works, but not as an appliance should (not isolated, ...)
  std::vector<std::string> problems;  // start-up would fail or misbehave: --check-config exits 2
};

// Every check, every problem (not only the first). sysfs_root: "/sys" on a real host.
PreflightReport check_dpdk_preflight(const config::RegistrarConfig& c, const std::string& sysfs_root);

}  // namespace poolreg::daemon
