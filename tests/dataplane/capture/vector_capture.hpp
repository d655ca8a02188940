// Helpers shared by the tshark conformance tests: the encapsulations, the synthetic endpoints
// (10.0.0.0/8, bytes in a file only) and writing one ASAP/ENRP message the way poolreg carries it.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "dataplane/capture/pcap_writer.hpp"
#include "tests/dataplane/capture/rserpool_test_vectors.hpp"

namespace poolreg::testing {

enum class Encapsulation { kSctpOverUdp, kSctp, kTcp, kUdp };

inline const char* name_of(Encapsulation e) {
  switch (e) {
    case Encapsulation::kSctpOverUdp:
      return "SctpOverUdp";
    case Encapsulation::kSctp:
      return "Sctp";
    case Encapsulation::kTcp:
      return "Tcp";
    case Encapsulation::kUdp:
      return "Udp";
  }
  return "Unknown";
}

// Readable parameter names in gtest messages.
inline void PrintTo(Encapsulation e, std::ostream* os) { *os << name_of(e); }

// tshark 4.0 decodes ENRP on SCTP and UDP but not on TCP (design.md).
inline bool carries(Encapsulation e, VectorProtocol p) {
  return !(e == Encapsulation::kTcp && p == VectorProtocol::kEnrp);
}

inline capture::Endpoint pe_endpoint() { return {IpAddress::v4(0x0a000002), 40000}; }
inline capture::Endpoint registrar_asap_endpoint() { return {IpAddress::v4(0x0a000001), capture::kAsapPort}; }
inline capture::Endpoint registrar_enrp_endpoint() { return {IpAddress::v4(0x0a000001), capture::kEnrpPort}; }
inline capture::Endpoint peer_enrp_endpoint() { return {IpAddress::v4(0x0a000003), capture::kEnrpPort}; }

// Writes one message (ASAP: PE 10.0.0.2:40000 <-> registrar 10.0.0.1:3863, PPID 11; ENRP:
// 10.0.0.1:9901 <-> 10.0.0.3:9901, PPID 12). Returns the frame number carrying it, 0 on failure.
inline std::size_t write_message(capture::PcapWriter& w, Encapsulation e, VectorProtocol protocol,
                                 bool from_registrar, std::span<const std::uint8_t> msg, TimeNs ts) {
  const bool asap = protocol == VectorProtocol::kAsap;
  const capture::Endpoint registrar = asap ? registrar_asap_endpoint() : registrar_enrp_endpoint();
  const capture::Endpoint peer = asap ? pe_endpoint() : peer_enrp_endpoint();
  const capture::Endpoint& src = from_registrar ? registrar : peer;
  const capture::Endpoint& dst = from_registrar ? peer : registrar;
  const std::uint32_t ppid = asap ? capture::kPpidAsap : capture::kPpidEnrp;
  bool ok = false;
  switch (e) {
    case Encapsulation::kSctpOverUdp:
      ok = w.write_sctp_over_udp(src, dst, ppid, msg, ts);
      break;
    case Encapsulation::kSctp:
      ok = w.write_sctp(src, dst, ppid, msg, ts);
      break;
    case Encapsulation::kTcp:
      ok = w.write_tcp(src, dst, msg, ts);
      break;
    case Encapsulation::kUdp:
      ok = w.write_udp(src, dst, msg, ts);
      break;
  }
  return ok ? w.frames_written() : 0;
}

// Field values as one string, joined with ','.
inline std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ",") + v;
  return out;
}

// True when `text` ends with `suffix`.
inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace poolreg::testing
