// PoolElementClient and PoolUserClient against an in-test fake registrar, over usrsctp/UDP and over
// TCP on 127.0.0.1. The fake and the clients share the process's one usrsctp stack (as the kernel
// transport tests do: associations go out as UDP to our own encapsulation port and come back in).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "tests/cli/client/fake_registrar.hpp"

namespace poolreg::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeRegistrar;

const IpAddress kLoopback = IpAddress::v4(0x7f000001u);

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    kernel::SctpStackConfig config;
    config.udp_port = 0;  // a random free UDP encapsulation port
    config.heartbeat_interval_ms = 1000;
    std::string error;
    stack = kernel::SctpStack::create(config, &error);
    ASSERT_NE(stack, nullptr) << error;
  }
  void TearDown() override { stack.reset(); }
  static inline std::unique_ptr<kernel::SctpStack> stack;
};
[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

PoolHandle handle_of(const char* text) { return *PoolHandle::from_string(text); }

TransportEndpoint user_transport(std::vector<IpAddress> addresses, std::uint16_t port = 7) {
  TransportEndpoint t;
  t.protocol = TransportProtocol::kSctp;
  t.port = port;
  t.use = TransportUse::kDataOnly;
  t.addresses = std::move(addresses);
  return t;
}

PeRegistration registration(const char* pool, PoolElementId id = 0) {
  PeRegistration r;
  r.handle = handle_of(pool);
  r.id = id;
  r.user_transport = user_transport({kLoopback});
  r.policy.type = PolicyType::kLeastUsed;
  r.policy.load = 0x10000000;
  r.registration_life_ms = 30000;
  return r;
}

class ClientTest : public ::testing::TestWithParam<ClientTransport> {
 protected:
  ClientTest() : fake(loop, StackEnvironment::stack.get()) {
    port = fake.listen(GetParam() == ClientTransport::kTcp);
    EXPECT_NE(port, 0);
  }
  ~ClientTest() override {
    if (pe) pe->close();
    if (pu) pu->close();
    fake.close_all();
    run_until(
        loop, [] { return false; }, 30ms);
  }

  ClientOptions options() const {
    ClientOptions o;
    o.registrar.address = kLoopback;
    o.registrar.port = port;
    o.registrar.transport = GetParam();
    o.registrar.remote_udp_port = StackEnvironment::stack->udp_port();
    o.request_timeout = 2 * kNsPerSec;
    return o;
  }
  PoolElementClient& make_pe(const ClientOptions& o) {
    pe = std::make_unique<PoolElementClient>(loop, StackEnvironment::stack.get(), o);
    EXPECT_EQ(connect_and_wait(*pe, 5s), ClientStatus::kOk);
    return *pe;
  }
  PoolUserClient& make_pu(const ClientOptions& o) {
    pu = std::make_unique<PoolUserClient>(loop, StackEnvironment::stack.get(), o);
    EXPECT_EQ(connect_and_wait(*pu, 5s), ClientStatus::kOk);
    return *pu;
  }
  ConnectionId fake_connection(std::size_t index = 0) {
    EXPECT_TRUE(run_until(
        loop, [&] { return fake.connections.size() > index; }, 3s));
    return fake.connections.size() > index ? fake.connections[index] : kNoConnectionId;
  }

  runtime::EventLoop loop;
  FakeRegistrar fake;
  std::uint16_t port = 0;
  std::unique_ptr<PoolElementClient> pe;
  std::unique_ptr<PoolUserClient> pu;
};

// Client side of ASAP-REG-01/05 (registration, re-registration with new addresses and load),
// ASAP-HR-01/02 (resolution, unknown pool 0x9), ASAP-KA-01/03 (Keep-Alive answered with an Ack),
// ASAP-DEREG-01, and H=1 (asap.md §4.4): the whole life of one PE.
TEST_P(ClientTest, RegisterResolveKeepAliveMoveDeregister) {
  PoolElementClient& pec = make_pe(options());
  PeResult reg = register_and_wait(pec, registration("EchoPool"));
  ASSERT_TRUE(reg.ok()) << to_string(reg.status);
  EXPECT_NE(reg.id, 0u);
  EXPECT_LE(reg.id, 0xffffffffu);  // RFC mode: 32-bit IDs
  EXPECT_GT(reg.latency, 0u);
  ASSERT_EQ(fake.count<wire::Registration>(), 1u);
  const wire::Registration sent = fake.all<wire::Registration>()[0];
  EXPECT_EQ(sent.pool_handle, handle_of("EchoPool"));
  EXPECT_EQ(sent.element.id, reg.id);
  EXPECT_EQ(sent.element.registration_life_ms, 30000u);
  EXPECT_EQ(sent.element.user_transport, user_transport({kLoopback}));
  EXPECT_EQ(sent.element.policy.type, PolicyType::kLeastUsed);
  EXPECT_EQ(sent.element.policy.load, 0x10000000u);
  EXPECT_FALSE(sent.ng_capabilities.has_value());
  ASSERT_NE(pec.find(reg.handle, reg.id), nullptr);
  EXPECT_EQ(pec.find(reg.handle, reg.id)->state, PeState::kRegistered);

  PoolUserClient& puc = make_pu(options());
  ResolutionResult res = resolve_and_wait(puc, handle_of("EchoPool"));
  ASSERT_TRUE(res.ok()) << to_string(res.status);
  ASSERT_EQ(res.elements.size(), 1u);
  EXPECT_EQ(res.elements[0].id, reg.id);
  EXPECT_EQ(res.elements[0].home_registrar, fake.id);
  EXPECT_EQ(res.elements[0].user_transport.port, 7);
  ASSERT_TRUE(res.policy.has_value());
  EXPECT_EQ(res.policy->type, PolicyType::kLeastUsed);
  EXPECT_FALSE(fake.all<wire::HandleResolution>()[0].items.has_value());  // items 0: no option

  // Keep-alive (H=0) is acked with {handle, PE ID}; the sender becomes the recorded home PR.
  const ConnectionId pe_conn = fake.all<wire::Registration>().empty() ? 0 : fake.received[0].from;
  fake.send_keep_alive(pe_conn, reg.handle, reg.id);
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointKeepAliveAck>() == 1; }, 3s));
  EXPECT_EQ(fake.all<wire::EndpointKeepAliveAck>()[0], (wire::EndpointKeepAliveAck{reg.handle, reg.id}));
  EXPECT_EQ(pec.find(reg.handle, reg.id)->home_registrar, fake.id);

  // H=1 from another PR: new home recorded, still acked.
  std::optional<RegistrarId> new_home;
  PoolElementEvents events;
  events.on_home_changed = [&](const PoolHandle&, PoolElementId, RegistrarId pr) { new_home = pr; };
  pec.set_events(events);
  fake.send_keep_alive(pe_conn, reg.handle, reg.id, true, RegistrarId{0x777});
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointKeepAliveAck>() == 2; }, 3s));
  ASSERT_TRUE(new_home.has_value());
  EXPECT_EQ(*new_home, 0x777u);
  EXPECT_EQ(pec.find(reg.handle, reg.id)->home_registrar, 0x777u);
  EXPECT_EQ(pec.counters().home_changes, 1u);

  // Mobility: re-registration with the same ID and new addresses; load update.
  const IpAddress moved = IpAddress::v4(0x7f000002u);
  PeUpdate update;
  update.addresses = std::vector<IpAddress>{moved};
  PolicyParams busier = sent.element.policy;
  busier.load = 0x80000000u;
  update.policy = busier;
  PeResult rereg = reregister_and_wait(pec, reg.handle, reg.id, update);
  ASSERT_TRUE(rereg.ok());
  EXPECT_TRUE(rereg.reregistration);
  ASSERT_EQ(fake.count<wire::Registration>(), 2u);
  const wire::Registration second = fake.all<wire::Registration>()[1];
  EXPECT_EQ(second.element.id, reg.id);
  EXPECT_EQ(second.element.user_transport.addresses, std::vector<IpAddress>{moved});
  EXPECT_EQ(second.element.policy.load, 0x80000000u);

  PeResult dereg = deregister_and_wait(pec, reg.handle, reg.id);
  ASSERT_TRUE(dereg.ok());
  EXPECT_EQ(fake.all<wire::Deregistration>()[0], (wire::Deregistration{reg.handle, reg.id}));
  EXPECT_EQ(pec.find(reg.handle, reg.id)->state, PeState::kDeregistered);

  // Pool gone: the registrar answers with cause 0x9.
  ResolutionResult gone = resolve_and_wait(puc, handle_of("EchoPool"));
  EXPECT_EQ(gone.status, ClientStatus::kRejected);
  EXPECT_EQ(gone.cause(), ErrorCause::kUnknownPoolHandle);
  EXPECT_EQ(pec.counters().registrations_accepted, 2u);
  EXPECT_EQ(pec.counters().keep_alive_acks_sent, 2u);
  EXPECT_EQ(puc.counters().resolutions_rejected, 1u);
  EXPECT_EQ(pec.outstanding(), 0u);
  EXPECT_EQ(puc.outstanding(), 0u);
}

