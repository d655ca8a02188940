// Salvaging a Registration that failed to decode: when its pool handle and the Pool Element
// TLV's (short) PE ID are still readable, the registrar answers with a Registration Response
// R=1 naming them instead of a bare ASAP Error (asap.md 6: "R=1 if handle+ID decoded").
//
// Contract: a pure function over the received bytes; no allocation, no state, any thread. The
// caller decides when salvage applies (AsapServer: not after framing errors such as a bad
// Length, a truncated header or trailing bytes).
#pragma once

#include <cstdint>
#include <span>

#include "registrar/common/expected.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::wire {

struct SalvagedRegistration {
  PoolHandle handle;
  PoolElementId id = 0;  // the PE TLV's 32-bit ID field (no Extended-PE-ID lookup)
};

// Why nothing could be salvaged.
enum class SalvageFailure : std::uint8_t {
  kUnreadablePoolHandle,  // the first Pool Handle TLV does not decode (e.g. too long)
  kShortPoolElement,      // the first Pool Element TLV is too short to hold a PE ID
  kNoPoolHandle,          // no Pool Handle TLV before the TLVs stop
  kNoPoolElement,         // no Pool Element TLV before the TLVs stop
};

// Reads the first Pool Handle and the first Pool Element TLV of `message` (a whole ASAP
// Registration, header included). TLVs are walked until the first malformed one; `options`
// bound the pool handle as the decoder does.
Expected<SalvagedRegistration, SalvageFailure> salvage_registration(std::span<const std::uint8_t> message,
                                                                    const WireOptions& options) noexcept;

}  // namespace poolreg::wire
