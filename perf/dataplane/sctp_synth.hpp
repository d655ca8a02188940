// A synthetic SCTP peer for benchmarks: builds the SCTP packets of a client association by hand
// (INIT, COOKIE ECHO, DATA, SACK, HEARTBEAT ACK, ABORT; RFC 9260 layouts, CRC32c from
// registrar/common/crc32c.hpp) and reads what the registrar sends back (INIT ACK, COOKIE ACK,
// DATA, HEARTBEAT, ABORT). No retransmission, no congestion control: it opens associations,
// sends pre-built requests in rounds and acknowledges every answer it sees, which is all a load
// source needs on a loss-free path (net_ring, loopback). What it measures is the
// registrar: its SCTP stack, ASAP decoding, resolution and answer.
//
// Packets are bare SCTP (common header first); the caller adds UDP/IP/Ethernet (RFC 6951).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace poolreg::perf {

struct SynthAssociation {
  std::uint16_t local_port = 0;  // SCTP ports
  std::uint16_t peer_port = 0;
  std::uint32_t local_tag = 0;   // our Initiate Tag: the peer puts it in its packets
  std::uint32_t peer_tag = 0;    // the peer's Initiate Tag (from INIT ACK): goes into ours
  std::uint32_t next_tsn = 0;    // our next DATA TSN (starts at the INIT's initial TSN)
  std::uint16_t next_ssn = 0;
  std::uint32_t peer_cum_tsn = 0;  // highest in-order TSN received from the peer
  bool established = false;
  bool aborted = false;
  bool sack_due = false;      // DATA arrived since our last SACK
  std::uint64_t answers = 0;  // ASAP messages of the counted type received
  bool keep_payloads = false;  // consume() copies every DATA chunk's payload (PeerInput::payloads)
};

// What one packet from the peer brought.
struct PeerInput {
  bool init_ack = false;
  std::vector<std::uint8_t> cookie;  // INIT ACK's State Cookie (to echo)
  bool cookie_ack = false;
  unsigned data_chunks = 0;
  unsigned counted = 0;  // new DATA chunks (not retransmissions) whose payload is an ASAP message of the counted type
  bool abort = false;
  bool wrong_tag = false;  // not for this association (verification tag)
  std::uint32_t asap_types = 0;  // bit t: a DATA chunk whose payload starts with ASAP type t (< 32)
  // HEARTBEAT chunks: the Heartbeat Information parameter of the last one (to echo in the ACK).
  unsigned heartbeats = 0;
  std::vector<std::uint8_t> heartbeat_info;
  // SynthAssociation::keep_payloads: the payload of each DATA chunk, in order (whole messages
  // only when the peer did not fragment them, as for ASAP answers below the path MTU).
  std::vector<std::vector<std::uint8_t>> payloads;
};

// streams: the INIT's outbound and inbound stream counts (the registrar keeps state per stream).
std::vector<std::uint8_t> build_init(const SynthAssociation& a, std::uint16_t streams = 16);
std::vector<std::uint8_t> build_cookie_echo(const SynthAssociation& a, std::span<const std::uint8_t> cookie);
// One DATA chunk (unordered off, stream 0) carrying `payload`; advances TSN and SSN.
std::vector<std::uint8_t> build_data(SynthAssociation& a, std::uint32_t ppid, std::span<const std::uint8_t> payload);
// Acknowledges everything received in order (no gap blocks), full window; clears sack_due.
std::vector<std::uint8_t> build_sack(SynthAssociation& a);
// HEARTBEAT ACK echoing a HEARTBEAT's Heartbeat Information parameter (PeerInput::heartbeat_info).
std::vector<std::uint8_t> build_heartbeat_ack(const SynthAssociation& a, std::span<const std::uint8_t> info);
// Ends the association at once (ABORT), so the registrar forgets it.
std::vector<std::uint8_t> build_abort(const SynthAssociation& a);
// Reads one SCTP packet of the peer on association `a` (updates it). count_type: the first
// payload byte (ASAP message type) of DATA chunks to count.
PeerInput consume(SynthAssociation& a, const std::uint8_t* packet, std::size_t length, std::uint8_t count_type);
// The verification tag of a packet (0 when too short).
std::uint32_t packet_tag(const std::uint8_t* packet, std::size_t length);

}  // namespace poolreg::perf
