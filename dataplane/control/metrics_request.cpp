#include "dataplane/control/metrics_request.hpp"

namespace poolreg::control {

RequestHeadState request_head_state(std::string_view received, std::size_t max_bytes) noexcept {
  if (received.find("\r\n\r\n") != std::string_view::npos || received.find("\n\n") != std::string_view::npos)
    return RequestHeadState::kComplete;
  return received.size() > max_bytes ? RequestHeadState::kTooLarge : RequestHeadState::kIncomplete;
}

MetricsRequest classify_metrics_request(std::string_view head) noexcept {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // "METHOD SP target SP HTTP/x.y"
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/"))
    return {MetricsVerdict::kBadRequest, false};
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const bool head_only = method == "HEAD";
  MetricsVerdict verdict = MetricsVerdict::kNotFound;
  if (target == "/metrics") verdict = MetricsVerdict::kScrape;
  else if (target == "/healthz") verdict = MetricsVerdict::kLiveness;
  else if (target == "/readyz") verdict = MetricsVerdict::kReadiness;
  if (verdict == MetricsVerdict::kNotFound) return {verdict, head_only};
  if (method != "GET" && !head_only) return {MetricsVerdict::kMethodNotAllowed, false};
  return {verdict, head_only};
}

}  // namespace poolreg::control
