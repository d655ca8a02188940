// LaneEventSink: the lane side of the control/lane rings (lane_rings.hpp). Turns what the lane's
// SctpEngine reports into ring events for the control thread's LaneTransport, with a local
// backlog when the event ring is full (no report is ever lost), and wakes the control thread once
// per lane iteration that produced events (flush()).
//
// Threading: the lane's thread only (constructed and destroyed while the lane is not running).
#pragma once

#include <deque>

#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_rings.hpp"
#include "dataplane/sctp/sctp_engine.hpp"

namespace poolreg::runtime {

class LaneEventSink final : public sctp::EngineEventSink, public LaneKeepAlives::Reports {
 public:
  explicit LaneEventSink(const LaneRings& rings) : rings_(rings) {}
  ~LaneEventSink() override;
  LaneEventSink(const LaneEventSink&) = delete;
  LaneEventSink& operator=(const LaneEventSink&) = delete;

  void on_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void on_message(ConnectionId id, const MessageInfo& info, std::uint8_t* data, std::size_t length) override;
  void on_closed(ConnectionId id, CloseReason reason) override;
  void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) override;
  void on_activity(ConnectionId id) override;
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override;
  // The lane's LaneKeepAlives: a watched PE timed out or is no longer ours.
  void keepalive_report(const KeepAliveReport& report) override;

  // End of a lane iteration: retries the backlog, writes the control thread's eventfd if
  // anything was queued.
  void flush();
  std::size_t backlog() const noexcept { return backlog_.size(); }

 private:
  void push(LaneEvent* e);
  void push_peer(LaneEvent::Kind kind, ConnectionId id, const ConnectionPeer& peer);
  const LaneRings rings_;
  std::deque<LaneEvent*> backlog_;
  bool produced_ = false;
};

}  // namespace poolreg::runtime
