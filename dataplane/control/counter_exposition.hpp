// CounterExposition: renders counters described by CounterDescriptors
// (registrar/common/counter_descriptor.hpp) as Prometheus families. Samples are grouped by family
// in the order families first appear, whatever order they are added in (a family's members come
// from several descriptors, lanes and ports), and each family gets its HELP and TYPE from the
// descriptor of its first sample. Labels: the caller's (lane, port) first, then the
// descriptor's own (its fixed label_value, or the sample's for arrays).
//
// Owns copies of every label text, so nothing added must outlive add(). Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/control/prometheus_text.hpp"
#include "registrar/common/counter_descriptor.hpp"

namespace poolreg::control {

class CounterExposition {
 public:
  using OwnedLabels = std::vector<std::pair<std::string, std::string>>;

  // sample_label_value: the member of an array family (descriptor.label_value empty), else "".
  void add(const CounterDescriptor& descriptor, std::string_view sample_label_value, std::uint64_t value,
           const OwnedLabels& extra = {});
  void add(const CounterSample& sample, const OwnedLabels& extra = {}) {
    add(*sample.descriptor, sample.label_value, sample.value, extra);
  }
  // Appends every family (HELP, TYPE, samples) to t.
  void write(PrometheusText& t) const;

 private:
  struct Sample {
    OwnedLabels labels;
    std::uint64_t value = 0;
  };
  struct Family {
    const CounterDescriptor* descriptor = nullptr;
    std::vector<Sample> samples;
  };
  std::vector<Family> families_;
  std::map<std::string, std::size_t, std::less<>> index_;  // metric name -> families_ slot
};

}  // namespace poolreg::control
