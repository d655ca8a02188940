// KernelLanes: poolregd's SCTP on kernel sockets (the default backend): N lanes (KernelLane, one
// thread each, "lane0".."laneN-1"), each with its own UDP socket of one SO_REUSEPORT group on
// asap.udp_encapsulation_port and its own usrsctp copy (lane 0 the linked one, lane i > 0 a
// private dlmopen'd one: sctp::UsrsctpStack), joined to the control thread by one
// runtime::LaneTransport, the same control-side transport the DPDK poll lcores use.
//
// What runs where:
// - control thread (the daemon's EventLoop): AsapServer, EnrpServer, handlespace writes, timers,
//   TCP (a KernelTransport beside, see runtime/combined_transport.hpp), the LaneTransport.
// - lane i: SCTP over UDP for the peers runtime::steer_lane gives it (packets of other lanes'
//   peers the kernel put on its socket go to their owner's inbox), and with
//   enable_lane_resolution() (registrar.resolve_on_lanes) the Handle Resolutions of those peers,
//   answered from the lock-free handlespace (a LaneResolver and QSBR reader slot per lane), and
//   with enable_lane_keepalives() the endpoint keep-alives of the PEs registered over those
//   peers' associations that AsapServer hands over (asap.keepalive_on_lanes; a LaneKeepAlives,
//   its timer wheel and another reader slot per lane).
//
// The lane ceiling: a lane's usrsctp copy after the first is a glibc link-map namespace (16 in
// all, static TLS for only a few by default): create() fails with the loader's reason, the lane
// that could not get its copy and sctp::kLaneCeilingHint. At most kMaxLanes lanes.
//
// Steering: lane i's socket is the i-th bound of the group; create() attaches a cBPF program
// (reuseport_steering.hpp) computing runtime::steer_lane, so the kernel delivers each datagram to
// its owner lane's socket. Where that fails (kernel_steering() false, steering_warning() says why)
// the lanes hand packets over to their owners (software steering, which stays as the fallback).
//
// Native SCTP (IP protocol 132, config.native_ports not empty): every lane gets a RawSctpSource
// as its engine's second path (index 1, UDP is 0); lane 0's reads the host's protocol-132
// packets and steers them in software (kernel_lane.hpp), the others only send. Why not a cBPF
// filter per lane's raw socket: an IPv6 raw socket's filter sees no IPv6 header, and a filter per
// socket still costs every socket a look at every packet; one reader plus the existing inbox
// hand-over is simple and exact. Lanes whose peers are native pay one copy per packet. When the
// raw socket cannot be opened (no CAP_NET_RAW) the lanes run UDP only and native_warning() says
// why; native_ports are the SCTP listener ports native peers may reach (asap/enrp.sctp_native).
//
// Multi-homed and ADD-IP peers: with several lanes every engine publishes the aliases it holds
// (a peer's other addresses) in one runtime::AliasOwnerTable, and the lane steering gives such an
// address to hands its packets to the holder (kernel_lane.hpp).
//
// Start-up: create() (sockets, usrsctp copies, engines, rings, transport; the SCTP listeners are
// opened through transport() before start()), optionally enable_lane_resolution() and
// enable_lane_keepalives(), start()
// launches the threads. Stop: stop() (also from the destructor) lets closing associations finish
// (bounded), joins the threads; then everything is torn down in reverse order.
//
// Threading: every member on the control thread (the EventLoop's).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/kernel/kernel_lane.hpp"
#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/kernel/native_listen_filter.hpp"
#include "dataplane/kernel/raw_sctp_source.hpp"
#include "dataplane/kernel/udp_packet_source.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_resolver.hpp"
#include "dataplane/runtime/lane_transport.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::kernel {

struct KernelLanesConfig {
  unsigned lanes = 1;
  std::uint16_t udp_port = runtime::kSctpUdpEncapsulationPort;  // 0: a free port
  std::optional<IpAddress> bind_address;  // none: the wildcard
  sctp::SctpEngineConfig engine;
  // SCTP ports open to native SCTP peers (raw IP socket); empty: native SCTP off.
  std::vector<std::uint16_t> native_ports;
  // The local addresses each of those ports listens on (asap.listen, enrp.listen; a port not
  // listed, or listed without addresses, takes any local address): native_listen_filter.hpp.
  std::vector<NativeListener> native_listeners;
};

// registrar.lanes = 0: every CPU this process may run on but one, at least 1.
unsigned automatic_lane_count();

class KernelLanes {
 public:
  static constexpr unsigned kMaxLanes = 16;  // glibc link-map namespaces (the program's is one of them)

