// Transport endpoints as carried in SCTP/TCP/UDP/UDP-Lite/DCCP transport parameters.
#pragma once

#include <cstdint>
#include <vector>

#include "registrar/common/ip_address.hpp"

namespace poolreg {

// Values are the RFC 5354 parameter type codes of the transport TLVs.
enum class TransportProtocol : std::uint16_t {
  kDccp = 0x0003,
  kSctp = 0x0004,
  kTcp = 0x0005,
  kUdp = 0x0006,
  kUdpLite = 0x0007,
};

// Transport use field of SCTP and TCP transport TLVs.
enum class TransportUse : std::uint16_t { kDataOnly = 0, kDataPlusControl = 1 };

// RSPLIB's per-TLV address limit; also our default per-PE address limit.
inline constexpr std::size_t kMaxAddressesPerTransport = 64;

struct TransportEndpoint {
  TransportProtocol protocol = TransportProtocol::kSctp;
  std::uint16_t port = 0;
  TransportUse use = TransportUse::kDataOnly;  // meaningful for SCTP and TCP only
  std::uint32_t dccp_service_code = 0;         // meaningful for DCCP only
  // SCTP: 1..n addresses (multi-homing); all others: exactly one.
  std::vector<IpAddress> addresses;

  friend bool operator==(const TransportEndpoint&, const TransportEndpoint&) = default;
};

}  // namespace poolreg
