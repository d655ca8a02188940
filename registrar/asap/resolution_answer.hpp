// ResolutionAnswerer: encodes the Handle Resolution Response to one decoded Handle Resolution
// (asap.md 4.3, ASAP-HR-01/02): up to `items` PEs selected by hs.resolve with the pool's policy,
// truncated so the answer stays one message of at most max_message bytes, the policy TLV of the
// first returned PE (or the pool's policy when nothing was selectable), or an Operation Error
// "unknown pool handle" (0x9) for an unknown pool and for a rate-limited request (as RSPLIB).
//
// Shared by AsapServer (control thread) and the DPDK poll lcore, which answers resolutions itself
// against the lock-free handlespace: the answer is the same on both paths.
//
// Reader side only: it never calls a writer-side handlespace function (the caller drains the
// selection feedback as the shard writer, or leaves it to the writer), never sends, keeps no
// handlespace pointer after answer() returns, and does not allocate after construction. One
// instance per thread (it owns a scratch buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "registrar/asap/asap_config.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_messages.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::asap {

struct ResolutionOutcome {
  enum class Status : std::uint8_t {
    kAnswered,     // pool known: 0..items PEs
    kUnknownPool,  // answered 0x9
    kRateLimited,  // answered 0x9 without looking at the handlespace
  };
  Status status = Status::kAnswered;
  std::size_t pes_returned = 0;
  bool truncated = false;  // fewer PEs than selected, so that the answer fits max_message
};

struct ResolutionAnswer {
  // Bytes of the encoded response at the start of `out`; 0 = encoding failed (buffer too small),
  // nothing to send (the outcome still says what the answer would have been).
  std::size_t size = 0;
  ResolutionOutcome outcome;
};

class ResolutionAnswerer {
 public:
  // The fields used: next_gen, ng_capabilities, hr_default_items, hr_max_items,
  // max_pool_handle, max_message, max_addresses.
  explicit ResolutionAnswerer(const AsapConfig& config);

  // Codec options for a peer whose latest message carried `ng_capabilities` (nullopt: an RFC
  // peer, nextgen.md 1).
  wire::WireOptions options_for(const std::optional<std::uint32_t>& ng_capabilities) const noexcept;
  // Items to select for a request with this HRO value (0 / absent = default; capped).
  std::uint32_t items_for(const std::optional<std::uint32_t>& hro) const noexcept;
  // Largest message the answers may have (output buffers need this much).
  std::size_t max_message() const noexcept { return max_message_; }

  // Encodes the answer to `request` into `out` (at least max_message() bytes for a full answer).
  // `reader` must be an ONLINE reader of hs's QSBR domain, owned by the calling thread.
  ResolutionAnswer answer(const handlespace::Handlespace& hs, handlespace::ReaderContext& reader,
                          const wire::HandleResolution& request, const wire::WireOptions& options,
                          std::uint32_t items, bool rate_limited, std::span<std::uint8_t> out);

 private:
  bool next_gen_;
  std::uint32_t ng_capabilities_;
  std::uint32_t default_items_;
  std::size_t resolve_cap_;
  std::size_t max_pool_handle_;
  std::size_t max_message_;
  std::size_t max_addresses_;
  std::vector<IpAddress> address_scratch_;  // addresses of one PE, sized once
  std::vector<AddressTypeEntry> type_scratch_;  // their RFC 8653 types (next-gen PUs), sized once
};

}  // namespace poolreg::asap
