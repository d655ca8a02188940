#include "dataplane/runtime/lane_event_sink.hpp"

#include <unistd.h>

#include <cstdint>

namespace poolreg::runtime {

LaneEventSink::~LaneEventSink() {
  for (LaneEvent* e : backlog_) delete e;
}

void LaneEventSink::push(LaneEvent* e) {
  if (!backlog_.empty() || !rings_.events->push(e)) {
    backlog_.push_back(e);
    return;
  }
  produced_ = true;
}

void LaneEventSink::push_peer(LaneEvent::Kind kind, ConnectionId id, const ConnectionPeer& peer) {
  auto* e = new LaneEvent;
  e->kind = kind;
  e->id = id;
  e->peer = peer;
  push(e);
}

void LaneEventSink::on_connected(ConnectionId id, const ConnectionPeer& peer) {
  push_peer(LaneEvent::Kind::kConnected, id, peer);
}

void LaneEventSink::on_message(ConnectionId id, const MessageInfo& info, std::uint8_t* data,
                               std::size_t length) {
  auto* e = new LaneEvent;
  e->kind = LaneEvent::Kind::kMessage;
  e->id = id;
  e->info = info;
  e->data = data;
  e->length = length;
  push(e);
}

void LaneEventSink::on_closed(ConnectionId id, CloseReason reason) {
  auto* e = new LaneEvent;
  e->kind = LaneEvent::Kind::kClosed;
  e->id = id;
  e->reason = reason;
  push(e);
}

void LaneEventSink::on_unknown_ppid(ConnectionId id, std::uint32_t ppid) {
  auto* e = new LaneEvent;
  e->kind = LaneEvent::Kind::kUnknownPpid;
  e->id = id;
  e->ppid = ppid;
  push(e);
}

void LaneEventSink::on_activity(ConnectionId id) {
  auto* e = new LaneEvent;
  e->kind = LaneEvent::Kind::kActivity;
  e->id = id;
  push(e);
}

void LaneEventSink::on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) {
  push_peer(LaneEvent::Kind::kAddressesChanged, id, peer);
}

void LaneEventSink::keepalive_report(const KeepAliveReport& report) {
  auto* e = new LaneEvent;
  e->kind = LaneEvent::Kind::kKeepAlive;
  e->id = report.connection;
  e->keepalive = report;
  push(e);
}

void LaneEventSink::flush() {
  while (!backlog_.empty() && rings_.events->push(backlog_.front())) {
    backlog_.pop_front();
    produced_ = true;
  }
  if (produced_) {
    produced_ = false;
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(rings_.wake_fd, &one, sizeof one);
  }
}

}  // namespace poolreg::runtime
