// EalRuntime and DpdkPort: DPDK start-up. EalRuntime runs rte_eal_init() once per process with
// the given argv (argv[0] first) and rte_eal_cleanup() on destruction; DpdkPort configures one
// ethdev port with one TX queue per poll lcore and as many RX queues (fewer when the port has
// fewer; RSS on them when the port offers IP/UDP hashing, with the key and redirection table of
// rss_steering.hpp where the port takes them; the SCTP CRC32c offloads it offers when native SCTP
// is on, sctp_checksum_offload.hpp), starts it in promiscuous-off mode and reports its
// MAC and link state.
// Start-up only (exceptions are not used: failures are Expected<..., std::string>, the message).
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/sctp_checksum_offload.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::dpdk {

class EalRuntime {
 public:
  // The runtime, or the reason when EAL refuses the arguments or was initialised before.
  static Expected<std::unique_ptr<EalRuntime>, std::string> init(const std::vector<std::string>& argv);
  ~EalRuntime();
  EalRuntime(const EalRuntime&) = delete;
  EalRuntime& operator=(const EalRuntime&) = delete;

 private:
  EalRuntime() = default;
};

struct DpdkPortConfig {
  std::uint16_t port_id = 0;
  std::uint16_t queues = 1;  // poll lcores: TX queues (required) and RX queues (as available)
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  bool rss_steering = true;  // program rss_steering.hpp's key and RETA (dpdk.rss_steering)
  bool sctp_native = false;  // native SCTP is on: ask for the SCTP CRC32c offloads the port has
};

// Whether lane ownership can follow this port's RSS (rss_steering.hpp), per family.
struct PortRssPrediction {
  bool v4 = false;  // IPv4 UDP 4-tuples land on RssSteering::lane()
  bool v6 = false;
  std::vector<std::uint8_t> key;  // what the port hashes with (read back), when v4 or v6
  std::string why_not;            // empty when both families are predicted
};

class DpdkPort {
 public:
  // rx_pools[q]: the mbuf pool RX queue q fills from (the NUMA socket of the lcore that polls it);
  // at least as many as RX queues end up configured (one per lane is enough).
  // The started port, or the reason it cannot be configured.
  static Expected<std::unique_ptr<DpdkPort>, std::string> open(const DpdkPortConfig& config,
                                                               const std::vector<rte_mempool*>& rx_pools);
  ~DpdkPort();  // stops and closes the port
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  std::uint16_t id() const noexcept { return id_; }
  const MacAddress& mac() const noexcept { return mac_; }
  const std::string& name() const noexcept { return name_; }
  std::uint16_t mtu() const noexcept { return mtu_; }
  std::uint16_t rx_queues() const noexcept { return rx_queues_; }
  bool rss() const noexcept { return rss_; }
  const PortRssPrediction& rss_prediction() const noexcept { return prediction_; }
  // The SCTP CRC32c offloads configured (sctp_checksum_offload.hpp); none without native SCTP.
  const SctpChecksumOffload& sctp_checksum_offload() const noexcept { return crc_offload_; }
  // Waits up to timeout_ms for the link to come up; true when up.
  bool wait_link_up(int timeout_ms) const;
  std::string link_text() const;

 private:
  explicit DpdkPort(std::uint16_t id) : id_(id) {}
  std::uint16_t id_;
  MacAddress mac_{};
  std::string name_;
  std::uint16_t mtu_ = 1500;
  std::uint16_t rx_queues_ = 1;
  bool rss_ = false;
  PortRssPrediction prediction_;
  SctpChecksumOffload crc_offload_;
};

}  // namespace poolreg::dpdk
