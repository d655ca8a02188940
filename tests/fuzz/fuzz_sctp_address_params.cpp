// libFuzzer target: read_listed_addresses() on arbitrary bytes as the SCTP engine is fed them
// (raw SCTP packets from the network). It must never read outside the input (the sanitizers
// see that), and what it returns must keep its promises: no unusable or duplicate address, at
// most kMaxListedAddresses, no more addresses than the chunk has room for, nothing for packets
// that do not start with an INIT / INIT ACK. A violation aborts, which libFuzzer reports.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "dataplane/sctp/sctp_address_params.hpp"

namespace {

using namespace poolreg;        // NOLINT
using namespace poolreg::sctp;  // NOLINT

void require(bool condition) {
  if (!condition) std::abort();
}

bool all_bytes(const IpAddress& a, std::uint8_t v) {
  return std::all_of(a.data(), a.data() + a.size(), [v](std::uint8_t x) { return x == v; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> packet(data, size);
  const bool handshake = starts_with_handshake_chunk(packet);
  const auto r = read_listed_addresses(packet);
  if (!r) {
    require(size < kSctpCommonHeaderSize || handshake);
    return 0;
  }
  require(size >= kSctpCommonHeaderSize);
  require(r->peer_port == static_cast<std::uint16_t>((data[0] << 8) | data[1]));
  if (!handshake) {
    require(r->chunk == HandshakeChunk::kNone && r->addresses.empty() && r->skipped == 0);
    return 0;
  }
  require(r->chunk == (data[12] == kSctpChunkInit ? HandshakeChunk::kInit : HandshakeChunk::kInitAck));
  require(r->addresses.size() <= kMaxListedAddresses);
  const std::size_t chunk_length = (static_cast<std::size_t>(data[14]) << 8) | data[15];
  require(chunk_length <= size - kSctpCommonHeaderSize);
  // Every address (kept or skipped) took at least 8 bytes of the chunk's parameters.
  require((r->addresses.size() + r->skipped) * 8 <= chunk_length - kSctpInitFixedSize);
  for (std::size_t i = 0; i < r->addresses.size(); ++i) {
    const IpAddress& a = r->addresses[i];
    require(!all_bytes(a, 0) && !a.is_multicast() && !(a.is_v4() && all_bytes(a, 0xff)));
    for (std::size_t j = 0; j < i; ++j) require(!(r->addresses[j] == a));
  }
  const auto merged = merge_addresses(IpAddress::v4(0x7f000001u), r->addresses);
  require(!merged.empty() && merged.size() <= r->addresses.size() + 1);
  return 0;
}