// ASAP-REG-03 seen from the PE: R=1 with the cause.
TEST_P(ClientTest, RejectedRegistrationReportsCause) {
  fake.reject_pools["Strict"] = ErrorCause::kInconsistentPoolingPolicy;
  PoolElementClient& pec = make_pe(options());
  PeResult r = register_and_wait(pec, registration("Strict", 42));
  EXPECT_EQ(r.status, ClientStatus::kRejected);
  EXPECT_EQ(r.cause(), ErrorCause::kInconsistentPoolingPolicy);
  EXPECT_EQ(r.id, 42u);
  EXPECT_EQ(pec.find(r.handle, 42)->state, PeState::kRejected);
  EXPECT_EQ(pec.counters().registrations_rejected, 1u);
}

// One association carries many PEs in several pools (poolgen relies on this).
TEST_P(ClientTest, ManyPesInSeveralPoolsShareOneAssociation) {
  PoolElementClient& pec = make_pe(options());
  constexpr int kPerPool = 40;
  int done = 0, ok = 0;
  for (int i = 0; i < kPerPool; ++i) {
    for (const char* pool : {"PoolA", "PoolB"}) {
      EXPECT_NE(pec.register_pe(registration(pool),
                                [&](const PeResult& r) {
                                  ++done;
                                  ok += r.ok() ? 1 : 0;
                                }),
                0u);
    }
  }
  EXPECT_EQ(pec.outstanding(), 2u * kPerPool);
  ASSERT_TRUE(run_until(
      loop, [&] { return done == 2 * kPerPool; }, 10s));
  EXPECT_EQ(ok, 2 * kPerPool);
  EXPECT_EQ(fake.connections.size(), 1u);
  EXPECT_EQ(fake.pools["PoolA"].size(), static_cast<std::size_t>(kPerPool));
  // Keep-Alive without PE Identifier: one Ack per registered PE (RSPLIB behaviour).
  fake.send_keep_alive(fake.connections[0], handle_of("PoolA"), std::nullopt);
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointKeepAliveAck>() == 2u * kPerPool; }, 5s));
  // Explicit ID clash is refused locally.
  const PoolElementId taken = fake.pools["PoolA"][0].id;
  PeResult clash = register_and_wait(pec, registration("PoolA", taken));
  EXPECT_EQ(clash.status, ClientStatus::kInvalidArgument);
}

