// DpdkBackend: poolregd's DPDK dataplane (poolregd --dpdk, or [dpdk] enabled = true).
//
// What runs where:
// - main lcore = control lcore: the daemon's EventLoop thread. It runs the registrar logic
//   (AsapServer, EnrpServer, handlespace writes, timers), the control socket, metrics, TCP on
//   kernel sockets, and runtime::LaneTransport (rings to the poll lcores). It never polls a port and
//   never calls usrsctp.
// - every worker lcore of the EAL core list is a poll lcore, lane i: TX on port queue i, RX on
//   queue i when the port has that many (RSS over them where the port offers it),
//   Ethernet/ARP/IPv4/IPv6/ICMP/UDP (PacketProcessor), its own copy of usrsctp (lane 0: the
//   linked one; lane i > 0: a private dlmopen'd copy, sctp::UsrsctpStack) in AF_CONN mode with
//   no usrsctp threads (sctp::SctpEngine) including usrsctp's timers, and its own rings to the
//   control lcore. SCTP frames are steered by peer (IP, UDP port) to the lane that owns them
//   (steering.hpp), so an association lives on exactly one lcore. With enable_poll_resolution()
//   (dpdk.resolve_on_poll_lcore) each lane answers ASAP Handle Resolutions itself against the
//   lock-free handlespace (a runtime::LaneResolver and QSBR reader slot per lane); every other decoded SCTP
//   message (whole ASAP/ENRP messages) crosses to the control lcore, replies come back.
//   Every port of dpdk.ports (default: every probed port) is served by every lane, one
//   PacketProcessor per lane and port; each port answers for its own addresses (dpdk.addresses;
//   without them for all the registrar's addresses) and sends through its own route table
//   (route_table.hpp), built here once and read by every lane.
// Operator capture: every lane has a LaneCaptureTap (disarmed: one atomic load per burst);
// capture() starts and ends pcapng captures from the control lcore.
// Start-up: create() (EAL init, mbuf pool, port, engine, rings, transport; the SCTP listeners are
// opened through transport() before start()), optionally enable_poll_resolution(), start()
// launches the poll lcore. Telemetry commands
// /poolreg/* are registered (dpdk_telemetry.hpp).
// Stop: stop() (also from the destructor) lets closing associations finish (bounded), stops the
// poll lcore and then tears everything down in reverse order; EAL is cleaned up last.
//
// Threading: create/start/stop/destroy on the control (main) thread, the EventLoop's thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/capture_session.hpp"
#include "dataplane/dpdk/dpdk_telemetry.hpp"
#include "dataplane/dpdk/eal_runtime.hpp"
#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/poll_loop.hpp"
#include "dataplane/dpdk/routing_config.hpp"
#include "dataplane/dpdk/rss_steering.hpp"
#include "dataplane/runtime/alias_owner_table.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_transport.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::dpdk {

struct DpdkBackendConfig {
  std::vector<std::string> eal_argv;  // argv for rte_eal_init, argv[0] first
  std::vector<std::uint16_t> port_ids;  // the ports to use; empty: every probed port
  std::uint32_t mempool_size = 8191;
  std::uint16_t burst = 32;
  std::uint32_t idle_sleep_us = 50;
  bool resolve_on_poll_lcore = true;  // the daemon calls enable_poll_resolution() when set
  bool rss_steering = true;           // dpdk.rss_steering: lanes follow the ports' RSS (rss_steering.hpp)
  // The listen addresses (interface.ipv4/ipv6), SCTP-over-UDP port, VLAN; per port a copy with the
  // port's MAC and MTU and, by `routing` (plan_port_routing), its own addresses and route table.
  InterfaceConfig interface;
  RoutingConfig routing;  // dpdk.addresses / routes / gateway; empty: every port, every address, on-link
  // SCTP ports open to native SCTP peers (IP protocol 132: every lane's engine accept_native()s
  // them); interface.sctp_native must be set with them, else protocol 132 is dropped.
  std::vector<std::uint16_t> native_ports;
  sctp::SctpEngineConfig engine;
};

class DpdkBackend {
 public:
  static Expected<std::unique_ptr<DpdkBackend>, std::string> create(const DpdkBackendConfig& config,
                                                                    runtime::EventLoop& loop,
                                                                    runtime::MessageHandler& handler);
  ~DpdkBackend();
  DpdkBackend(const DpdkBackend&) = delete;
  DpdkBackend& operator=(const DpdkBackend&) = delete;

