// SubscriberQueue: the bound on one push-stream subscriber's unsent output (poolctl events).
// The control server keeps a subscriber's bytes in its connection's output buffer; this class
// decides what may go in: an event line is appended only while the unsent bytes stay within
// max_unsent_bytes, otherwise it is dropped and counted. Once room returns (the next offer, or
// the connection drained some output) a {"kind":"dropped","count":N} line tells the subscriber
// how many it lost, before anything newer. So a slow subscriber costs bounded memory and the
// event loop never waits for it.
//
// Contract: single-threaded (the event loop). `out` is the connection's output buffer and
// `unsent` how many of its bytes are not yet sent; the class only appends to `out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace poolreg::control {

class SubscriberQueue {
 public:
  explicit SubscriberQueue(std::size_t max_unsent_bytes) noexcept : max_unsent_(max_unsent_bytes) {}

  // Appends `line` + '\n' (after a pending dropped record) when it fits; else counts a drop.
  bool offer(std::string& out, std::size_t unsent, std::string_view line);
  // The connection sent some output: appends the pending dropped record when it fits now.
  // True when something was appended.
  bool on_drained(std::string& out, std::size_t unsent);

  std::uint64_t dropped_total() const noexcept { return dropped_total_; }
  std::uint64_t dropped_pending() const noexcept { return dropped_pending_; }
  std::uint64_t queued_total() const noexcept { return queued_total_; }
  std::size_t max_unsent_bytes() const noexcept { return max_unsent_; }

  // The record that reports `count` lost events (without '\n').
  static std::string dropped_record(std::uint64_t count);

 private:
  std::size_t max_unsent_;
  std::uint64_t dropped_pending_ = 0;  // lost since the last dropped record
  std::uint64_t dropped_total_ = 0;
  std::uint64_t queued_total_ = 0;
};

}  // namespace poolreg::control
