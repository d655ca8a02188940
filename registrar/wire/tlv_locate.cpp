#include "registrar/wire/tlv_locate.hpp"

#include <algorithm>

#include "registrar/wire/tlv_reader.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

namespace {

// Fixed fields of a Pool Element TLV value before its sub-TLVs: PE ID, Home PR ID, life.
constexpr std::size_t kPoolElementFixedBytes = 12;

bool is_user_transport(std::uint16_t pure_type) noexcept {
  return pure_type >= param::kDccpTransport && pure_type <= param::kUdpLiteTransport;
}

}  // namespace

std::span<const std::uint8_t> message_body(std::span<const std::uint8_t> message) noexcept {
  if (message.size() < kMessageHeaderSize) return {};
  const std::size_t length = std::min<std::size_t>(load_u16(message.data() + 2), message.size());
  if (length < kMessageHeaderSize) return {};
  return message.subspan(kMessageHeaderSize, length - kMessageHeaderSize);
}

std::span<const std::uint8_t> find_pool_element_part(std::span<const std::uint8_t> message,
                                                     PoolElementPart part) noexcept {
  TlvReader top(message_body(message), static_cast<std::uint32_t>(kMessageHeaderSize));
  while (auto t = top.next()) {
    if (t->pure_type() != param::kPoolElement) continue;
    if (part == PoolElementPart::kWholeElement) return message.subspan(t->offset, t->length);
    if (t->value.size() < kPoolElementFixedBytes) return {};
    const std::uint32_t inner_offset =
        t->offset + static_cast<std::uint32_t>(kTlvHeaderSize + kPoolElementFixedBytes);
    TlvReader inner(t->value.subspan(kPoolElementFixedBytes), inner_offset);
    while (auto s = inner.next()) {
      const std::uint16_t p = s->pure_type();
      if ((part == PoolElementPart::kUserTransport && is_user_transport(p)) ||
          (part == PoolElementPart::kPolicy && p == param::kPolicy))
        return message.subspan(s->offset, std::min<std::size_t>(s->length, message.size() - s->offset));
    }
    return {};
  }
  return {};
}

}  // namespace poolreg::wire
