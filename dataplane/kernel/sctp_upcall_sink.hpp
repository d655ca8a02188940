// SctpUpcallSink: the only object usrsctp's threads touch on our behalf. A socket upcall marks the
// socket ready (by key) and wakes the event loop through an eventfd; the loop thread takes the
// ready keys and reads the sockets itself. Kept alive by SctpStack until usrsctp_finish(), because
// an upcall may still run on a usrsctp thread while the transport closes its sockets.
// Internal to dataplane/kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

struct socket;  // usrsctp

namespace poolreg::kernel {

class SctpUpcallSink {
 public:
  // What a socket's upcall argument points to.
  struct Target {
    SctpUpcallSink* sink;
    std::uint64_t key;
  };

  SctpUpcallSink();  // creates the eventfd (fd() < 0 on failure)
  ~SctpUpcallSink();
  SctpUpcallSink(const SctpUpcallSink&) = delete;
  SctpUpcallSink& operator=(const SctpUpcallSink&) = delete;

  int fd() const noexcept { return fd_; }
  // Loop thread: a stable upcall argument for socket `key` (owned by the sink).
  Target* target_for(std::uint64_t key);
  // Any thread (usrsctp upcall). Deduplicates; writes the eventfd only on empty -> non-empty.
  void mark_ready(std::uint64_t key) noexcept;
  // Loop thread: swaps the ready keys out (and drains the eventfd).
  void take(std::vector<std::uint64_t>& out);
  // Loop thread: the transport is gone; later upcalls are ignored and the eventfd is closed.
  void detach() noexcept;

  // The function registered with usrsctp_set_upcall(); arg is a Target*.
  static void upcall(struct socket* so, void* arg, int flags);

 private:
  std::mutex mutex_;
  int fd_ = -1;
  bool detached_ = false;
  std::vector<std::uint64_t> ready_;
  std::vector<std::unique_ptr<Target>> targets_;  // guarded by mutex_ only for growth
};

}  // namespace poolreg::kernel
