// CaptureSession: an operator capture of DPDK port traffic into a pcapng file (`poolctl
// capture`, issue 15 item 4). The poll lcores copy frames into their LaneCaptureTap rings; this
// control-lcore object opens the file, arms the chosen lanes for the chosen ports, writes what the
// rings hold every kDrainPeriodMs (DPDK's rte_pcapng: section header and one Interface Description
// Block per ethdev port; Enhanced Packet Blocks with direction and lane queue, their TSC stamps
// turned into wall-clock nanoseconds here), and ends the capture after `max_frames` frames, after
// `duration_ms`, on stop() or when writing fails. At most one capture runs at a time, and every capture ends
// by itself (duration_ms is bounded): a forgotten one cannot fill the disk.
//
// Why a file written by poolregd and not dpdk-dumpcap: dpdk-dumpcap is a DPDK secondary process
// and needs the primary's shared hugepage memory; the appliance's test and embedded setups run
// with --no-huge / --no-shconf, where a secondary cannot attach.
//
// Thread: the control lcore (the daemon's EventLoop), like every other control-plane object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/lane_capture.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::dpdk {

struct CaptureSpec {
  std::string file;                  // absolute path; created, never overwritten (O_EXCL)
  std::vector<std::uint16_t> ports;  // ethdev port ids; empty: every port of the backend
  std::vector<std::uint32_t> lanes;  // lane indexes; empty: every lane
  std::uint32_t snaplen = LaneCaptureTap::kMaxSnaplen;
  std::uint64_t max_frames = 0;      // 0: no frame limit
  std::uint64_t duration_ms = 10'000;
};

struct CaptureProgress {
  bool active = false;
  std::string file;                  // of the running or last capture ("" before the first)
  std::uint64_t frames = 0;          // written to the file
  std::uint64_t bytes = 0;           // written to the file (pcapng blocks)
  std::uint64_t dropped = 0;         // not captured: a lane's ring or copy pool was full
  std::uint64_t elapsed_ms = 0;
  std::string ended;                 // why the last capture ended: count, duration, stopped, write_error
};

class CaptureSession {
 public:
  static constexpr std::uint64_t kMaxDurationMs = 3'600'000;
  static constexpr int kDrainPeriodMs = 20;

  // taps[i]: lane i's tap; port_ids: the backend's ports. All outlive the session.
  CaptureSession(runtime::EventLoop& loop, std::vector<LaneCaptureTap*> taps, std::vector<std::uint16_t> port_ids)
      : loop_(loop), taps_(std::move(taps)), port_ids_(std::move(port_ids)) {}
  ~CaptureSession();
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  // Refused (with the reason) when a capture runs, the spec is out of range or the file cannot be
  // created.
  Expected<CaptureProgress, std::string> start(const CaptureSpec& spec);
  // Ends the running capture (ended = "stopped"); the last capture's progress when none runs.
  CaptureProgress stop();
  CaptureProgress progress() const;

 private:
  void drain();
  void finish(const char* reason);
  // Writes the pcapng copies (timestamps made wall-clock, interface ids set) and frees them;
  // false when the file cannot be written.
  bool write_frames(rte_mbuf** frames, unsigned n);
  // How many of frames[0..n) fit under max_frames; frees the others.
  unsigned keep_within_limit(rte_mbuf** frames, unsigned n) noexcept;
  std::uint64_t tsc_to_wall_ns(std::uint64_t cycles) const noexcept;
  std::uint64_t dropped_now() const;

  runtime::EventLoop& loop_;
  std::vector<LaneCaptureTap*> taps_;
  std::vector<std::uint16_t> port_ids_;
  rte_pcapng_t* writer_ = nullptr;  // wrote the section header and interface blocks; owns fd_
  int fd_ = -1;
  std::vector<std::uint32_t> interface_of_port_;  // ethdev port id -> pcapng interface id
  std::uint64_t tsc_base_ = 0;      // TSC and wall clock read together at start()
  std::uint64_t wall_base_ns_ = 0;
  std::uint64_t tsc_hz_ = 1;
  runtime::EventLoop::TimerId drain_timer_ = runtime::EventLoop::kNoTimer;
  CaptureSpec spec_;
  std::vector<LaneCaptureTap*> armed_;
  TimeNs started_ = 0;
  std::uint64_t dropped_at_start_ = 0;
  CaptureProgress last_;
};

}  // namespace poolreg::dpdk
