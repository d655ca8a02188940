#include "dataplane/runtime/lane_resolver.hpp"

#include <algorithm>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::runtime {

LaneResolver::LaneResolver(const handlespace::Handlespace& hs, handlespace::QsbrDomain& domain,
                           const asap::AsapConfig& config, LaneCounters& counters, const Clock& clock,
                           std::uint64_t seed)
    : hs_(hs),
      reader_(domain, seed),
      answerer_(config),
      hr_limit_(config.hr_rate_limit),
      counters_(counters),
      clock_(clock),
      tx_(std::max<std::size_t>(answerer_.max_message(), 64) + 4) {}

LaneResolver::~LaneResolver() { reader_.offline(); }

std::span<const std::uint8_t> LaneResolver::answer(ConnectionId id, std::span<const std::uint8_t> message) {
  if (message.empty() || message[0] != static_cast<std::uint8_t>(wire::AsapType::kHandleResolution)) return {};
  // Decoding a Handle Resolution does not depend on the next-gen flag (it only changes encoding):
  // the same options AsapServer decodes with.
  const auto r = wire::decode_handle_resolution(message, answerer_.options_for(std::nullopt));
  if (!r || !r.reports().empty()) {
    counters_.resolutions_forwarded.add();
    return {};
  }
  bool limited = false;
  if (hr_limit_.enabled()) {
    const TimeNs now = clock_.now();
    auto it = buckets_.find(id);
    if (it == buckets_.end()) it = buckets_.emplace(id, asap::TokenBucket(hr_limit_, now)).first;
    limited = !it->second.try_take(hr_limit_, now);
  }
  const wire::HandleResolution& request = r.value();
  const auto a = answerer_.answer(hs_, reader_, request, answerer_.options_for(request.ng_capabilities),
                                  answerer_.items_for(request.items), limited, std::span<std::uint8_t>(tx_));
  if (a.size == 0) {  // cannot happen with tx_ sized for max_message; AsapServer would count it
    counters_.resolutions_forwarded.add();
    return {};
  }
  using Status = asap::ResolutionOutcome::Status;
  switch (a.outcome.status) {
    case Status::kRateLimited:
      counters_.resolutions_rate_limited.add();
      break;
    case Status::kUnknownPool:
      counters_.resolutions_unknown_pool.add();
      break;
    case Status::kAnswered:
      counters_.resolutions_answered.add();
      counters_.resolution_pes_returned.add(a.outcome.pes_returned);
      if (a.outcome.truncated) counters_.resolutions_truncated.add();
      break;
  }
  return std::span<const std::uint8_t>(tx_.data(), a.size);
}

}  // namespace poolreg::runtime
