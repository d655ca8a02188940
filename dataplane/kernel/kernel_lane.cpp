#include "dataplane/kernel/kernel_lane.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "dataplane/runtime/lane_commands.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::kernel {

KernelLane::KernelLane(const KernelLaneConfig& config, UdpPacketSource& source, sctp::SctpEngine& engine,
                       runtime::LaneEventSink& events, runtime::LaneRing& commands, std::vector<LaneInbox> inboxes,
                       KernelLaneCounters& counters)
    : config_(config),
      source_(source),
      engine_(engine),
      events_(events),
      commands_(commands),
      inboxes_(std::move(inboxes)),
      to_wake_(inboxes_.size(), false),
      counters_(counters) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = source_.fd();
  const bool socket_ok = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, source_.fd(), &ev) == 0;
  ev.data.fd = inboxes_[config_.index].wake_fd;
  const bool wake_ok = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, inboxes_[config_.index].wake_fd, &ev) == 0;
  if (!socket_ok || !wake_ok) {
    ::close(epoll_fd_);
    epoll_fd_ = -1;
  }
}

KernelLane::~KernelLane() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint64_t KernelLane::now_ms() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

void KernelLane::request_stop() noexcept {
  stop_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(inboxes_[config_.index].wake_fd, &one, sizeof one);
}

bool KernelLane::set_native_source(RawSctpSource* source, const NativeListenFilter* filter) {
  native_ = source;
  listen_filter_ = filter;
  if (source == nullptr || epoll_fd_ < 0) return true;
  for (int fd : {source->fd4(), source->fd6()}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  }
  return true;
}

void KernelLane::deliver(const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length) {
  if (from.src_port == 0) {  // native: is it for this engine? (the caller checked length >= 12)
    if (!engine_.native_port_ours(static_cast<std::uint16_t>((bytes[2] << 8) | bytes[3]))) {
      counters_.native_drop_not_our_port.add();
      return;
    }
    counters_.native_in.add();
  }
  counters_.sctp_packets_in.add();
  engine_.on_sctp_packet(from, bytes, length);
}

