// Reading the metrics endpoint's HTTP requests: whether the bytes received so far hold a whole
// request head, and what the request asks for. Pure functions of the bytes (no sockets), so
// MetricsHttpServer and the fuzz target (tests/fuzz/fuzz_metrics_request.cpp) run the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace poolreg::control {

enum class RequestHeadState : std::uint8_t {
  kIncomplete,  // no blank line yet, within the size limit: wait for more
  kComplete,    // a blank line ends the head (CRLF CRLF, or bare LF LF)
  kTooLarge,    // no blank line within max_bytes: 431
};
RequestHeadState request_head_state(std::string_view received, std::size_t max_bytes) noexcept;

enum class MetricsVerdict : std::uint8_t {
  kScrape,            // GET or HEAD /metrics (a query string is ignored): 200
  kLiveness,          // GET or HEAD /healthz: 200 while the event loop answers
  kReadiness,         // GET or HEAD /readyz: 200 when ready to serve, else 503 with the reasons
  kBadRequest,        // not "METHOD SP target SP HTTP/...": 400
  kNotFound,          // another target: 404
  kMethodNotAllowed,  // /metrics, /healthz or /readyz with another method: 405
};
struct MetricsRequest {
  MetricsVerdict verdict = MetricsVerdict::kBadRequest;
  bool head = false;  // HEAD: the answer has no body
};
// `head` is a complete request head (request_head_state() == kComplete); only its first line counts.
MetricsRequest classify_metrics_request(std::string_view head) noexcept;

}  // namespace poolreg::control
