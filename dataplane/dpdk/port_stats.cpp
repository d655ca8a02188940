#include "dataplane/dpdk/port_stats.hpp"

#include <rte_ethdev.h>

#include <array>
#include <string>

namespace poolreg::dpdk {

namespace {

// Order matters: read_port_counters() pairs them with rte_eth_stats fields by index.
constexpr std::array<CounterDescriptor, 8> kPort = {{
    {"rx_packets", "poolreg_dpdk_port_rx_packets_total",
     "Packets the NIC port received and delivered to its RX queues (rte_eth_stats ipackets)."},
    {"tx_packets", "poolreg_dpdk_port_tx_packets_total",
     "Packets the NIC port transmitted successfully (rte_eth_stats opackets)."},
    {"rx_bytes", "poolreg_dpdk_port_rx_bytes_total", "Bytes the NIC port received (rte_eth_stats ibytes).",
     CounterUnit::kBytes},
    {"tx_bytes", "poolreg_dpdk_port_tx_bytes_total", "Bytes the NIC port transmitted (rte_eth_stats obytes).",
     CounterUnit::kBytes},
    {"rx_missed_errors", "poolreg_dpdk_port_rx_missed_errors_total",
     "Packets the NIC dropped because its RX queues were full (rte_eth_stats imissed): the poll lcores "
     "do not keep up; add lcores or queues."},
    {"rx_nombuf", "poolreg_dpdk_port_rx_nombuf_total",
     "Packets the port could not receive for lack of mbufs (rte_eth_stats rx_nombuf): the mbuf pool "
     "(dpdk mempool size) is too small or mbufs leak."},
    {"rx_errors", "poolreg_dpdk_port_rx_errors_total",
     "Erroneous packets the NIC received (rte_eth_stats ierrors: bad CRC, runts and the like); a cabling "
     "or peer problem."},
    {"tx_errors", "poolreg_dpdk_port_tx_errors_total",
     "Packets the NIC failed to transmit (rte_eth_stats oerrors)."},
}};

constexpr CounterDescriptor kXstats{
    "xstats", "poolreg_dpdk_port_xstats_total",
    "Every extended statistic the port's driver reports (rte_eth_xstats_get), by the driver's name "
    "(e.g. rx_missed_errors, rx_q0_packets, rx_mbuf_allocation_errors): per-queue and driver-specific "
    "detail behind the poolreg_dpdk_port_* totals.",
    CounterUnit::kCount, MetricKind::kCounter, "xstat"};

}  // namespace

std::span<const CounterDescriptor> port_counter_descriptors() noexcept { return kPort; }
const CounterDescriptor& port_xstats_descriptor() noexcept { return kXstats; }

std::vector<CounterSample> read_port_counters(std::uint16_t port_id) {
  std::vector<CounterSample> out;
  if (rte_eth_dev_is_valid_port(port_id) == 0) return out;
  rte_eth_stats s{};
  if (rte_eth_stats_get(port_id, &s) != 0) return out;
  const std::array<std::uint64_t, kPort.size()> basic = {s.ipackets, s.opackets, s.ibytes,  s.obytes,
                                                          s.imissed,  s.rx_nombuf, s.ierrors, s.oerrors};
  for (std::size_t i = 0; i < kPort.size(); ++i) out.push_back({&kPort[i], {}, basic[i]});

  // Names and values are both indexed 0..n-1 by the driver (each value's id names its entry). If
  // the count changed between the calls (a queue set-up), this scrape has only the basics.
  const int wanted = rte_eth_xstats_get_names(port_id, nullptr, 0);
  if (wanted <= 0) return out;
  std::vector<rte_eth_xstat_name> names(static_cast<std::size_t>(wanted));
  std::vector<rte_eth_xstat> values(static_cast<std::size_t>(wanted));
  const int named = rte_eth_xstats_get_names(port_id, names.data(), static_cast<unsigned>(wanted));
  const int got = rte_eth_xstats_get(port_id, values.data(), static_cast<unsigned>(wanted));
  if (named != wanted || got != wanted) return out;
  for (const rte_eth_xstat& x : values) {
    if (x.id >= names.size()) continue;
    out.push_back({&kXstats, counter_label_value(names[x.id].name), x.value});
  }
  return out;
}

}  // namespace poolreg::dpdk
