// AsapServer: the ASAP side of the pool registrar (RFC 5352 as shared/spec/asap.md describes it,
// plus nextgen.md 1, 5, 6.8): registration, deregistration, handle resolution, endpoint
// keep-alive monitoring of owned PEs, endpoint unreachable reports, association loss.
//
// Threading / ownership contract
// - Single-threaded: every method runs on the registrar's event-loop thread, which must also be
//   the writer of every handlespace shard (register/deregister/remove_association/set_expiry/
//   drain_feedback are called from here) and the owner of `reader` (an ONLINE ReaderContext of
//   the handlespace's QSBR domain; the server calls reader.quiescent() after each message and
//   timer run, since it keeps no handlespace pointer across calls).
// - No sockets, no threads, no exceptions on the message path: input comes as whole ASAP
//   messages per connection, output leaves through MessageOutput, ENRP is told about owned PEs
//   through OwnedPeListener (may be null), time comes from the Clock.
// - All referenced objects must outlive the server.
// - Endpoint Unreachable (issue 17): reports count once per reporting source address and PE
//   (UnreachableReporters); at MAX-BAD-PE-REPORT a PE registered here over a live association
//   is probed with a keep-alive (keepalive_timeout) and removed only when it does not answer;
//   other PEs are removed at once as before.
//
// Allocation: the Handle Resolution path (decode, rate limit, selection, encode, send) does not
// allocate; registration and the rarer paths may.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_set>
#include <span>
#include <vector>

#include "registrar/asap/address_quotas.hpp"
#include "registrar/asap/asap_config.hpp"
#include "registrar/asap/asap_counters.hpp"
#include "registrar/asap/association_table.hpp"
#include "registrar/asap/bound_pe_index.hpp"
#include "registrar/asap/deregister_holds.hpp"
#include "registrar/asap/handover_holds.hpp"
#include "registrar/asap/pending_rebinds.hpp"
#include "registrar/asap/keep_alive_scheduler.hpp"
#include "registrar/asap/owned_pe_table.hpp"
#include "registrar/asap/resolution_answer.hpp"
#include "registrar/asap/unreachable_reporters.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_event.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_messages.hpp"
#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::asap {

class AsapServer final : public PeMonitor {
 public:
  AsapServer(const AsapConfig& config, handlespace::Handlespace& handlespace, handlespace::ReaderContext& reader,
             MessageOutput& output, const Clock& clock, OwnedPeListener* enrp);
  AsapServer(const AsapServer&) = delete;
  AsapServer& operator=(const AsapServer&) = delete;
  ~AsapServer() override;

  // ---- transport events ----
  // A PE/PU association (or TCP connection) is up; peer addresses feed the address filter and
  // the ASAP transport of PEs registered over it. Calling it again refreshes the peer info.
  void on_connection_up(ConnectionId connection, const ConnectionPeer& peer);
  // One whole ASAP message (PPID 11 / one framed TCP message). srtt_us: the association's
  // smoothed RTT as the transport measured it with this message (MessageInfo::srtt_us; 0 = not
  // measured, the association's latest value stays); a DPF PE's distance comes from it.
  void on_message(ConnectionId connection, std::span<const std::uint8_t> bytes, std::uint32_t srtt_us = 0);
  // Messages on the connection were answered without reaching the server (Handle Resolutions on
  // the DPDK poll lcore): it counts as traffic for association_idle_timeout.
  void on_activity(ConnectionId connection);
  // ASAP-KA-04: every PE registered over the connection is removed (ENRP DEL for owned ones),
  // at most config.teardown_batch of them now and the rest in later run_timers passes
  // (next_timer_due() is then due at once). Until removed, those PEs are still returned by
  // resolutions: a lost association's PEs may be alive (the PE reconnects over a new one), and
  // a 10^6-PE teardown takes ~2.5 s (perf/registrar/daemon_results.md). Meanwhile a PE
  // of the lost association may register over a new one without a 0x4 refusal.
  // With config.handover_hold > 0 (issue 14 item 3) the PEs are held instead: not offered in
  // resolutions, no ENRP DEL, no keep-alives; a registration of one of them (over any
  // association) within the hold resumes it with one ENRP update; when the hold ends, the PEs
  // still held are removed as above (ENRP DEL). Endpoint Unreachable reports still count.
  void on_connection_closed(ConnectionId connection);
  // The association's peer changed its address set (SCTP ADD-IP / DELETE-IP / SET-PRIMARY that
  // the SCTP stack accepted; peer.addresses is the whole new list, primary first). From now on
  // the address check uses it; owned PEs bound to the association get their ASAP transport from
  // it and, with address_check on, lose user addresses the association no longer has (never
  // their last one); each changed PE is re-registered in the handlespace and reported to ENRP
  // (a Handle Update, as a re-registration). The association's SRTT is taken from peer.srtt_us
  // (when measured) and the DPF PEs bound to it get their distance from it again (a changed
  // distance is a Handle Update too). Unknown connections are counted and ignored.
  void on_addresses_changed(ConnectionId connection, const ConnectionPeer& peer);

