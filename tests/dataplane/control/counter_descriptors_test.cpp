// The counter descriptor tables (registrar/common/counter_descriptor.hpp) of every counter struct
// the control library renders: every field has a descriptor, and every descriptor obeys the
// naming rules (descriptor_lint.hpp); the linter itself fails on each kind of bad descriptor.
// The DPDK tables are linted in tests/dataplane/dpdk/port_metrics_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/runtime/lane_counters.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/asap/asap_counters.hpp"
#include "registrar/enrp/enrp_counters.hpp"
#include "tests/dataplane/control/descriptor_lint.hpp"

namespace poolreg {
namespace {

using testing::descriptors_of;
using testing::lint_descriptors;

// Distinct fields: no two descriptors read the same member.
template <typename Counters, typename Fields>
std::set<const void*> field_addresses(const Counters& c, const Fields& fields) {
  std::set<const void*> seen;
  for (const auto& f : fields) seen.insert(&(c.*f.field));
  return seen;
}

// Where the members a lane type adds to runtime::LaneCounters begin: right after the base's last
// member (the ABI reuses the base's tail padding, so not at sizeof(LaneCounters)).
inline const char* first_derived_member(const runtime::LaneCounters& base) {
  const auto end = reinterpret_cast<std::uintptr_t>(&base.resolution_latency) + sizeof(LatencyHistogram);
  return reinterpret_cast<const char*>((end + alignof(runtime::Counter) - 1) & ~(alignof(runtime::Counter) - 1));
}

TEST(CounterDescriptorsTest, EveryAsapFieldIsDescribed) {
  // AsapCounters is uint64_t fields and two uint64_t arrays: the table must cover the rest.
  const auto fields = asap::asap_counter_fields();
  EXPECT_EQ(sizeof(asap::AsapCounters),
            (fields.size() + asap::kErrorCauseSlots + asap::kDecodeErrorKindSlots) * sizeof(std::uint64_t))
      << "a field of AsapCounters has no descriptor in registrar/asap/asap_counters.cpp";
  const asap::AsapCounters c{};
  EXPECT_EQ(field_addresses(c, fields).size(), fields.size()) << "two descriptors read the same field";
  // for_each (the stats keys) and for_each_sample (the metrics) walk the same table.
  std::set<std::string> keys;
  c.for_each([&keys](std::string_view name, std::uint64_t) { keys.insert(std::string(name)); });
  EXPECT_EQ(keys.size(), fields.size());
  for (const auto& f : fields) EXPECT_EQ(keys.count(std::string(f.describe.key)), 1u) << f.describe.key;
}

TEST(CounterDescriptorsTest, EveryEnrpAndTransportFieldIsDescribed) {
  const auto enrp_fields = enrp::enrp_counter_fields();
  EXPECT_EQ(sizeof(enrp::EnrpCounters), enrp_fields.size() * sizeof(std::uint64_t))
      << "a field of EnrpCounters has no descriptor in registrar/enrp/enrp_counters.cpp";
  EXPECT_EQ(field_addresses(enrp::EnrpCounters{}, enrp_fields).size(), enrp_fields.size());
  const auto transport_fields = runtime::transport_counter_fields();
  EXPECT_EQ(sizeof(runtime::TransportCounters), transport_fields.size() * sizeof(std::uint64_t))
      << "a field of TransportCounters has no descriptor in dataplane/runtime/message_transport.cpp";
  EXPECT_EQ(field_addresses(runtime::TransportCounters{}, transport_fields).size(), transport_fields.size());
}

TEST(CounterDescriptorsTest, EveryLaneCounterIsDescribed) {
  // The Counter fields come first in LaneCounters, in table order, up to the per-type arrays.
  const auto fields = runtime::lane_counter_fields();
  const runtime::LaneCounters lane{};
  const char* base = reinterpret_cast<const char*>(&lane);
  for (std::size_t i = 0; i < fields.size(); ++i)
    EXPECT_EQ(reinterpret_cast<const char*>(&(lane.*fields[i].field)) - base,
              static_cast<std::ptrdiff_t>(i * sizeof(runtime::Counter)))
        << fields[i].describe.key << " is not the field at its table position";
  EXPECT_EQ(reinterpret_cast<const char*>(&lane.asap_in_by_type) - base,
            static_cast<std::ptrdiff_t>(fields.size() * sizeof(runtime::Counter)))
      << "a Counter of LaneCounters has no descriptor in dataplane/runtime/lane_counters.cpp";

  // Kernel lanes: the drops follow the LaneCounters base in table order, and dropped_total()
  // sums exactly the described ones.
  kernel::KernelLaneCounters k;
  const auto drops = kernel::kernel_lane_drop_fields();
  const char* derived = first_derived_member(k);
  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < drops.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<const char*>(&(k.*drops[i].field)), derived + i * sizeof(runtime::Counter))
        << drops[i].describe.key;
    (k.*drops[i].field).add(i + 1);
    expected += i + 1;
  }
  EXPECT_EQ(k.dropped_total(), expected) << "dropped_total() counts a drop without a descriptor";
  // The native SCTP counters follow the drops, in their table's order (not in dropped_total():
  // they count the raw socket's packets, not the UDP socket's datagrams).
  const auto native = kernel::kernel_lane_native_fields();
  const char* after_drops = derived + drops.size() * sizeof(runtime::Counter);
  for (std::size_t i = 0; i < native.size(); ++i)
    EXPECT_EQ(reinterpret_cast<const char*>(&(k.*native[i].field)), after_drops + i * sizeof(runtime::Counter))
        << native[i].describe.key;
  // Nothing after the last one but alignment padding.
  const auto last_end = reinterpret_cast<std::uintptr_t>(&(k.*native.back().field)) + sizeof(runtime::Counter);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&k) + sizeof(k), (last_end + 63) & ~std::uintptr_t{63})
      << "KernelLaneCounters has members after its described native counters";
  // for_each_counter visits the lane's table, the drops and the native counters, each once.
  std::size_t visited = 0;
  k.for_each_counter([&visited](const CounterDescriptor&, std::uint64_t) { ++visited; });
  EXPECT_EQ(visited, fields.size() + drops.size() + native.size());
}

