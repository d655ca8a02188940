// OutboundQueue: the bounded per-connection FIFO of messages that did not fit into the socket.
// Internal to dataplane/tcp (a TCP connection's queue). Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "dataplane/runtime/message_transport.hpp"

namespace poolreg::tcp {

class OutboundQueue {
 public:
  struct Item {
    std::vector<std::uint8_t> bytes;
    WireProtocol protocol;
  };

  OutboundQueue(std::size_t max_messages, std::size_t max_bytes) : max_messages_(max_messages), max_bytes_(max_bytes) {}

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }

  // false when the limits would be exceeded (nothing queued); force ignores the limits (for the
  // rest of a partly written TCP message).
  bool push(WireProtocol protocol, std::span<const std::uint8_t> message, bool force = false) {
    if (!force && (items_.size() >= max_messages_ || bytes_ + message.size() > max_bytes_)) return false;
    items_.push_back(Item{std::vector<std::uint8_t>(message.begin(), message.end()), protocol});
    bytes_ += message.size();
    return true;
  }
  Item& front() { return items_.front(); }
  // Bytes of the front item already written (TCP partial writes).
  std::size_t front_offset() const noexcept { return front_offset_; }
  void advance_front(std::size_t n) noexcept { front_offset_ += n; }
  void pop() {
    bytes_ -= items_.front().bytes.size();
    items_.pop_front();
    front_offset_ = 0;
  }
  void clear() {
    items_.clear();
    bytes_ = 0;
    front_offset_ = 0;
  }

 private:
  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::deque<Item> items_;
  std::size_t bytes_ = 0;
  std::size_t front_offset_ = 0;
};

}  // namespace poolreg::tcp
