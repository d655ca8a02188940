// LaneKeepAlives (endpoint keep-alives on a lane, issue 16 item 2) against a real handlespace, a
// manual clock and fakes for the engine's send and the event ring: a watched PE gets its
// Keep-Alive after the interval (ASAP-KA-01), its Ack on the same association is consumed and
// re-arms the interval (ASAP-KA-03), an Ack from another association or for an unknown PE is left
// to the control thread, a PE no longer ours there is dropped and reported, an unanswered
// Keep-Alive is reported as a timeout (ASAP-KA-02), unwatch and timer changes take effect.
#include "dataplane/runtime/lane_keepalives.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "registrar/wire/asap_codec.hpp"

namespace poolreg::runtime {
namespace {

constexpr RegistrarId kOwnId = 0x0a0b0c0d;

PoolHandle handle(const char* name) { return *PoolHandle::from_string(name); }

PoolElement make_pe(PoolElementId id, RegistrarId home = kOwnId) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = home;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = 7000;
  pe.user_transport.addresses.push_back(IpAddress::v4(0x0a000001u + static_cast<std::uint32_t>(id)));
  pe.policy.type = PolicyType::kRoundRobin;
  return pe;
}

std::vector<std::uint8_t> ack_bytes(const char* pool, PoolElementId id) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(
      wire::encode(wire::EndpointKeepAliveAck{handle(pool), id}, wire::WireOptions{}, wire::ByteSink(out))
          .ok());
  return out;
}

struct Sent {
  ConnectionId connection = 0;
  std::vector<std::uint8_t> bytes;
};

class RecordingReports final : public LaneKeepAlives::Reports {
 public:
  void keepalive_report(const KeepAliveReport& r) override { reports.push_back(r); }
  std::vector<KeepAliveReport> reports;
};

class LaneKeepAlivesTest : public ::testing::Test {
 protected:
  LaneKeepAlivesTest() : hs_(handlespace::HandlespaceConfig{}, domain_) {
    config_.registrar_id = kOwnId;
    config_.keepalive_interval = 5 * kNsPerSec;
    config_.keepalive_timeout = 2 * kNsPerSec;
    make();
  }
  void make() {
    if (ka_) ka_->offline();
    ka_.reset();
    ka_ = std::make_unique<LaneKeepAlives>(
        hs_, domain_, config_, counters_, reports_, clock_,
        [this](ConnectionId c, std::span<const std::span<const std::uint8_t>> messages,
               std::span<SendResult> results) {
          sends_.push_back({c, messages.size()});
          for (std::size_t i = 0; i < messages.size(); ++i) {
            sent_.push_back({c, {messages[i].begin(), messages[i].end()}});
            results[i] = send_result_;
          }
        });
    ka_->online();
  }
  ~LaneKeepAlivesTest() override {
    ka_->offline();
    ka_.reset();
  }
  void register_pe(const char* pool, PoolElementId id, ConnectionId association, RegistrarId home = kOwnId,
                   ConnectionId rebind_from = 0) {
    handlespace::RegistrationOptions ro;
    ro.association = association;
    ro.rebind_from = rebind_from;
    ASSERT_TRUE(hs_.register_pe(handle(pool), make_pe(id, home), ro).has_value());
  }
  KeepAliveWatch watch(const char* pool, PoolElementId id, ConnectionId c, std::uint32_t ticket = 7) {
    KeepAliveWatch w;
    w.connection = c;
    w.handle = handle(pool);
    w.id = id;
    w.ticket = ticket;
    ka_->watch(w);
    return w;
  }
  void advance(TimeNs delta) {
    clock_.advance(delta);
    ka_->run_timers();
    ka_->quiescent();
  }
  wire::EndpointKeepAlive last_keepalive() {
    EXPECT_FALSE(sent_.empty());
    if (sent_.empty()) return {};
    auto r = wire::decode_asap(sent_.back().bytes);
    EXPECT_TRUE(r.has_value());
    if (!r.has_value()) return {};
    const auto* ka = std::get_if<wire::EndpointKeepAlive>(&r.value());
    EXPECT_NE(ka, nullptr);
    return ka != nullptr ? *ka : wire::EndpointKeepAlive{};
  }

