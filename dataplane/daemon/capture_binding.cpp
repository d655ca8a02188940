#include "dataplane/daemon/capture_binding.hpp"

namespace poolreg::daemon {
namespace {

control::CaptureState state_of(const dpdk::CaptureProgress& p) {
  return control::CaptureState{p.active, p.file, p.frames, p.bytes, p.dropped, p.elapsed_ms, p.ended};
}

}  // namespace

std::function<control::CaptureState(const control::CaptureRequest&)> capture_binding(dpdk::CaptureSession& session,
                                                                                     spdlog::logger& log) {
  return [&session, &log](const control::CaptureRequest& r) {
    using Action = control::CaptureRequest::Action;
    if (r.action == Action::kStatus) return state_of(session.progress());
    if (r.action == Action::kStop) {
      const bool was_active = session.progress().active;
      control::CaptureState s = state_of(session.stop());
      if (was_active) log.info("capture to {} stopped: {} frames, {} dropped", s.file, s.frames, s.dropped);
      return s;
    }
    dpdk::CaptureSpec spec;
    spec.file = r.file;
    spec.ports = r.ports;
    spec.lanes = r.lanes;
    spec.snaplen = r.snaplen;
    spec.max_frames = r.count;
    spec.duration_ms = r.duration_ms;
    auto started = session.start(spec);
    if (!started) throw control::CommandError(control::error_code::kBadRequest, started.error());
    log.info("capture to {} started: {} ms at most{}", spec.file, spec.duration_ms,
             spec.max_frames != 0 ? ", " + std::to_string(spec.max_frames) + " frames at most" : std::string());
    return state_of(*started);
  };
}

}  // namespace poolreg::daemon
