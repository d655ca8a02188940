// IpAddress: an IPv4 or IPv6 address as it travels in ASAP/ENRP address TLVs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace poolreg {

class IpAddress {
 public:
  enum class Family : std::uint8_t { kIpv4 = 4, kIpv6 = 6 };

  IpAddress() = default;

  static IpAddress v4(std::array<std::uint8_t, 4> octets) noexcept {
    IpAddress a;
    a.family_ = Family::kIpv4;
    std::memcpy(a.bytes_.data(), octets.data(), 4);
    return a;
  }
  // From a host-order 32-bit value, e.g. 0x7f000001 for 127.0.0.1.
  static IpAddress v4(std::uint32_t host_order) noexcept {
    return v4({static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
               static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)});
  }
  static IpAddress v6(const std::array<std::uint8_t, 16>& octets) noexcept {
    IpAddress a;
    a.family_ = Family::kIpv6;
    a.bytes_ = octets;
    return a;
  }
  // Parses dotted-quad IPv4 or RFC 4291 text IPv6; nullopt when malformed.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::kIpv4; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return is_v4() ? 4 : 16; }

  bool is_loopback() const noexcept;
  bool is_link_local() const noexcept;
  bool is_multicast() const noexcept;
  std::string to_string() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) noexcept {
    return a.family_ == b.family_ && std::memcmp(a.bytes_.data(), b.bytes_.data(), a.size()) == 0;
  }

 private:
  Family family_ = Family::kIpv4;
  std::array<std::uint8_t, 16> bytes_{};
};

// Hash of an IpAddress for unordered containers (FNV-1a over family and bytes).
struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept {
    std::size_t h = 1469598103934665603ULL ^ static_cast<std::size_t>(a.family());
    for (std::size_t i = 0; i < a.size(); ++i) h = (h ^ a.data()[i]) * 1099511628211ULL;
    return h;
  }
};

}  // namespace poolreg