  ManualClock clock_{1000 * kNsPerSec};
  handlespace::QsbrDomain domain_{4};
  handlespace::Handlespace hs_;
  asap::AsapConfig config_;
  LaneCounters counters_;
  RecordingReports reports_;
  std::vector<Sent> sent_;
  std::vector<std::pair<ConnectionId, std::size_t>> sends_;  // engine calls: association, messages
  SendResult send_result_ = SendResult::kSent;
  std::unique_ptr<LaneKeepAlives> ka_;
};

TEST_F(LaneKeepAlivesTest, KeepAliveLeavesAfterTheInterval_ASAP_KA_01) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  EXPECT_EQ(ka_->watched(), 1u);
  EXPECT_EQ(counters_.keepalive_watched.get(), 1u);
  advance(config_.keepalive_interval - kNsPerMs);
  EXPECT_TRUE(sent_.empty());
  advance(kNsPerMs + config_.timer_tick);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].connection, 11u);
  const auto ka = last_keepalive();
  EXPECT_FALSE(ka.home);
  EXPECT_EQ(ka.registrar_id, kOwnId);
  EXPECT_EQ(ka.pool_handle, handle("P"));
  ASSERT_TRUE(ka.pe_id.has_value());
  EXPECT_EQ(*ka.pe_id, 1u);
  EXPECT_EQ(counters_.keepalives_sent.get(), 1u);
}

TEST_F(LaneKeepAlivesTest, AckOnTheSameAssociationIsConsumedAndReArms_ASAP_KA_03) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  advance(config_.keepalive_interval + config_.timer_tick);
  ASSERT_EQ(sent_.size(), 1u);
  const auto ack = ack_bytes("P", 1);
  EXPECT_TRUE(ka_->consume(11, ack));
  EXPECT_EQ(counters_.keepalive_acks.get(), 1u);
  // No timeout: the next Keep-Alive comes one interval after the Ack.
  advance(config_.keepalive_timeout + config_.timer_tick);
  EXPECT_TRUE(reports_.reports.empty());
  EXPECT_EQ(sent_.size(), 1u);
  advance(config_.keepalive_interval);
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(LaneKeepAlivesTest, AckFromAnotherAssociationOrForAnUnknownPeIsForwarded) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  advance(config_.keepalive_interval + config_.timer_tick);
  EXPECT_FALSE(ka_->consume(12, ack_bytes("P", 1)));  // only the PE's own association counts
  EXPECT_FALSE(ka_->consume(11, ack_bytes("P", 2)));
  EXPECT_FALSE(ka_->consume(11, ack_bytes("Q", 1)));
  EXPECT_EQ(counters_.keepalive_acks_forwarded.get(), 3u);
  EXPECT_EQ(counters_.keepalive_acks.get(), 0u);
  // The Keep-Alive still times out: none of those was its Ack.
  advance(config_.keepalive_timeout);
  ASSERT_EQ(reports_.reports.size(), 1u);
  EXPECT_EQ(reports_.reports[0].kind, KeepAliveReport::Kind::kTimedOut);
}

TEST_F(LaneKeepAlivesTest, OtherMessagesAndMalformedAcksAreNotConsumed) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  std::vector<std::uint8_t> hr;
  wire::HandleResolution m;
  m.pool_handle = handle("P");
  ASSERT_TRUE(wire::encode(m, wire::WireOptions{}, wire::ByteSink(hr)).ok());
  EXPECT_FALSE(ka_->consume(11, hr));
  auto broken = ack_bytes("P", 1);
  broken.resize(broken.size() - 2);  // length field no longer matches
  EXPECT_FALSE(ka_->consume(11, broken));
  EXPECT_FALSE(ka_->consume(11, {}));
}

TEST_F(LaneKeepAlivesTest, UnansweredKeepAliveIsReportedAsATimeout_ASAP_KA_02) {
  register_pe("P", 1, 11);
  watch("P", 1, 11, 42);
  advance(config_.keepalive_interval + config_.timer_tick);
  advance(config_.keepalive_timeout - kNsPerMs - config_.timer_tick);
  EXPECT_TRUE(reports_.reports.empty());
  advance(kNsPerMs + config_.timer_tick);
  ASSERT_EQ(reports_.reports.size(), 1u);
  const KeepAliveReport& r = reports_.reports[0];
  EXPECT_EQ(r.kind, KeepAliveReport::Kind::kTimedOut);
  EXPECT_EQ(r.connection, 11u);
  EXPECT_EQ(r.handle, handle("P"));
  EXPECT_EQ(r.id, 1u);
  EXPECT_EQ(r.ticket, 42u);
  EXPECT_EQ(ka_->watched(), 0u);
  EXPECT_EQ(counters_.keepalive_timeouts.get(), 1u);
  // A late Ack is not consumed any more (the control thread decides).
  EXPECT_FALSE(ka_->consume(11, ack_bytes("P", 1)));
}

