// read_port_counters(): one DPDK port's NIC statistics as counter samples with descriptors
// (registrar/common/counter_descriptor.hpp): the basic ethdev statistics (rte_eth_stats_get:
// packets and bytes each way, rx_missed_errors, rx_nombuf, errors) as poolreg_dpdk_port_*_total,
// and every extended statistic of the driver (rte_eth_xstats_get_names / rte_eth_xstats_get) as
// poolreg_dpdk_port_xstats_total{xstat="<driver's name>"}. The caller adds the port label.
//
// Thread: any thread that is not the port's configuring or stopping thread at the same time
// (poolregd: the control lcore, which also configures and stops the ports, so never
// concurrently). The getters run while poll lcores receive and send: ethdev's stats getters only
// read the PMD's per-queue counters, which is what DPDK's own telemetry thread does for
// /ethdev/stats and /ethdev/xstats; on 64-bit the counters are read whole, at worst one burst
// stale. Nothing here resets a counter (rte_eth_stats_reset would race with the lcores).
// Allocates (xstat names and values) on every call: meant for scrapes, not for the packet path.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "registrar/common/counter_descriptor.hpp"

namespace poolreg::dpdk {

// The descriptors of the basic statistics (stats keys rx_packets, tx_packets, rx_bytes,
// tx_bytes, rx_missed_errors, rx_nombuf, rx_errors, tx_errors) and of the xstats family.
std::span<const CounterDescriptor> port_counter_descriptors() noexcept;
const CounterDescriptor& port_xstats_descriptor() noexcept;

// The port's statistics; empty when the port id is not valid or the driver reports an error.
std::vector<CounterSample> read_port_counters(std::uint16_t port_id);

}  // namespace poolreg::dpdk
