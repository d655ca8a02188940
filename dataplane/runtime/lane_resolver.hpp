// LaneResolver: answers ASAP Handle Resolutions on a lane (a DPDK poll lcore or a kernel lane
// thread; registrar.resolve_on_lanes), reading the lock-free handlespace directly instead of
// sending each request over two rings to the control thread's AsapServer. The answer is the same
// (asap::ResolutionAnswerer, shared with AsapServer): decode with the registrar's WireOptions,
// the NG-Capabilities of the request pick the encoding, asap.hr_rate_limit per association (an
// excess request is answered "unknown pool handle" as AsapServer does).
//
// Not answered here (answer() returns an empty span, the engine forwards the message unchanged):
// every other message type, and a Handle Resolution that fails to decode or carries parameters
// to report (AsapServer sends the ASAP Errors). Writes never happen here: the selection feedback
// resolve() queues for least-used policies is drained by the shard writer on the control thread.
//
// Threading: constructed and destroyed on the control thread while the lane is not running;
// everything else on the lane only. The reader slot follows the QSBR contract: online() when the
// lane starts or wakes up, quiescent() once per iteration, offline() before sleeping (idle sleep,
// a kernel lane's epoll_wait) and when the lane ends.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "dataplane/runtime/lane_counters.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/asap/rate_limiter.hpp"
#include "registrar/asap/resolution_answer.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::runtime {

class LaneResolver final : public sctp::LocalAnswerer {
 public:
  // Takes a reader slot of `domain` (the handlespace's QSBR domain; std::runtime_error when none
  // is free). hs, domain, counters and clock must outlive the resolver.
  LaneResolver(const handlespace::Handlespace& hs, handlespace::QsbrDomain& domain, const asap::AsapConfig& config,
               LaneCounters& counters, const Clock& clock, std::uint64_t seed);
  ~LaneResolver() override;
  LaneResolver(const LaneResolver&) = delete;
  LaneResolver& operator=(const LaneResolver&) = delete;

  void online() noexcept { reader_.online(); }
  void quiescent() noexcept { reader_.quiescent(); }
  void offline() noexcept { reader_.offline(); }

  std::span<const std::uint8_t> answer(ConnectionId id, std::span<const std::uint8_t> message) override;
  void forget(ConnectionId id) override { buckets_.erase(id); }

  std::size_t rate_limited_associations() const noexcept { return buckets_.size(); }

 private:
  const handlespace::Handlespace& hs_;
  handlespace::ReaderContext reader_;
  asap::ResolutionAnswerer answerer_;
  asap::RateLimit hr_limit_;
  LaneCounters& counters_;
  const Clock& clock_;
  // One bucket per association that resolved here, only while a limit is configured.
  std::unordered_map<ConnectionId, asap::TokenBucket> buckets_;
  std::vector<std::uint8_t> tx_;  // one answer, sized once
};

}  // namespace poolreg::runtime
