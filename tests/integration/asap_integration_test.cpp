// Integration: a real poolregd process driven by the client library (cli/client) over
// usrsctp/UDP and over TCP on 127.0.0.1 (every test runs for both transports).
// Spec IDs: ASAP-REG-* registration, ASAP-HR-* resolution, ASAP-KA-* keep-alive, ASAP-EU-*
// unreachable, SEC-02 ownership, WIRE-* malformed input (shared/spec/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "tests/integration/foreign_pe.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;
using client::PeRegistration;
using client::PoolElementClient;
using client::PoolUserClient;
using client::ResolutionResult;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const IpAddress kLoopback = IpAddress::v4(0x7f000001u);

PoolHandle handle_of(const std::string& s) { return *PoolHandle::from_string(s); }

PeRegistration registration(const PoolHandle& handle, PoolElementId id, PolicyParams policy, std::uint16_t port) {
  PeRegistration r;
  r.handle = handle;
  r.id = id;
  r.user_transport.protocol = TransportProtocol::kTcp;
  r.user_transport.port = port;
  r.user_transport.use = TransportUse::kDataOnly;
  r.user_transport.addresses = {kLoopback};
  r.policy = policy;
  r.registration_life_ms = 30000;
  return r;
}

PolicyParams policy(PolicyType type, std::uint32_t weight = 0, std::uint32_t priority = 0, std::uint32_t load = 0) {
  PolicyParams p;
  p.type = type;
  p.weight = weight;
  p.priority = priority;
  p.load = load;
  return p;
}

std::set<PoolElementId> ids_of(const ResolutionResult& r) {
  std::set<PoolElementId> s;
  for (const auto& pe : r.elements) s.insert(pe.id);
  return s;
}

class PoolregdAsap : public ::testing::TestWithParam<ClientTransport> {
 protected:
  void TearDown() override {
    if (daemon_) {
      // Every test ends with a clean stop: exit status 0 on SIGTERM.
      EXPECT_TRUE(daemon_->stops_cleanly());
    }
  }

  void start_daemon(std::vector<std::string> extra = {}) {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    daemon_ = std::make_unique<Poolregd>("asap", pick_ports(), std::move(extra));
    ASSERT_TRUE(daemon_->start_and_wait()) << daemon_->log();
  }

  std::unique_ptr<PoolElementClient> pe_client() {
    auto c = std::make_unique<PoolElementClient>(loop_, StackEnvironment::stack.get(),
                                                 daemon_->client_options(GetParam()));
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk) << daemon_->log();
    return c;
  }
  std::unique_ptr<PoolUserClient> pu_client() {
    auto c = std::make_unique<PoolUserClient>(loop_, StackEnvironment::stack.get(),
                                              daemon_->client_options(GetParam()));
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk) << daemon_->log();
    return c;
  }

  // Resolves (HRO: up to 16 items) until pred(result) holds or `limit` passes.
  ResolutionResult resolve_until(PoolUserClient& pu, const PoolHandle& h,
                                 const std::function<bool(const ResolutionResult&)>& pred,
                                 std::chrono::milliseconds limit) {
    return client::resolve_until(pu, h, 16, pred, limit, 50ms);
  }

  runtime::EventLoop loop_;
  std::unique_ptr<Poolregd> daemon_;
};

// ASAP-REG-01 / ASAP-HR-01: three PEs registered, all three resolved.
TEST_P(PoolregdAsap, RegisterThreePesAndResolveThem) {
  start_daemon();
  auto pe = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-three");
  for (PoolElementId id : {101u, 102u, 103u}) {
    auto r = client::register_and_wait(*pe, registration(h, id, policy(PolicyType::kRoundRobin), 8000 + id));
    ASSERT_TRUE(r.ok()) << client::to_string(r.status) << " cause " << r.error_code << "\n" << daemon_->log();
  }
  auto r = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << daemon_->log();
  EXPECT_EQ(ids_of(r), (std::set<PoolElementId>{101, 102, 103}));
  for (const auto& e : r.elements) {
    ASSERT_EQ(e.user_transport.addresses.size(), 1u);
    EXPECT_EQ(e.user_transport.addresses[0], kLoopback);
    EXPECT_EQ(e.user_transport.port, 8000 + e.id);
  }
  // Default answer size (asap.handle_resolution_items = 3, no HRO).
  auto d = client::resolve_and_wait(*pu, h, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.elements.size(), 3u);
  // ASAP-HR-03: unknown pool -> cause 0x9.
  auto u = client::resolve_and_wait(*pu, handle_of("it-no-such-pool"), 0);
  EXPECT_EQ(u.status, ClientStatus::kRejected);
  EXPECT_EQ(u.cause(), ErrorCause::kUnknownPoolHandle);
}

