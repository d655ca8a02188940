// ByteSink, TlvWriter and EncodeResult: the output side of the codec.
//
// Allocation contract: a ByteSink over a std::span never allocates (overflow → kBufferTooSmall);
// a ByteSink over a std::vector appends at its end and allocates only when the vector's
// capacity runs out (reserve once and reuse the vector to stay allocation-free).
// Single-threaded: one writer per sink at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

enum class EncodeStatus : std::uint8_t {
  kOk,
  kBufferTooSmall,   // fixed span sink too small
  kMessageTooLong,   // exceeds WireOptions::max_message or the 16-bit Length
  kInvalidField,     // a value the wire cannot carry (empty/too long pool handle, bad address
                     // count, policy without wire codec, TLV value > 65531 bytes ...)
};

struct EncodeResult {
  EncodeStatus status = EncodeStatus::kOk;
  std::size_t size = 0;  // bytes of the encoded message (on success)
  bool ok() const noexcept { return status == EncodeStatus::kOk; }
  explicit operator bool() const noexcept { return ok(); }
};

class ByteSink {
 public:
  ByteSink(std::span<std::uint8_t> fixed) noexcept : fixed_(fixed) {}  // NOLINT(implicit)
  ByteSink(std::vector<std::uint8_t>& grow) noexcept : grow_(&grow) {}  // NOLINT(implicit)
  template <std::size_t N>
  ByteSink(std::array<std::uint8_t, N>& fixed) noexcept : fixed_(fixed) {}  // NOLINT(implicit)

  bool growable() const noexcept { return grow_ != nullptr; }
  std::span<std::uint8_t> fixed() const noexcept { return fixed_; }
  std::vector<std::uint8_t>* vector() const noexcept { return grow_; }

 private:
  std::span<std::uint8_t> fixed_{};
  std::vector<std::uint8_t>* grow_ = nullptr;
};

// Big-endian writer with TLV framing. Positions are offsets from the start of this writer's
// output (the vector's size at construction, or the span start), so growth is safe.
// Errors are sticky: after the first failure every call is a no-op and status() says why.
class TlvWriter {
 public:
  explicit TlvWriter(ByteSink sink) noexcept;
  ~TlvWriter() { trim(); }
  TlvWriter(const TlvWriter&) = delete;
  TlvWriter& operator=(const TlvWriter&) = delete;

  EncodeStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == EncodeStatus::kOk; }
  void fail(EncodeStatus s) noexcept {
    if (status_ == EncodeStatus::kOk) status_ = s;
  }
  std::size_t size() const noexcept { return pos_; }

  // Hot path, inline: one bounds check per field.
  void u8(std::uint8_t v) noexcept {
    if (auto* p = reserve(1)) p[0] = v;
  }
  void u16(std::uint16_t v) noexcept {
    if (auto* p = reserve(2)) {
      p[0] = static_cast<std::uint8_t>(v >> 8);
      p[1] = static_cast<std::uint8_t>(v);
    }
  }
  void u32(std::uint32_t v) noexcept {
    if (auto* p = reserve(4)) {
      p[0] = static_cast<std::uint8_t>(v >> 24);
      p[1] = static_cast<std::uint8_t>(v >> 16);
      p[2] = static_cast<std::uint8_t>(v >> 8);
      p[3] = static_cast<std::uint8_t>(v);
    }
  }
  void u64(std::uint64_t v) noexcept {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void bytes(std::span<const std::uint8_t> b) noexcept {
    if (b.empty()) return;
    if (auto* p = reserve(b.size())) std::memcpy(p, b.data(), b.size());
  }
  void zeros(std::size_t n) noexcept {
    if (n == 0) return;
    if (auto* p = reserve(n)) std::memset(p, 0, n);
  }
  // Writes v at an earlier position (used for Length fields).
  void patch_u16(std::size_t at, std::uint16_t v) noexcept;

  // TLV framing: begin writes type + placeholder length; end patches Length (= 4 + value,
  // padding excluded) and appends 0-3 zero bytes of padding.
  std::size_t begin_tlv(std::uint16_t type) noexcept;
  void end_tlv(std::size_t start) noexcept;

  // Message framing: begin writes type/flags/placeholder; end patches Length (a multiple of 4,
  // since every TLV is padded) and checks max_message. Returns the final result.
  std::size_t begin_message(std::uint8_t type, std::uint8_t flags) noexcept;
  EncodeResult end_message(std::size_t start, std::size_t max_message) noexcept;

  // Rolls a growable sink back to its original size (called on failure).
  void rollback() noexcept;
  // A growable sink may hold scratch bytes past size() while writing; trim() cuts them off
  // (done by end_message() and the destructor).
  void trim() noexcept;

 private:
  std::uint8_t* reserve(std::size_t n) noexcept {
    if (ok()) {
      if (grow_ == nullptr) {
        if (n <= fixed_.size() - pos_) {
          std::uint8_t* p = fixed_.data() + pos_;
          pos_ += n;
          return p;
        }
      } else if (n <= grow_->size() - base_ - pos_) {  // inside scratch space already grown
        std::uint8_t* p = grow_->data() + base_ + pos_;
        pos_ += n;
        return p;
      }
    }
    return reserve_slow(n);
  }
  std::uint8_t* reserve_slow(std::size_t n) noexcept;

  std::span<std::uint8_t> fixed_{};
  std::vector<std::uint8_t>* grow_ = nullptr;
  std::size_t base_ = 0;  // vector size at construction
  std::size_t pos_ = 0;
  EncodeStatus status_ = EncodeStatus::kOk;
};

}  // namespace poolreg::wire
