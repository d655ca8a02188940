#include "perf/dataplane/sctp_synth.hpp"

#include <cstring>

#include "registrar/common/crc32c.hpp"

namespace poolreg::perf {
namespace {

constexpr std::uint8_t kData = 0, kInit = 1, kInitAck = 2, kSack = 3, kHeartbeat = 4, kHeartbeatAck = 5,
                       kAbort = 6, kCookieEcho = 10, kCookieAck = 11;
constexpr std::uint16_t kStateCookie = 7;
constexpr std::uint32_t kWindow = 1u << 20;

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return (std::uint32_t{get16(p)} << 16) | get16(p + 2); }
void pad4(std::vector<std::uint8_t>& b) {
  while (b.size() % 4 != 0) b.push_back(0);
}

std::vector<std::uint8_t> common_header(const SynthAssociation& a, std::uint32_t tag) {
  std::vector<std::uint8_t> p;
  p.reserve(64);
  put16(p, a.local_port);
  put16(p, a.peer_port);
  put32(p, tag);
  put32(p, 0);  // checksum, filled by finish()
  return p;
}

void chunk_header(std::vector<std::uint8_t>& p, std::uint8_t type, std::uint8_t flags, std::size_t length) {
  p.push_back(type);
  p.push_back(flags);
  put16(p, static_cast<std::uint16_t>(length));
}

std::vector<std::uint8_t> finish(std::vector<std::uint8_t> p) {
  std::memset(p.data() + 8, 0, 4);  // the checksum covers the packet with its own field zeroed
  const std::uint32_t crc = crc32c(p);
  // The CRC goes out least significant byte first (RFC 9260 appendix A).
  p[8] = static_cast<std::uint8_t>(crc);
  p[9] = static_cast<std::uint8_t>(crc >> 8);
  p[10] = static_cast<std::uint8_t>(crc >> 16);
  p[11] = static_cast<std::uint8_t>(crc >> 24);
  return p;
}

}  // namespace

std::uint32_t packet_tag(const std::uint8_t* packet, std::size_t length) {
  return length >= 12 ? get32(packet + 4) : 0;
}

std::vector<std::uint8_t> build_init(const SynthAssociation& a, std::uint16_t streams) {
  std::vector<std::uint8_t> p = common_header(a, 0);  // INIT: verification tag 0
  chunk_header(p, kInit, 0, 20);
  put32(p, a.local_tag);
  put32(p, kWindow);
  put16(p, streams);  // outbound streams
  put16(p, streams);  // inbound streams
  put32(p, a.next_tsn);
  return finish(std::move(p));
}

std::vector<std::uint8_t> build_cookie_echo(const SynthAssociation& a, std::span<const std::uint8_t> cookie) {
  std::vector<std::uint8_t> p = common_header(a, a.peer_tag);
  chunk_header(p, kCookieEcho, 0, 4 + cookie.size());
  p.insert(p.end(), cookie.begin(), cookie.end());
  pad4(p);
  return finish(std::move(p));
}

std::vector<std::uint8_t> build_data(SynthAssociation& a, std::uint32_t ppid, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> p = common_header(a, a.peer_tag);
  chunk_header(p, kData, 0x03, 16 + payload.size());  // beginning and end of one message, ordered
  put32(p, a.next_tsn++);
  put16(p, 0);  // stream 0
  put16(p, a.next_ssn++);
  put32(p, ppid);
  p.insert(p.end(), payload.begin(), payload.end());
  pad4(p);
  return finish(std::move(p));
}

std::vector<std::uint8_t> build_sack(SynthAssociation& a) {
  std::vector<std::uint8_t> p = common_header(a, a.peer_tag);
  chunk_header(p, kSack, 0, 16);
  put32(p, a.peer_cum_tsn);
  put32(p, kWindow);
  put16(p, 0);  // gap blocks
  put16(p, 0);  // duplicate TSNs
  a.sack_due = false;
  return finish(std::move(p));
}

std::vector<std::uint8_t> build_heartbeat_ack(const SynthAssociation& a, std::span<const std::uint8_t> info) {
  std::vector<std::uint8_t> p = common_header(a, a.peer_tag);
  chunk_header(p, kHeartbeatAck, 0, 4 + info.size());
  p.insert(p.end(), info.begin(), info.end());
  pad4(p);
  return finish(std::move(p));
}

std::vector<std::uint8_t> build_abort(const SynthAssociation& a) {
  std::vector<std::uint8_t> p = common_header(a, a.peer_tag);
  chunk_header(p, kAbort, 0, 4);
  return finish(std::move(p));
}

PeerInput consume(SynthAssociation& a, const std::uint8_t* packet, std::size_t length, std::uint8_t count_type) {
  PeerInput in;
  if (length < 12) return in;
  if (get32(packet + 4) != a.local_tag) {
    in.wrong_tag = true;
    return in;
  }
  std::size_t at = 12;
  while (at + 4 <= length) {
    const std::uint8_t type = packet[at];
    const std::uint16_t chunk_length = get16(packet + at + 2);
    if (chunk_length < 4 || at + chunk_length > length) break;
    const std::uint8_t* c = packet + at;
    switch (type) {
      case kInitAck:
        if (chunk_length >= 20) {
          in.init_ack = true;
          a.peer_tag = get32(c + 4);
          a.peer_cum_tsn = get32(c + 16) - 1;  // nothing received yet
          for (std::size_t p = 20; p + 4 <= chunk_length;) {
            const std::uint16_t ptype = get16(c + p), plen = get16(c + p + 2);
            if (plen < 4 || p + plen > chunk_length) break;
            if (ptype == kStateCookie) in.cookie.assign(c + p + 4, c + p + plen);
            p += (plen + 3u) & ~3u;
          }
        }
        break;
      case kCookieAck:
        in.cookie_ack = true;
        a.established = true;
        break;
      case kData:
        if (chunk_length >= 17) {
          ++in.data_chunks;
          const std::uint32_t tsn = get32(c + 4);
          // A retransmission (the peer's timer ran out before our SACK went) is not counted again.
          const bool fresh = static_cast<std::int32_t>(tsn - a.peer_cum_tsn) > 0;
          if (tsn == a.peer_cum_tsn + 1) a.peer_cum_tsn = tsn;  // loss-free path: in order
          a.sack_due = true;
          if (c[16] < 32) in.asap_types |= 1u << c[16];
          if (fresh && a.keep_payloads) in.payloads.emplace_back(c + 16, c + chunk_length);
          if (fresh && c[16] == count_type) {
            ++in.counted;
            ++a.answers;
          }
        }
        break;
      case kAbort:
        in.abort = true;
        a.aborted = true;
        break;
      case kHeartbeat:
        ++in.heartbeats;
        in.heartbeat_info.assign(c + 4, c + chunk_length);  // the Heartbeat Information TLV
        break;
      default:
        break;  // SACK, ...: nothing to do for a load source
    }
    at += (chunk_length + 3u) & ~3u;
  }
  return in;
}

}  // namespace poolreg::perf
