// Integration (issue 14, acceptance): PE mobility with every protection of the default
// configuration on (asap.address_check, ownership / cause 0x4, rebind_probe_ms 300,
// handover_hold_ms 3000), PE, registrars and PU on different "hosts": network namespaces on one
// bridge that the test creates (MobilityLab). Two registrars, A (the PE's home, 10.77.0.1) and
// B (10.77.0.2), peers over ENRP (fast profile timers); the PE is the kernel_sctp_peer helper
// (plain threaded usrsctp, RFC 5061 ASCONF, answers keep-alives) in its own namespace with two
// veths, an old path 10.77.0.11 and a new one 10.77.0.12; the PU is this process (its usrsctp
// stack lives in the namespace 10.77.0.20) and asks B. Cases: make-before-break (ADD-IP,
// re-registration, DELETE-IP), break-before-make (old veth deleted, new association), a live
// impostor (refused 0x4), the handover hold (back in time / not back) and a takeover over an
// association the PE already has with the new home. Needs root and `ip`; skipped otherwise.
//
// POOLREG_IT_DAEMON_ARGS: extra poolregd arguments (space separated) for both registrars, to
// check that the cases fail without their feature (e.g. "--set asap.rebind_probe_ms=0").
#include "dataplane/runtime/steer_lane.hpp"
#include "tests/integration/mobility_lab.hpp"

namespace poolreg::integration {
namespace {

using namespace mobility;  // the lab, its addresses and its helpers (tests/integration/mobility_lab.hpp)

// Defaults of the daemon (config/poolregd.toml) the assertions rely on.
constexpr auto kRebindProbe = std::chrono::milliseconds(300);
constexpr auto kHold = std::chrono::milliseconds(3000);
constexpr auto kKeepAliveTimeout = std::chrono::milliseconds(5000);

const char* const kPrefix = "prmob";

// The daemon's view of PE `id` in `pool` (control "pe"), null when it does not hold it.
json pe_view(const Poolregd& d, const PoolHandle& pool, PoolElementId id) {
  json r = control_call(d, "pe", json{{"handle", pool.to_display()}, {"id", std::to_string(id)}});
  return r.is_object() && r.contains("pe") ? r["pe"] : json();
}

class MobilityNetns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = test_netns::namespaces_unavailable();
    if (!skip_reason_.empty()) return;
    if (poolregd_path().empty() || std::getenv("KERNEL_SCTP_PEER") == nullptr) {
      skip_reason_ = "POOLREGD and KERNEL_SCTP_PEER not set (run through meson test)";
      return;
    }
    test_netns::remove_stale_namespaces(kPrefix);
    lab_ = std::make_unique<MobilityLab>(std::string(kPrefix) + "-" + std::to_string(::getpid()) + "-");
    if (!lab_->ok()) {
      skip_reason_ = "setting up the namespaces failed";
      return;
    }
    // This process (its PU and impostor clients) is the host 10.77.0.20: its usrsctp stack
    // (created below, after the switch) opens its UDP socket there.
    if (!enter(lab_->u)) {
      skip_reason_ = "setns into the PU namespace failed";
      return;
    }
    kernel::SctpStackConfig config;
    config.udp_port = 0;
    config.heartbeat_interval_ms = 1000;
    std::string error;
    stack_ = kernel::SctpStack::create(config, &error);
    if (!stack_) skip_reason_ = "usrsctp: " + error;
  }
  static void TearDownTestSuite() {
    stack_.reset();
    lab_.reset();
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    static int hosts = 0;
    pe_host_ = pe_host(*lab_, std::string(kPrefix) + "-" + std::to_string(::getpid()) + "-", ++hosts);
    ASSERT_TRUE(pe_host_->ok());
    a_ = registrar("a", kIdA, lab_->a, kRegistrarA, kRegistrarB, a_arguments());
    b_ = registrar("b", kIdB, lab_->b, kRegistrarB, kRegistrarA);
    ASSERT_TRUE(a_->start() && b_->start());
    ASSERT_TRUE(a_->wait_for_log("listening:", 10s)) << a_->log();
    ASSERT_TRUE(b_->wait_for_log("listening:", 10s)) << b_->log();
    std::string why;
    ASSERT_TRUE(eventually([&] { return peers_alive_and_in_sync(*a_, 1, &why) && peers_alive_and_in_sync(*b_, 1, &why); },
                           10s))
        << why;
  }
  void TearDown() override {
    pes_.clear();  // helpers end (their associations close) before the daemons
    for (Poolregd* d : {a_.get(), b_.get()}) {
      if (d == nullptr) continue;
      if (HasFailure()) std::cerr << "---- poolregd " << d->name() << " (" << d->state() << ") ----\n" << d->log();
      d->kill_now();
    }
    pe_host_.reset();
  }

