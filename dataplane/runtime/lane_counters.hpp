// LaneCounters: what one lane (a DPDK poll lcore or a kernel lane thread) counts, whatever its
// packet source: packets in and out, SCTP packets handed to its SctpEngine and steered between
// lanes, ASAP/ENRP messages by type in and out of the engine, the Handle Resolutions its
// LaneResolver answered (by outcome), its loop iterations and the resolution latency histogram.
// What only one source has (DPDK: ARP, ICMP, drops by frame reason; kernel: socket drops) lives
// in the source's type, which derives from this one (dpdk::LcoreCounters,
// kernel::KernelLaneCounters), so telemetry and `poolctl stats` read one block per lane.
//
// Memory ordering: each counter is a std::atomic<uint64_t> updated with a relaxed load + store by
// its single writer, the lane's thread (a plain add on x86-64, no locked instruction), and read
// with a relaxed load by any thread (control socket, telemetry), so readers see monotonic,
// possibly slightly stale values and the lane takes no lock. One cache-line aligned block per
// lane: no false sharing between lanes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "registrar/common/counter_descriptor.hpp"
#include "registrar/common/latency_histogram.hpp"

namespace poolreg::runtime {

// A single-writer counter (see the header comment).
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // A gauge's current value (same single writer).
  void set(std::uint64_t v) noexcept { v_.store(v, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// ASAP message types 1..14 (RFC 5352 2.2); index 0 counts anything else.
inline constexpr std::size_t kAsapTypeSlots = 15;
const char* asap_type_name(std::size_t type) noexcept;  // "registration", ... ; "other" for 0
inline std::size_t asap_type_slot(std::uint8_t type) noexcept { return type >= 1 && type <= 14 ? type : 0; }

// Handle Resolution latency as seen by the lane: from the SCTP packet that completed the request
// to usrsctp taking (or queueing) the response. Answered on the lane (LaneResolver): decode,
// resolve, encode and send there. Forwarded: both ring hops and the control thread included;
// sampled per association while at most SctpEngine::kMaxPendingResolutions are in flight; a
// malformed request answered with an ASAP Error leaves its sample open (pairs shift by one).

struct LaneCounters;
// Every single counter of LaneCounters with its descriptor (stats/telemetry key, Prometheus
// family poolreg_lane_*_total, help), in lane_counters.cpp. The Counter fields are the first
// members of LaneCounters and the table lists them in declaration order (the lint test checks
// that the table covers them all).
std::span<const DescribedField<LaneCounters, Counter>> lane_counter_fields() noexcept;

struct alignas(64) LaneCounters {
  Counter rx_packets;        // read from the source (frames, datagrams)
  Counter rx_bytes;
  Counter tx_packets;
  Counter tx_bytes;
  Counter sctp_packets_in;   // handed to this lane's engine (own + steered in)
  Counter sctp_steered_out;  // read here, handed to the lane that owns the peer
  Counter steered_in;        // taken from this lane's inbox
  Counter asap_messages_in;  // whole ASAP messages received on associations of this lane
  Counter enrp_messages_in;
  Counter messages_out;  // ASAP/ENRP messages handed to usrsctp
  Counter loop_iterations;
  // Handle Resolutions answered on this lane (LaneResolver), by outcome; the others went to the
  // control thread (asap_in_handle_resolution counts both).
  Counter resolutions_answered;      // pool known
  Counter resolutions_unknown_pool;  // answered 0x9
  Counter resolutions_rate_limited;  // answered 0x9 by asap.hr_rate_limit
  Counter resolutions_truncated;     // fewer PEs so that the answer fits one message
  Counter resolution_pes_returned;
  Counter resolutions_forwarded;  // decode errors / unknown parameters: AsapServer answers
  // Handed over behind an earlier message of their association that the control thread had not
  // applied yet (order per association, lane_order.hpp): AsapServer answers them after it.
  Counter resolutions_after_write_forwarded;
  // SCTP multi-homing (sctp_engine.hpp "Multi-homing"): usrsctp reported an association's path
  // unreachable; our output then moved to another address the peer listed.
  Counter sctp_paths_unreachable;
  Counter sctp_path_failovers;
  // The engine's peer endpoints (sctp/remote_endpoint_table.hpp), published at its timer tick:
  // new peers refused (pending set full), pending endpoints freed, pending endpoints now (gauge).
  Counter sctp_endpoints_refused;
  Counter sctp_endpoints_expired;
  Counter sctp_pending_endpoints;
  // Pending endpoints that only sent INITs, freed early for a new peer (INIT flood), and COOKIE
  // ECHOs dropped because their cookie named another endpoint (an evicted one).
  Counter sctp_endpoints_evicted;
  Counter sctp_cookies_for_other_endpoint;
  // Bad SCTP input the engine dropped: a CRC32c mismatch it found (packets their source did not
  // check, e.g. SCTP over UDP), and usrsctp's count of packets with a verification tag that is
  // not their association's (published at the timer tick).
  Counter sctp_bad_crc32c;
  Counter sctp_bad_vtag;
  // Several lanes: SCTP packets this lane (the one steering gives their source to) handed to the
  // lane holding that address as an alias of a multi-homed or ADD-IP peer's association
  // (alias_owner_table.hpp).
  Counter sctp_alias_steered;
  // Aliases this lane's engine published in the shared table for the other lanes, and those it
  // could not (another lane holds the address, or the table is full: their packets reach the
  // association only when they steer to this lane).
  Counter sctp_aliases_published;
  Counter sctp_alias_publish_refused;
  // Associations that came up on a path usrsctp held unreachable (INIT or COOKIE ECHO lost more
  // than Path.Max.Retrans times); the engine asked for a heartbeat at once.
  Counter sctp_paths_inactive_at_up;
  // Endpoint keep-alives of the PEs whose monitoring the control thread handed to this lane
  // (lane_keepalives.hpp, asap.keepalive_on_lanes). AsapServer's keepalives_sent / keepalive_acks
  // count only the control thread's own; keepalive_timeouts there counts both.
  Counter keepalives_sent;           // Keep-Alives (H=0) the lane sent
  Counter keepalive_acks;            // Acks consumed here (not forwarded)
  Counter keepalive_acks_forwarded;  // Acks left to the control thread (unknown here, other association,
                                     // malformed)
  Counter keepalive_timeouts;        // no Ack in time: reported to the control thread
  Counter keepalive_not_ours;        // revalidation found the PE no longer ours there: dropped, reported
  Counter keepalive_send_failures;   // not taken: queue full (timeout runs) or association gone (dropped)
  Counter keepalive_batches;         // sends of several Keep-Alives due in one tick on one association
  Counter keepalive_watched;         // gauge: PEs monitored here now
  std::array<Counter, kAsapTypeSlots> asap_in_by_type;
  std::array<Counter, kAsapTypeSlots> asap_out_by_type;
  // The one latency histogram type (registrar/common): this lane records, the control thread and
  // telemetry read concurrently (relaxed, see its header).
  LatencyHistogram resolution_latency;

  // Every single counter of the lane (not the per-type / histogram arrays) with its descriptor
  // (lane_counter_fields()): visit(const CounterDescriptor& d, std::uint64_t value); d.key is
  // the name telemetry and `poolctl stats` show.
  template <typename Visit>
  void for_each_lane_counter(Visit&& visit) const {
    for (const auto& f : lane_counter_fields()) visit(f.describe, (this->*f.field).get());
  }
};

}  // namespace poolreg::runtime