// A silent PE: keep-alive answering switched off, so a registrar would declare it dead (ASAP-KA-02).
TEST_P(ClientTest, SilentPeDoesNotAckKeepAlives) {
  PoolElementClient& pec = make_pe(options());
  PeResult a = register_and_wait(pec, registration("EchoPool", 1));
  PeResult b = register_and_wait(pec, registration("EchoPool", 2));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(pec.set_answer_keep_alives(a.handle, 1, false));
  const ConnectionId conn = fake_connection();
  fake.send_keep_alive(conn, a.handle, PoolElementId{1});
  fake.send_keep_alive(conn, a.handle, PoolElementId{2});
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointKeepAliveAck>() == 1; }, 3s));
  run_until(
      loop, [] { return false; }, 200ms);
  ASSERT_EQ(fake.count<wire::EndpointKeepAliveAck>(), 1u);
  EXPECT_EQ(fake.all<wire::EndpointKeepAliveAck>()[0].pe_id, 2u);
  EXPECT_EQ(pec.counters().keep_alives_ignored, 1u);
  pec.set_answer_keep_alives(false);  // globally
  fake.send_keep_alive(conn, a.handle, PoolElementId{2});
  run_until(
      loop, [&] { return pec.counters().keep_alives_ignored == 2; }, 3s);
  EXPECT_EQ(pec.counters().keep_alives_ignored, 2u);
  EXPECT_EQ(fake.count<wire::EndpointKeepAliveAck>(), 1u);
}

