// Locating TLVs inside a received message's bytes, for quoting them in an Operation Error (the
// "offending TLV" of asap.md 6) after the message was decoded or rejected.
//
// Contract: pure functions over bytes; no allocation, no state, any thread. They never read
// outside the span they are given and return an empty span when the TLV is not there (or the
// bytes are too short to hold it). Offsets follow TlvReader: relative to the message start.
#pragma once

#include <cstdint>
#include <span>

namespace poolreg::wire {

// The TLV region of a message: after the 4-byte header, up to its Length field (clipped to the
// buffer). Empty when the header is short or Length is smaller than the header.
std::span<const std::uint8_t> message_body(std::span<const std::uint8_t> message) noexcept;

// A part of a Registration's Pool Element TLV that an Operation Error may quote.
enum class PoolElementPart : std::uint8_t {
  kWholeElement,   // the Pool Element TLV itself
  kUserTransport,  // its first user transport sub-TLV (SCTP, TCP, UDP, DCCP, UDP-Lite)
  kPolicy,         // its pool member selection policy sub-TLV
};

// The bytes (TLV with its padding, as far as the buffer holds them) of that part of the first
// Pool Element TLV in `message` (a whole ASAP message, header included).
std::span<const std::uint8_t> find_pool_element_part(std::span<const std::uint8_t> message,
                                                     PoolElementPart part) noexcept;

}  // namespace poolreg::wire
