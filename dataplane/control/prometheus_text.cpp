#include "dataplane/control/prometheus_text.hpp"

#include <cmath>
#include <cstdio>

namespace poolreg::control {
namespace {

const char* type_name(MetricType type) noexcept {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kUntyped: return "untyped";
  }
  return "untyped";
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out.push_back(c);
  }
}

}  // namespace

std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    return buffer;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

bool PrometheusText::valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string PrometheusText::sanitize(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') out.push_back(c);
    else out.push_back('_');
  }
  return out;
}

void PrometheusText::family(std::string_view name, MetricType type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void PrometheusText::write_labels(const std::vector<Label>& labels) {
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    append_escaped(out_, value, true);
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, std::string_view value_text, const std::vector<Label>& labels) {
  out_ += name;
  write_labels(labels);
  out_ += ' ';
  out_ += value_text;
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, std::uint64_t value, std::initializer_list<Label> labels) {
  sample(name, std::to_string(value), std::vector<Label>(labels));
}

void PrometheusText::sample(std::string_view name, double value, std::initializer_list<Label> labels) {
  sample(name, format_double(value), std::vector<Label>(labels));
}

void PrometheusText::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, MetricType::kCounter, help);
  sample(name, value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, MetricType::kGauge, help);
  sample(name, value);
}

void PrometheusText::histogram_seconds(std::string_view name, std::string_view help, const LatencyHistogram& h) {
  family(name, MetricType::kHistogram, help);
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < LatencyHistogram::kCoarseBounds; ++i) {
    const TimeNs bound = LatencyHistogram::coarse_bound(i);
    const std::string le = format_double(static_cast<double>(bound) / 1e9);
    sample(bucket, std::to_string(h.count_at_or_below(bound)), {{"le", le}});
  }
  // Read after the bounds: with a concurrent writer it is still >= each of them (counters only grow).
  const std::uint64_t count = h.count();
  sample(bucket, std::to_string(count), {{"le", "+Inf"}});
  sample(std::string(name) + "_sum", format_double(static_cast<double>(h.sum()) / 1e9), {});
  sample(std::string(name) + "_count", std::to_string(count), {});
}

}  // namespace poolreg::control
