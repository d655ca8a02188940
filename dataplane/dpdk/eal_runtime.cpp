#include "dataplane/dpdk/eal_runtime.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "dataplane/dpdk/rss_steering.hpp"

namespace poolreg::dpdk {
namespace {
std::atomic<bool> g_eal_initialised{false};

// After rte_eth_dev_configure with rss_steering.hpp's key: loads the RETA pattern and reads key,
// hash functions and RETA back. Ownership follows RSS only for what the port really took (a
// driver may accept a key silently and keep its own, or not let the RETA be written).
PortRssPrediction program_rss(std::uint16_t id, std::uint16_t lanes, const std::vector<std::uint8_t>& key) {
  PortRssPrediction p;
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(id, &info) != 0) {
    p.why_not = "device info unavailable";
    return p;
  }
  const std::uint16_t size = info.reta_size;
  if (size == 0 || size % kRssPatternSize != 0) {
    p.why_not = "redirection table of " + std::to_string(size) + " entries (need a multiple of " +
                std::to_string(kRssPatternSize) + ")";
    return p;
  }
  std::vector<rte_eth_rss_reta_entry64> reta(size / RTE_ETH_RETA_GROUP_SIZE);
  for (std::size_t i = 0; i < size; ++i) {
    reta[i / RTE_ETH_RETA_GROUP_SIZE].mask = ~std::uint64_t{0};
    reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = RssSteering::reta_entry(i, lanes);
  }
  if (int rc = rte_eth_dev_rss_reta_update(id, reta.data(), size); rc != 0) {
    p.why_not = std::string("the port refuses a redirection table (") + rte_strerror(-rc) + ")";
    return p;
  }
  std::vector<rte_eth_rss_reta_entry64> back(reta.size());
  for (auto& group : back) group.mask = ~std::uint64_t{0};
  bool same = rte_eth_dev_rss_reta_query(id, back.data(), size) == 0;
  for (std::size_t i = 0; same && i < size; ++i)
    same = back[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] ==
           RssSteering::reta_entry(i, lanes);
  if (!same) {
    p.why_not = "the redirection table does not read back as written";
    return p;
  }
  std::vector<std::uint8_t> used(key.size());
  rte_eth_rss_conf conf{};
  conf.rss_key = used.data();
  conf.rss_key_len = static_cast<std::uint8_t>(used.size());
  if (rte_eth_dev_rss_hash_conf_get(id, &conf) != 0 || used != key) {
    p.why_not = "the port does not report the hash key it was given";
    return p;
  }
  p.v4 = (conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0;
  p.v6 = (conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_UDP) != 0;
  if (p.v4 || p.v6) p.key = used;
  if (!p.v4 || !p.v6) {
    p.why_not = std::string("no UDP 4-tuple hash for ") + (!p.v4 && !p.v6 ? "IPv4 and IPv6"
                                                           : !p.v4        ? "IPv4"
                                                                          : "IPv6");
  }
  return p;
}
}  // namespace

Expected<std::unique_ptr<EalRuntime>, std::string> EalRuntime::init(const std::vector<std::string>& argv) {
  if (g_eal_initialised.exchange(true))
    return unexpected(std::string("EAL can be initialised once per process"));
  std::vector<std::string> copy = argv;  // rte_eal_init may permute argv
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(copy.size()), args.data()) < 0)
    return unexpected(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
  return std::unique_ptr<EalRuntime>(new EalRuntime());
}

EalRuntime::~EalRuntime() { rte_eal_cleanup(); }

