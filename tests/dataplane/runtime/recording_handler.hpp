// RecordingHandler: a fake MessageHandler for transport tests: records every callback in order and
// can run a hook on each message (e.g. echo, abort). run_until(): bounded loop driver.
// (Tests take connection ids from pairs without structured bindings: clang 14 cannot capture
// those in lambdas.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/message_transport.hpp"

namespace poolreg::runtime::testing {

struct ReceivedMessage {
  ConnectionId id;
  MessageInfo info;
  std::vector<std::uint8_t> bytes;
};

class RecordingHandler : public MessageHandler {
 public:
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override {
    connected.push_back(id);
    peers[id] = peer;
    if (on_connected_hook) on_connected_hook(id, peer);
  }
  void on_message(ConnectionId id, const MessageInfo& info, std::span<const std::uint8_t> bytes) override {
    messages.push_back(ReceivedMessage{id, info, std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
    if (on_message_hook) on_message_hook(id, info, bytes);
  }
  void on_closed(ConnectionId id, CloseReason reason) override {
    closed.emplace_back(id, reason);
    ++closed_count[id];
  }
  void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) override { unknown_ppids.emplace_back(id, ppid); }
  void on_activity(ConnectionId id) override { activity.push_back(id); }
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override {
    address_changes.emplace_back(id, peer.addresses);
  }

  bool is_closed(ConnectionId id) const { return closed_count.count(id) != 0; }
  CloseReason close_reason(ConnectionId id) const {
    for (auto& [cid, r] : closed) {
      if (cid == id) return r;
    }
    return CloseReason::kShutdown;
  }

  std::vector<ConnectionId> connected;
  std::map<ConnectionId, ConnectionPeer> peers;
  std::vector<ReceivedMessage> messages;
  std::vector<std::pair<ConnectionId, CloseReason>> closed;
  std::map<ConnectionId, int> closed_count;
  std::vector<std::pair<ConnectionId, std::uint32_t>> unknown_ppids;
  std::vector<ConnectionId> activity;
  std::vector<std::pair<ConnectionId, std::vector<IpAddress>>> address_changes;
  std::function<void(ConnectionId, const ConnectionPeer&)> on_connected_hook;
  std::function<void(ConnectionId, const MessageInfo&, std::span<const std::uint8_t>)> on_message_hook;
};

// Runs the loop until pred() or the wall-clock limit; returns pred().
inline bool run_until(EventLoop& loop, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    loop.run_once(10);
  }
  return true;
}

// Runs the loop for a fixed wall-clock time (to check that something does NOT happen).
inline void run_for(EventLoop& loop, std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) loop.run_once(5);
}

// A well-formed-looking message of `length` bytes (multiple of 4, >= 4): type, flags, Length, and
// a sequence number in bytes 4..7 when length >= 8.
inline std::vector<std::uint8_t> make_message(std::uint8_t type, std::size_t length, std::uint32_t seq = 0) {
  std::vector<std::uint8_t> m(length, 0);
  m[0] = type;
  m[2] = static_cast<std::uint8_t>(length >> 8);
  m[3] = static_cast<std::uint8_t>(length);
  if (length >= 8) {
    m[4] = static_cast<std::uint8_t>(seq >> 24);
    m[5] = static_cast<std::uint8_t>(seq >> 16);
    m[6] = static_cast<std::uint8_t>(seq >> 8);
    m[7] = static_cast<std::uint8_t>(seq);
  }
  for (std::size_t i = 8; i < length; ++i) m[i] = static_cast<std::uint8_t>(i * 7 + seq);
  return m;
}

inline std::uint32_t seq_of(const std::vector<std::uint8_t>& m) {
  return m.size() < 8 ? 0 : (std::uint32_t{m[4]} << 24) | (std::uint32_t{m[5]} << 16) | (std::uint32_t{m[6]} << 8) | m[7];
}

}  // namespace poolreg::runtime::testing