  static Expected<std::unique_ptr<KernelLanes>, std::string> create(const KernelLanesConfig& config,
                                                                    runtime::EventLoop& loop,
                                                                    runtime::MessageHandler& handler);
  ~KernelLanes();
  KernelLanes(const KernelLanes&) = delete;
  KernelLanes& operator=(const KernelLanes&) = delete;

  runtime::LaneTransport& transport() noexcept { return *transport_; }
  // Handle Resolutions answered on the lanes from `hs` (a reader slot of `domain` per lane; both
  // must outlive the lanes). Before start(). Fails when the domain has no free reader slot.
  Expected<void, std::string> enable_lane_resolution(const handlespace::Handlespace& hs,
                                                     handlespace::QsbrDomain& domain, const asap::AsapConfig& asap);
  // Endpoint keep-alives of the PEs AsapServer hands over run on the lanes (runtime::LaneKeepAlives,
  // a reader slot of `domain` per lane; hs and domain must outlive the lanes): the transport's
  // watch_keepalives() takes PEs from now on. Before start(). Fails when the domain has no free slot.
  Expected<void, std::string> enable_lane_keepalives(const handlespace::Handlespace& hs,
                                                     handlespace::QsbrDomain& domain,
                                                     const asap::AsapConfig& asap);
  Expected<void, std::string> start();
  void stop();

  std::size_t lane_count() const noexcept { return lanes_.size(); }
  const KernelLaneCounters& counters(std::size_t lane) const noexcept { return *lanes_[lane]->counters; }
  std::uint16_t udp_port() const noexcept { return udp_port_; }
  // True when the kernel delivers every datagram to its owner lane's socket (the
  // reuseport_steering.hpp program is attached and passed its probe); otherwise the lanes hand
  // each other's packets over (software steering, always there as the fallback).
  bool kernel_steering() const noexcept { return kernel_steering_; }
  // Why kernel steering is off with more than one lane (empty when on, or with one lane): one
  // warning for the daemon's log.
  const std::string& steering_warning() const noexcept { return steering_warning_; }
  // True when the lanes carry native SCTP (raw sockets open); native_warning(): why not, when
  // it was asked for (one line for the log).
  bool native_sctp() const noexcept { return native_; }
  const std::string& native_warning() const noexcept { return native_warning_; }
  // "2 kernel lanes on UDP 9899 (SO_REUSEPORT, steered by cBPF), Handle Resolutions on the lanes"
  std::string describe() const;

 private:
  // One lane and everything it owns. Members are destroyed bottom-up: the lane loop, then the
  // engine (usrsctp_finish), the resolver it forgets associations into, the sink, the socket,
  // and the private usrsctp copy last.
  struct Lane {
    std::unique_ptr<sctp::UsrsctpStack> private_stack;  // lanes > 0
    std::unique_ptr<KernelLaneCounters> counters;
    std::unique_ptr<runtime::LaneRing> commands;
    std::unique_ptr<runtime::LaneRing> events;
    std::unique_ptr<runtime::LaneRing> inbox;
    std::unique_ptr<runtime::LaneOrder> order;  // engine stamps, LaneTransport finishes
    runtime::LaneRings rings;
    int wake_fd = -1;  // the lane's eventfd
    std::unique_ptr<UdpPacketSource> source;
    std::unique_ptr<RawSctpSource> native;  // native SCTP (lane 0's reads, the others send)
    std::unique_ptr<runtime::LaneEventSink> event_sink;
    std::unique_ptr<runtime::LaneResolver> resolver;
    std::unique_ptr<runtime::LaneKeepAlives> keepalives;  // after the sink it reports into
    std::unique_ptr<sctp::SctpEngine> engine;
    std::unique_ptr<KernelLane> loop;
    std::thread thread;
  };
  KernelLanes() = default;
  Expected<void, std::string> add_lane(unsigned index);
  // After every lane's socket is bound: the cBPF program on the group, checked by probes.
  void attach_kernel_steering();

  KernelLanesConfig config_;
  NativeListenFilter listen_filter_;  // read by lane 0 (the native reader)
  // Several lanes: the aliases each lane's engine publishes and every lane's steering consults
  // (runtime/alias_owner_table.hpp); outlives the lanes.
  std::unique_ptr<runtime::AliasOwnerTable> aliases_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  int control_wake_fd_ = -1;  // the control thread's eventfd (LaneRings::wake_fd)
  std::uint16_t udp_port_ = 0;
  std::atomic<std::uint64_t> ids_{0};
  SteadyClock clock_;
  std::unique_ptr<runtime::LaneTransport> transport_;
  bool resolving_ = false;
  bool kernel_steering_ = false;
  std::string steering_warning_;
  bool native_ = false;
  std::string native_warning_;
  bool started_ = false;
};

}  // namespace poolreg::kernel
