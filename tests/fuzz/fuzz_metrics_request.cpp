// libFuzzer target: the metrics endpoint's request reading (dataplane/control/metrics_request.hpp)
// on arbitrary bytes, as a scraper or anyone reaching the port sends them. It must never read
// outside the input, and its answers must keep their promises: a scrape is a GET or HEAD of
// /metrics with an HTTP version, "too large" only without a blank line beyond the limit, and a
// head that is complete stays complete when more bytes follow. A violation aborts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dataplane/control/metrics_request.hpp"

namespace {

using namespace poolreg::control;  // NOLINT

// Below libFuzzer's default input cap (4096) so the "too large" answer is reached too; the server's
// default is 8192 and the code does not depend on the value.
constexpr std::size_t kMaxRequestBytes = 1024;

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const RequestHeadState state = request_head_state(in, kMaxRequestBytes);
  // What arrived in two reads: a complete first part stays complete with the rest.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  if (request_head_state(in.substr(0, cut), kMaxRequestBytes) == RequestHeadState::kComplete)
    require(state == RequestHeadState::kComplete);
  if (state == RequestHeadState::kTooLarge) require(size > kMaxRequestBytes);
  if (state != RequestHeadState::kComplete) return 0;
  const MetricsRequest r = classify_metrics_request(in);
  const std::string_view line = in.substr(0, in.find('\n'));
  if (r.verdict == MetricsVerdict::kScrape) {
    require(line.starts_with("GET /metrics") || line.starts_with("HEAD /metrics"));
    require(line.find(" HTTP/") != std::string_view::npos);
  }
  if (r.verdict == MetricsVerdict::kLiveness) require(line.starts_with("GET /healthz") || line.starts_with("HEAD /healthz"));
  if (r.verdict == MetricsVerdict::kReadiness) require(line.starts_with("GET /readyz") || line.starts_with("HEAD /readyz"));
  if (r.verdict != MetricsVerdict::kBadRequest) require(line.find(" HTTP/") != std::string_view::npos);
  if (r.head) require(line.starts_with("HEAD "));
  return 0;
}
