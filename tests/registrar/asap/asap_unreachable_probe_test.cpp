// AsapServer: Endpoint Unreachable cannot evict a live PE (issue 17, finding 2). Reports count
// once per reporting source address and PE; at MAX-BAD-PE-REPORT a PE registered here over a
// live association is probed with a keep-alive and removed only if the probe goes unanswered.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapUnreachableProbeTest : public AsapServerTest {
 protected:
  // A PU association from `address` (one address, as TCP or a single-homed SCTP host).
  void connect_pu(ConnectionId c, IpAddress address) {
    server().on_connection_up(c, sctp_peer({address}, static_cast<std::uint16_t>(40000 + c)));
  }
  // Nine PU associations: three hosts with three associations each, all reporting PE `id`.
  void nine_reports(PoolElementId id, std::size_t hosts) {
    for (ConnectionId c = 100; c < 109; ++c) {
      connect_pu(c, IpAddress::v4(0xc0a80001u + static_cast<std::uint32_t>((c - 100) % hosts)));
      deliver(c, unreachable("E", id));
    }
  }
  std::size_t keepalives_on(ConnectionId c) const {
    std::size_t n = 0;
    for (const auto& s : out_.sent)
      if (s.connection == c && !s.bytes.empty() && s.bytes[0] == static_cast<std::uint8_t>(AsapType::kEndpointKeepAlive)) ++n;
    return n;
  }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
};

TEST_F(AsapUnreachableProbeTest, LivePeReportedOverNineAssociationsIsProbedAndKept_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  out_.clear();
  nine_reports(1, 3);
  EXPECT_EQ(pe_count(), 1u) << "a live PE was removed on reports alone";
  EXPECT_EQ(server().counters().unreachable_probes, 1u);
  EXPECT_EQ(server().counters().unreachable_repeated_reporter, 6u);
  ASSERT_EQ(keepalives_on(1), 1u);  // the probe, at once (not after the keep-alive interval)
  clock_.advance(kNsPerSec);
  deliver(1, keepalive_ack("E", 1));
  EXPECT_EQ(server().counters().unreachable_probes_kept, 1u);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_EQ(server().counters().removed_by_unreachable_reports, 0u);
  // The answered probe started the count over: one more report does not probe again.
  connect_pu(200, IpAddress::v4(0xc0a80009u));
  deliver(200, unreachable("E", 1));
  EXPECT_EQ(server().counters().unreachable_probes, 1u);
}

TEST_F(AsapUnreachableProbeTest, NineAssociationsFromOneAddressAreOneReporter_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  out_.clear();
  nine_reports(1, 1);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().counters().unreachable_probes, 0u);
  EXPECT_EQ(server().counters().unreachable_repeated_reporter, 8u);
  EXPECT_EQ(keepalives_on(1), 0u);
}

TEST_F(AsapUnreachableProbeTest, DeadPeIsRemovedWhenTheProbeGoesUnanswered_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  out_.clear();
  nine_reports(1, 3);
  ASSERT_EQ(pe_count(), 1u);
  ASSERT_EQ(keepalives_on(1), 1u);
  advance_and_run(config_.keepalive_timeout - kNsPerMs);
  EXPECT_EQ(pe_count(), 1u);
  advance_and_run(kNsPerMs + config_.timer_tick);
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);  // ENRP DEL: it was ours
  EXPECT_EQ(server().counters().unreachable_probes_removed, 1u);
  EXPECT_EQ(server().counters().removed_by_unreachable_reports, 1u);
  EXPECT_EQ(server().counters().removed_by_keepalive_timeout, 0u);
  EXPECT_EQ(server().monitored_pes(), 0u);
}

// An Ack over another association (a PU answering for the PE) does not save it.
TEST_F(AsapUnreachableProbeTest, ProbeAckOnlyCountsFromThePesAssociation_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  nine_reports(1, 3);
  deliver(100, keepalive_ack("E", 1));
  EXPECT_EQ(server().counters().unreachable_probes_kept, 0u);
  advance_and_run(config_.keepalive_timeout + config_.timer_tick);
  EXPECT_EQ(pe_count(), 0u);
}

}  // namespace
}  // namespace poolreg::asap::testing

namespace poolreg::asap::testing {
namespace {

TEST(UnreachableReportersTest, OneCountPerAddressBoundedPerPeAndInTotal) {
  UnreachableReporters r(/*max_reporters=*/2, /*max_pes=*/2);
  const PoolHandle h = handle("E");
  const IpAddress a = IpAddress::v4(0xc0a80001), b = IpAddress::v4(0xc0a80002), c = IpAddress::v4(0xc0a80003);
  EXPECT_TRUE(r.first_report(h, 1, a));
  EXPECT_FALSE(r.first_report(h, 1, a));
  EXPECT_TRUE(r.first_report(h, 1, b));
  EXPECT_FALSE(r.first_report(h, 1, c)) << "a round never holds more than max_reporters";
  r.restart(h, 1, c);
  EXPECT_TRUE(r.first_report(h, 1, a));
  r.forget(h, 1);
  EXPECT_TRUE(r.first_report(h, 1, a));
  EXPECT_TRUE(r.first_report(h, 2, a));
  EXPECT_TRUE(r.first_report(h, 3, a));  // a third PE drops an older round
  EXPECT_EQ(r.size(), 2u);
  // IPv4-mapped IPv6 is the same host as its IPv4 address.
  const IpAddress mapped = IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 1});
  EXPECT_EQ(reporter_address({mapped}), a);
  EXPECT_EQ(reporter_address({}), IpAddress{});
}

}  // namespace
}  // namespace poolreg::asap::testing