  // ---- timers ----
  // Runs keep-alive transmissions and timeouts that are due at `now`, ends the handover holds
  // due at `now`, and the next pass of lost associations' teardowns.
  void run_timers(TimeNs now);
  // When run_timers should run next (nullopt: nothing scheduled).
  std::optional<TimeNs> next_timer_due() const;

  // ---- ENRP -> ASAP (PeMonitor) ----
  // After a takeover (home already = this PR) or an accepted takeover suggestion (home = other
  // PR): SCTP PEs get a new association and a Keep-Alive H=1 with the timeout armed; their Ack
  // binds the PE to that association (owned PEs only). PEs whose ASAP transport is TCP (or
  // absent) cannot be reached (nextgen.md 6.8): kept until now + registration life instead.
  void monitor_as_new_home(const PoolHandle& handle, const PoolElement& pe) override;

  // ---- keep-alives on lanes (issue 16 item 2) ----
  // A PE handed to its association's lane (MessageOutput::watch_keepalives) ended there:
  // kTimedOut runs the same removal as a keep-alive timeout here (ASAP-KA-02, ENRP DEL, abort
  // rules); kNotOurs stops monitoring it (as the revalidation before a Keep-Alive here does).
  // A report whose ticket is not the PE's current hand-over is stale and only counted.
  void on_lane_keepalive(const KeepAliveReport& report);

  // ---- operator actions (control socket) ----
  // Removes a PE; ENRP DEL when owned. False when unknown. A PE registered here is then refused
  // re-registration for deregister_hold (R=1, cause 0xa); its association stays.
  bool operator_deregister(const PoolHandle& handle, PoolElementId id);
  // Until when a re-registration of the PE is refused after operator_deregister (0: it is not).
  TimeNs deregister_held_until(const PoolHandle& handle, PoolElementId id) const { return holds_.until(handle, id); }
  // Handle resolution through the same policy path as ASAP (items as in an HRO: 0 = default,
  // 0xFFFFFFFF = cap). nullopt = unknown pool.
  std::optional<std::vector<PoolElement>> operator_resolve(const PoolHandle& handle, std::uint32_t items = 0);

  // Where PE and pool events go (poolctl events); null (the default) = nowhere. Every event is
  // raised on this (the control) thread where the write happens; nothing is built unless the
  // sink wants that kind (registrar_event.hpp).
  void set_event_sink(RegistrarEventSink* sink) noexcept { events_ = sink; }

  const AsapCounters& counters() const noexcept { return counters_; }
  const AsapConfig& config() const noexcept { return config_; }
  // A configuration reload: takes from `next` only what this server reads afresh on every use
  // (keep-alive interval/timeout for timers armed from now on, the rate limits also for the
  // existing associations' buckets, max_addresses, max_associations, association_idle_timeout,
  // the per-client quotas for what comes next — PEs and associations over a lowered quota stay);
  // everything else of `next` is ignored (it is fixed at construction).
  void apply_live_settings(const AsapConfig& next) noexcept;
  // Number of owned PEs under keep-alive monitoring (here or handed to lanes).
  std::size_t monitored_pes() const noexcept { return owned_.size(); }
  // Of those, the ones handed to lanes.
  std::size_t lane_monitored_pes() const noexcept { return lane_watched_; }
  std::size_t associations() const noexcept { return associations_.size(); }
  // Lost associations whose PEs are still being removed (see on_connection_closed).
  std::size_t pending_teardowns() const noexcept { return teardowns_.size(); }
  // Lost associations whose PEs are held (handover hold, see on_connection_closed).
  std::size_t handover_holds() const noexcept { return handovers_.size(); }

