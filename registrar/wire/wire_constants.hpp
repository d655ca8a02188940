// Numbers of the ASAP/ENRP wire format (shared/spec/parameters.md, messages.md, nextgen.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace poolreg::wire {

// ASAP message types (PPID 11).
enum class AsapType : std::uint8_t {
  kRegistration = 0x01,
  kDeregistration = 0x02,
  kRegistrationResponse = 0x03,
  kDeregistrationResponse = 0x04,
  kHandleResolution = 0x05,
  kHandleResolutionResponse = 0x06,
  kEndpointKeepAlive = 0x07,
  kEndpointKeepAliveAck = 0x08,
  kEndpointUnreachable = 0x09,
  kServerAnnounce = 0x0a,
  kCookie = 0x0b,
  kCookieEcho = 0x0c,
  kBusinessCard = 0x0d,
  kError = 0x0e,
};

// ENRP message types (PPID 12).
enum class EnrpType : std::uint8_t {
  kPresence = 0x01,
  kHandleTableRequest = 0x02,
  kHandleTableResponse = 0x03,
  kHandleUpdate = 0x04,
  kListRequest = 0x05,
  kListResponse = 0x06,
  kInitTakeover = 0x07,
  kInitTakeoverAck = 0x08,
  kTakeoverServer = 0x09,
  kError = 0x0a,
};

// Message flag bits.
inline constexpr std::uint8_t kFlagRegistrationRejected = 0x01;  // ASAP 0x03 R
inline constexpr std::uint8_t kFlagKeepAliveHome = 0x01;         // ASAP 0x07 H
inline constexpr std::uint8_t kFlagPresenceReplyRequired = 0x01; // ENRP 0x01 R
inline constexpr std::uint8_t kFlagOwnChildrenOnly = 0x01;       // ENRP 0x02 W
inline constexpr std::uint8_t kFlagTableReject = 0x01;           // ENRP 0x03 R
inline constexpr std::uint8_t kFlagTableMore = 0x02;             // ENRP 0x03 M
inline constexpr std::uint8_t kFlagTakeoverSuggested = 0x01;     // ENRP 0x04 T
inline constexpr std::uint8_t kFlagListReject = 0x01;            // ENRP 0x06 R

// Parameter (TLV) types exactly as sent (WIRE-05: received ones are matched on the low 14 bits).
namespace param {
inline constexpr std::uint16_t kIpv4Address = 0x0001;
inline constexpr std::uint16_t kIpv6Address = 0x0002;
inline constexpr std::uint16_t kDccpTransport = 0x0003;
inline constexpr std::uint16_t kSctpTransport = 0x0004;
inline constexpr std::uint16_t kTcpTransport = 0x0005;
inline constexpr std::uint16_t kUdpTransport = 0x0006;
inline constexpr std::uint16_t kUdpLiteTransport = 0x0007;
inline constexpr std::uint16_t kPolicy = 0x0008;
inline constexpr std::uint16_t kPoolHandle = 0x0009;
inline constexpr std::uint16_t kPoolElement = 0x000a;
inline constexpr std::uint16_t kServerInformation = 0x000b;
inline constexpr std::uint16_t kOperationError = 0x000c;
inline constexpr std::uint16_t kCookie = 0x000d;
inline constexpr std::uint16_t kPeIdentifier = 0x000e;
inline constexpr std::uint16_t kPeChecksum = 0x000f;
inline constexpr std::uint16_t kHandleResolutionOption = 0x803f;
// Next-gen proposals (nextgen.md section 7).
inline constexpr std::uint16_t kNgCapabilities = 0x8040;
inline constexpr std::uint16_t kExtendedIds = 0x8041;
inline constexpr std::uint16_t kExtendedPeId = 0x8042;
inline constexpr std::uint16_t kPeIdentifier64 = 0x8043;
inline constexpr std::uint16_t kPeChecksum32 = 0x8044;
// RFC 8653 address types of the user transport, inside the Pool Element TLV (README.md).
inline constexpr std::uint16_t kAddressTypes = 0x8045;
inline constexpr std::size_t kAddressTypeEntrySize = 8;  // type u8, flags u8, reserved u16, lifetime u32
inline constexpr std::uint8_t kAddressTypeRetiring = 0x01;  // entry flag R

// Unknown-type action bits (top two bits of the type).
inline constexpr std::uint16_t kActionMask = 0xc000;
inline constexpr std::uint16_t kActionStopSilent = 0x0000;
inline constexpr std::uint16_t kActionStopReport = 0x4000;
inline constexpr std::uint16_t kActionSkip = 0x8000;
inline constexpr std::uint16_t kActionSkipReport = 0xc000;
inline constexpr std::uint16_t kPureTypeMask = 0x3fff;
}  // namespace param

// NG-Capabilities flag bits (nextgen.md section 1).
inline constexpr std::uint32_t kNgCapId64 = 0x01;
inline constexpr std::uint32_t kNgCapCk32 = 0x02;
inline constexpr std::uint32_t kNgCapTakeoverSuggestion = 0x04;
inline constexpr std::uint32_t kNgCapHro = 0x08;
inline constexpr std::uint32_t kNgCapTcp = 0x10;
inline constexpr std::uint32_t kNgCapMptcp = 0x20;

// Handle Resolution Option items: 0 = registrar default, kHroItemsMax = as many as allowed.
inline constexpr std::uint32_t kHroItemsMax = 0xffffffffu;

inline constexpr std::size_t kMessageHeaderSize = 4;
inline constexpr std::size_t kTlvHeaderSize = 4;
inline constexpr std::size_t kEnrpMinMessageSize = 12;  // header + sender + receiver

inline constexpr std::size_t pad4(std::size_t n) noexcept { return (n + 3) & ~static_cast<std::size_t>(3); }

}  // namespace poolreg::wire
