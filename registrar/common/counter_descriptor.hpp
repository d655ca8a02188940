// CounterDescriptor: what one counter means to an operator, kept in a table beside the struct
// that holds the counter (AsapCounters in registrar/asap, EnrpCounters in registrar/enrp,
// TransportCounters and LaneCounters in dataplane/runtime, the kernel and DPDK lanes' own in
// dataplane/kernel and dataplane/dpdk, the DPDK port statistics in dataplane/dpdk). Each table
// gives the key `poolctl stats` and DPDK telemetry show, the Prometheus family /metrics exports,
// a help text saying what is counted and why an operator cares, the unit, and the label that
// tells apart the members of a family. dataplane/control renders both the `stats` command and
// /metrics from these tables only, so names and help cannot drift between them;
// tests/dataplane/control/counter_descriptors_test.cpp lints every table (names, units, help,
// duplicates, a descriptor for every field).
//
// Everything here is plain constant data: tables are static arrays of string literals (keys are
// NUL-terminated, so `key.data()` may be handed to C APIs such as DPDK telemetry).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace poolreg {

enum class CounterUnit : std::uint8_t {
  kCount,    // events, packets, messages, PEs: a plain number
  kBytes,
  kSeconds,
};

enum class MetricKind : std::uint8_t {
  kCounter,  // monotonic: the family ends in _total
  kGauge,    // a current value (e.g. peers by state)
};

struct CounterDescriptor {
  std::string_view key;     // name in `poolctl stats` / telemetry; "group.member" nests in stats JSON
  std::string_view metric;  // Prometheus family (base units in the name; counters end in _total)
  std::string_view help;    // what it counts and why an operator cares (one HELP per family)
  CounterUnit unit = CounterUnit::kCount;
  MetricKind kind = MetricKind::kCounter;
  std::string_view label = {};        // label naming the family member; empty: unlabelled family
  std::string_view label_value = {};  // this descriptor's member; empty with a label: the value
                                      // comes with each sample (arrays: causes, xstat names)
};

// A value read from a counter struct together with its descriptor. label_value is set only when
// the descriptor leaves it to the sample (descriptor->label_value empty).
struct CounterSample {
  const CounterDescriptor* descriptor = nullptr;
  std::string label_value;
  std::uint64_t value = 0;

  // The stats key: descriptor->key, plus "." + label_value for array members.
  std::string key() const;
};

// A struct field with its descriptor: the tables of plain-integer counter structs.
template <typename Counters, typename Field = std::uint64_t>
struct DescribedField {
  CounterDescriptor describe;
  Field Counters::*field;
};

// Label values built from display names ("invalid values" -> "invalid_values"): lower case,
// every character outside [a-z0-9_] becomes '_'. Stats keys and metric labels both use it.
std::string counter_label_value(std::string_view text);

}  // namespace poolreg
