#include "dataplane/sctp/state_cookie.hpp"

#include <sys/time.h>

#include <cstring>

namespace poolreg::sctp {
namespace {

constexpr std::size_t kCommonHeader = 12;
constexpr std::size_t kChunkHeader = 4;
// Offsets in usrsctp's struct sctp_state_cookie (see the header).
constexpr std::size_t kAddressOffset = 16 + sizeof(timeval) + std::size_t{5} * 4;
constexpr std::size_t kAddrTypeOffset = kAddressOffset + 16;
constexpr std::uint32_t kConnAddressType = 4;  // SCTP_CONN_ADDRESS
static_assert(sizeof(void*) <= 16, "the cookie's address field holds 16 bytes");

}  // namespace

std::optional<const void*> cookie_conn_address(std::span<const std::uint8_t> packet) noexcept {
  constexpr std::size_t cookie = kCommonHeader + kChunkHeader;
  if (packet.size() < cookie + kAddrTypeOffset + 4 || packet[kCommonHeader] != kSctpChunkCookieEcho)
    return std::nullopt;
  const std::size_t chunk_length = (std::size_t{packet[kCommonHeader + 2]} << 8) | packet[kCommonHeader + 3];
  if (chunk_length < kChunkHeader + kAddrTypeOffset + 4) return std::nullopt;
  std::uint32_t type = 0;
  std::memcpy(&type, packet.data() + cookie + kAddrTypeOffset, sizeof type);
  if (type != kConnAddressType) return std::nullopt;
  const void* address = nullptr;
  std::memcpy(&address, packet.data() + cookie + kAddressOffset, sizeof address);
  return address;
}

}  // namespace poolreg::sctp
