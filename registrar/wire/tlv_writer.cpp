#include "registrar/wire/tlv_writer.hpp"

#include <algorithm>

namespace poolreg::wire {

TlvWriter::TlvWriter(ByteSink sink) noexcept : fixed_(sink.fixed()), grow_(sink.vector()) {
  if (grow_ != nullptr) base_ = grow_->size();
}

std::uint8_t* TlvWriter::reserve_slow(std::size_t n) noexcept {
  if (!ok()) return nullptr;
  if (grow_ != nullptr) {
    // A message never exceeds 64 KiB; refuse runaway sizes instead of growing without bound.
    if (pos_ + n > 0x10000 + 64) {
      fail(EncodeStatus::kMessageTooLong);
      return nullptr;
    }
    const std::size_t need = base_ + pos_ + n;
    // Grow into the whole existing capacity at once (one value-initialisation per message
    // instead of one per field); trim() cuts the vector back to what was written.
    if (need > grow_->size()) grow_->resize(std::max(need, grow_->capacity()));  // allocates only beyond capacity
    std::uint8_t* p = grow_->data() + base_ + pos_;
    pos_ += n;
    return p;
  }
  if (n > fixed_.size() - pos_) {
    fail(EncodeStatus::kBufferTooSmall);
    return nullptr;
  }
  std::uint8_t* p = fixed_.data() + pos_;
  pos_ += n;
  return p;
}

void TlvWriter::patch_u16(std::size_t at, std::uint16_t v) noexcept {
  if (!ok() || at + 2 > pos_) return;
  std::uint8_t* p = (grow_ != nullptr ? grow_->data() + base_ : fixed_.data()) + at;
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

std::size_t TlvWriter::begin_tlv(std::uint16_t type) noexcept {
  const std::size_t start = pos_;
  u16(type);
  u16(0);
  return start;
}

void TlvWriter::end_tlv(std::size_t start) noexcept {
  if (!ok()) return;
  const std::size_t len = pos_ - start;
  if (len > 0xffff) {
    fail(EncodeStatus::kInvalidField);
    return;
  }
  patch_u16(start + 2, static_cast<std::uint16_t>(len));
  zeros(pad4(len) - len);
}

std::size_t TlvWriter::begin_message(std::uint8_t type, std::uint8_t flags) noexcept {
  const std::size_t start = pos_;
  u8(type);
  u8(flags);
  u16(0);
  return start;
}

EncodeResult TlvWriter::end_message(std::size_t start, std::size_t max_message) noexcept {
  if (ok()) {
    const std::size_t len = pos_ - start;
    if (len > 0xffff || len > max_message) {
      fail(EncodeStatus::kMessageTooLong);
    } else {
      patch_u16(start + 2, static_cast<std::uint16_t>(len));
      trim();
      return {EncodeStatus::kOk, len};
    }
  }
  const EncodeStatus s = status_;
  rollback();
  return {s, 0};
}

void TlvWriter::rollback() noexcept {
  pos_ = 0;
  trim();
}

void TlvWriter::trim() noexcept {
  if (grow_ != nullptr && grow_->size() > base_ + pos_) grow_->resize(base_ + pos_);  // shrinking: no allocation
}

}  // namespace poolreg::wire
