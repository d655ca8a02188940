#include "dataplane/sctp/sctp_address_params.hpp"

#include <algorithm>
#include <array>

namespace poolreg::sctp {
namespace {

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

bool contains(const std::vector<IpAddress>& list, const IpAddress& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

}  // namespace

bool unusable_peer_address(const IpAddress& a) noexcept {
  const std::uint8_t* d = a.data();
  const bool zero = std::all_of(d, d + a.size(), [](std::uint8_t x) { return x == 0; });
  const bool broadcast = a.is_v4() && std::all_of(d, d + 4, [](std::uint8_t x) { return x == 0xff; });
  return zero || broadcast || a.is_multicast();
}

const char* to_string(AddressParamError e) noexcept {
  switch (e) {
    case AddressParamError::kShortPacket:
      return "shorter than an SCTP common header";
    case AddressParamError::kShortChunk:
      return "INIT/INIT ACK chunk shorter than its fixed part";
    case AddressParamError::kChunkOverrun:
      return "chunk length beyond the packet";
    case AddressParamError::kParameterOverrun:
      return "parameter beyond its chunk";
    case AddressParamError::kBadParameterLength:
      return "bad parameter length";
  }
  return "?";
}

bool starts_with_handshake_chunk(std::span<const std::uint8_t> packet) noexcept {
  if (packet.size() <= kSctpCommonHeaderSize) return false;
  const std::uint8_t type = packet[kSctpCommonHeaderSize];
  return type == kSctpChunkInit || type == kSctpChunkInitAck;
}

Expected<ListedAddresses, AddressParamError> read_listed_addresses(std::span<const std::uint8_t> packet) {
  if (packet.size() < kSctpCommonHeaderSize) return unexpected(AddressParamError::kShortPacket);
  ListedAddresses out;
  out.peer_port = read16(packet, 0);
  if (!starts_with_handshake_chunk(packet)) return out;
  // INIT and INIT ACK are never bundled (RFC 9260 §6.10): the first chunk is the only one we read.
  const std::span<const std::uint8_t> rest = packet.subspan(kSctpCommonHeaderSize);
  if (rest.size() < kSctpInitFixedSize) return unexpected(AddressParamError::kShortChunk);
  const std::size_t chunk_length = read16(rest, 2);
  if (chunk_length < kSctpInitFixedSize) return unexpected(AddressParamError::kShortChunk);
  if (chunk_length > rest.size()) return unexpected(AddressParamError::kChunkOverrun);
  const std::span<const std::uint8_t> chunk = rest.first(chunk_length);
  out.chunk = rest[0] == kSctpChunkInit ? HandshakeChunk::kInit : HandshakeChunk::kInitAck;

  // Parameters are padded to 4 bytes; the chunk length leaves out only the last one's padding.
  std::size_t at = kSctpInitFixedSize;
  while (at < chunk.size()) {
    if (chunk.size() - at < 4) return unexpected(AddressParamError::kParameterOverrun);
    const std::uint16_t type = read16(chunk, at);
    const std::size_t length = read16(chunk, at + 2);
    if (length < 4) return unexpected(AddressParamError::kBadParameterLength);
    if (length > chunk.size() - at) return unexpected(AddressParamError::kParameterOverrun);
    if (type == kSctpParamIpv4Address || type == kSctpParamIpv6Address) {
      const bool v4 = type == kSctpParamIpv4Address;
      if (length != (v4 ? 8u : 20u)) return unexpected(AddressParamError::kBadParameterLength);
      IpAddress a;
      if (v4) {
        a = IpAddress::v4({chunk[at + 4], chunk[at + 5], chunk[at + 6], chunk[at + 7]});
      } else {
        std::array<std::uint8_t, 16> b{};
        std::copy_n(chunk.begin() + static_cast<std::ptrdiff_t>(at + 4), 16, b.begin());
        a = IpAddress::v6(b);
      }
      if (unusable_peer_address(a) || contains(out.addresses, a) || out.addresses.size() >= kMaxListedAddresses) {
        ++out.skipped;
      } else {
        out.addresses.push_back(a);
      }
    }
    at += (length + 3) & ~std::size_t{3};  // past the end only after the unpadded last parameter
  }
  return out;
}

std::vector<IpAddress> merge_addresses(const IpAddress& first, std::span<const IpAddress> more) {
  std::vector<IpAddress> out;
  out.reserve(1 + more.size());
  out.push_back(first);
  for (const IpAddress& a : more)
    if (!contains(out, a)) out.push_back(a);
  return out;
}

}  // namespace poolreg::sctp
