// lint_descriptors(): the naming rules every counter descriptor table obeys
// (registrar/common/counter_descriptor.hpp), as a list of problems (empty: clean). Used by
// counter_descriptors_test.cpp (the tables the control library sees) and by the DPDK tests (the
// DPDK lane and port tables).
//
// Rules: metric is a valid Prometheus name starting with poolreg_; counters end in _total (once:
// no _total_total), gauges do not; no non-base unit in a name (_ms, _milliseconds, _kb, ...);
// the unit matches the name (bytes: _bytes_total, seconds: _seconds_total); help is a sentence
// of some length that is not the generic "<family> counter <name>."; descriptors of one family
// agree on help, unit, kind and label name; no (family, label value) twice; an array family
// (label value left to the samples) has one descriptor; stats keys are unique per table.
#pragma once

#include <map>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/control/prometheus_text.hpp"
#include "registrar/common/counter_descriptor.hpp"

namespace poolreg::testing {

// True for the help texts earlier code generated ("ASAP counter keepalives_sent.") and other
// texts that say nothing beyond the name.
// min_length: the tables ask for a sentence that says why it matters (30); hand-written
// gauges of the exposition ("Pools in the handlespace.") may be shorter.
inline bool generic_help(std::string_view help, std::string_view key, std::size_t min_length = 30) {
  static const std::regex generic(R"(^\s*[A-Za-z]+ counter [A-Za-z0-9_.]+\.?\s*$)");
  const std::string h(help);
  return std::regex_match(h, generic) || h == key || h.size() < min_length;
}

inline std::vector<std::string> lint_descriptors(const std::vector<std::vector<const CounterDescriptor*>>& tables) {
  std::vector<std::string> problems;
  auto problem = [&problems](const CounterDescriptor& d, const std::string& what) {
    problems.push_back(std::string(d.metric) + " (" + std::string(d.key) + "): " + what);
  };
  static const std::regex non_base(
      R"(_(ms|msec|milliseconds|us|usec|microseconds|ns|nanoseconds|minutes|hours|days|kb|kib|mb|mib|gb|gib|kbytes|percent)(_|$))");
  std::map<std::string, const CounterDescriptor*> family_of;
  std::set<std::pair<std::string, std::string>> members;
  std::set<std::string> array_families;
  for (const auto& table : tables) {
    std::set<std::string> keys;
    for (const CounterDescriptor* p : table) {
      const CounterDescriptor& d = *p;
      const std::string metric(d.metric);
      if (d.key.empty()) problem(d, "empty stats key");
      if (!keys.insert(std::string(d.key) + "|" + std::string(d.label_value)).second) problem(d, "stats key twice in one table");
      if (!control::PrometheusText::valid_metric_name(metric) || !metric.starts_with("poolreg_"))
        problem(d, "not a valid poolreg_ metric name");
      if (metric.find("_total_total") != std::string::npos) problem(d, "doubled _total suffix");
      if (d.kind == MetricKind::kCounter && !metric.ends_with("_total")) problem(d, "counter without _total");
      if (d.kind == MetricKind::kGauge && metric.ends_with("_total")) problem(d, "gauge ending in _total");
      if (std::regex_search(metric, non_base)) problem(d, "non-base unit in the name");
      const std::string stem = d.kind == MetricKind::kCounter && metric.ends_with("_total")
                                   ? metric.substr(0, metric.size() - 6) : metric;
      if (d.unit == CounterUnit::kBytes && !stem.ends_with("_bytes")) problem(d, "unit bytes but the name does not end in _bytes");
      if (d.unit == CounterUnit::kSeconds && !stem.ends_with("_seconds")) problem(d, "unit seconds but the name does not end in _seconds");
      if (d.unit == CounterUnit::kCount && (stem.ends_with("_bytes") || stem.ends_with("_seconds")))
        problem(d, "name says bytes/seconds but the unit is a count");
      if (d.help.empty()) problem(d, "empty help");
      else if (generic_help(d.help, d.key)) problem(d, "generic help: " + std::string(d.help));
      else if (d.help.back() != '.') problem(d, "help is not a sentence (no final '.')");
      if (!d.label_value.empty() && d.label.empty()) problem(d, "label value without a label name");
      auto [it, fresh] = family_of.emplace(metric, &d);
      if (!fresh) {
        const CounterDescriptor& first = *it->second;
        if (first.help != d.help || first.unit != d.unit || first.kind != d.kind || first.label != d.label)
          problem(d, "disagrees with another member of its family on help, unit, kind or label");
        if (d.label.empty()) problem(d, "metric name appears twice");
      }
      if (!d.label.empty() && d.label_value.empty()) {
        if (!fresh || array_families.count(metric) != 0) problem(d, "array family shares its name");
        array_families.insert(metric);
      } else if (!d.label.empty()) {
        if (array_families.count(metric) != 0) problem(d, "member of an array family");
        if (!members.emplace(metric, std::string(d.label_value)).second) problem(d, "metric and label value appear twice");
      }
    }
  }
  return problems;
}

template <typename Fields>
std::vector<const CounterDescriptor*> descriptors_of(const Fields& fields) {
  std::vector<const CounterDescriptor*> out;
  for (const auto& f : fields) out.push_back(&f.describe);
  return out;
}

}  // namespace poolreg::testing
