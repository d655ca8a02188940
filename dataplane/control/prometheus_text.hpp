// PrometheusText: builds a Prometheus text exposition (format version 0.0.4): "# HELP" and
// "# TYPE" once per metric family, then its samples. Label values and help text are escaped as
// the format requires. Checked by `promtool check metrics` in tests/dataplane/control.
//
// Usage: PrometheusText t; t.family("poolreg_pools", MetricType::kGauge, "Pools."); t.sample(
// "poolreg_pools", 3); ... std::string body = t.take();
// Samples must follow their family() call (all samples of one family together).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registrar/common/latency_histogram.hpp"

namespace poolreg::control {

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram, kUntyped };

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  // Content-Type of the exposition.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  void family(std::string_view name, MetricType type, std::string_view help);
  void sample(std::string_view name, std::uint64_t value, std::initializer_list<Label> labels = {});
  void sample(std::string_view name, double value, std::initializer_list<Label> labels = {});
  void sample(std::string_view name, std::string_view value_text, const std::vector<Label>& labels);

  // Shorthands: family + one unlabelled sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);
  // A histogram family with a latency histogram in seconds: name_bucket{le=...}, name_sum,
  // name_count.
  void histogram_seconds(std::string_view name, std::string_view help, const LatencyHistogram& histogram);

  const std::string& text() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

  // Metric/label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':').
  static bool valid_metric_name(std::string_view name) noexcept;
  // Lower-case, every character outside [a-z0-9_] becomes '_' (for names built from counters).
  static std::string sanitize(std::string_view text);

 private:
  void write_labels(const std::vector<Label>& labels);
  std::string out_;
};

std::string format_double(double value);

}  // namespace poolreg::control
