// spdlog set-up: sinks, level, text/JSON pattern (with a JSON-escaping message flag).
#include "dataplane/daemon/logging.hpp"

#include <spdlog/details/file_helper.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>
#include <mutex>

namespace poolreg::daemon {
namespace {

// "%*": the log message with JSON string escapes, so JSON lines stay valid for any message text.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (char ch : msg.payload) {
      auto c = static_cast<unsigned char>(ch);
      switch (ch) {
        case '"':
          append(dest, "\\\"");
          break;
        case '\\':
          append(dest, "\\\\");
          break;
        case '\n':
          append(dest, "\\n");
          break;
        case '\r':
          append(dest, "\\r");
          break;
        case '\t':
          append(dest, "\\t");
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            append(dest, buf);
          } else {
            dest.push_back(ch);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }

 private:
  static void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
  }
};

// spdlog's basic_file_sink cannot reopen its file (only truncate it): this one can, so a
// logrotate postrotate `kill -HUP` moves poolregd to the new file without a restart.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(std::string path) : path_(std::move(path)), file_(open_file(path_)) {}

  // Opens the new file first, so a failure leaves the old one in use.
  LogReopen reopen() {
    LogReopen r;
    r.to_file = true;
    try {
      auto fresh = open_file(path_);
      std::lock_guard<std::mutex> lock(mutex_);
      file_->flush();
      file_ = std::move(fresh);
    } catch (const spdlog::spdlog_ex& e) {
      r.ok = false;
      r.error = e.what();
    }
    return r;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_->write(formatted);
  }
  void flush_() override { file_->flush(); }

 private:
  static std::unique_ptr<spdlog::details::file_helper> open_file(const std::string& path) {
    auto file = std::make_unique<spdlog::details::file_helper>();
    file->open(path, /*truncate=*/false);  // throws spdlog_ex
    return file;
  }

  std::string path_;
  std::unique_ptr<spdlog::details::file_helper> file_;
};

}  // namespace

spdlog::level::level_enum to_spdlog_level(config::LogLevel level) noexcept {
  switch (level) {
    case config::LogLevel::kTrace:
      return spdlog::level::trace;
    case config::LogLevel::kDebug:
      return spdlog::level::debug;
    case config::LogLevel::kInfo:
      return spdlog::level::info;
    case config::LogLevel::kWarn:
      return spdlog::level::warn;
    case config::LogLevel::kError:
      return spdlog::level::err;
    case config::LogLevel::kCritical:
      return spdlog::level::critical;
    case config::LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string log_pattern(config::LogFormat format) {
  if (format == config::LogFormat::kJson) {
    return R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","pid":%P,"thread":%t,"msg":"%*"})";
  }
  return "[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v";
}

std::shared_ptr<spdlog::logger> make_daemon_logger(const config::RegistrarSection& section) {
  spdlog::sink_ptr sink;
  if (section.log_file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    sink = std::make_shared<ReopenableFileSink>(section.log_file);
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*');
  formatter->set_pattern(log_pattern(section.log_format));
  sink->set_formatter(std::move(formatter));

  auto logger = std::make_shared<spdlog::logger>("poolregd", std::move(sink));
  logger->set_level(to_spdlog_level(section.log_level));
  // Flush every line at info and above: operators (and the integration tests) read it live.
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

LogReopen reopen_log_file(spdlog::logger& logger) {
  for (const auto& sink : logger.sinks()) {
    if (auto* file = dynamic_cast<ReopenableFileSink*>(sink.get())) return file->reopen();
  }
  return LogReopen{};
}

}  // namespace poolreg::daemon
