// EventHub: the registrar's live event stream on the control socket (poolctl events, issue 18).
// It listens to the registrar's RegistrarEventSink and adds the `events` command to a
// ControlServer: a client sends {"cmd":"events","args":{"kinds":[...],"pools":[...]}}, gets
// {"ok":true,"result":{"subscribed":true,...}} and from then on one JSON object per line per
// event that passes its filter (event_json.hpp), until it disconnects.
//
// Contract
// - Construct, attach, use and destroy on the event-loop thread, which is also the thread that
//   publishes every registrar event (registrar_event.hpp): no locks, no hand-over.
// - Zero cost without subscribers: the sink's interest is the union of the subscribers' kinds,
//   0 when there are none, so the registrar builds no event at all.
// - Bounded: each subscriber's unsent output is at most max_queued_bytes (ControlServer push
//   streams, SubscriberQueue); beyond, its events are dropped and counted (per subscriber and in
//   counters().dropped, `poolreg_events_dropped_total`) and a {"kind":"dropped","count":N} line
//   follows when room returns. At most max_subscribers at once (extra ones get "unavailable").
// - An event is serialised once, for the first subscriber it passes, and the line is shared.
// - Destroy the ControlServer before the hub (its stop() reports every stream closed to the hub,
//   which leaves the sink's interest at 0); the hub's destructor detaches it from the sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "dataplane/control/control_server.hpp"
#include "dataplane/control/event_filter.hpp"
#include "dataplane/control/event_stream_counters.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/registrar_event.hpp"

namespace poolreg::control {

struct EventHubConfig {
  RegistrarId own_id = 0;                      // shown as `owned` in PE objects
  std::size_t max_queued_bytes = 1u << 20;     // per subscriber
  std::size_t max_subscribers = 16;
};

class EventHub final : public RegistrarEventListener {
 public:
  EventHub(RegistrarEventSink& sink, EventHubConfig config);
  ~EventHub() override;
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Adds `events` to the server's commands and follows its stream connections.
  void attach(ControlServer& server);

  void on_registrar_event(const RegistrarEvent& event) override;

  const EventStreamCounters& counters() const noexcept { return counters_; }
  std::size_t subscriber_count() const noexcept { return subscribers_.size(); }

 private:
  json subscribe(const json& args, const CommandCaller& caller);
  void forget(int connection);
  void update_interest();

  RegistrarEventSink& sink_;
  EventHubConfig config_;
  ControlServer* server_ = nullptr;
  std::map<int, EventFilter> subscribers_;  // by connection
  EventStreamCounters counters_;
};

}  // namespace poolreg::control