// Policies (RFC 5356), each pool with its own policy: observable selection properties.
TEST_P(PoolregdAsap, ResolvesWithEachPolicyInItsOwnPool) {
  start_daemon();
  auto pe = pe_client();
  auto pu = pu_client();
  struct Case {
    const char* pool;
    PolicyParams params[3];
  };
  const Case cases[] = {
      {"it-rr", {policy(PolicyType::kRoundRobin), policy(PolicyType::kRoundRobin), policy(PolicyType::kRoundRobin)}},
      {"it-wrr",
       {policy(PolicyType::kWeightedRoundRobin, 1), policy(PolicyType::kWeightedRoundRobin, 1),
        policy(PolicyType::kWeightedRoundRobin, 4)}},
      {"it-lu",
       {policy(PolicyType::kLeastUsed, 0, 0, 0x80000000u), policy(PolicyType::kLeastUsed, 0, 0, 0x10000000u),
        policy(PolicyType::kLeastUsed, 0, 0, 0xf0000000u)}},
      {"it-wrand",
       {policy(PolicyType::kWeightedRandom, 1), policy(PolicyType::kWeightedRandom, 1),
        policy(PolicyType::kWeightedRandom, 1000000)}},
      {"it-pri",
       {policy(PolicyType::kPriority, 0, 1), policy(PolicyType::kPriority, 0, 9), policy(PolicyType::kPriority, 0, 5)}},
      {"it-rand", {policy(PolicyType::kRandom), policy(PolicyType::kRandom), policy(PolicyType::kRandom)}},
  };
  for (const auto& c : cases) {
    for (int i = 0; i < 3; ++i) {
      auto r = client::register_and_wait(*pe, registration(handle_of(c.pool), 200 + i, c.params[i], 9000 + i));
      ASSERT_TRUE(r.ok()) << c.pool << ": " << client::to_string(r.status) << " cause " << r.error_code;
    }
  }
  auto pick = [&](const char* pool) {
    auto r = client::resolve_and_wait(*pu, handle_of(pool), 1);
    EXPECT_TRUE(r.ok()) << pool << ": " << client::to_string(r.status);
    EXPECT_EQ(r.elements.size(), 1u) << pool;
    return r.elements.empty() ? PoolElementId{0} : r.elements[0].id;
  };
  auto policy_of = [&](const char* pool) {
    auto r = client::resolve_and_wait(*pu, handle_of(pool), 3);
    EXPECT_TRUE(r.policy.has_value()) << pool;
    return r.policy ? r.policy->type : PolicyType::kRoundRobin;
  };
  // The answer carries the pool's policy.
  EXPECT_EQ(policy_of("it-wrr"), PolicyType::kWeightedRoundRobin);
  EXPECT_EQ(policy_of("it-lu"), PolicyType::kLeastUsed);
  EXPECT_EQ(policy_of("it-pri"), PolicyType::kPriority);

  // RR: three single-item resolutions visit three different PEs.
  std::set<PoolElementId> rr;
  for (int i = 0; i < 3; ++i) rr.insert(pick("it-rr"));
  EXPECT_EQ(rr.size(), 3u);
  // WRR 1:1:4: over 12 picks the weight-4 PE is picked most often and every PE at least once.
  std::map<PoolElementId, int> wrr;
  for (int i = 0; i < 12; ++i) ++wrr[pick("it-wrr")];
  EXPECT_EQ(wrr.size(), 3u);
  EXPECT_GT(wrr[202], wrr[200]);
  EXPECT_GT(wrr[202], wrr[201]);
  // LU: the least loaded PE (201) comes first.
  EXPECT_EQ(pick("it-lu"), 201u);
  // WRAND 1:1:10^6: practically always the heavy one.
  int heavy = 0;
  for (int i = 0; i < 10; ++i) heavy += pick("it-wrand") == 202u ? 1 : 0;
  EXPECT_GE(heavy, 9);
  // PRI: the highest priority (9) first, every time.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pick("it-pri"), 201u);
  // RAND: only members.
  for (int i = 0; i < 5; ++i) {
    const auto id = pick("it-rand");
    EXPECT_TRUE(id >= 200 && id <= 202) << id;
  }
}