TEST_P(ClientTest, UnansweredRequestsTimeOutAndLateAnswersAreDropped) {
  fake.silent = true;
  ClientOptions o = options();
  o.request_timeout = 300 * kNsPerMs;
  o.late_response_window = 5 * kNsPerSec;
  PoolElementClient& pec = make_pe(o);
  const auto start = std::chrono::steady_clock::now();
  PeResult r = register_and_wait(pec, registration("EchoPool", 5));
  EXPECT_EQ(r.status, ClientStatus::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_EQ(pec.find(r.handle, 5)->state, PeState::kRejected);
  EXPECT_EQ(pec.counters().timeouts, 1u);
  EXPECT_EQ(pec.outstanding(), 0u);

  PoolUserClient& puc = make_pu(o);
  ResolutionResult res = resolve_and_wait(puc, handle_of("EchoPool"), 2);
  EXPECT_EQ(res.status, ClientStatus::kTimeout);
  EXPECT_EQ(res.items_requested, 2u);
  // The late answer to the timed-out request must not be taken by the next one.
  fake.silent = false;
  fake.hold_resolutions = true;
  std::optional<ResolutionResult> next;
  puc.resolve(handle_of("EchoPool"), 0, [&](const ResolutionResult& x) { next = x; });
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.held() == 1; }, 3s));
  fake.send(fake.connections.back(),
            wire::HandleResolutionResponse{handle_of("EchoPool"),
                                           std::nullopt,
                                           {},
                                           wire::OperationError::single(ErrorCause::kUnknownPoolHandle)});
  ASSERT_TRUE(run_until(
      loop, [&] { return puc.counters().late_responses == 1; }, 3s));
  EXPECT_FALSE(next.has_value());
  fake.release_held();
  ASSERT_TRUE(run_until(
      loop, [&] { return next.has_value(); }, 3s));
  EXPECT_EQ(next->cause(), ErrorCause::kUnknownPoolHandle);
}

// ASAP-KA-04 seen from the PE: the association ends, its PEs are gone.
TEST_P(ClientTest, ConnectionLossFailsPendingRequestsAndReportsIt) {
  fake.silent = true;
  PoolElementClient& pec = make_pe(options());
  std::optional<ClientStatus> lost;
  PoolElementEvents events;
  events.on_connection_lost = [&](ClientStatus s, runtime::CloseReason) { lost = s; };
  pec.set_events(events);
  std::optional<PeResult> result;
  pec.register_pe(registration("EchoPool", 9), [&](const PeResult& r) { result = r; });
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::Registration>() == 1; }, 3s));
  fake.abort(fake.connections[0]);
  ASSERT_TRUE(run_until(
      loop, [&] { return result.has_value() && lost.has_value(); }, 5s));
  EXPECT_EQ(result->status, ClientStatus::kConnectionLost);
  EXPECT_EQ(*lost, ClientStatus::kConnectionLost);
  EXPECT_EQ(pec.find(handle_of("EchoPool"), 9)->state, PeState::kLost);
  EXPECT_FALSE(pec.connected());
  EXPECT_EQ(pec.connection_counters().connections_lost, 1u);
  // Requests after the loss fail at once (deferred callback), until connect() again.
  PeResult after = reregister_and_wait(pec, handle_of("EchoPool"), 9);
  EXPECT_EQ(after.status, ClientStatus::kNotConnected);
  fake.silent = false;
  ASSERT_EQ(connect_and_wait(pec, 5s), ClientStatus::kOk);
  PeResult again = reregister_and_wait(pec, handle_of("EchoPool"), 9);
  EXPECT_TRUE(again.ok()) << to_string(again.status);
  EXPECT_EQ(pec.find(handle_of("EchoPool"), 9)->state, PeState::kRegistered);
}

