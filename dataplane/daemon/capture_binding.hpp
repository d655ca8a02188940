// The control command `capture` bound to the DPDK backend's CaptureSession (built only with
// DPDK): maps the command's request and state onto the session's, turns refusals into
// CommandErrors and logs each capture's start and end (file, frames, drops, why it ended).
#pragma once

#include <spdlog/logger.h>

#include <functional>

#include "dataplane/control/capture_command.hpp"
#include "dataplane/dpdk/capture_session.hpp"

namespace poolreg::daemon {

// `session` and `log` outlive the returned function (both belong to the Application).
std::function<control::CaptureState(const control::CaptureRequest&)> capture_binding(dpdk::CaptureSession& session,
                                                                                     spdlog::logger& log);

}  // namespace poolreg::daemon