 private:
  // Dispatch per type.
  // rebind_from: the association a probe found dead (or that closed) while this registration
  // waited (issue 14 item 2); the PE may then move off it. kNoConnectionId for a fresh one.
  void handle_registration(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes,
                           ConnectionId rebind_from = kNoConnectionId);
  void handle_handle_resolution(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes);
  void handle_other(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes, std::uint8_t type);
  void handle_deregistration(ConnectionId c, const wire::Deregistration& m, const wire::WireOptions& o);
  void handle_keepalive_ack(ConnectionId c, const wire::EndpointKeepAliveAck& m);
  void handle_unreachable(ConnectionId c, Association& a, const wire::EndpointUnreachable& m);
  // MAX-BAD-PE-REPORT reached: a PE registered here over a live association gets a keep-alive
  // now (or keeps the one already out) and its answer decides. False: not such a PE.
  bool probe_unreachable(const PoolHandle& handle, PoolElementId id);

  // Break-before-make rebind (issue 14 item 2). live_binding_elsewhere: the live association,
  // other than c, that the owned PE is bound to (kNoConnectionId: none, no probe needed).
  ConnectionId live_binding_elsewhere(const PoolHandle& handle, PoolElementId id, ConnectionId c) const;
  void park_for_probe(ConnectionId c, const PoolHandle& handle, PoolElementId id, ConnectionId old,
                      std::span<const std::uint8_t> bytes, const wire::WireOptions& o);
  // The probe decided: the parked registration is refused with 0x4 (old binding answered) or
  // run again with rebind_from = old (no answer in time, or the old association closed).
  void refuse_parked(const PendingRebinds::Entry& e);
  void rebind_parked(PendingRebinds::Entry& e);
  void run_due_rebinds(TimeNs now);

  // Per-client quotas. admit_from_address: false = refused and aborted
  // (max_associations_per_address). over_pe_quota: true = the registration must be refused with
  // cause 0x6 (max_pes_per_association / max_pes_per_address); re-registrations always pass.
  bool admit_from_address(ConnectionId c, const ConnectionPeer& peer);
  bool over_pe_quota(ConnectionId c, const Association& a, const PoolHandle& handle, PoolElementId id);

  // Errors.
  void handle_decode_failure(ConnectionId c, std::span<const std::uint8_t> bytes, const wire::DecodeError& e,
                             std::uint8_t type, const wire::WireOptions& o);
  void send_reports(ConnectionId c, std::span<const std::uint8_t> bytes, const wire::UnrecognizedReports& reports,
                    std::uint8_t type);
  void send_error(ConnectionId c, ErrorCause cause, std::span<const std::uint8_t> info);
  void send_registration_reject(ConnectionId c, const PoolHandle& handle, PoolElementId id, ErrorCause cause,
                                std::span<const std::uint8_t> info, const wire::WireOptions& o);

  // Address changes (on_addresses_changed).
  void follow_address_change(ConnectionId c, const Association& a, const std::vector<IpAddress>& removed);
  bool bound_here(ConnectionId c, const BoundPeIndex::Key& k) const;
  void note_bound(ConnectionId c, const PoolHandle& handle, PoolElementId id);
  // ASAP-REG-07: the ASAP transport of a PE registered over `a` (nullopt: no address or port).
  std::optional<TransportEndpoint> asap_transport_of(const Association& a) const;

