#include "dataplane/control/counter_exposition.hpp"

namespace poolreg::control {

void CounterExposition::add(const CounterDescriptor& d, std::string_view sample_label_value, std::uint64_t value,
                            const OwnedLabels& extra) {
  auto it = index_.find(d.metric);
  if (it == index_.end()) {
    it = index_.emplace(std::string(d.metric), families_.size()).first;
    families_.push_back({&d, {}});
  }
  Sample s{extra, value};
  if (!d.label.empty())
    s.labels.emplace_back(std::string(d.label), std::string(d.label_value.empty() ? sample_label_value : d.label_value));
  families_[it->second].samples.push_back(std::move(s));
}

void CounterExposition::write(PrometheusText& t) const {
  for (const Family& f : families_) {
    const CounterDescriptor& d = *f.descriptor;
    t.family(d.metric, d.kind == MetricKind::kGauge ? MetricType::kGauge : MetricType::kCounter, d.help);
    for (const Sample& s : f.samples) {
      // Label views into s.labels, which outlives the sample() call.
      std::vector<Label> labels;
      labels.reserve(s.labels.size());
      for (const auto& [name, value] : s.labels) labels.emplace_back(name, value);
      t.sample(d.metric, std::to_string(s.value), labels);
    }
  }
}

}  // namespace poolreg::control