// ASAP-REG-03 (mobility): a re-registration with a new address is what the next resolution shows.
TEST_P(PoolregdAsap, ReregistrationWithNewAddressIsResolved) {
  // The PE's new address is not an address of its association: switch the filter off.
  start_daemon({"--set", "asap.address_check=false"});
  auto pe = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-mobile");
  ASSERT_TRUE(client::register_and_wait(*pe, registration(h, 301, policy(PolicyType::kRoundRobin), 7301)).ok());
  auto before = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before.elements.size(), 1u);
  EXPECT_EQ(before.elements[0].user_transport.addresses, std::vector<IpAddress>{kLoopback});

  const IpAddress moved = IpAddress::v4({127, 0, 0, 2});
  client::PeUpdate update;
  update.addresses = std::vector<IpAddress>{moved};
  update.port = 7302;
  auto rr = client::reregister_and_wait(*pe, h, 301, update);
  ASSERT_TRUE(rr.ok()) << client::to_string(rr.status) << " cause " << rr.error_code;
  auto after = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after.elements.size(), 1u);
  EXPECT_EQ(after.elements[0].id, 301u);
  EXPECT_EQ(after.elements[0].user_transport.addresses, std::vector<IpAddress>{moved});
  EXPECT_EQ(after.elements[0].user_transport.port, 7302);
}

// ASAP-DEREG-01: deregistered PEs disappear; the pool goes with its last PE (then 0x9).
TEST_P(PoolregdAsap, DeregistrationRemovesPe) {
  start_daemon();
  auto pe = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-dereg");
  ASSERT_TRUE(client::register_and_wait(*pe, registration(h, 401, policy(PolicyType::kRoundRobin), 7401)).ok());
  ASSERT_TRUE(client::register_and_wait(*pe, registration(h, 402, policy(PolicyType::kRoundRobin), 7402)).ok());
  ASSERT_TRUE(client::deregister_and_wait(*pe, h, 401).ok());
  auto r = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ids_of(r), std::set<PoolElementId>{402});
  ASSERT_TRUE(client::deregister_and_wait(*pe, h, 402).ok());
  auto gone = client::resolve_and_wait(*pu, h, 16);
  EXPECT_EQ(gone.status, ClientStatus::kRejected);
  EXPECT_EQ(gone.cause(), ErrorCause::kUnknownPoolHandle);
}

// ASAP-KA-02: a PE that stops acking keep-alives is removed; PEs that ack stay.
TEST_P(PoolregdAsap, KeepAliveTimeoutRemovesSilentPe) {
  start_daemon({"--set", "asap.keepalive_interval_ms=300", "--set", "asap.keepalive_timeout_ms=300"});
  auto pe = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-keepalive");
  for (PoolElementId id : {501u, 502u, 503u})
    ASSERT_TRUE(client::register_and_wait(*pe, registration(h, id, policy(PolicyType::kRoundRobin), 7500)).ok());
  ASSERT_TRUE(pe->set_answer_keep_alives(h, 502, false));
  auto r = resolve_until(
      *pu, h, [](const ResolutionResult& x) { return x.ok() && ids_of(x).count(502) == 0; }, 10s);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << daemon_->log();
  EXPECT_EQ(ids_of(r), (std::set<PoolElementId>{501, 503})) << daemon_->log();
  EXPECT_GT(pe->counters().keep_alive_acks_sent, 0u);
  EXPECT_GT(pe->counters().keep_alives_ignored, 0u);
  // The acking PEs are still there a few keep-alive rounds later.
  client::run_until(loop_, [] { return false; }, 1500ms);
  auto later = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(ids_of(later), (std::set<PoolElementId>{501, 503}));
}