TEST_P(ClientTest, ConnectToClosedPortFails) {
  ClientOptions o = options();
  fake.close_all();
  run_until(
      loop, [] { return false; }, 50ms);
  o.connect_timeout = 3 * kNsPerSec;
  PoolUserClient client(loop, StackEnvironment::stack.get(), o);
  std::optional<ResolutionResult> r;
  ASSERT_EQ(client.connect(), ClientStatus::kOk);
  client.resolve(handle_of("EchoPool"), 0, [&](const ResolutionResult& x) { r = x; });  // queued
  ASSERT_TRUE(run_until(
      loop, [&] { return r.has_value(); }, 5s));
  EXPECT_EQ(r->status, ClientStatus::kConnectFailed);
  EXPECT_EQ(client.connection_counters().connect_failures, 1u);
}

// ASAP has no request IDs: pipelined resolutions are matched FIFO per pool handle. Also NG-HRO-01 /
// ASAP-HR-03 from the PU side: items n sends the Handle Resolution Option, 0 sends none.
TEST_P(ClientTest, PipelinedResolutionsAreMatchedFifoPerHandle) {
  PoolElementClient& pec = make_pe(options());
  for (PoolElementId id = 1; id <= 5; ++id) ASSERT_TRUE(register_and_wait(pec, registration("Big", id)).ok());
  ASSERT_TRUE(register_and_wait(pec, registration("Small", 100)).ok());
  PoolUserClient& puc = make_pu(options());
  fake.hold_resolutions = true;
  struct Seen {
    std::string pool;
    std::uint32_t items;
    std::size_t elements;
    ClientStatus status;
  };
  std::vector<Seen> seen;
  auto record = [&](const ResolutionResult& r) {
    seen.push_back({r.handle.to_display(), r.items_requested, r.elements.size(), r.status});
  };
  for (std::uint32_t items = 1; items <= 5; ++items) {
    puc.resolve(handle_of("Big"), items, record);
    if (items % 2 == 1) puc.resolve(handle_of("Small"), 0, record);
    if (items == 3) puc.resolve(handle_of("Nope"), 0, record);
  }
  EXPECT_EQ(puc.outstanding(), 9u);
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.held() == 9; }, 5s));
  // The Handle Resolution Option carries the items (nextgen.md §5); 0 sends none.
  auto sent = fake.all<wire::HandleResolution>();
  EXPECT_EQ(sent[0].items, std::optional<std::uint32_t>{1});
  EXPECT_FALSE(sent[1].items.has_value());
  fake.release_held();
  ASSERT_TRUE(run_until(
      loop, [&] { return seen.size() == 9; }, 5s));
  std::vector<std::uint32_t> big_order;
  for (const Seen& s : seen) {
    if (s.pool == "Big") {
      EXPECT_EQ(s.elements, s.items) << "answer matched to the wrong request";
      big_order.push_back(s.items);
    } else if (s.pool == "Small") {
      EXPECT_EQ(s.elements, 1u);
    } else {
      EXPECT_EQ(s.status, ClientStatus::kRejected);
    }
  }
  EXPECT_EQ(big_order, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(puc.counters().resolution_latency.count, 9u);
  EXPECT_EQ(puc.outstanding(), 0u);
}

// ASAP-EU-01 from the PU side.
TEST_P(ClientTest, ReportUnreachableSendsEndpointUnreachable) {
  PoolUserClient& puc = make_pu(options());
  EXPECT_EQ(puc.report_unreachable(handle_of("EchoPool"), 77), ClientStatus::kOk);
  EXPECT_EQ(puc.report_unreachable(handle_of("EchoPool"), 0), ClientStatus::kInvalidArgument);
  ASSERT_TRUE(run_until(
      loop, [&] { return fake.count<wire::EndpointUnreachable>() == 1; }, 3s));
  EXPECT_EQ(fake.all<wire::EndpointUnreachable>()[0], (wire::EndpointUnreachable{handle_of("EchoPool"), 77}));
}

