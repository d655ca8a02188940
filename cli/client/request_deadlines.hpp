// RequestDeadlines: request timeouts of one client with ONE EventLoop timer.
// Every request of a client has the same timeout and the clock is monotonic, so deadlines are
// pushed in increasing order: a FIFO is a priority queue here. Answered requests are not removed
// (lazy deletion: the owner looks the sequence number up when the entry expires and ignores it
// when the request is gone), so push, answer and expire are all O(1) — this is what lets a load
// generator keep 10^6 registrations in flight without 10^6 loop timers.
// Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include "dataplane/runtime/event_loop.hpp"

namespace poolreg::client {

template <typename Key>
class RequestDeadlines {
 public:
  // on_expired(seq, key) runs on the loop thread for every entry whose deadline passed.
  RequestDeadlines(runtime::EventLoop& loop, TimeNs timeout,
                   std::function<void(std::uint64_t, const Key&)> on_expired)
      : loop_(loop), timeout_(timeout), on_expired_(std::move(on_expired)) {}
  ~RequestDeadlines() { cancel(); }
  RequestDeadlines(const RequestDeadlines&) = delete;
  RequestDeadlines& operator=(const RequestDeadlines&) = delete;

  void push(std::uint64_t seq, Key key) {
    entries_.push_back(Entry{loop_.now() + timeout_, seq, std::move(key)});
    if (timer_ == runtime::EventLoop::kNoTimer) arm();
  }
  // Drops every entry (e.g. all requests failed at once).
  void clear() {
    entries_.clear();
    cancel();
  }
  std::size_t size() const noexcept { return entries_.size(); }
  TimeNs timeout() const noexcept { return timeout_; }

 private:
  struct Entry {
    TimeNs deadline;
    std::uint64_t seq;
    Key key;
  };

  void arm() {
    if (entries_.empty()) return;
    timer_ = loop_.schedule_at(entries_.front().deadline, [this] {
      timer_ = runtime::EventLoop::kNoTimer;
      expire();
    });
  }
  void cancel() {
    if (timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(timer_);
    timer_ = runtime::EventLoop::kNoTimer;
  }
  void expire() {
    const TimeNs now = loop_.now();
    // Bounded: only entries present now; callbacks may push new ones (later deadlines).
    std::size_t n = entries_.size();
    while (n-- > 0 && !entries_.empty() && entries_.front().deadline <= now) {
      Entry e = std::move(entries_.front());
      entries_.pop_front();
      on_expired_(e.seq, e.key);
    }
    if (timer_ == runtime::EventLoop::kNoTimer) arm();
  }

  runtime::EventLoop& loop_;
  TimeNs timeout_;
  std::function<void(std::uint64_t, const Key&)> on_expired_;
  std::deque<Entry> entries_;
  runtime::EventLoop::TimerId timer_ = runtime::EventLoop::kNoTimer;
};

}  // namespace poolreg::client