TEST_F(LaneKeepAlivesTest, FailedSendTimesOutLikeALostKeepAlive) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  send_result_ = SendResult::kQueueFull;
  advance(config_.keepalive_interval + config_.timer_tick);
  EXPECT_EQ(counters_.keepalive_send_failures.get(), 1u);
  EXPECT_EQ(counters_.keepalives_sent.get(), 0u);
  advance(config_.keepalive_timeout);
  ASSERT_EQ(reports_.reports.size(), 1u);
  EXPECT_EQ(reports_.reports[0].kind, KeepAliveReport::Kind::kTimedOut);
}

// asap.keepalive_batch: the Keep-Alives due in one tick go out in one send per association,
// each PE's own message (in the order the wheel fired them); off, one send each.
TEST_F(LaneKeepAlivesTest, KeepAlivesDueInOneTickLeaveInOneSendPerAssociation) {
  for (PoolElementId id = 1; id <= 3; ++id) register_pe("P", id, 11);
  register_pe("P", 4, 12);
  watch("P", 1, 11);
  watch("P", 4, 12);
  watch("P", 2, 11);
  watch("P", 3, 11);
  advance(config_.keepalive_interval + config_.timer_tick);
  ASSERT_EQ(sends_.size(), 2u);
  EXPECT_EQ(sends_[0], (std::pair<ConnectionId, std::size_t>{11, 3}));
  EXPECT_EQ(sends_[1], (std::pair<ConnectionId, std::size_t>{12, 1}));
  ASSERT_EQ(sent_.size(), 4u);
  std::vector<PoolElementId> ids;
  for (const Sent& s : sent_) {
    auto r = wire::decode_asap(s.bytes);
    ASSERT_TRUE(r.has_value());
    const auto* ka = std::get_if<wire::EndpointKeepAlive>(&r.value());
    ASSERT_NE(ka, nullptr);
    ASSERT_TRUE(ka->pe_id.has_value());
    ids.push_back(*ka->pe_id);
  }
  std::sort(ids.begin(), ids.begin() + 3);  // association 11's three, then 12's one
  EXPECT_EQ(ids, (std::vector<PoolElementId>{1, 2, 3, 4}));
  EXPECT_EQ(counters_.keepalives_sent.get(), 4u);
  EXPECT_EQ(counters_.keepalive_batches.get(), 1u);
  // Every Ack consumed: the next round is one send per association again.
  for (PoolElementId id = 1; id <= 3; ++id) EXPECT_TRUE(ka_->consume(11, ack_bytes("P", id)));
  EXPECT_TRUE(ka_->consume(12, ack_bytes("P", 4)));
  sends_.clear();
  advance(config_.keepalive_interval + config_.timer_tick);
  EXPECT_EQ(sends_.size(), 2u);
  EXPECT_EQ(counters_.keepalive_batches.get(), 2u);
}

TEST_F(LaneKeepAlivesTest, WithoutBatchingEveryKeepAliveIsItsOwnSend) {
  config_.keepalive_batch = false;
  make();
  for (PoolElementId id = 1; id <= 3; ++id) register_pe("P", id, 11);
  for (PoolElementId id = 1; id <= 3; ++id) watch("P", id, 11);
  advance(config_.keepalive_interval + config_.timer_tick);
  ASSERT_EQ(sends_.size(), 3u);
  for (const auto& s : sends_) EXPECT_EQ(s, (std::pair<ConnectionId, std::size_t>{11, 1}));
  EXPECT_EQ(counters_.keepalives_sent.get(), 3u);
  EXPECT_EQ(counters_.keepalive_batches.get(), 0u);
}