Expected<std::unique_ptr<DpdkPort>, std::string> DpdkPort::open(const DpdkPortConfig& config,
                                                                const std::vector<rte_mempool*>& rx_pools) {
  const std::uint16_t id = config.port_id;
  if (!rte_eth_dev_is_valid_port(id))
    return unexpected("DPDK port " + std::to_string(id) + " does not exist (" +
                      std::to_string(rte_eth_dev_count_avail()) + " port(s) probed; add a --vdev?)");
  std::unique_ptr<DpdkPort> port(new DpdkPort(id));
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(id, &info) != 0) {
    return unexpected(std::string("rte_eth_dev_info_get failed"));
  }
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(id, name);
  port->name_ = name;
  const std::uint16_t lanes = config.queues == 0 ? 1 : config.queues;
  // Every lane transmits on its own queue (no lock): the port must offer one TX queue each.
  if (info.max_tx_queues < lanes)
    return unexpected("port " + std::to_string(id) + " (" + port->name_ + ") has " +
                      std::to_string(info.max_tx_queues) + " TX queue(s); " + std::to_string(lanes) +
                      " poll lcores need one each (net_af_packet: add qpairs=N to the --vdev)");
  // RX: one queue per lane where the port has them; lanes without one live on their inbox.
  port->rx_queues_ = std::min<std::uint16_t>(lanes, info.max_rx_queues == 0 ? 1 : info.max_rx_queues);
  if (rx_pools.size() < port->rx_queues_) {
    return unexpected("port " + std::to_string(id) + ": an mbuf pool per RX queue is needed");
  }
  rte_eth_conf conf{};
  if (config.sctp_native) {
    port->crc_offload_ = choose_sctp_checksum_offload(info.tx_offload_capa, info.rx_offload_capa);
    if (port->crc_offload_.tx) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_SCTP_CKSUM;
    if (port->crc_offload_.rx) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCTP_CKSUM;
  }
  const std::uint64_t rss = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
  // The key that makes a peer's queue a function of the peer (rss_steering.hpp), when RSS can
  // give every lane its own queue.
  std::vector<std::uint8_t> key;
  if (port->rx_queues_ > 1 && rss != 0) {
    // RSS spreads peers over the RX queues; software steering (steering.hpp) moves what still
    // lands on another lane than its owner's.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss;
    port->rss_ = true;
    if (!config.rss_steering) {
      port->prediction_.why_not = "dpdk.rss_steering is off";
    } else if (port->rx_queues_ != lanes || lanes > kRssPatternSize) {
      port->prediction_.why_not =
          std::to_string(port->rx_queues_) + " RX queues for " + std::to_string(lanes) + " lanes";
    } else if (info.hash_key_size < kRssKeyMinBytes) {
      port->prediction_.why_not = "hash key of " + std::to_string(info.hash_key_size) + " bytes";
    } else {
      key = RssSteering::peer_only_key(info.hash_key_size);
      conf.rx_adv_conf.rss_conf.rss_key = key.data();
      conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<std::uint8_t>(key.size());
    }
  } else {
    port->prediction_.why_not = port->rx_queues_ > 1 ? "the port offers no IP/UDP RSS" : "one RX queue";
  }
  int rc = rte_eth_dev_configure(id, port->rx_queues_, lanes, &conf);
  if (rc != 0 && !key.empty()) {  // a driver that takes no key from us: its own RSS, our steering
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;
    conf.rx_adv_conf.rss_conf.rss_key_len = 0;
    key.clear();
    port->prediction_.why_not = "the port refuses a hash key";
    rc = rte_eth_dev_configure(id, port->rx_queues_, lanes, &conf);
  }
  if (rc == 0 && !key.empty()) port->prediction_ = program_rss(id, lanes, key);
  std::uint16_t rxd = config.rx_descriptors, txd = config.tx_descriptors;
  if (rc == 0) rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
  for (std::uint16_t q = 0; rc == 0 && q < port->rx_queues_; ++q)
    rc = rte_eth_rx_queue_setup(id, q, rxd, rx_pools[q]->socket_id, nullptr, rx_pools[q]);
  for (std::uint16_t q = 0; rc == 0 && q < lanes; ++q)
    rc = rte_eth_tx_queue_setup(id, q, txd, rte_eth_dev_socket_id(id), nullptr);
  if (rc == 0) rc = rte_eth_dev_start(id);
  if (rc != 0) {
    auto failed =
        unexpected("configuring port " + std::to_string(id) + " (" + port->name_ + "): " + rte_strerror(-rc));
    rte_eth_dev_close(id);
    return failed;
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  std::memcpy(port->mac_.data(), mac.addr_bytes, 6);
  std::uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(id, &mtu) == 0 && mtu >= 576) port->mtu_ = mtu;
  return port;
}

DpdkPort::~DpdkPort() {
  rte_eth_dev_stop(id_);
  rte_eth_dev_close(id_);
}

bool DpdkPort::wait_link_up(int timeout_ms) const {
  for (int waited = 0;; waited += 50) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(id_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) return true;
    if (waited >= timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string DpdkPort::link_text() const {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(id_, &link) != 0) return "link unknown";
  char text[RTE_ETH_LINK_MAX_STR_LEN] = {};
  rte_eth_link_to_str(text, sizeof text, &link);
  return text;
}

}  // namespace poolreg::dpdk