  // Helpers.
  Association& association_for(ConnectionId c);
  wire::WireOptions options_for(const Association& a) const noexcept;
  bool send(ConnectionId c, std::span<const std::uint8_t> message);
  std::uint32_t items_for(const std::optional<std::uint32_t>& hro) const noexcept;
  void answer_resolution(ConnectionId c, const wire::HandleResolution& m, const wire::WireOptions& o,
                         bool rate_limited);
  // Removal bookkeeping for a PE the handlespace just dropped: monitor entry, counts, ENRP DEL,
  // the pe_removed (and pool_removed) event with `cause`.
  void forget_removed(const handlespace::RemovedPe& removed, PeRemovalCause cause);
  // Storage for one removed PE, copied from the handlespace's RemovedPeView: taken from
  // spare_removals_ (its vectors keep their capacity, so a removal allocates nothing once warm)
  // and given back after forget_removed. A stack, not one member: forget_removed's listeners
  // may, in principle, remove another PE before the first is done with.
  handlespace::RemovedPe take_removal_storage();
  void recycle_removal_storage(handlespace::RemovedPe&& storage);
  // The PE as stored before a re-registration, only when the event sink wants pe_moved.
  std::optional<PoolElement> previous_for_events(const PoolHandle& handle, PoolElementId id) const;
  void release_monitor(OwnedPeTable::Index index);
  // The PE's monitoring settles in the idle state (registered, Ack received): handed to its
  // association's lane when the output takes it (asap.keepalive_on_lanes, no probe out), else
  // the transmission timer is armed here.
  void settle_idle(OwnedPeTable::Index index);
  // A PE on a lane comes back here (state kIdle, no timer armed: the caller arms one).
  void take_back(OwnedPeTable::Index index);
  void detach(OwnedPe& e) noexcept;
  void track_owned(const PoolHandle& handle, PoolElementId id, ConnectionId c);
  void on_timer(KeepAliveScheduler::TimerId id);
  void keepalive_timed_out(OwnedPeTable::Index index);
  void abort_if_unused(ConnectionId c);
  void close_association(ConnectionId c, bool aborted);
  // One bounded pass (config.teardown_batch PEs) over the lost associations' teardowns.
  void run_teardowns();
  // Handover hold: marks the lost association's PEs held and stops monitoring them; false when
  // it had none and is not held already (nothing to hold: torn down as without a hold).
  bool hold_association(ConnectionId c);
  void keep_for_life(const PoolHandle& handle, const PoolElement& pe);
  void close_idle_associations(TimeNs now);
  // How often the association table is swept: a quarter of the shorter of the idle and the
  // first-message timeouts; 0 when both are off.
  TimeNs sweep_period() const noexcept;
  bool send_keepalive(ConnectionId c, const PoolHandle& handle, PoolElementId id, bool home);

  AsapConfig config_;
  handlespace::Handlespace& hs_;
  handlespace::ReaderContext& reader_;
  MessageOutput& out_;
  const Clock& clock_;
  OwnedPeListener* enrp_;
  RegistrarEventSink* events_ = nullptr;

  AssociationTable associations_;
  OwnedPeTable owned_;
  KeepAliveScheduler timers_;
  AsapCounters counters_;
  ResolutionAnswerer answerer_;  // Handle Resolution Responses (shared with the DPDK poll lcore)
  UnreachableReporters reporters_;  // who reported which PE (one count per source address)
  BoundPeIndex bound_;              // owned PEs per association, for its address changes
  AddressQuotas quotas_;            // associations and PEs per source address
  DeregisterHolds holds_;           // PEs removed by the operator, refused for deregister_hold
  PendingRebinds rebinds_;          // registrations waiting for their old binding's probe
  HandoverHolds handovers_;         // lost associations whose PEs are held, by deadline

  // Connections refused by max_associations(_per_address), until their close is reported (their messages
  // are dropped instead of opening an association entry through the back door).
  std::unordered_set<ConnectionId> refused_;
  TimeNs next_idle_sweep_ = 0;  // 0: no idle timeout configured
  // Lost associations whose PEs are not all removed yet, oldest first (run_teardowns).
  // after_hold: its handover hold ended (the PEs removed count as pe_hold_expired).
  struct Teardown {
    ConnectionId connection = kNoConnectionId;
    bool after_hold = false;
  };
  std::deque<Teardown> teardowns_;
  // One teardown pass's PEs: the first removed_count_ entries; the entries (and their vectors'
  // capacity) stay for the next pass, which copies over them.
  std::vector<handlespace::RemovedPe> removed_;
  std::size_t removed_count_ = 0;
  std::vector<handlespace::RemovedPe> spare_removals_;  // take_removal_storage()

  std::vector<std::uint8_t> tx_;  // one outgoing message, sized once
  std::uint32_t next_ticket_ = 0;  // KeepAliveWatch::ticket of the last hand-over
  std::size_t lane_watched_ = 0;   // entries in state kOnLane
};

}  // namespace poolreg::asap