// ASAP-EU-01 with issue 17: MAX-BAD-PE-REPORT Endpoint Unreachable reports make the registrar
// probe a PE it holds over a live association; only a PE that does not answer is removed (at
// once, long before its next regular keep-alive). Reports count once per reporting address:
// these nine PUs all come from 127.0.0.1, one reporter, so the threshold here is 1. The
// resolutions are answered after the reports on the same association, also where a lane
// answers them (order per association, dataplane/runtime/lane_order.hpp).
TEST_P(PoolregdAsap, UnreachableReportsProbeTheReportedPe) {
  start_daemon({"--set", "asap.max_bad_pe_reports=1", "--set", "asap.keepalive_interval_ms=60000", "--set",
                "asap.keepalive_timeout_ms=300"});
  auto pe = pe_client();
  const PoolHandle h = handle_of("it-unreachable");
  for (PoolElementId id : {601u, 602u})
    ASSERT_TRUE(client::register_and_wait(*pe, registration(h, id, policy(PolicyType::kRoundRobin), 7600)).ok());
  ASSERT_TRUE(pe->set_answer_keep_alives(h, 602, false));
  std::vector<std::unique_ptr<PoolUserClient>> pus;
  for (int i = 0; i < 9; ++i) {
    pus.push_back(pu_client());
    ASSERT_EQ(pus.back()->report_unreachable(h, 601), ClientStatus::kOk);
    ASSERT_EQ(pus.back()->report_unreachable(h, 602), ClientStatus::kOk);
  }
  auto both = client::resolve_and_wait(*pus.back(), h, 16);  // same association: after the reports
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(ids_of(both), (std::set<PoolElementId>{601, 602})) << "removed on reports alone";
  auto r = resolve_until(
      *pus.front(), h, [](const ResolutionResult& x) { return x.ok() && ids_of(x).count(602) == 0; }, 5s);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << daemon_->log();
  EXPECT_EQ(ids_of(r), std::set<PoolElementId>{601}) << daemon_->log();
  EXPECT_GT(pe->counters().keep_alive_acks_sent, 0u);  // 601 answered its probe
  EXPECT_GT(pe->counters().keep_alives_ignored, 0u);   // 602 did not
  client::run_until(loop_, [] { return false; }, 600ms);
  auto later = client::resolve_and_wait(*pus.front(), h, 16);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(ids_of(later), std::set<PoolElementId>{601});
}

// SEC-02: a PE ID bound to a live association cannot be taken over by another association (0x4).
TEST_P(PoolregdAsap, RegistrationFromAnotherAssociationIsRefused) {
  start_daemon();
  auto owner = pe_client();
  auto intruder = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-owner");
  ASSERT_TRUE(client::register_and_wait(*owner, registration(h, 701, policy(PolicyType::kRoundRobin), 7701)).ok());
  auto r = client::register_and_wait(*intruder, registration(h, 701, policy(PolicyType::kRoundRobin), 7799));
  EXPECT_EQ(r.status, ClientStatus::kRejected);
  EXPECT_EQ(r.cause(), ErrorCause::kNonUniquePeIdentifier);
  auto res = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res.elements.size(), 1u);
  EXPECT_EQ(res.elements[0].user_transport.port, 7701) << "the refused registration changed the PE";
}