  // More arguments of registrar A (a fixture of several lanes adds --lanes).
  virtual std::vector<std::string> a_arguments() const { return {}; }

  static std::unique_ptr<Poolregd> registrar(const std::string& name, RegistrarId id, const Host& host,
                                             const char* self, const char* peer,
                                             std::vector<std::string> extra = {}) {
    if (std::getenv("POOLREG_IT_DEBUG") != nullptr) extra.insert(extra.end(), {"--log-level", "debug"});
    for (auto& w : words_of_env("POOLREG_IT_DAEMON_ARGS")) extra.push_back(std::move(w));
    return mobility::registrar(name, id, host, self, peer, std::move(extra));
  }

  client::ClientOptions options_for(const char* registrar) const {
    client::ClientOptions o;
    o.registrar.address = *IpAddress::parse(registrar);
    o.registrar.port = kAsapPort;
    o.registrar.transport = ClientTransport::kSctp;
    o.registrar.remote_udp_port = kUdpPort;
    o.connect_timeout = 5 * kNsPerSec;
    o.request_timeout = 3 * kNsPerSec;
    return o;
  }
  std::unique_ptr<PoolUserClient> pu_at_b() {
    auto c = std::make_unique<PoolUserClient>(loop_, stack_.get(), options_for(kRegistrarB));
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  // A PE helper in the PE's namespace bound to `addresses`, connected to A; nullptr (with a
  // failure) when it did not come up.
  ForeignPe* pe_helper(const std::string& addresses, std::uint16_t own_udp_port = 0) {
    std::string why;
    auto pe = start_pe(std::getenv("KERNEL_SCTP_PEER"), *pe_host_, addresses, &why, own_udp_port);
    if (pe == nullptr) {
      ADD_FAILURE() << why;
      return nullptr;
    }
    pes_.push_back(std::move(pe));
    return pes_.back().get();
  }
  // The user addresses of the one PE in "mobile" as the PU at B sees it now; {} when it is not
  // there (counted in missing_).
  std::vector<IpAddress> seen_at_b(PoolUserClient& pu) {
    auto r = client::resolve_and_wait(pu, handle_of("mobile"), 16);
    if (!r.ok() || r.elements.size() != 1) {
      ++missing_;
      return {};
    }
    return r.elements[0].user_transport.addresses;
  }
  // Resolves at B (every 50 ms, at most `limit`) until it sees `want`.
  bool b_sees(PoolUserClient& pu, const std::vector<IpAddress>& want, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (seen_at_b(pu) == want) return true;
      loop_.run_once(50);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }
  // Watches B for `span`: the smallest PE count of "mobile" it had (a DEL drops it to -1).
  long fewest_at_b(std::chrono::milliseconds span) {
    long fewest = 1;
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) {
      fewest = std::min(fewest, pool_pe_count(*b_, handle_of("mobile")));
      loop_.run_once(50);
    }
    return fewest;
  }

  static inline std::string skip_reason_;
  static inline std::unique_ptr<MobilityLab> lab_;
  static inline std::unique_ptr<kernel::SctpStack> stack_;

