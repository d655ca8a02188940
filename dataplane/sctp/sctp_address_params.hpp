// The addresses an SCTP peer lists in its INIT or INIT ACK chunk (RFC 9260 §3.3.2 / §3.3.3:
// IPv4 Address parameter, type 5, and IPv6 Address parameter, type 6), read from one raw SCTP
// packet (12-byte common header, then chunks) as a packet source hands it to the engine.
//
// Why: the engine runs usrsctp in AF_CONN mode, which knows a peer only by the one conn address
// its packets come from; the peer's other addresses exist only in its handshake chunk. They are
// the peer's claim, not verified paths (kernel SCTP reports the same claim through getpaddrs).
//
// Pure functions, no state, no allocation beyond the result; any thread. Strict on lengths and
// bounds: a malformed chunk is an error value, never a read outside `packet`. Whether the packet
// is a valid SCTP packet (checksum, verification tag, bundling) is still usrsctp's decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::sctp {

inline constexpr std::uint8_t kSctpChunkInit = 1;
inline constexpr std::uint8_t kSctpChunkInitAck = 2;
inline constexpr std::uint16_t kSctpParamIpv4Address = 5;
inline constexpr std::uint16_t kSctpParamIpv6Address = 6;
inline constexpr std::size_t kSctpCommonHeaderSize = 12;
// Chunk header (4) + Initiate Tag, a_rwnd, outbound / inbound streams, initial TSN (16).
inline constexpr std::size_t kSctpInitFixedSize = 20;
// Addresses kept from one chunk; more are counted in `skipped` (a chunk may carry ~16000).
inline constexpr std::size_t kMaxListedAddresses = 16;

enum class HandshakeChunk : std::uint8_t { kNone, kInit, kInitAck };

struct ListedAddresses {
  HandshakeChunk chunk = HandshakeChunk::kNone;  // kNone: the packet starts with another chunk
  std::uint16_t peer_port = 0;                   // the common header's source port
  // Unicast addresses in the order listed, without duplicates, at most kMaxListedAddresses.
  std::vector<IpAddress> addresses;
  // Address parameters not kept: unspecified (0.0.0.0, ::), multicast, IPv4 broadcast,
  // duplicates, or beyond kMaxListedAddresses.
  std::size_t skipped = 0;
};

enum class AddressParamError : std::uint8_t {
  kShortPacket,         // less than a common header
  kShortChunk,          // INIT / INIT ACK chunk header or fixed part cut off, or length below 20
  kChunkOverrun,        // chunk length beyond the packet
  kParameterOverrun,    // a parameter header or body beyond the chunk
  kBadParameterLength,  // parameter length below 4, or an address parameter of the wrong length
};

const char* to_string(AddressParamError e) noexcept;

// True when the packet's first chunk is an INIT or INIT ACK (cheap test before reading it).
bool starts_with_handshake_chunk(std::span<const std::uint8_t> packet) noexcept;

// Reads the address parameters of the packet's first chunk when it is an INIT or INIT ACK.
// Other packets: chunk = kNone and no addresses.
Expected<ListedAddresses, AddressParamError> read_listed_addresses(std::span<const std::uint8_t> packet);

// Not an address a peer can be reached at, whatever it claims: unspecified (0.0.0.0, ::),
// multicast, IPv4 broadcast.
bool unusable_peer_address(const IpAddress& a) noexcept;

// `first`, then each of `more` that is not already in the result (order kept).
std::vector<IpAddress> merge_addresses(const IpAddress& first, std::span<const IpAddress> more);

}  // namespace poolreg::sctp