TEST(CounterDescriptorsTest, EveryTableFollowsTheNamingRules) {
  std::vector<const CounterDescriptor*> asap_table = descriptors_of(asap::asap_counter_fields());
  asap_table.push_back(&asap::asap_errors_sent_descriptor());
  asap_table.push_back(&asap::asap_decode_errors_descriptor());
  const std::vector<std::vector<const CounterDescriptor*>> tables = {
      asap_table, descriptors_of(enrp::enrp_counter_fields()), descriptors_of(runtime::transport_counter_fields()),
      descriptors_of(runtime::lane_counter_fields()), descriptors_of(kernel::kernel_lane_drop_fields())};
  for (const std::string& p : lint_descriptors(tables)) ADD_FAILURE() << p;
}

// The linter catches each kind of mistake it is meant to catch.
TEST(CounterDescriptorsTest, LintRejectsBadDescriptors) {
  const std::string good_help = "Frames the test counts so that the linter has a valid help text.";
  const CounterDescriptor ok{"ok", "poolreg_test_frames_total", good_help};
  const CounterDescriptor doubled{"a", "poolreg_test_dropped_total_total", good_help};
  const CounterDescriptor no_total{"b", "poolreg_test_frames", good_help};
  const CounterDescriptor millis{"c", "poolreg_test_delay_ms_total", good_help};
  const CounterDescriptor kilobytes{"d", "poolreg_test_sent_kb_total", good_help};
  const CounterDescriptor empty_help{"e", "poolreg_test_e_total", ""};
  const CounterDescriptor generic{"keepalives_sent", "poolreg_test_f_total", "ASAP counter keepalives_sent."};
  const CounterDescriptor twice{"g", "poolreg_test_frames_total", good_help};
  const CounterDescriptor bytes_as_count{"h", "poolreg_test_rx_bytes_total", good_help};
  const CounterDescriptor gauge_total{"i", "poolreg_test_i_total", good_help, CounterUnit::kCount, MetricKind::kGauge};
  const CounterDescriptor member_a{"j", "poolreg_test_j_total", good_help, CounterUnit::kCount, MetricKind::kCounter,
                                   "reason", "x"};
  const CounterDescriptor member_b{"k", "poolreg_test_j_total", good_help, CounterUnit::kCount, MetricKind::kCounter,
                                   "reason", "x"};
  EXPECT_TRUE(lint_descriptors({{&ok}}).empty());
  for (const CounterDescriptor* bad :
       {&doubled, &no_total, &millis, &kilobytes, &empty_help, &generic, &bytes_as_count, &gauge_total})
    EXPECT_FALSE(lint_descriptors({{bad}}).empty()) << bad->metric << " " << bad->help;
  EXPECT_FALSE(lint_descriptors({{&ok}, {&twice}}).empty()) << "a metric name twice";
  EXPECT_TRUE(lint_descriptors({{&member_a}}).empty());
  EXPECT_FALSE(lint_descriptors({{&member_a, &member_b}}).empty()) << "a family member twice";
}

}  // namespace
}  // namespace poolreg
