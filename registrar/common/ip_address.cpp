#include "registrar/common/ip_address.hpp"

#include <arpa/inet.h>

namespace poolreg {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; addresses are short.
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  text.copy(buf, text.size());
  std::array<std::uint8_t, 16> raw{};
  if (inet_pton(AF_INET, buf, raw.data()) == 1) return v4({raw[0], raw[1], raw[2], raw[3]});
  if (inet_pton(AF_INET6, buf, raw.data()) == 1) return v6(raw);
  return std::nullopt;
}

bool IpAddress::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoop{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoop;
}

bool IpAddress::is_link_local() const noexcept {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_multicast() const noexcept {
  if (is_v4()) return (bytes_[0] & 0xf0) == 0xe0;
  return bytes_[0] == 0xff;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

}  // namespace poolreg