// Issue 14 item 2, break-before-make with the default configuration (address check on,
// asap.rebind_probe_ms 300): the PE's old association is still up but its path is dead (the old
// client no longer answers keep-alives); the PE registers over a new association. The registrar
// probes the old binding and, without an answer, moves the PE: accepted within the probe time
// plus a round trip, resolutions return the new transport, nothing was removed meanwhile.
TEST_P(PoolregdAsap, MovedPeIsAcceptedOverANewAssociationOnceItsOldBindingFailsTheProbe) {
  start_daemon();
  auto old_path = pe_client();
  auto new_path = pe_client();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-rebind");
  ASSERT_TRUE(client::register_and_wait(*old_path, registration(h, 702, policy(PolicyType::kRoundRobin), 7702)).ok());
  ASSERT_TRUE(old_path->set_answer_keep_alives(h, 702, false));  // the old path died
  const auto sent = std::chrono::steady_clock::now();
  auto r = client::register_and_wait(*new_path, registration(h, 702, policy(PolicyType::kRoundRobin), 7703));
  const auto waited = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << " cause " << r.error_code << "\n" << daemon_->log();
  EXPECT_GE(waited, std::chrono::milliseconds(250)) << "answered before the probe could decide";
  EXPECT_LT(waited, std::chrono::milliseconds(2000));
  auto res = client::resolve_and_wait(*pu, h, 16);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res.elements.size(), 1u);
  EXPECT_EQ(res.elements[0].user_transport.port, 7703) << "resolutions follow the move";
}

// WIRE-01..05: malformed messages are answered with an ASAP Error and change nothing; the
// registrar keeps serving this association (SCTP) and every other one.
TEST_P(PoolregdAsap, MalformedMessagesAreAnsweredAndDaemonKeepsServing) {
  start_daemon();
  auto pe = pe_client();
  const PoolHandle h = handle_of("it-malformed");
  ASSERT_TRUE(client::register_and_wait(*pe, registration(h, 801, policy(PolicyType::kRoundRobin), 7801)).ok());

  auto bad = pu_client();
  std::vector<std::uint16_t> causes;
  client::PoolUserEvents events;
  events.on_error_message = [&](const wire::OperationError& e) {
    for (const auto& c : e.causes) causes.push_back(c.code);
  };
  bad->set_events(events);
  const std::vector<std::vector<std::uint8_t>> messages = {
      {0x7f, 0x00, 0x00, 0x04},                                      // unknown message type
      {0x05, 0x00, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x14, 'a', 'b', 'c', 'd'},  // Pool Handle TLV longer than message
      {0x05, 0x00, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00},  // TLV length < 4
      {0x01, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00, 0x04},              // Registration without PE TLV
      // Handle Resolution with an unknown TLV 0x4123 (action bits 01: drop and report) first.
      {0x05, 0x00, 0x00, 0x14, 0x41, 0x23, 0x00, 0x04, 0x00, 0x09, 0x00, 0x0c, 'i', 't', '-', 'm', 'a', 'l', 0, 0},
  };
  for (const auto& m : messages) ASSERT_EQ(bad->connection().send_bytes(m), ClientStatus::kOk);
  client::run_until(loop_, [&] { return causes.size() >= messages.size(); }, 5s);
  ASSERT_GE(causes.size(), 3u) << daemon_->log();
  EXPECT_EQ(causes[0], static_cast<std::uint16_t>(ErrorCause::kUnrecognizedMessage));
  EXPECT_EQ(causes[1], static_cast<std::uint16_t>(ErrorCause::kInvalidValues));
  EXPECT_EQ(causes[2], static_cast<std::uint16_t>(ErrorCause::kInvalidValues));
  ASSERT_EQ(causes.size(), messages.size()) << daemon_->log();
  EXPECT_EQ(causes.back(), static_cast<std::uint16_t>(ErrorCause::kUnrecognizedParameter));

  // The same association still resolves, and the registered PE is untouched.
  auto r = client::resolve_and_wait(*bad, h, 16);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status);
  EXPECT_EQ(ids_of(r), std::set<PoolElementId>{801});

  if (GetParam() == ClientTransport::kTcp) {
    // TCP framing error (Length not a multiple of 4): that connection is closed, nothing else.
    ASSERT_EQ(bad->connection().send_bytes(std::vector<std::uint8_t>{0x05, 0x00, 0x00, 0x06, 0, 0, 0, 0}),
              ClientStatus::kOk);
    client::run_until(loop_, [&] { return !bad->connected(); }, 5s);
    EXPECT_FALSE(bad->connected());
  } else {
    // SCTP: header Length larger than the SCTP message.
    ASSERT_EQ(bad->connection().send_bytes(std::vector<std::uint8_t>{0x05, 0x00, 0x00, 0x40, 0, 0x09, 0, 4}),
              ClientStatus::kOk);
    const auto before = causes.size();
    client::run_until(loop_, [&] { return causes.size() > before; }, 5s);
    EXPECT_GT(causes.size(), before);
  }
  auto fresh = pu_client();
  auto again = client::resolve_and_wait(*fresh, h, 16);
  ASSERT_TRUE(again.ok()) << client::to_string(again.status) << "\n" << daemon_->log();
  EXPECT_EQ(ids_of(again), std::set<PoolElementId>{801});
  EXPECT_TRUE(daemon_->running());
}