  runtime::EventLoop loop_;
  std::unique_ptr<Host> pe_host_;
  std::unique_ptr<Poolregd> a_, b_;
  // a. (below), the PE on its own UDP port `own_udp_port` (0: a free one).
  void make_before_break(std::uint16_t own_udp_port) {
    ForeignPe* pe = pe_helper(kOldPath, own_udp_port);
    ASSERT_NE(pe, nullptr);
    ASSERT_TRUE(registered(*pe, 1401, {kOld})) << a_->log();
    auto pu = pu_at_b();
    ASSERT_TRUE(b_sees(*pu, {kOld}, 10s));
    missing_ = 0;  // from here on the PE must be in every answer

    ASSERT_TRUE(pe->tell(std::string("ADD ") + kNewPath + "\n"));
    ASSERT_EQ(pe->line(), std::string("DONE ADD ") + kNewPath + "\n");
    // The ASCONF travels ahead of the DATA; should A not have applied it yet, the new address is
    // filtered and B keeps seeing {old}: register again (bounded).
    bool both = false;
    for (int i = 0; i < 20 && !both; ++i) {
      ASSERT_TRUE(registered(*pe, 1401, {kNew, kOld})) << a_->log();
      both = b_sees(*pu, {kNew, kOld}, 500ms);
    }
    ASSERT_TRUE(both) << "the added address never reached B";
    ASSERT_TRUE(pe_host_->use_path(1, kNewPath));
    ASSERT_TRUE(pe->tell(std::string("DEL ") + kOldPath + "\n"));
    ASSERT_EQ(pe->line(), std::string("DONE DEL ") + kOldPath + "\n");
    EXPECT_TRUE(b_sees(*pu, {kNew})) << "the deleted address stayed at B";
    // The association works over the new path: a re-registration with the new address only.
    EXPECT_TRUE(registered(*pe, 1401, {kNew})) << a_->log();
    EXPECT_EQ(seen_at_b(*pu), std::vector<IpAddress>{kNew});
    EXPECT_EQ(missing_, 0) << "answers at B without the PE during the move";
  }

  std::vector<std::unique_ptr<ForeignPe>> pes_;
  int missing_ = 0;  // resolutions at B without the PE
};

// a. Make-before-break: ADD-IP of the new path's address, a re-registration with it (accepted by
// the address check: the association has it now), the route moves to the new path, DELETE-IP of
// the old one (pruned from the PE by A). B's PU sees old, old+new, new; the PE in every answer.
TEST_F(MobilityNetns, MakeBeforeBreakReachesThePuAtThePeerWithTheAddressCheckOn) { make_before_break(0); }

