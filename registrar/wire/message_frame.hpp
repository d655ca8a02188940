// Internal helpers shared by asap_codec.cpp and enrp_codec.cpp (not part of the public API):
// message framing checks, the body scan loop and the next-gen ID slots.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "registrar/common/ids.hpp"
#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/parameter_codec.hpp"
#include "registrar/wire/tlv_reader.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::wire::detail {

struct MessageFrame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint16_t length = 0;
  std::uint32_t whole = 0;  // bytes to quote for "the whole message" (Length + pad in buffer)
};

// Header checks common to every message (WIRE-01): ≥ 4 bytes, 4 ≤ Length ≤ buffer,
// Length ≤ max_message, at most 3 bytes beyond Length.
Expected<MessageFrame, DecodeError> check_frame(std::span<const std::uint8_t> bytes,
                                                const WireOptions& options) noexcept;

inline DecodeError message_error(ErrorCause cause, DecodeErrorKind kind, const MessageFrame& f) noexcept {
  return DecodeError{cause, kind, false, 0, f.whole};
}

// Runs handler(tlv) -> std::optional<DecodeError> over every TLV of the body region.
template <typename Handler>
std::optional<DecodeError> scan_body(std::span<const std::uint8_t> bytes, std::size_t body_start,
                                     std::size_t body_end, Handler&& handler) noexcept {
  TlvReader r(bytes.subspan(body_start, body_end - body_start), static_cast<std::uint32_t>(body_start));
  while (auto t = r.next()) {
    if (auto e = handler(*t)) return e;
  }
  if (r.failed()) return r.error();
  return std::nullopt;
}

// PE-Identifier-64 (0x8043) + PE Identifier (0x000e) pair.
struct PeIdSlot {
  std::optional<std::uint64_t> pending64;
  bool have = false;
  PoolElementId id = 0;

  // Returns true when tlv was one of the two types (err set on failure).
  bool take(const Tlv& tlv, std::optional<DecodeError>& err, UnrecognizedReports& reports) noexcept {
    const std::uint16_t pure = tlv.pure_type();
    if (pure == (param::kPeIdentifier64 & param::kPureTypeMask)) {
      if (have) {  // after the 0x000e it belongs to: stray extension, handled by its bits
        err = unhandled_parameter(tlv, reports);
        return true;
      }
      if (pending64) {
        err = DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kDuplicateParameter, false, tlv.offset,
                          tlv.length};
        return true;
      }
      auto v = decode_u64_value(tlv);
      if (!v) err = v.error();
      else pending64 = v.value();
      return true;
    }
    if (pure == param::kPeIdentifier) {
      if (have) {
        err = DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kDuplicateParameter, false, tlv.offset,
                          tlv.length};
        return true;
      }
      auto v = decode_u32_value(tlv);
      if (!v) {
        err = v.error();
        return true;
      }
      if (pending64 && short_id(*pending64) != v.value()) {
        err = DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kIdMismatch, false, tlv.offset, tlv.length};
        return true;
      }
      id = pending64 ? *pending64 : v.value();
      have = true;
      return true;
    }
    return false;
  }
};

// Extended-IDs (0x8041): u64 for each fixed ID field, in order; low 32 bits must match.
inline std::optional<DecodeError> take_extended_ids(const Tlv& tlv, bool& seen,
                                                    std::span<RegistrarId* const> ids) noexcept {
  auto fail = [&](DecodeErrorKind k) {
    return DecodeError{ErrorCause::kInvalidValues, k, false, tlv.offset, tlv.length};
  };
  if (seen) return fail(DecodeErrorKind::kDuplicateParameter);
  if (tlv.value.size() != 8 * ids.size()) return fail(DecodeErrorKind::kBadValueLength);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::uint64_t full = load_u64(tlv.value.data() + 8 * i);
    if (short_id(full) != short_id(*ids[i])) return fail(DecodeErrorKind::kIdMismatch);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) *ids[i] = load_u64(tlv.value.data() + 8 * i);
  seen = true;
  return std::nullopt;
}

inline void encode_extended_ids(TlvWriter& w, std::initializer_list<RegistrarId> ids) noexcept {
  const auto t = w.begin_tlv(param::kExtendedIds);
  for (auto id : ids) w.u64(id);
  w.end_tlv(t);
}

inline DecodeError tlv_error(DecodeErrorKind kind, const Tlv& t) noexcept {
  return DecodeError{ErrorCause::kInvalidValues, kind, false, t.offset, t.length};
}

}  // namespace poolreg::wire::detail
