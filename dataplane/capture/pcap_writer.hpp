// PcapWriter: writes synthetic packets carrying ASAP/ENRP messages into a classic pcap file
// (nanosecond timestamps, link type Ethernet or raw IP), so tshark and other tools can check
// what poolreg puts on the wire. Plain file I/O; nothing is ever sent on a network.
//
// Encapsulations (every one with correct IPv4 header / UDP / TCP / SCTP CRC32c checksums):
//   write_sctp_over_udp  IP + UDP (RFC 6951, port 9899 both sides by default) + SCTP
//   write_sctp           IP (protocol 132) + SCTP
//   write_tcp            IP + TCP; a SYN / SYN-ACK / ACK handshake is written before the first
//                        segment of a connection, then one segment per call (PSH|ACK)
//   write_udp            IP + UDP (ASAP/ENRP over plain UDP, e.g. announces on 3863 / 9901)
// The SCTP packet holds one DATA chunk per message (flags B+E, stream 0, PPID as given); TSN
// and SSN grow per association direction; the verification tag is a stable function of the
// two endpoints and the encapsulation, so both directions of an association agree. Endpoint
// ports are the SCTP (or TCP/UDP) ports: 3863 for ASAP and 9901 for ENRP on the registrar side.
//
// IPv4 and IPv6 endpoints are both accepted (source and destination must be the same family).
// Contract: one thread at a time; the object owns the file and closes it on destruction.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::capture {

inline constexpr std::uint32_t kPpidAsap = 11;
inline constexpr std::uint32_t kPpidEnrp = 12;
inline constexpr std::uint16_t kAsapPort = 3863;
inline constexpr std::uint16_t kEnrpPort = 9901;
inline constexpr std::uint16_t kSctpUdpEncapsulationPort = 9899;

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;
};

// pcap LINKTYPE_* values.
enum class LinkType : std::uint32_t { kEthernet = 1, kRaw = 101 };

struct PcapWriterOptions {
  LinkType link_type = LinkType::kEthernet;
  // UDP ports used around SCTP by write_sctp_over_udp (RFC 6951 says 9899 on both sides).
  std::uint16_t udp_encapsulation_src_port = kSctpUdpEncapsulationPort;
  std::uint16_t udp_encapsulation_dst_port = kSctpUdpEncapsulationPort;
  // Write SYN / SYN-ACK / ACK before the first TCP segment of each connection.
  bool tcp_handshake = true;
  // After every TCP data segment also write the receiver's pure ACK.
  bool tcp_ack_each_segment = false;
};

enum class PcapWriteError : std::uint8_t {
  kNone,
  kOpenFailed,      // the constructor could not create the file
  kIoError,         // a write to the file failed
  kFamilyMismatch,  // source and destination addresses differ in family
  kTooLarge,        // the packet would not fit in one IP datagram (no fragmentation here)
};

class PcapWriter {
 public:
  // Creates (truncates) `path` and writes the pcap file header. Check ok() afterwards.
  explicit PcapWriter(const std::string& path, PcapWriterOptions options = {});
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  PcapWriter(PcapWriter&&) noexcept;
  PcapWriter& operator=(PcapWriter&&) noexcept;

  // True while the file is open and no write has failed.
  bool ok() const noexcept { return file_ != nullptr && error_ == PcapWriteError::kNone; }
  // The first error seen (sticky for kOpenFailed/kIoError; per call for the others).
  PcapWriteError error() const noexcept { return error_; }
  // Frames written so far (handshake and ACK frames included); tshark numbers them from 1.
  std::size_t frames_written() const noexcept { return frames_; }

  // Each write returns true when the frame(s) reached the file buffer.
  bool write_sctp_over_udp(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                           std::span<const std::uint8_t> message, TimeNs ts);
  bool write_sctp(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                  std::span<const std::uint8_t> message, TimeNs ts);
  // Several messages bundled as consecutive DATA chunks of one SCTP packet.
  bool write_sctp_bundle(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                         std::span<const std::span<const std::uint8_t>> messages, TimeNs ts, bool over_udp);
  bool write_tcp(const Endpoint& src, const Endpoint& dst, std::span<const std::uint8_t> payload, TimeNs ts);
  bool write_udp(const Endpoint& src, const Endpoint& dst, std::span<const std::uint8_t> payload, TimeNs ts);

  // Pushes buffered frames to the file (the destructor does this too). Call before handing the
  // file to another program while the writer is still alive.
  bool flush();
  // Flushes and closes; later writes fail with kIoError.
  void close();

 private:
  // (family, address bytes, port) of one endpoint; a flow is (source, destination, flavour),
  // where flavour separates SCTP-over-UDP from plain SCTP associations.
  using EndpointKey = std::tuple<std::uint8_t, std::array<std::uint8_t, 16>, std::uint16_t>;
  using FlowKey = std::tuple<EndpointKey, EndpointKey, bool>;
  struct SctpDirection {
    std::uint32_t next_tsn = 0;
    std::uint16_t next_ssn = 0;
  };
  struct TcpDirection {
    std::uint32_t next_seq = 0;
  };

  bool write_ip_packet(const Endpoint& src, const Endpoint& dst, std::uint8_t protocol,
                       std::span<const std::uint8_t> l4, TimeNs ts);
  bool write_frame(std::span<const std::uint8_t> frame, TimeNs ts);
  bool write_tcp_segment(const Endpoint& src, const Endpoint& dst, std::uint32_t seq, std::uint32_t ack,
                         std::uint8_t flags, std::span<const std::uint8_t> payload, TimeNs ts);
  bool check_families(const Endpoint& src, const Endpoint& dst);
  static FlowKey flow_key(const Endpoint& src, const Endpoint& dst, bool flavour);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  PcapWriterOptions options_;
  PcapWriteError error_ = PcapWriteError::kNone;
  std::size_t frames_ = 0;
  std::uint16_t ip_id_ = 1;
  std::map<FlowKey, SctpDirection> sctp_;
  std::map<FlowKey, TcpDirection> tcp_;
  std::vector<std::uint8_t> scratch_;
};

// Helpers shared with tests: the SCTP verification tag used for packets from `src` to `dst`
// (stable, never 0; SCTP-over-UDP and plain SCTP associations between the same endpoints get
// different tags so tshark keeps them apart) and the 16-bit Internet checksum (RFC 1071).
std::uint32_t sctp_verification_tag(const Endpoint& src, const Endpoint& dst, bool over_udp) noexcept;
std::uint16_t internet_checksum(std::span<const std::uint8_t> data) noexcept;

}  // namespace poolreg::capture
