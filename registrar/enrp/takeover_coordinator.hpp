// TakeoverCoordinator: takeover of a dead peer's PEs (enrp.md 4.7, ENRP-TKO-01..07): our own
// takeover processes (Init Takeover to every peer, the acks still missing, TAKEOVER-EXPIRY), the
// lowest-ID tie break against competitors, acks to other PRs' takeovers, and the ownership move
// when a takeover finishes (ours: PEs become ours and are probed with H=1; another PR's: PEs
// become its).
//
// Contract
// - Single-threaded: the control thread that drives EnrpServer, which is the writer of every
//   handlespace shard (this class calls for_each_of_owner / change_owner / set_expiry).
// - Owns: the running takeover processes (one per target ID, with their outstanding acks and
//   expiry) and the takeover counters. It writes PeerEntry::taker (the foreign taker we acked);
//   the peer entries themselves stay EnrpServer's.
// - Does not remove peers: every call that finishes a takeover returns the target's ID, and the
//   caller drops that peer entry (EnrpServer::drop_peer also resets mentor and sync state).
// - Uses, not owns: the config, the handlespace, the peer table, the PeerLinks it sends
//   through, the clock and the PeMonitor (ASAP) that probes PEs we became home of. All must
//   outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/registrar_event.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "registrar/enrp/peer_links.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/enrp/takeover_process.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/enrp_messages.hpp"

namespace poolreg::enrp {

class TakeoverCoordinator {
 public:
  // What an Init Takeover asked of us.
  enum class InitTakeoverReply : std::uint8_t {
    kIgnored,       // nonsense target, or we keep our own competing takeover (lower ID)
    kAcknowledged,  // Init Takeover Ack sent (ours cancelled if the sender wins the tie)
    kTargetIsUs,    // ENRP-TKO-02: we are alive; the caller tells every peer by Presence at once
  };

  TakeoverCoordinator(const EnrpConfig& config, handlespace::Handlespace& handlespace, PeerTable& peers,
                      PeerLinks& links, const Clock& clock, PeMonitor& pe_monitor);
  TakeoverCoordinator(const TakeoverCoordinator&) = delete;
  TakeoverCoordinator& operator=(const TakeoverCoordinator&) = delete;

  // Starts our takeover of `target` (presumed dead, owner of PEs): Init Takeover to every peer,
  // the target included. Returns the target's ID when it finished at once (nobody to ask).
  [[nodiscard]] std::optional<RegistrarId> start(const PeerEntry& target);
  bool running(RegistrarId target) const { return processes_.count(target) != 0; }
  // ENRP-TKO-07: the target was heard again; our process ends (counted as cancelled).
  void cancel(RegistrarId target);

  // ---- received messages (`from` is a table member) ----
  InitTakeoverReply on_init_takeover(PeerEntry& from, const wire::InitTakeover& m);
  // Returns the target's ID when that ack was the last one missing (we won).
  [[nodiscard]] std::optional<RegistrarId> on_init_takeover_ack(const PeerEntry& from,
                                                                const wire::InitTakeoverAck& m);
  // ENRP-TKO-06: the target's PEs become `from`'s. Returns the target's ID when its entry is to
  // be dropped (it is not alive).
  [[nodiscard]] std::optional<RegistrarId> on_takeover_server(const PeerEntry& from,
                                                              const wire::TakeoverServer& m);

  // ---- time ----
  // TAKEOVER-EXPIRY: RSPSIM assumes consent, so expired processes finish as won. Returns their
  // targets (in ID order).
  [[nodiscard]] std::vector<RegistrarId> run_timers(TimeNs now);
  // Earliest expiry (UINT64_MAX: none).
  TimeNs next_timer_due() const;

  // Ours first (in target order), then the foreign takeovers we acked (peer table order).
  std::vector<TakeoverStatus> status() const;
  const TakeoverCounters& counters() const noexcept { return counters_; }
  // takeover_started / won / lost, and pe_moved for every PE whose home a takeover changes.
  void set_event_sink(RegistrarEventSink* sink) noexcept { events_ = sink; }
  // The latest takeovers we won, oldest first, at most kRecentWins (so a reader polling less
  // often than takeovers finish still names each target; older ones only count).
  static constexpr std::size_t kRecentWins = 16;
  const std::deque<WonTakeover>& recent_wins() const noexcept { return recent_wins_; }

 private:
  // Lowest ID wins (R, S): 64-bit IDs between ID64 peers (nextgen.md 2), else the 32-bit forms.
  bool sender_wins_tie(const PeerEntry& sender) const;
  // We won: Takeover Server to every peer, PEs become ours, ASAP probes them.
  void finish(RegistrarId target);
  void publish_takeover(RegistrarEventKind kind, RegistrarId target, RegistrarId taker, std::uint64_t pes);

  const EnrpConfig& config_;
  handlespace::Handlespace& hs_;
  PeerTable& peers_;
  PeerLinks& links_;
  const Clock& clock_;
  PeMonitor& pe_monitor_;
  RegistrarEventSink* events_ = nullptr;

  std::map<RegistrarId, TakeoverProcess> processes_;
  TakeoverCounters counters_;
  std::deque<WonTakeover> recent_wins_;
};

}  // namespace poolreg::enrp