TEST_F(LaneKeepAlivesTest, GoneAssociationDropsTheEntryWithoutAReport) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  send_result_ = SendResult::kNoConnection;  // the engine forgot association 11 (closed)
  advance(config_.keepalive_interval + config_.timer_tick);
  EXPECT_EQ(ka_->watched(), 0u);
  EXPECT_EQ(counters_.keepalive_send_failures.get(), 1u);
  advance(config_.keepalive_timeout + config_.keepalive_interval);
  EXPECT_TRUE(reports_.reports.empty());
  EXPECT_EQ(counters_.keepalive_timeouts.get(), 0u);
}

TEST_F(LaneKeepAlivesTest, PeNoLongerOursIsDroppedAndReportedBeforeAnyKeepAlive) {
  register_pe("P", 1, 11);
  register_pe("P", 2, 11);
  watch("P", 1, 11, 1);
  watch("P", 2, 11, 2);
  register_pe("P", 1, 0, 0x11223344);   // taken over by another PR (an ENRP update)
  register_pe("P", 2, 12, kOwnId, 11);  // rebound to another association
  advance(config_.keepalive_interval + config_.timer_tick);
  EXPECT_TRUE(sent_.empty());
  ASSERT_EQ(reports_.reports.size(), 2u);
  for (const auto& r : reports_.reports) EXPECT_EQ(r.kind, KeepAliveReport::Kind::kNotOurs);
  EXPECT_EQ(counters_.keepalive_not_ours.get(), 2u);
  EXPECT_EQ(ka_->watched(), 0u);
}

TEST_F(LaneKeepAlivesTest, GonePeIsDroppedAsNotOurs) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  ASSERT_TRUE(hs_.deregister(handle("P"), 1).has_value());
  advance(config_.keepalive_interval + config_.timer_tick);
  ASSERT_EQ(reports_.reports.size(), 1u);
  EXPECT_EQ(reports_.reports[0].kind, KeepAliveReport::Kind::kNotOurs);
}

TEST_F(LaneKeepAlivesTest, UnwatchStopsEverythingSilently) {
  register_pe("P", 1, 11);
  watch("P", 1, 11);
  advance(config_.keepalive_interval + config_.timer_tick);
  ka_->unwatch(12, handle("P"), 1);  // another association's: not this entry
  EXPECT_EQ(ka_->watched(), 1u);
  ka_->unwatch(11, handle("P"), 1);
  EXPECT_EQ(ka_->watched(), 0u);
  EXPECT_FALSE(ka_->consume(11, ack_bytes("P", 1))) << "Acks go to the control thread again";
  advance(config_.keepalive_timeout + config_.keepalive_interval);
  EXPECT_TRUE(reports_.reports.empty());
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(LaneKeepAlivesTest, WatchAgainReplacesTheEntryAndItsTicket) {
  register_pe("P", 1, 11);
  watch("P", 1, 11, 1);
  advance(config_.keepalive_interval + config_.timer_tick);  // Keep-Alive out
  watch("P", 1, 11, 2);                                      // re-registration: back to the interval
  EXPECT_EQ(ka_->watched(), 1u);
  advance(config_.keepalive_timeout);
  EXPECT_TRUE(reports_.reports.empty());
  advance(config_.keepalive_interval);
  advance(config_.keepalive_timeout + config_.timer_tick);
  ASSERT_EQ(reports_.reports.size(), 1u);
  EXPECT_EQ(reports_.reports[0].ticket, 2u);
}

TEST_F(LaneKeepAlivesTest, NewTimersApplyFromTheNextArm) {
  register_pe("P", 1, 11);
  ka_->set_timers(kNsPerSec, 500 * kNsPerMs);
  watch("P", 1, 11);
  advance(kNsPerSec + config_.timer_tick);
  ASSERT_EQ(sent_.size(), 1u);
  advance(500 * kNsPerMs);
  ASSERT_EQ(reports_.reports.size(), 1u);
}

TEST_F(LaneKeepAlivesTest, NextGenWatchEncodesNextGen) {
  register_pe("P", 0x1122334455ull, 11);
  KeepAliveWatch w;
  w.connection = 11;
  w.handle = handle("P");
  w.id = 0x1122334455ull;
  w.ticket = 3;
  w.next_gen = true;
  ka_->watch(w);
  advance(config_.keepalive_interval + config_.timer_tick);
  ASSERT_EQ(sent_.size(), 1u);
  ASSERT_TRUE(last_keepalive().pe_id.has_value());
  EXPECT_EQ(*last_keepalive().pe_id, 0x1122334455ull);
}

}  // namespace
}  // namespace poolreg::runtime