// b. Break-before-make: the old path's veth is deleted (the old association stays up at A, dead),
// the PE registers over a new association from the new address. A probes the old binding and
// rebinds: accepted within rebind_probe_ms + one round trip (+ slack); B gets the new address
// with exactly one ENRP update and never loses the PE (no DEL).
TEST_F(MobilityNetns, BreakBeforeMakeIsAcceptedAfterTheProbeWithOneUpdateAtThePeer) {
  ForeignPe* old_pe = pe_helper(kOldPath);
  ASSERT_NE(old_pe, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(registered(*old_pe, 1402, {kOld})) << a_->log();
  const auto rtt = std::chrono::steady_clock::now() - t0;  // one registration round trip
  auto pu = pu_at_b();
  ASSERT_TRUE(b_sees(*pu, {kOld}, 10s));
  const std::uint64_t updates_before = enrp_counter(*b_, "updates_received");

  ASSERT_TRUE(pe_host_->cut(0));
  ASSERT_TRUE(pe_host_->use_path(1, kNewPath));
  ForeignPe* new_pe = pe_helper(kNewPath);
  ASSERT_NE(new_pe, nullptr);
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(registered(*new_pe, 1402, {kNew})) << a_->log();
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  const auto bound = kRebindProbe + std::chrono::duration_cast<std::chrono::milliseconds>(rtt) + 300ms;
  std::cerr << "break-before-make: accepted after " << waited.count() << " ms (registration RTT "
            << std::chrono::duration_cast<std::chrono::microseconds>(rtt).count() << " us, bound " << bound.count()
            << " ms)\n";
  EXPECT_GE(waited, kRebindProbe - 50ms) << "answered before the probe could decide";
  EXPECT_LE(waited, bound);
  EXPECT_EQ(asap_counter(*a_, "pe_rebinds"), 1u);

  missing_ = 0;
  EXPECT_TRUE(b_sees(*pu, {kNew})) << "the new address did not reach B";
  EXPECT_EQ(fewest_at_b(1s), 1) << "B lost the PE (an ENRP DEL)";
  EXPECT_EQ(missing_, 0);
  EXPECT_EQ(enrp_counter(*b_, "updates_received") - updates_before, 1u) << "one ENRP update for the move";
}

// c. A live impostor: the PE's owner (old path, answering keep-alives) is up; this process (another
// host, another association) registers the same PE ID at A: the probe is answered, cause 0x4, and
// B still has the owner's address.
TEST_F(MobilityNetns, LiveImpostorFromAnotherHostIsRefused) {
  ForeignPe* owner = pe_helper(kOldPath);
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(registered(*owner, 1403, {kOld})) << a_->log();
  auto pu = pu_at_b();
  ASSERT_TRUE(b_sees(*pu, {kOld}, 10s));

  PoolElementClient impostor(loop_, stack_.get(), options_for(kRegistrarA));
  ASSERT_EQ(client::connect_and_wait(impostor, 5s), ClientStatus::kOk);
  client::PeRegistration reg = registration(handle_of("mobile"), 1403, TransportProtocol::kSctp);
  reg.user_transport.addresses = {*IpAddress::parse(kPuAddress)};
  const auto r = client::register_and_wait(impostor, reg);
  EXPECT_EQ(r.status, ClientStatus::kRejected) << client::to_string(r.status);
  EXPECT_EQ(r.cause(), ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(asap_counter(*a_, "rebind_probes_answered"), 1u);
  EXPECT_EQ(asap_counter(*a_, "pe_rebinds"), 0u);
  EXPECT_EQ(seen_at_b(*pu), std::vector<IpAddress>{kOld}) << "the impostor changed the PE";
}

// d1. Handover hold, back in time: the PE's association ends (SHUTDOWN), it comes back over a new
// association from the new path within the hold: B never loses it and gets the new address.
TEST_F(MobilityNetns, HandoverHoldPeBackInTimeIsNeverDeletedAtThePeer) {
  ForeignPe* old_pe = pe_helper(kOldPath);
  ASSERT_NE(old_pe, nullptr);
  ASSERT_TRUE(registered(*old_pe, 1404, {kOld})) << a_->log();
  auto pu = pu_at_b();
  ASSERT_TRUE(b_sees(*pu, {kOld}, 10s));
  const std::uint64_t updates_before = enrp_counter(*b_, "updates_received");

  ASSERT_EQ(old_pe->finish(), 0);  // the association is gone
  ASSERT_TRUE(eventually([&] { return asap_counter(*a_, "pe_held") == 1; }, 2s));
  ASSERT_TRUE(pe_host_->cut(0));
  ASSERT_TRUE(pe_host_->use_path(1, kNewPath));
  ForeignPe* new_pe = pe_helper(kNewPath);
  ASSERT_NE(new_pe, nullptr);
  ASSERT_TRUE(registered(*new_pe, 1404, {kNew})) << a_->log();
  EXPECT_EQ(asap_counter(*a_, "pe_hold_resumed"), 1u);
  // Watched past the hold's end: never gone at B, the new address there.
  EXPECT_EQ(fewest_at_b(kHold + 1s), 1) << "B lost the PE during the hold";
  EXPECT_EQ(pe_view(*b_, handle_of("mobile"), 1404)["user_transport"]["addresses"], json::array({kNewPath}));
  EXPECT_EQ(enrp_counter(*b_, "updates_received") - updates_before, 1u) << "one ENRP update, no DEL + ADD";
  EXPECT_EQ(asap_counter(*a_, "pe_hold_expired"), 0u);
}

// d2. Handover hold, not back: B keeps the PE while the hold runs and loses it (DEL) after it.
TEST_F(MobilityNetns, HandoverHoldPeNotBackIsDeletedAtThePeerAfterTheHold) {
  ForeignPe* pe = pe_helper(kOldPath);
  ASSERT_NE(pe, nullptr);
  ASSERT_TRUE(registered(*pe, 1405, {kOld})) << a_->log();
  ASSERT_TRUE(eventually([&] { return pool_pe_count(*b_, handle_of("mobile")) == 1; }, 10s));

  const auto closed_at = std::chrono::steady_clock::now();  // the helper closes, then exits
  ASSERT_EQ(pe->finish(), 0);
  EXPECT_EQ(fewest_at_b(kHold / 2), 1) << "DEL before the hold ended";
  ASSERT_TRUE(eventually([&] { return pool_pe_count(*b_, handle_of("mobile")) == -1; }, kHold + 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - closed_at, kHold);
  EXPECT_EQ(asap_counter(*a_, "pe_hold_expired"), 1u);
}

// e. Takeover over an existing association: A (the PE's home) dies; the PE opens an association
// to B from the same address and port but does not re-register. B takes A's PEs over and sends
// the H=1 Keep-Alive over that association (no second connect): the PE answers, stays, and is
// bound to B, also after a keep-alive timeout has passed.
TEST_F(MobilityNetns, TakeoverUsesTheAssociationThePeAlreadyHasWithTheNewHome) {
  ForeignPe* pe = pe_helper(kOldPath);
  ASSERT_NE(pe, nullptr);
  ASSERT_TRUE(registered(*pe, 1406, {kOld})) << a_->log();
  auto pu = pu_at_b();
  ASSERT_TRUE(b_sees(*pu, {kOld}, 10s));

  a_->kill_now();
  ASSERT_TRUE(pe->tell(std::string("RECONNECT ") + kRegistrarB + ":" + std::to_string(kAsapPort) + "\n"));
  ASSERT_EQ(pe->line().rfind("UP ", 0), 0u);
  ASSERT_TRUE(eventually([&] { return asap_counter(*b_, "takeover_bound") == 1; }, 15s)) << b_->log();
  EXPECT_EQ(asap_counter(*b_, "takeover_existing_associations"), 1u);
  EXPECT_EQ(asap_counter(*b_, "connects_failed"), 0u);
  EXPECT_EQ(pe_view(*b_, handle_of("mobile"), 1406).value("owned", false), true) << "not bound to the new home";
  missing_ = 0;
  EXPECT_EQ(fewest_at_b(kKeepAliveTimeout + 1s), 1) << "the taken-over PE was removed";
  EXPECT_EQ(seen_at_b(*pu), std::vector<IpAddress>{kOld});
  EXPECT_EQ(missing_, 0);
}

// Registrar A on two lanes.
class MobilityNetnsTwoLanes : public MobilityNetns {
 protected:
  std::vector<std::string> a_arguments() const override { return {"--lanes", "2"}; }
};

// a. with A on two lanes and the PE's new address (added by ASCONF) steering to the other lane
// than its old one (its UDP port chosen, the lanes computed with runtime::steer_lane): A's lane
// publishes the added address, the other lane hands its packets over.
TEST_F(MobilityNetnsTwoLanes, MakeBeforeBreakWithTheAddedAddressOnTheOtherLane) {
  constexpr std::uint16_t kPeUdpPort = 40999;
  ASSERT_NE(runtime::steer_lane(kOld.data(), false, kPeUdpPort, 2), runtime::steer_lane(kNew.data(), false, kPeUdpPort, 2));
  make_before_break(kPeUdpPort);
  if (HasFatalFailure()) return;
  // The packets from the new address went through the other lane to the association's.
  const json stats = control_call(*a_, "stats");
  std::uint64_t alias_steered = 0;
  if (stats.is_object() && stats.contains("lanes") && stats["lanes"].is_array())
    for (const auto& lane : stats["lanes"]) alias_steered += lane.value("sctp_alias_steered", std::uint64_t{0});
  EXPECT_GT(alias_steered, 0u) << stats.dump();
}

}  // namespace
}  // namespace poolreg::integration
