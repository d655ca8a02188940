// LaneKeepAlives: ASAP Endpoint Keep-Alive monitoring of owned PEs on the lane that runs their SCTP
// association (issue 16 item 2; asap.keepalive_on_lanes), so Keep-Alives and their Acks never touch
// the control thread. One hashed timer wheel per lane (asap::KeepAliveScheduler, the control
// thread's own), entries keyed by (pool handle, PE ID) (asap::OwnedPeTable).
//
// What happens to a watched PE (the same rules as AsapServer's, ASAP-KA-01..03):
//   watch (command from AsapServer, the PE settled idle) -> transmission timer at interval ->
//   revalidate through the lock-free handlespace: still home == this registrar and bound to the
//   association? no -> dropped, KeepAliveReport kNotOurs to the control thread; yes -> Keep-Alive
//   (H=0, PE ID always) encoded, timeout armed; once every timer due in this tick has run, the
//   Keep-Alives are sent on the lane's engine, one send per association holding all of that
//   association's (asap.keepalive_batch; else one send each), so PEs sharing an association get
//   them in as few SCTP packets as the stack bundles (the engine no longer knows the association:
//   dropped without a report, the control thread has its close) ->
//   the PE's Ack on the same association: consumed here (consume() returns true, nothing is
//   forwarded), timer re-armed at interval; an Ack for an unknown PE or from another association
//   is left to the control thread (forwarded as before) -> no Ack in time: dropped, KeepAliveReport
//   kTimedOut; the control thread removes the PE (AsapServer::on_lane_keepalive).
//   unwatch (command): dropped silently. A watch of a PE already here replaces it.
// The control thread takes a PE back (unwatch) before it sends anything whose Ack it must see
// itself (rebind and unreachable probes): commands run in ring order, so the lane has stopped
// consuming the PE's Acks by the time the probe leaves.
//
// Threading: constructed and destroyed while the lane is not running; everything else on the lane's
// thread. The reader slot follows the QSBR contract: online() when the lane starts or wakes up,
// quiescent() once per iteration, offline() before sleeping and when the lane ends.
// Allocation: watch() may grow the tables; consume() does not allocate, run_timers() only until its
// batch buffers have grown to the largest tick's Keep-Alives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dataplane/runtime/lane_counters.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/sctp/sctp_engine.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/asap/keep_alive_scheduler.hpp"
#include "registrar/asap/owned_pe_table.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/keepalive_watch.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::runtime {

class LaneKeepAlives final : public sctp::LocalConsumer {
 public:
  // Where the lane's Keep-Alives go: its engine (SctpEngine::send_batch): several messages on one
  // association, in order; results[i] is messages[i]'s.
  using Send = std::function<void(ConnectionId, std::span<const std::span<const std::uint8_t>> messages,
                                  std::span<SendResult> results)>;
  // Where timeouts and drops go: the lane's event ring (LaneEventSink).
  class Reports {
   public:
    virtual ~Reports() = default;
    virtual void keepalive_report(const KeepAliveReport& report) = 0;
  };

  // Takes a reader slot of `domain` (std::runtime_error when none is free). hs, domain, counters,
  // reports and clock must outlive this. config: registrar ID, keep-alive interval / timeout,
  // timer wheel and wire limits (as AsapServer's).
  LaneKeepAlives(const handlespace::Handlespace& hs, handlespace::QsbrDomain& domain,
                 const asap::AsapConfig& config, LaneCounters& counters, Reports& reports, const Clock& clock,
                 Send send);
  // The lane's LaneKeepAlives on `engine`: sends through engine.send_batch() and takes the Acks
  // as the engine's LocalConsumer (set here). The one factory of both backends' lanes.
  static std::unique_ptr<LaneKeepAlives> for_engine(const handlespace::Handlespace& hs,
                                                    handlespace::QsbrDomain& domain,
                                                    const asap::AsapConfig& config, LaneCounters& counters,
                                                    Reports& reports, const Clock& clock,
                                                    sctp::SctpEngine& engine);
  ~LaneKeepAlives() override;
  LaneKeepAlives(const LaneKeepAlives&) = delete;
  LaneKeepAlives& operator=(const LaneKeepAlives&) = delete;

  void online() noexcept { reader_.online(); }
  void quiescent() noexcept { reader_.quiescent(); }
  void offline() noexcept { reader_.offline(); }

  // ---- commands from the control thread (run_lane_commands) ----
  void watch(const KeepAliveWatch& w);
  void unwatch(ConnectionId connection, const PoolHandle& handle, PoolElementId id);
  void set_timers(TimeNs interval, TimeNs timeout) noexcept;

  // ---- lane loop ----
  // A Keep-Alive Ack of a watched PE on its association: consumed (re-armed at interval).
  bool consume(ConnectionId id, std::span<const std::uint8_t> message) override;
  // Sends the Keep-Alives and reports the timeouts due now (outside usrsctp's callbacks).
  void run_timers();
  std::optional<TimeNs> next_due() const noexcept { return timers_.next_due(); }

  std::size_t watched() const noexcept { return table_.size(); }

 private:
  void on_timer(asap::OwnedPeTable::Index index);
  void send_due();  // the Keep-Alives on_timer() encoded in this tick, one send per association
  void drop(asap::OwnedPeTable::Index index, KeepAliveReport::Kind kind);

  const handlespace::Handlespace& hs_;
  handlespace::ReaderContext reader_;
  RegistrarId registrar_id_;
  TimeNs interval_;
  TimeNs timeout_;
  wire::WireOptions options_;  // next_gen set per PE
  LaneCounters& counters_;
  Reports& reports_;
  const Clock& clock_;
  Send send_;
  asap::OwnedPeTable table_;            // kIdle: transmission timer; kAwaitingAck: timeout
  std::vector<std::uint32_t> tickets_;  // per table index (KeepAliveWatch::ticket)
  std::vector<std::uint8_t> next_gen_;  // per table index
  asap::KeepAliveScheduler timers_;
  bool batch_;  // asap.keepalive_batch: one send per association and tick
  // This tick's Keep-Alives: encoded back to back in due_bytes_, sent by send_due().
  struct Due {
    ConnectionId association;
    asap::OwnedPeTable::Index index;
    std::uint32_t offset;
    std::uint32_t size;
  };
  std::vector<Due> due_;
  std::vector<std::uint8_t> due_bytes_;
  std::vector<std::span<const std::uint8_t>> messages_;  // one association's, for send_
  std::vector<SendResult> results_;
};

}  // namespace poolreg::runtime
