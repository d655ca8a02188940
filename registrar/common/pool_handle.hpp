// PoolHandle: the opaque name of a pool, stored inline (no allocation).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "registrar/common/fnv1a.hpp"

namespace poolreg {

// Hard upper bound of what poolreg stores. The configured limit (default 32, what RSPLIB
// accepts) is at most this; the wire codec enforces the configured one.
inline constexpr std::size_t kPoolHandleCapacity = 64;
inline constexpr std::size_t kDefaultMaxPoolHandleBytes = 32;

class PoolHandle {
 public:
  PoolHandle() = default;

  // nullopt when empty or longer than kPoolHandleCapacity.
  static std::optional<PoolHandle> from_bytes(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.empty() || bytes.size() > kPoolHandleCapacity) return std::nullopt;
    PoolHandle h;
    h.size_ = static_cast<std::uint8_t>(bytes.size());
    std::memcpy(h.bytes_.data(), bytes.data(), bytes.size());
    return h;
  }
  static std::optional<PoolHandle> from_string(std::string_view text) noexcept {
    return from_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }

  std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), size_}; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Printable form for logs and the CLI: the text itself when every byte is printable ASCII,
  // otherwise "0x" followed by hex digits.
  std::string to_display() const {
    const bool printable = std::all_of(bytes_.begin(), bytes_.begin() + size_,
                                       [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; });
    if (printable) return std::string(reinterpret_cast<const char*>(bytes_.data()), size_);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    for (std::size_t i = 0; i < size_; ++i) {
      out.push_back(kHex[bytes_[i] >> 4]);
      out.push_back(kHex[bytes_[i] & 0xf]);
    }
    return out;
  }

  // FNV-1a: cheap, stable across processes (shard selection must not depend on a seed).
  std::uint64_t hash() const noexcept { return fnv1a(bytes_.data(), size_); }

  friend bool operator==(const PoolHandle& a, const PoolHandle& b) noexcept {
    return a.size_ == b.size_ && std::memcmp(a.bytes_.data(), b.bytes_.data(), a.size_) == 0;
  }
  // Byte-wise lexicographic order: the stable order used by handle-table snapshots.
  friend bool operator<(const PoolHandle& a, const PoolHandle& b) noexcept {
    return std::lexicographical_compare(a.bytes_.begin(), a.bytes_.begin() + a.size_,
                                        b.bytes_.begin(), b.bytes_.begin() + b.size_);
  }

 private:
  std::uint8_t size_ = 0;
  std::array<std::uint8_t, kPoolHandleCapacity> bytes_{};
};

struct PoolHandleHash {
  std::size_t operator()(const PoolHandle& h) const noexcept { return h.hash(); }
};

}  // namespace poolreg