TEST_P(ClientTest, NextGenSendsCapabilitiesAnd64BitIds) {
  fake.echo_capabilities = wire::kNgCapId64 | wire::kNgCapHro;
  ClientOptions o = options();
  o.next_gen = true;
  o.ng_capabilities = wire::kNgCapId64 | wire::kNgCapHro | wire::kNgCapTcp;
  PoolElementClient& pec = make_pe(o);
  const PoolElementId big = 0x1122334455667788ull;
  PeResult r = register_and_wait(pec, registration("NgPool", big));
  ASSERT_TRUE(r.ok()) << to_string(r.status);
  EXPECT_EQ(r.id, big);
  EXPECT_EQ(r.registrar_capabilities, fake.echo_capabilities);
  const wire::Registration sent = fake.all<wire::Registration>()[0];
  EXPECT_EQ(sent.ng_capabilities, std::optional<std::uint32_t>{o.ng_capabilities});
  EXPECT_EQ(sent.element.id, big);
  // Random IDs in next-gen mode are 64-bit with a non-zero short form.
  PeResult random = register_and_wait(pec, registration("NgPool"));
  ASSERT_TRUE(random.ok());
  EXPECT_NE(short_id(random.id), 0u);
  // RFC mode refuses IDs that do not fit 32 bits.
  ClientOptions rfc = options();
  PoolElementClient rfc_client(loop, StackEnvironment::stack.get(), rfc);
  ASSERT_EQ(connect_and_wait(rfc_client, 5s), ClientStatus::kOk);
  EXPECT_EQ(register_and_wait(rfc_client, registration("NgPool", big)).status,
            ClientStatus::kInvalidArgument);
  rfc_client.close();
}

INSTANTIATE_TEST_SUITE_P(Transports, ClientTest,
                         ::testing::Values(ClientTransport::kSctp, ClientTransport::kTcp),
                         [](const ::testing::TestParamInfo<ClientTransport>& info) {
                           return std::string(to_string(info.param));
                         });

// A takeover registrar opens a NEW association to the PE's listening ASAP endpoint and sends a
// Keep-Alive with H=1 (asap.md §1, §4.4); the PE acks over that association. SCTP only.
TEST(PoolElementListenerTest, TakeoverKeepAliveOverIncomingAssociationIsAcked) {
  runtime::EventLoop loop;
  FakeRegistrar home(loop, StackEnvironment::stack.get());
  const std::uint16_t port = home.listen(false);
  ASSERT_NE(port, 0);
  ClientOptions o;
  o.registrar.address = kLoopback;
  o.registrar.port = port;
  o.registrar.remote_udp_port = StackEnvironment::stack->udp_port();
  o.pe_listen_port = 0;
  PoolElementClient pec(loop, StackEnvironment::stack.get(), o);
  ASSERT_EQ(connect_and_wait(pec, 5s), ClientStatus::kOk);
  ASSERT_NE(pec.connection().listen_port(), 0);
  PeResult r = register_and_wait(pec, registration("EchoPool", 55));
  ASSERT_TRUE(r.ok());

  FakeRegistrar takeover(loop, StackEnvironment::stack.get());
  takeover.id = 0x999;
  const IpAddress addrs[] = {kLoopback};
  ConnectionId out = takeover.transport().connect_sctp(
      WireProtocol::kAsap, addrs, pec.connection().listen_port(), StackEnvironment::stack->udp_port());
  ASSERT_NE(out, kNoConnectionId);
  ASSERT_TRUE(run_until(
      loop, [&] { return takeover.connections.size() == 1; }, 5s));
  takeover.send_keep_alive(out, r.handle, r.id, true);
  ASSERT_TRUE(run_until(
      loop, [&] { return takeover.count<wire::EndpointKeepAliveAck>() == 1; }, 5s));
  EXPECT_EQ(takeover.received[0].from, out);
  EXPECT_EQ(pec.find(r.handle, r.id)->home_registrar, 0x999u);
  EXPECT_EQ(home.count<wire::EndpointKeepAliveAck>(), 0u);
  pec.close();
  takeover.close_all();
  home.close_all();
  run_until(
      loop, [] { return false; }, 30ms);
}

}  // namespace
}  // namespace poolreg::client