// ASAP-KA-04: closing the PE's association removes its PEs, after the handover hold
// (asap.handover_hold_ms, 3 s by default; meanwhile they are held and not offered).
TEST_P(PoolregdAsap, AssociationLossRemovesItsPes) {
  start_daemon();
  auto pu = pu_client();
  const PoolHandle h = handle_of("it-assoc-loss");
  {
    auto pe = pe_client();
    ASSERT_TRUE(client::register_and_wait(*pe, registration(h, 901, policy(PolicyType::kRoundRobin), 7901)).ok());
    ASSERT_TRUE(client::resolve_and_wait(*pu, h, 16).ok());
    client::close_and_wait(*pe);
  }
  // Held: the pool still exists, its PE is not offered.
  auto held = resolve_until(*pu, h, [](const ResolutionResult& x) { return x.ok() && x.elements.empty(); }, 2s);
  EXPECT_TRUE(held.ok() && held.elements.empty()) << client::to_string(held.status);
  auto r = resolve_until(
      *pu, h, [](const ResolutionResult& x) { return x.status == ClientStatus::kRejected; }, 8s);
  EXPECT_EQ(r.cause(), ErrorCause::kUnknownPoolHandle);
}

INSTANTIATE_TEST_SUITE_P(Transports, PoolregdAsap, ::testing::Values(ClientTransport::kSctp, ClientTransport::kTcp),
                         [](const auto& info) { return std::string(client::to_string(info.param)); });

}  // namespace
}  // namespace poolreg::integration

namespace poolreg::integration {
namespace {

// ASAP-ANN-01 (asap.md 4.8): Server Announce multicast with the PR ID and the SCTP transport of
// the ASAP endpoint, every announce interval +-12.5 %.
TEST(PoolregdAnnounce, ServerAnnounceIsMulticastPeriodically) {
  ASSERT_FALSE(poolregd_path().empty());
  const std::uint16_t group_port = free_port(SOCK_DGRAM);
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(group_port);
  a.sin_addr.s_addr = inet_addr("239.0.0.50");
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ip_mreq mreq{};
  mreq.imr_multiaddr.s_addr = inet_addr("239.0.0.50");
  mreq.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
  if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    ::close(fd);
    GTEST_SKIP() << "cannot join 239.0.0.50 on lo here";
  }
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  Poolregd daemon("announce", pick_ports(),
                  {"--id", "0x5a5a0001", "--set", "asap.server_announce=true", "--set",
                   "asap.announce_interval_ms=200", "--set", "enrp.enabled=false", "--set",
                   "asap.announce_address=\"239.0.0.50:" + std::to_string(group_port) + "\""});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::vector<std::uint8_t> last;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (arrivals.size() < 6 && std::chrono::steady_clock::now() < deadline) {
    std::uint8_t buf[2048];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) continue;
    arrivals.push_back(std::chrono::steady_clock::now());
    last.assign(buf, buf + n);
  }
  ::close(fd);
  ASSERT_GE(arrivals.size(), 6u) << daemon.log();
  ASSERT_GE(last.size(), 8u);
  EXPECT_EQ(last[0], 0x0a);  // Server Announce
  EXPECT_EQ(last[4], 0x5a);  // PR ID 0x5a5a0001
  EXPECT_EQ(last[7], 0x01);
  // An SCTP transport TLV (0x0004) with the daemon's ASAP port.
  ASSERT_GE(last.size(), 16u);
  EXPECT_EQ((last[8] << 8) | last[9], 0x0004);
  EXPECT_EQ((last[12] << 8) | last[13], daemon.ports().asap);
  const auto span = std::chrono::duration_cast<std::chrono::milliseconds>(arrivals.back() - arrivals.front());
  const double mean = static_cast<double>(span.count()) / static_cast<double>(arrivals.size() - 1);
  EXPECT_GT(mean, 150.0);
  EXPECT_LT(mean, 260.0);
  EXPECT_TRUE(daemon.stops_cleanly());
}

}  // namespace
}  // namespace poolreg::integration

