// Logging set-up for poolregd: spdlog logger with text or JSON lines, to stderr or a file.
//
// Contract: call make_daemon_logger() once at start-up on the main thread, before other threads
// start. The returned logger is thread-safe (spdlog *_mt sinks) and is also installed as spdlog's
// default logger, so components that call spdlog::info() share its sinks, level and format.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "config/registrar_config.hpp"

namespace poolreg::daemon {

spdlog::level::level_enum to_spdlog_level(config::LogLevel level) noexcept;

// The pattern for a format: text = "[2026-11-23 07:35:26.123] [poolregd] [info] message" (UTC);
// json = one object per line: {"time":"...Z","level":"info","logger":"poolregd","pid":N,"msg":"..."}
// where "%*" is replaced by the JSON-escaped message (see make_daemon_logger).
std::string log_pattern(config::LogFormat format);

// Builds the "poolregd" logger from [registrar] log_level, log_format and log_file.
// Throws spdlog::spdlog_ex when log_file cannot be opened (start-up error).
// Log files are opened by a sink of ours that can reopen its file (reopen_log_file).
std::shared_ptr<spdlog::logger> make_daemon_logger(const config::RegistrarSection& section);

// What reopen_log_file did.
struct LogReopen {
  bool to_file = false;  // false: the log goes to stderr, nothing to reopen
  bool ok = true;        // false: the new file could not be opened; the old one stays in use
  std::string error;
};

// After a log rotation (SIGHUP): opens the log file by its path again (appending, created when
// missing) and switches the logger's file sink to it; lines logged meanwhile go to the old file.
// Any thread; the sink's own lock orders it with concurrent log calls.
LogReopen reopen_log_file(spdlog::logger& logger);

}  // namespace poolreg::daemon
