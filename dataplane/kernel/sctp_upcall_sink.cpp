#include "dataplane/kernel/sctp_upcall_sink.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace poolreg::kernel {

SctpUpcallSink::SctpUpcallSink() { fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

SctpUpcallSink::~SctpUpcallSink() {
  if (fd_ >= 0) ::close(fd_);
}

SctpUpcallSink::Target* SctpUpcallSink::target_for(std::uint64_t key) {
  std::lock_guard<std::mutex> lock(mutex_);
  targets_.push_back(std::make_unique<Target>(Target{this, key}));
  return targets_.back().get();
}

void SctpUpcallSink::mark_ready(std::uint64_t key) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (detached_) return;
  // A transport has a handful of SCTP sockets: a linear scan beats a set.
  if (std::find(ready_.begin(), ready_.end(), key) != ready_.end()) return;
  const bool was_empty = ready_.empty();
  ready_.push_back(key);
  if (was_empty && fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }
}

void SctpUpcallSink::take(std::vector<std::uint64_t>& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ >= 0) {
    std::uint64_t value;
    [[maybe_unused]] ssize_t n = ::read(fd_, &value, sizeof value);
  }
  out.swap(ready_);
}

void SctpUpcallSink::detach() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  detached_ = true;
  ready_.clear();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void SctpUpcallSink::upcall(struct socket* /*so*/, void* arg, int /*flags*/) {
  auto* target = static_cast<Target*>(arg);
  if (target != nullptr) target->sink->mark_ready(target->key);
}

}  // namespace poolreg::kernel
