#include "dataplane/sctp/native_sctp_packet.hpp"

#include <cstring>

#include "registrar/common/crc32c.hpp"

namespace poolreg::sctp {
namespace {

std::uint32_t computed_crc(std::span<const std::uint8_t> sctp) noexcept {
  // The checksum is computed with its own field (bytes 8..11) zeroed: the common header goes in
  // as one zeroed copy, so the crc32 instruction takes it in two steps instead of a call per
  // piece (this runs for every native packet received, perf/dataplane/README.md).
  std::uint8_t header[kSctpCommonHeader] = {};
  std::memcpy(header, sctp.data(), 8);
  const std::uint32_t state = crc32c_update(kCrc32cInit, header);
  return crc32c_finish(crc32c_update(state, sctp.subspan(kSctpCommonHeader)));
}

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

bool sctp_crc_ok(std::span<const std::uint8_t> sctp) noexcept {
  if (sctp.size() < kSctpCommonHeader) return false;
  const std::uint32_t crc = computed_crc(sctp);
  // Carried least significant byte first (RFC 9260 appendix A).
  for (int i = 0; i < 4; ++i)
    if (sctp[8 + static_cast<std::size_t>(i)] != static_cast<std::uint8_t>(crc >> (8 * i))) return false;
  return true;
}

void set_sctp_crc(std::span<std::uint8_t> sctp) noexcept {
  if (sctp.size() < kSctpCommonHeader) return;
  const std::uint32_t crc = computed_crc(sctp);
  for (int i = 0; i < 4; ++i) sctp[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
}

NativePacket parse_native_sctp(std::span<const std::uint8_t> sctp, bool ipv6, const std::uint8_t* src_ip,
                               const std::uint8_t* dst_ip, bool check_crc) noexcept {
  NativePacket p;
  if (sctp.size() < kSctpCommonHeader) {
    p.drop = NativeDrop::kTruncated;
    return p;
  }
  if (check_crc && !sctp_crc_ok(sctp)) {
    p.drop = NativeDrop::kBadCrc;
    return p;
  }
  const std::size_t n = ipv6 ? 16 : 4;
  p.from.ipv6 = ipv6;
  std::memcpy(p.from.src_ip, src_ip, n);
  if (dst_ip != nullptr) std::memcpy(p.from.dst_ip, dst_ip, n);
  p.from.src_port = 0;  // native
  p.from.crc32c_checked = check_crc;
  p.sctp = sctp;
  p.src_port = be16(sctp.data());
  p.dst_port = be16(sctp.data() + 2);
  return p;
}

NativePacket parse_native_ipv4(std::span<const std::uint8_t> packet, bool check_crc) noexcept {
  NativePacket p;
  if (packet.size() < 20) {
    p.drop = NativeDrop::kTruncated;
    return p;
  }
  const std::uint8_t version = packet[0] >> 4;
  const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  if (version != 4 || header < 20 || packet[9] != kIpProtocolSctp) {
    p.drop = NativeDrop::kMalformed;
    return p;
  }
  // More-fragments flag or a fragment offset: not a whole packet.
  if ((be16(packet.data() + 6) & 0x3fff) != 0) {
    p.drop = NativeDrop::kMalformed;
    return p;
  }
  const std::size_t total = be16(packet.data() + 2);
  // The total length must cover the header and fit what arrived (Linux raw sockets keep it in
  // network order, unlike the BSDs).
  if (header > packet.size() || total < header || total > packet.size()) {
    p.drop = NativeDrop::kTruncated;
    return p;
  }
  return parse_native_sctp(packet.subspan(header, total - header), false, packet.data() + 12, packet.data() + 16,
                           check_crc);
}

}  // namespace poolreg::sctp