namespace poolreg::integration {
namespace {

// ASAP-REG-06 with the default address check (on): a multi-homed PE (plain threaded usrsctp in
// the kernel_sctp_peer helper, bound to 127.0.0.1 and a second address of the host, so its INIT
// lists both) registers both plus one address its association does not have. The registrar keeps
// the two of the association (what the SCTP engine read from the INIT) and filters the third.
TEST(PoolregdMultiHomed, DefaultAddressCheckKeepsEveryAddressOfTheAssociation_ASAP_REG_06) {
  ASSERT_FALSE(poolregd_path().empty());
  const char* helper = std::getenv("KERNEL_SCTP_PEER");
  if (helper == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  const std::optional<IpAddress> second = second_host_address();
  if (!second) GTEST_SKIP() << "no second IPv4 address on this host";
  const IpAddress elsewhere = IpAddress::v4({198, 51, 100, 7});  // no address of the PE's association

  Poolregd daemon("multihomed", pick_ports(), {});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();

  const std::vector<std::uint8_t> message = registration_of("it-multihomed", 401, {kLoopback, *second, elsewhere});
  ASSERT_FALSE(message.empty());

  ForeignPe pe(helper, daemon, "127.0.0.1 " + second->to_string());
  ASSERT_TRUE(pe.started());
  const std::string up = pe.line();
  ASSERT_EQ(up.rfind("UP ", 0), 0u) << up << daemon.log();
  ASSERT_TRUE(pe.tell(hex_of(message) + "\n"));
  const std::string answer = pe.line();
  ASSERT_EQ(answer.rfind("RECV ", 0), 0u) << answer << daemon.log();
  auto decoded = wire::decode_asap(bytes_of(answer.substr(5, answer.size() - 6)));
  ASSERT_TRUE(decoded.has_value());
  const auto* response = std::get_if<wire::RegistrationResponse>(&decoded.value());
  ASSERT_NE(response, nullptr);
  EXPECT_FALSE(response->rejected) << daemon.log();

  {
    runtime::EventLoop loop;
    PoolUserClient pu(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kSctp));
    ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << daemon.log();
    auto r = client::resolve_and_wait(pu, handle_of("it-multihomed"), 16);
    ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << daemon.log();
    ASSERT_EQ(r.elements.size(), 1u);
    EXPECT_EQ(r.elements[0].id, 401u);
    EXPECT_EQ(r.elements[0].user_transport.addresses, (std::vector<IpAddress>{kLoopback, *second}));
  }

  EXPECT_EQ(pe.finish(), 0);
  EXPECT_TRUE(daemon.stops_cleanly());
}

// Issue 14 item 1, make-before-break with the DEFAULT configuration (asap.address_check on): a
// mobile PE (plain threaded usrsctp in the kernel_sctp_peer helper, which sends RFC 5061 ASCONF
// with AUTH) starts on 127.0.0.1 only and registers it. It adds a second address of the host
// (ADD-IP), re-registers with it (accepted: the association has it now), and deletes 127.0.0.1
// (DELETE-IP): the registrar prunes it from the PE, and its replies move to the second address.
// A PU sees the old address, then both, then only the new one; the PE stays registered
// throughout. (Loopback plus the host's own second address, not two hosts: threaded usrsctp only
// binds addresses the host has.) `extra`: more daemon arguments (e.g. lanes).
void make_before_break(const std::string& name, std::vector<std::string> extra) {
  ASSERT_FALSE(poolregd_path().empty());
  const char* helper = std::getenv("KERNEL_SCTP_PEER");
  if (helper == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  const std::optional<IpAddress> other = second_host_address();
  if (!other) GTEST_SKIP() << "no second IPv4 address on this host";
  const IpAddress second = *other;
  Poolregd daemon(name, pick_ports(), std::move(extra));
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();

  auto registration = [&](std::vector<IpAddress> addresses) {
    return hex_of(registration_of("it-mobile", 402, std::move(addresses))) + "\n";
  };
  ForeignPe pe(helper, daemon, "127.0.0.1");
  ASSERT_TRUE(pe.started());
  auto registered = [&](std::vector<IpAddress> addresses) {  // sends, reads the response
    return pe.tell(registration(std::move(addresses))) && ForeignPe::registration_accepted(pe.line()) == true;
  };
  const std::string up = pe.line();
  ASSERT_EQ(up.rfind("UP ", 0), 0u) << up << daemon.log();

  runtime::EventLoop loop;
  PoolUserClient pu(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kSctp));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << daemon.log();
  // The PE as the PU sees it now: its addresses, or {} when it is not there (which fails the test).
  auto seen = [&] {
    auto r = client::resolve_and_wait(pu, handle_of("it-mobile"), 16);
    EXPECT_TRUE(r.ok()) << client::to_string(r.status);
    EXPECT_EQ(r.elements.size(), 1u) << "the PE must stay registered throughout";
    return r.elements.empty() ? std::vector<IpAddress>{} : r.elements[0].user_transport.addresses;
  };
  // Polls (bounded) until the PU sees `want`; every answer in between must hold the PE.
  auto sees = [&](const std::vector<IpAddress>& want) {
    for (int i = 0; i < 50; ++i) {
      if (seen() == want) return true;
      loop.run_once(20);
    }
    return false;
  };

  ASSERT_TRUE(registered({kLoopback})) << daemon.log();
  ASSERT_TRUE(sees({kLoopback}));
  ASSERT_TRUE(pe.tell("ADD " + second.to_string() + "\n"));
  ASSERT_EQ(pe.line(), "DONE ADD " + second.to_string() + "\n");
  // Make: re-register with the new address first. The ASCONF travels ahead of the DATA on the
  // association; should the registrar not have it yet, the new address is filtered: try again.
  bool both = false;
  for (int i = 0; i < 20 && !both; ++i) {
    ASSERT_TRUE(registered({second, kLoopback})) << daemon.log();
    both = seen() == std::vector<IpAddress>{second, kLoopback};
    if (!both) loop.run_once(50);
  }
  ASSERT_TRUE(both) << daemon.log();
  // Break: the old address goes; the registrar prunes it from the PE without a re-registration.
  ASSERT_TRUE(pe.tell("DEL 127.0.0.1\n"));
  ASSERT_EQ(pe.line(), "DONE DEL 127.0.0.1\n");
  EXPECT_TRUE(sees({second})) << daemon.log();
  // The association still works after the move: a re-registration with the new address only.
  EXPECT_TRUE(registered({second})) << daemon.log();
  EXPECT_EQ(seen(), std::vector<IpAddress>{second});

  EXPECT_EQ(pe.finish(), 0);
  EXPECT_TRUE(daemon.stops_cleanly());
}

TEST(PoolregdMobility, MakeBeforeBreakWithTheAddressCheckOn_ASAP_REG_06) { make_before_break("mbb", {}); }

// The same over kernel lanes: the engine's report travels through the lane event ring.
TEST(PoolregdMobility, MakeBeforeBreakOnKernelLanes_ASAP_REG_06) { make_before_break("mbb-lanes", {"--lanes", "2"}); }

}  // namespace
}  // namespace poolreg::integration