namespace {

// A native peer has no UDP port: its SCTP source port takes that place in the steering key.
std::uint16_t steering_port(const sctp::SctpPacketFrom& from, const std::uint8_t* bytes) {
  return from.src_port != 0 ? from.src_port : static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

}  // namespace

unsigned KernelLane::alias_owner(const sctp::SctpPacketFrom& from, std::uint16_t port) const {
  const unsigned holder = config_.aliases->lookup(from.src_ip, from.ipv6, port, from.src_port == 0);
  if (holder == runtime::AliasOwnerTable::kNoLane || holder == config_.index || holder >= config_.lanes)
    return config_.index;
  // A peer of this lane's own at that address keeps its packets (the engine's rule: an address
  // with an endpoint of its own is no alias).
  if (engine_.knows_peer(from.src_ip, from.ipv6, from.src_port)) return config_.index;
  return holder;
}

bool KernelLane::hand_over(unsigned owner, SteeredPacket* p) {
  if (!inboxes_[owner].ring->push(p)) {
    std::free(p);
    counters_.drop_steer_full.add();
    return false;
  }
  counters_.sctp_steered_out.add();
  to_wake_[owner] = true;
  return true;
}

void KernelLane::deliver_or_steer(const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length) {
  const std::uint16_t port = steering_port(from, bytes);
  unsigned owner = runtime::steer_lane(from.src_ip, from.ipv6, port, config_.lanes);
  if (owner == config_.index && config_.aliases != nullptr && !config_.aliases->empty()) {
    owner = alias_owner(from, port);
    if (owner != config_.index) counters_.sctp_alias_steered.add();
  }
  if (owner == config_.index) {
    deliver(from, bytes, length);
    return;
  }
  // The kernel's SO_REUSEPORT hash put another lane's peer here, or its source is another lane's
  // alias: hand it over (one copy).
  auto* p = static_cast<SteeredPacket*>(std::malloc(offsetof(SteeredPacket, bytes) + length));
  if (p == nullptr) {
    counters_.drop_steer_full.add();
    return;
  }
  p->from = from;
  p->length = length;
  std::memcpy(p->bytes, bytes, length);
  hand_over(owner, p);
}

unsigned KernelLane::drain_inbox() {
  runtime::LaneRing& inbox = *inboxes_[config_.index].ring;
  unsigned n = 0;
  while (n < kInboxBurst) {
    auto* p = static_cast<SteeredPacket*>(inbox.pop());
    if (p == nullptr) break;
    ++n;
    counters_.steered_in.add();
    // From a lane the kernel's hash put it on, to this one that steering gives its source to:
    // its source may be another lane's alias. (Sent here by the alias lookup instead: this lane
    // is not the steering owner, so the packet stays.)
    if (config_.aliases != nullptr && !config_.aliases->empty()) {
      const std::uint16_t port = steering_port(p->from, p->bytes);
      if (runtime::steer_lane(p->from.src_ip, p->from.ipv6, port, config_.lanes) == config_.index) {
        const unsigned owner = alias_owner(p->from, port);
        if (owner != config_.index) {
          counters_.sctp_alias_steered.add();
          hand_over(owner, p);
          continue;
        }
      }
    }
    deliver(p->from, p->bytes, p->length);
    std::free(p);
  }
  return n;
}

unsigned KernelLane::iterate() {
  unsigned n = 0;
  // A few bursts per iteration (bounded), so commands and timers still run under a flood.
  for (int round = 0; round < 4; ++round) {
    const unsigned got = source_.receive(
        [this](const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length) {
          deliver_or_steer(from, bytes, length);
        });
    n += got;
    if (got < UdpPacketSource::kBurst) break;
  }
  if (native_ != nullptr) {
    for (int round = 0; round < 4; ++round) {
      const unsigned got = native_->receive([this](const sctp::NativePacket& p) {
        if (listen_filter_ != nullptr && !listen_filter_->admits(p.dst_port, p.from)) {
          counters_.native_drop_not_listen_address.add();
          return;
        }
        deliver_or_steer(p.from, p.sctp.data(), static_cast<std::uint16_t>(p.sctp.size()));
      });
      n += got;
      if (got < RawSctpSource::kBurst) break;
    }
  }
  n += drain_inbox();
  n += runtime::run_lane_commands(commands_, engine_, 64, keepalives_);
  if (keepalives_ != nullptr) keepalives_->run_timers();
  engine_.flush_pending();
  engine_.run_timers(now_ms());
  source_.flush();
  const std::uint64_t one = 1;
  for (std::size_t lane = 0; lane < to_wake_.size(); ++lane) {
    if (!to_wake_[lane]) continue;
    to_wake_[lane] = false;
    [[maybe_unused]] ssize_t w = ::write(inboxes_[lane].wake_fd, &one, sizeof one);
  }
  events_.flush();
  counters_.loop_iterations.add();
  if (resolver_ != nullptr) resolver_->quiescent();
  if (keepalives_ != nullptr) keepalives_->quiescent();
  return n;
}

void KernelLane::sleep(int timeout_ms) {
  if (resolver_ != nullptr) resolver_->offline();
  if (keepalives_ != nullptr) keepalives_->offline();
  epoll_event ready[4];
  const int n = ::epoll_wait(epoll_fd_, ready, 4, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (ready[i].data.fd != inboxes_[config_.index].wake_fd) continue;
    std::uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(inboxes_[config_.index].wake_fd, &v, sizeof v);
  }
  if (resolver_ != nullptr) resolver_->online();
  if (keepalives_ != nullptr) keepalives_->online();
}

void KernelLane::run() {
  if (resolver_ != nullptr) resolver_->online();
  if (keepalives_ != nullptr) keepalives_->online();
  while (!stop_.load(std::memory_order_acquire)) {
    if (iterate() == 0) sleep(kTimerTickMs);
  }
  // Graceful end: let closing associations finish their SHUTDOWN (bounded).
  const std::uint64_t deadline = now_ms() + config_.stop_grace_ms;
  while (engine_.connection_count() > 0 && now_ms() < deadline) {
    if (iterate() == 0) sleep(1);
  }
  runtime::run_lane_commands(commands_, engine_, ~0u, keepalives_);
  engine_.shutdown();
  source_.flush();
  events_.flush();
  if (resolver_ != nullptr) resolver_->offline();
  if (keepalives_ != nullptr) keepalives_->offline();
}

}  // namespace poolreg::kernel
