#include "registrar/asap/resolution_answer.hpp"

#include <algorithm>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/message_header.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::asap {

namespace {

// Upper bound of the bytes one PE adds to a Handle Resolution Response (PE TLV header + IDs +
// life, transport header incl. DCCP service code, addresses, policy TLV, next-gen 0x8042).
constexpr std::size_t kPeFixedBound = 16 + 12 + 32 + 20;
constexpr std::size_t kPolicyTlvBound = 32;
// Most addresses one PE can carry in the answer (the transport TLV's own limit).
constexpr std::size_t kAddressScratch = 255;

}  // namespace

ResolutionAnswerer::ResolutionAnswerer(const AsapConfig& config)
    : next_gen_(config.next_gen),
      ng_capabilities_(config.ng_capabilities),
      default_items_(config.hr_default_items),
      resolve_cap_(std::clamp<std::size_t>(config.hr_max_items, 1, handlespace::kMaxResolveItems)),
      max_pool_handle_(std::min(config.max_pool_handle, kPoolHandleCapacity)),
      max_message_(std::min<std::size_t>(config.max_message, 65535)),
      max_addresses_(config.max_addresses),
      address_scratch_(kAddressScratch),
      type_scratch_(kAddressScratch) {}

wire::WireOptions ResolutionAnswerer::options_for(const std::optional<std::uint32_t>& ng_capabilities) const noexcept {
  wire::WireOptions o;
  o.next_gen = next_gen_ && ng_capabilities.has_value();
  o.max_pool_handle = max_pool_handle_;
  o.max_message = max_message_;
  o.max_addresses = max_addresses_;
  return o;
}

std::uint32_t ResolutionAnswerer::items_for(const std::optional<std::uint32_t>& hro) const noexcept {
  std::uint64_t n = default_items_;
  if (hro && *hro != 0 && (ng_capabilities_ & wire::kNgCapHro) != 0) n = *hro;
  if (n == 0) n = 1;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, resolve_cap_));
}

ResolutionAnswer ResolutionAnswerer::answer(const handlespace::Handlespace& hs, handlespace::ReaderContext& reader,
                                            const wire::HandleResolution& request, const wire::WireOptions& o,
                                            std::uint32_t items, bool rate_limited, std::span<std::uint8_t> out) {
  ResolutionAnswer result;
  wire::HandleResolutionResponseWriter w{wire::ByteSink(out), o};
  const PoolHandle& handle = request.pool_handle;
  if (rate_limited) {
    result.outcome.status = ResolutionOutcome::Status::kRateLimited;
    w.begin_error(handle, ErrorCause::kUnknownPoolHandle);  // as RSPLIB: looks like an unknown pool
  } else {
    std::size_t used = wire::kMessageHeaderSize + wire::pad4(wire::kTlvHeaderSize + handle.size()) + kPolicyTlvBound;
    bool begun = false;
    bool truncated = false;
    std::size_t sent = 0;
    const auto status = hs.resolve(handle, items, reader, [&](const handlespace::PoolElementView& pe) {
      if (truncated) return;
      std::size_t n = 0;
      std::size_t address_bytes = 0;
      for (const IpAddress ip : pe.user_addresses()) {
        if (n == address_scratch_.size()) break;
        address_scratch_[n++] = ip;
        address_bytes += ip.is_v4() ? 8 : 20;
      }
      // RFC 8653 types to next-gen PUs (the addresses are stored in stability order already).
      std::size_t typed = 0;
      if (o.next_gen && pe.record().has_address_types() && pe.user_addresses().size() == n) {
        typed = pe.record().address_types(type_scratch_);
        address_bytes += 4 + wire::param::kAddressTypeEntrySize * typed;
      }
      if (used + kPeFixedBound + address_bytes > o.max_message) {
        truncated = true;  // keep the answer one valid message
        return;
      }
      if (!begun) {
        w.begin(handle, pe.policy());  // RSPLIB: policy TLV = the first returned PE's values
        begun = true;
      }
      w.add(pe.id(), pe.home(), pe.registration_life_ms(), pe.user_protocol(), pe.user_port(),
            pe.user_transport_use(), std::span<const IpAddress>(address_scratch_.data(), n), pe.policy(),
            pe.dccp_service_code(), std::span<const AddressTypeEntry>(type_scratch_.data(), typed));
      used += kPeFixedBound + address_bytes;
      ++sent;
    });
    if (status == handlespace::ResolveStatus::kUnknownPool) {
      result.outcome.status = ResolutionOutcome::Status::kUnknownPool;
      w.begin_error(handle, ErrorCause::kUnknownPoolHandle);  // ASAP-HR-02
    } else {
      if (!begun) {  // pool exists but nothing selectable (e.g. all weights 0)
        PolicyParams p;
        if (auto s = hs.pool_summary(handle)) p.type = s->policy;
        w.begin(handle, p);
      }
      result.outcome.status = ResolutionOutcome::Status::kAnswered;
      result.outcome.pes_returned = sent;
      result.outcome.truncated = truncated;
    }
  }
  const auto e = w.finish();
  if (e) result.size = e.size;
  return result;
}

}  // namespace poolreg::asap
