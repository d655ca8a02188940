// PacketProcessor: the per-lcore packet path between an RX burst and usrsctp: classifies every
// frame (parse_frame), answers ARP / ICMP echo / ICMPv6 echo / neighbour solicitation in the same
// mbuf, learns neighbours (ARP, neighbour advertisements, and every on-link SCTP peer's frames), hands SCTP-over-UDP packets and
// native SCTP packets (IP protocol 132, to one of the sink's native_port_ours(); a native peer is
// IP + UDP port 0) to the sctp::SctpPacketSink (the lane's SctpEngine), drops and counts the rest;
// and, as the lane's sctp::SctpPacketPath of this port, turns outgoing SCTP packets into
// Ethernet/IP/UDP frames, or Ethernet/IP ones for native peers (send_sctp): the MAC/neighbour
// knowledge stays here, the engine only names IP + UDP port.
// Frames to send collect in an internal TX batch that the poll loop flushes to its TX queue
// (take_tx()).
//
// With several poll lcores (set_steering, steering.hpp) an SCTP frame whose peer (IP + UDP source
// port, or + SCTP source port for native SCTP) belongs to another lane is moved to that lane's inbox instead, and ARP / neighbour-solicitation frames are
// also copied to every other lane; the owner feeds its inbox to process_steered().
//
// Contract: one PacketProcessor per poll lcore, used only by that lcore (no locks, no atomics
// except the single-writer counters). It does not call rte_eth_*: the poll loop owns the port,
// which keeps the processor testable with crafted mbufs. Every mbuf given to process_burst() is
// either freed or moved to the TX batch; nothing is kept.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "dataplane/dpdk/frame_builder.hpp"
#include "dataplane/dpdk/frame_parser.hpp"
#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/lcore_counters.hpp"
#include "dataplane/dpdk/neighbor_request_limiter.hpp"
#include "dataplane/dpdk/neighbor_table.hpp"
#include "dataplane/dpdk/sctp_checksum_offload.hpp"
#include "dataplane/dpdk/steering.hpp"
#include "dataplane/sctp/sctp_packet_path.hpp"

namespace poolreg::dpdk {

class PacketProcessor final : public sctp::SctpPacketPath {
 public:
  // config, counters, pool and sink must outlive the processor. sink may be null (SCTP packets
  // are then dropped as unsupported_protocol). port_index: this processor's port among the
  // lane's ports (a lane has one processor per port): its path_index(), reported with every
  // packet it hands on.
  PacketProcessor(const InterfaceConfig& config, LcoreCounters& counters, rte_mempool* pool,
                  sctp::SctpPacketSink* sink, std::size_t tx_capacity = 1024, std::uint8_t port_index = 0);
  ~PacketProcessor() override;  // frees mbufs still in the TX batch
  PacketProcessor(const PacketProcessor&) = delete;
  PacketProcessor& operator=(const PacketProcessor&) = delete;

  void set_sink(sctp::SctpPacketSink* sink) noexcept { sink_ = sink; }
  // Before the lcore runs. steering.inboxes must outlive the processor.
  void set_steering(const Steering& steering) noexcept { steering_ = steering; }
  // Before the lcore runs: what the port offloads of the SCTP CRC32c (sctp_checksum_offload.hpp),
  // and whether the lane's engine left the checksum to the packet path
  // (SctpEngineConfig::crc32c_offload): SCTP-over-UDP packets are then checked here in software
  // before they reach the sink (a bad one is dropped as sctp_bad_checksum), as native ones
  // always are (by the port or frame_parser).
  void set_sctp_checksum_offload(SctpChecksumOffload port, bool engine_leaves_crc) noexcept {
    crc_offload_ = port;
    engine_leaves_crc_ = engine_leaves_crc;
  }

  // Consumes n received mbufs.
  void process_burst(rte_mbuf* const* packets, std::uint16_t n);
  // Consumes n mbufs another lane put into this lane's inbox: SCTP frames of this lane's peers
  // (handed to the sink; one whose source steers here but is another lane's alias goes on to
  // that lane, once) and neighbour frames (learned, not answered).
  void process_steered(rte_mbuf* const* packets, std::uint16_t n);
  // Builds and queues one Ethernet/IP/UDP frame carrying an SCTP packet (Ethernet/IP when
  // to.udp_port is 0: native SCTP) to the next hop the port's routes give (the peer when on-link,
  // else its gateway); false (counted) when the port has no route (no_route), the next hop's MAC
  // is unknown (no_neighbor: an ARP request or IPv6 neighbour solicitation for the next hop goes
  // out instead, at most one per next hop and second: neighbor_requests_suppressed; the packet
  // is not held, SCTP retransmits it), no mbuf, too big or the TX batch is full.
  bool send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) override;
  // The port has a route to the peer and the neighbour table knows the next hop's MAC.
  bool reaches(const sctp::SctpPeer& to) const override;
  std::uint8_t path_index() const noexcept override { return port_index_; }
  // Native peers' frames get their CRC32c from the port where it offers TX offload.
  bool offloads_crc32c(const sctp::SctpPeer& to) const noexcept override {
    return crc_offload_.tx && to.udp_port == 0;
  }

  // The TX batch: the poll loop sends tx()[0..tx_count()) and then calls tx_sent(k) with the
  // number the device took; the rest are freed and counted as tx_full.
  rte_mbuf** tx() noexcept { return tx_.data(); }
  std::uint16_t tx_count() const noexcept { return static_cast<std::uint16_t>(tx_count_); }
  void tx_sent(std::uint16_t sent);

  NeighborTable& neighbors() noexcept { return neighbors_; }
  const InterfaceConfig& config() const noexcept { return config_; }
  LcoreCounters& counters() noexcept { return counters_; }

 private:
  bool queue_tx(rte_mbuf* m);
  void answer(rte_mbuf* m, bool ok);
  void request_neighbor(const NextHop& hop, bool ipv6);
  // Hands a frame's SCTP packet to the sink (counted), or drops it when there is none.
  void to_sink(const FrameVerdict& v, const std::uint8_t* frame);
  // Steering: true when the frame went to (or was dropped for) another lane.
  bool steer_away(rte_mbuf* m, const FrameVerdict& v);
  // The frame's source steers to this lane: the lane holding it as an alias, else this one.
  unsigned alias_owner(const FrameVerdict& v) const;
  // Into lane `owner`'s inbox (dropped and counted when it is full).
  void hand_over(rte_mbuf* m, unsigned owner);
  // Copies a neighbour frame to every other lane (before it is answered in place).
  void share_neighbor(rte_mbuf* m);

  const InterfaceConfig& config_;
  LcoreCounters& counters_;
  rte_mempool* pool_;
  sctp::SctpPacketSink* sink_;
  Steering steering_;
  NeighborTable neighbors_;
  NeighborRequestLimiter request_limiter_;  // one request per next hop and second (TSC cycles)
  std::vector<rte_mbuf*> tx_;
  std::size_t tx_count_ = 0;
  std::uint8_t port_index_ = 0;
  SctpChecksumOffload crc_offload_;
  bool engine_leaves_crc_ = false;
};

}  // namespace poolreg::dpdk