  runtime::LaneTransport& transport() noexcept { return *transport_; }
  // Handle Resolutions are answered on the poll lcore from `hs` (a reader slot of `domain` is
  // taken for it; both must outlive the backend) with the ASAP settings of `asap`. Before
  // start(). Fails when the domain has no free reader slot.
  // Endpoint keep-alives of the PEs AsapServer hands over run on the poll lcores
  // (runtime::LaneKeepAlives, a reader slot of `domain` per lane; asap.keepalive_on_lanes decides
  // in AsapServer). Before start(). Fails when the domain has no free reader slot.
  Expected<void, std::string> enable_lane_keepalives(const handlespace::Handlespace& hs,
                                                     handlespace::QsbrDomain& domain,
                                                     const asap::AsapConfig& asap);
  Expected<void, std::string> enable_poll_resolution(const handlespace::Handlespace& hs,
                                                     handlespace::QsbrDomain& domain, const asap::AsapConfig& asap);
  Expected<void, std::string> start();
  void stop();
  // "port 0 net_af_packet0 02:..:01 (Link up ..., 2 RX queues, 10.0.0.1/24, default via
  // 10.0.0.254); port 1 ..., poll lcores 1,2, SCTP over UDP 9899, native SCTP"
  std::string describe() const;
  std::size_t lane_count() const noexcept { return lanes_.size(); }
  unsigned poll_lcore(std::size_t lane = 0) const noexcept { return lanes_[lane]->lcore; }
  // Native SCTP frames go to the engines (config.interface.sctp_native).
  bool native_sctp() const noexcept { return config_.interface.sctp_native; }
  const LcoreCounters& counters(std::size_t lane = 0) const noexcept { return counters_[lanes_[lane]->lcore]; }
  // The ports in use: their ethdev ids (read_port_counters(), port_stats.hpp) and device names.
  std::size_t port_count() const noexcept { return ports_.size(); }
  std::uint16_t port_id(std::size_t index) const noexcept { return ports_[index]->id(); }
  const std::string& port_name(std::size_t index) const noexcept { return ports_[index]->name(); }
  // Operator captures of the ports' traffic into pcapng files (control lcore; capture_session.hpp).
  CaptureSession& capture() noexcept { return *capture_; }

 private:
  // One poll lcore and everything it owns. Members are destroyed bottom-up: the loop, then the
  // engine (usrsctp_finish), then the resolver it forgets associations into, and the private
  // usrsctp copy last.
  struct Lane {
    unsigned lcore = 0;
    std::unique_ptr<sctp::UsrsctpStack> private_stack;  // lanes > 0
    std::unique_ptr<runtime::LaneRing> commands;
    std::unique_ptr<runtime::LaneRing> events;
    std::unique_ptr<runtime::LaneOrder> order;  // engine stamps, LaneTransport finishes
    runtime::LaneRings rings;                   // the three above + the control lcore's wake fd
    rte_ring* inbox = nullptr;  // steering.hpp (lanes > 1)
    std::vector<std::unique_ptr<PacketProcessor>> processors;  // by port index
    std::unique_ptr<runtime::LaneEventSink> event_sink;
    std::unique_ptr<runtime::LaneResolver> resolver;
    std::unique_ptr<runtime::LaneKeepAlives> keepalives;  // after the sink it reports into
    std::unique_ptr<LaneCaptureTap> capture;  // outlives the loop that taps it
    std::unique_ptr<sctp::SctpEngine> engine;
    std::unique_ptr<PollLoop> poll;
  };
  DpdkBackend() = default;
  Expected<void, std::string> add_lane(unsigned lcore);
  // After the ports are open: rss_ for the families every port's RSS predicts (several lanes).
  void plan_rss_steering();
  void free_rings(Lane& lane);

  DpdkBackendConfig config_;
  std::unique_ptr<EalRuntime> eal_;
  std::array<rte_mempool*, RTE_MAX_NUMA_NODES> pools_{};  // per NUMA socket with poll lcores
  static constexpr std::size_t kMaxPorts = 16;
  std::vector<std::unique_ptr<DpdkPort>> ports_;
  std::vector<std::unique_ptr<InterfaceConfig>> interfaces_;  // by port index: its MAC and MTU
  std::unique_ptr<LcoreCounters[]> counters_;
  int wake_fd_ = -1;
  std::atomic<std::uint64_t> ids_{0};
  SteadyClock clock_;
  // Several poll lcores: the aliases their engines publish, consulted by every lane's steering
  // (steering.hpp); outlives the lanes.
  std::unique_ptr<runtime::AliasOwnerTable> aliases_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<rte_ring*> inboxes_;  // inboxes_[lane], what every PacketProcessor steers into
  // Ownership by the ports' RSS (rss_steering.hpp) when every port took its key and table for a
  // family and there are several lanes; null: software steering only. Read by every lane.
  std::unique_ptr<RssSteering> rss_;
  std::string rss_note_;  // why not (for describe()), empty when rss_ predicts both families
  std::unique_ptr<runtime::LaneTransport> transport_;
  std::unique_ptr<CaptureSession> capture_;
  TelemetrySource telemetry_;
  bool launched_ = false;
};

}  // namespace poolreg::dpdk
