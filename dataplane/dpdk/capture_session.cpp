#include "dataplane/dpdk/capture_session.hpp"

#include <fcntl.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include "dataplane/runtime/errno_text.hpp"

namespace poolreg::dpdk {
namespace {

constexpr unsigned kDrainBurst = 256;
// Per tap and drain pass; 16 x 256 frames every 20 ms is ~200 000 frames/s per lane, beyond
// what the ring (4096) can buffer between two passes anyway.
constexpr unsigned kBurstsPerPass = 16;

std::uint64_t wall_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string os_name() {
  utsname u{};
  if (::uname(&u) != 0) return "Linux";
  return std::string(u.sysname) + " " + u.release;
}

}  // namespace

CaptureSession::~CaptureSession() {
  if (writer_ != nullptr) finish("stopped");
}

Expected<CaptureProgress, std::string> CaptureSession::start(const CaptureSpec& spec) {
  if (writer_ != nullptr) return unexpected("a capture to " + spec_.file + " is running (poolctl capture --stop ends it)");
  if (spec.file.empty() || spec.file.front() != '/') return unexpected(std::string("the capture file must be an absolute path"));
  if (spec.duration_ms == 0 || spec.duration_ms > kMaxDurationMs)
    return unexpected("duration " + std::to_string(spec.duration_ms) + " ms out of range 1.." + std::to_string(kMaxDurationMs));
  if (spec.snaplen == 0 || spec.snaplen > LaneCaptureTap::kMaxSnaplen)
    return unexpected("snap length " + std::to_string(spec.snaplen) + " out of range 1.." +
                      std::to_string(LaneCaptureTap::kMaxSnaplen));
  std::uint64_t mask = 0;
  for (std::uint16_t p : spec.ports.empty() ? port_ids_ : spec.ports) {
    if (std::find(port_ids_.begin(), port_ids_.end(), p) == port_ids_.end() || p >= 64)
      return unexpected("port " + std::to_string(p) + " is not one of poolregd's DPDK ports");
    mask |= std::uint64_t{1} << p;
  }
  std::vector<LaneCaptureTap*> chosen;
  if (spec.lanes.empty()) chosen = taps_;
  for (std::uint32_t lane : spec.lanes) {
    if (lane >= taps_.size())
      return unexpected("lane " + std::to_string(lane) + " does not exist (" + std::to_string(taps_.size()) + " lanes)");
    if (std::find(chosen.begin(), chosen.end(), taps_[lane]) == chosen.end()) chosen.push_back(taps_[lane]);
  }
  // The daemon's own file, never someone else's: no overwrite, no symlink followed.
  const int fd = ::open(spec.file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return unexpected("cannot create " + spec.file + ": " + runtime::errno_text(errno));
  // Frames a lane enqueued after the last capture was disarmed (its burst was under way) are
  // not part of this one.
  rte_mbuf* stale[kDrainBurst];
  for (LaneCaptureTap* tap : taps_)
    for (unsigned n = tap->drain(stale, kDrainBurst); n > 0; n = tap->drain(stale, kDrainBurst))
      rte_pktmbuf_free_bulk(stale, n);
  const std::string os = os_name();
  writer_ = rte_pcapng_fdopen(fd, os.c_str(), nullptr, "poolregd " POOLREG_VERSION, "poolctl capture");
  fd_ = fd;
  if (writer_ == nullptr) {
    const std::string why = rte_strerror(rte_errno);
    ::close(fd);
    ::unlink(spec.file.c_str());
    return unexpected("cannot start the pcapng file: " + why);
  }
  // rte_pcapng_fdopen() described every ethdev port in RTE_ETH_FOREACH_DEV order: a frame's
  // interface id is its port's position in that order.
  interface_of_port_.assign(RTE_MAX_ETHPORTS, 0);
  std::uint32_t index = 0;
  std::uint16_t port_id = 0;
  RTE_ETH_FOREACH_DEV(port_id) { interface_of_port_[port_id] = index++; }
  tsc_base_ = rte_get_tsc_cycles();
  wall_base_ns_ = wall_ns();
  tsc_hz_ = rte_get_tsc_hz();
  spec_ = spec;
  armed_ = std::move(chosen);
  started_ = loop_.now();
  dropped_at_start_ = dropped_now();
  last_ = CaptureProgress{};
  last_.active = true;
  last_.file = spec.file;
  for (LaneCaptureTap* tap : armed_) {
    if (auto armed = tap->arm(mask, spec.snaplen); !armed) {
      finish("stopped");
      ::unlink(spec.file.c_str());
      last_ = CaptureProgress{};
      return unexpected(armed.error());
    }
  }
  drain_timer_ = loop_.schedule_every(kDrainPeriodMs * kNsPerMs, [this] { drain(); });
  return progress();
}

CaptureProgress CaptureSession::stop() {
  if (writer_ != nullptr) finish("stopped");
  return progress();
}

CaptureProgress CaptureSession::progress() const {
  CaptureProgress p = last_;
  if (writer_ != nullptr) {
    p.dropped = dropped_now() - dropped_at_start_;
    p.elapsed_ms = static_cast<std::uint64_t>((loop_.now() - started_) / kNsPerMs);
  }
  return p;
}

std::uint64_t CaptureSession::dropped_now() const {
  std::uint64_t sum = 0;
  for (const LaneCaptureTap* tap : armed_) sum += tap->dropped();
  return sum;
}

unsigned CaptureSession::keep_within_limit(rte_mbuf** frames, unsigned n) noexcept {
  unsigned keep = n;
  if (spec_.max_frames != 0) keep = static_cast<unsigned>(std::min<std::uint64_t>(n, spec_.max_frames - last_.frames));
  if (keep < n) rte_pktmbuf_free_bulk(frames + keep, n - keep);  // beyond the frame limit
  return keep;
}

void CaptureSession::drain() {
  if (writer_ == nullptr) return;
  rte_mbuf* frames[kDrainBurst];
  for (LaneCaptureTap* tap : armed_) {
    for (unsigned pass = 0; pass < kBurstsPerPass && writer_ != nullptr; ++pass) {
      const unsigned n = tap->drain(frames, kDrainBurst);
      if (n == 0) break;
      const unsigned keep = keep_within_limit(frames, n);
      if (keep == 0) break;
      if (!write_frames(frames, keep)) {
        finish("write_error");
        return;
      }
    }
  }
  if (spec_.max_frames != 0 && last_.frames >= spec_.max_frames) finish("count");
  else if (static_cast<std::uint64_t>(loop_.now() - started_) >= spec_.duration_ms * kNsPerMs) finish("duration");
}

std::uint64_t CaptureSession::tsc_to_wall_ns(std::uint64_t cycles) const noexcept {
  const auto delta = static_cast<__int128>(cycles) - static_cast<__int128>(tsc_base_);
  const __int128 ns = static_cast<__int128>(wall_base_ns_) + delta * 1'000'000'000 / static_cast<__int128>(tsc_hz_);
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

bool CaptureSession::write_frames(rte_mbuf** frames, unsigned n) {
  // Not rte_pcapng_write_packets(): DPDK 22.11 converts TSC to nanoseconds as
  // (cycles - base) * 1e9 / hz in 64 bits, which wraps a few seconds after the library's time
  // base was taken (at start-up): every stamp of a later capture lands years away. The blocks
  // are written as rte_pcapng_copy() formatted them, with the lane's TSC stamp (LaneCaptureTap
  // puts it in the block) made wall-clock time and the interface id set here.
  iovec iov[IOV_MAX];
  int count = 0;
  bool ok = true;
  auto flush = [&] {
    int first = 0;
    while (ok && first < count) {
      const ssize_t w = ::writev(fd_, iov + first, count - first);
      if (w < 0) {
        if (errno == EINTR) continue;
        ok = false;
        break;
      }
      last_.bytes += static_cast<std::uint64_t>(w);
      auto left = static_cast<std::size_t>(w);
      for (; first < count && left >= iov[first].iov_len; ++first) left -= iov[first].iov_len;
      if (first < count) {  // a short write: go on from inside this element
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    count = 0;
  };
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = frames[i];
    if (rte_pktmbuf_data_len(m) >= sizeof(EnhancedPacketBlockHead)) {
      auto* head = rte_pktmbuf_mtod(m, EnhancedPacketBlockHead*);
      if (head->block_type == kEnhancedPacketBlock) {
        const std::uint64_t cycles = (std::uint64_t{head->timestamp_high} << 32) | head->timestamp_low;
        const std::uint64_t ns = tsc_to_wall_ns(cycles);
        head->timestamp_high = static_cast<std::uint32_t>(ns >> 32);
        head->timestamp_low = static_cast<std::uint32_t>(ns);
        head->interface_id = m->port < interface_of_port_.size() ? interface_of_port_[m->port] : 0;
      }
    }
    if (count + m->nb_segs > IOV_MAX) flush();
    for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next)
      iov[count++] = iovec{rte_pktmbuf_mtod(seg, void*), rte_pktmbuf_data_len(seg)};
    ++last_.frames;
  }
  flush();
  rte_pktmbuf_free_bulk(frames, n);
  return ok;
}

void CaptureSession::finish(const char* reason) {
  for (LaneCaptureTap* tap : armed_) tap->disarm();
  const std::uint64_t dropped = dropped_now() - dropped_at_start_;
  // What the rings still hold (a lane still in a burst may add a few more: the next start()
  // discards those).
  rte_mbuf* frames[kDrainBurst];
  const bool writable = std::strcmp(reason, "write_error") != 0;
  for (LaneCaptureTap* tap : armed_) {
    for (unsigned n = tap->drain(frames, kDrainBurst); n > 0; n = tap->drain(frames, kDrainBurst)) {
      if (!writable) {
        rte_pktmbuf_free_bulk(frames, n);
        continue;
      }
      const unsigned keep = keep_within_limit(frames, n);
      if (keep != 0) write_frames(frames, keep);
    }
  }
  // No Interface Statistics Block: rte_pcapng_write_stats() stamps it with the same overflowing
  // TSC conversion as rte_pcapng_write_packets() (see write_frames); the drops are in the
  // command's result and the log line instead.
  rte_pcapng_close(writer_);  // closes the descriptor too
  writer_ = nullptr;
  fd_ = -1;
  if (drain_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(drain_timer_);
  drain_timer_ = runtime::EventLoop::kNoTimer;
  last_.active = false;
  last_.dropped = dropped;
  last_.elapsed_ms = static_cast<std::uint64_t>((loop_.now() - started_) / kNsPerMs);
  last_.ended = reason;
  armed_.clear();
}

}  // namespace poolreg::dpdk
