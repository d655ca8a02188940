#include "dataplane/control/event_hub.hpp"

#include <string>
#include <vector>

#include "dataplane/control/event_json.hpp"

namespace poolreg::control {

EventHub::EventHub(RegistrarEventSink& sink, EventHubConfig config) : sink_(sink), config_(config) {
  sink_.set_listener(this);
  sink_.set_interest(0);
}

EventHub::~EventHub() {
  sink_.set_interest(0);
  sink_.set_listener(nullptr);
}

void EventHub::attach(ControlServer& server) {
  server_ = &server;
  server.set_on_stream_closed([this](int connection) { forget(connection); });
  server.registry().add_caller_command(
      "events", [this](const json& args, const CommandCaller& caller) { return subscribe(args, caller); },
      "turn this connection into a live event stream, one JSON object per line: PE registered/moved/"
      "removed, pool created/removed, peer up/down/dead, takeover started/won/lost, audit mismatch/"
      "repaired (args: kinds, pools)");
}

json EventHub::subscribe(const json& args, const CommandCaller& caller) {
  EventFilter filter = parse_event_filter(args);  // bad_request before anything changes
  if (server_ == nullptr || caller.connection < 0)
    throw CommandError(error_code::kUnavailable, "events needs a control socket connection");
  if (subscribers_.size() >= config_.max_subscribers)
    throw CommandError(error_code::kUnavailable,
                       "too many event subscribers (" + std::to_string(config_.max_subscribers) + ")");
  if (!server_->start_stream(caller.connection, config_.max_queued_bytes))
    throw CommandError(error_code::kBadRequest, "this connection is already an event stream");
  json pools = json::array();
  for (const PoolHandle& p : filter.pools) pools.push_back(p.to_display());
  json result{{"subscribed", true},
              {"kinds", event_kind_names(filter.kinds)},
              {"pools", std::move(pools)},
              {"max_queued_bytes", config_.max_queued_bytes},
              {"next_seq", sink_.published() + 1}};
  subscribers_[caller.connection] = std::move(filter);
  ++counters_.subscriptions;
  counters_.subscribers = subscribers_.size();
  update_interest();
  return result;
}

void EventHub::forget(int connection) {
  if (subscribers_.erase(connection) == 0) return;
  counters_.subscribers = subscribers_.size();
  update_interest();
}

void EventHub::update_interest() {
  std::uint32_t kinds = 0;
  for (const auto& [connection, filter] : subscribers_) kinds |= filter.kinds;
  sink_.set_interest(kinds);
}

void EventHub::on_registrar_event(const RegistrarEvent& event) {
  ++counters_.events;
  if (server_ == nullptr) return;
  std::string line;
  std::vector<int> gone;
  for (const auto& [connection, filter] : subscribers_) {
    if (!filter.matches(event)) continue;
    if (line.empty()) line = event_json(event, config_.own_id).dump(-1, ' ', false, json::error_handler_t::replace);
    switch (server_->push(connection, line)) {
      case ControlServer::PushResult::kQueued: ++counters_.lines_queued; break;
      case ControlServer::PushResult::kDropped: ++counters_.dropped; break;
      case ControlServer::PushResult::kNoStream: gone.push_back(connection); break;
    }
  }
  for (int connection : gone) forget(connection);
}

}  // namespace poolreg::control
