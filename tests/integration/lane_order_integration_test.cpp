// Order per association on kernel lanes (issue 16 item 1, runtime/lane_order.hpp): a Handle
// Resolution an association sends right after its Registration (or Deregistration) is answered
// as if AsapServer had handled both in order, although the lane answers resolutions itself and
// the write goes to the control thread.
//
// In-process, so the control thread can be held deterministically: the test thread is the
// control thread (EventLoop, AsapServer, handlespace writer), and it simply does not run its loop
// while the lane (its own thread: a real KernelLanes, SCTP over UDP on loopback, a LaneResolver)
// receives the Registration and the Handle Resolution. The peer is the synthetic SCTP source of
// perf/dataplane (hand-built packets over a UDP socket). The lane's counters say when it has seen
// the resolution; only then does the control thread run. Without the order the lane answers the
// resolution at once from a handlespace that does not hold the PE yet (the first answer lacks
// it); with it the answer comes from AsapServer after the Registration.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "dataplane/daemon/protocol_router.hpp"
#include "dataplane/daemon/transport_output.hpp"
#include "dataplane/kernel/kernel_lanes.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/wire_constants.hpp"
#include "tests/dataplane/runtime/lane_order_messages.hpp"

namespace poolreg::integration {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kAsapPort = 3863;
constexpr std::uint32_t kAsapPpid = 11;
constexpr std::size_t kHandleResolutionSlot = 5;
using poolreg::test::lane_order::deregistration;
using poolreg::test::lane_order::kPe;
using poolreg::test::lane_order::kPool;
using poolreg::test::lane_order::resolution;

// The PE's address: its association's.
const IpAddress kPeAddress = IpAddress::v4({127, 0, 0, 1});
std::vector<std::uint8_t> registration() { return poolreg::test::lane_order::registration(kPeAddress); }

// The registrar side as poolregd builds it on kernel lanes (one lane, resolutions on it), with
// this thread as its control thread.
class LaneOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hs_ = std::make_unique<handlespace::Handlespace>(handlespace::HandlespaceConfig{}, domain_);
    reader_ = std::make_unique<handlespace::ReaderContext>(domain_, 11);
    kernel::KernelLanesConfig kc;
    kc.lanes = 1;
    kc.udp_port = 0;
    kc.bind_address = IpAddress::v4({127, 0, 0, 1});
    auto lanes = kernel::KernelLanes::create(kc, loop_, router_);
    ASSERT_TRUE(lanes.has_value()) << lanes.error();
    lanes_ = std::move(*lanes);
    output_ = std::make_unique<daemon::TransportOutput>(
        lanes_->transport(), false,
        [this](ConnectionId id, WireProtocol p) { router_.note_outgoing(id, p); });
    config_.registrar_id = 0x0dde;
    config_.min_address_scope = AddressScope::kLoopback;  // the PE registers 127.0.0.1
    asap_ = std::make_unique<asap::AsapServer>(config_, *hs_, *reader_, *output_, loop_.clock(), nullptr);
    router_.attach(lanes_->transport(), *output_, *asap_, nullptr);
    ASSERT_TRUE(lanes_->transport().listen_sctp(WireProtocol::kAsap, {}, kAsapPort).has_value());
    ASSERT_TRUE(lanes_->enable_lane_resolution(*hs_, domain_, config_).has_value());
    ASSERT_TRUE(lanes_->start().has_value());

    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(lanes_->udp_port());

    a_.local_port = 40123;
    a_.peer_port = kAsapPort;
    a_.local_tag = 0x1a2b3c4d;
    a_.next_tsn = 1000;
    a_.keep_payloads = true;
    send(perf::build_init(a_, 8));
    ASSERT_TRUE(pump_until([&] { return !cookie_.empty(); }, true)) << "no INIT ACK";
    send(perf::build_cookie_echo(a_, cookie_));
    ASSERT_TRUE(pump_until([&] { return a_.established; }, true)) << "no COOKIE ACK";
    ASSERT_TRUE(pump_until([&] { return lanes_->transport().connection_count() == 1; }, true));
  }

  void TearDown() override {
    if (fd_ >= 0 && a_.established) send(perf::build_abort(a_));
    if (lanes_) lanes_->stop();
    if (fd_ >= 0) ::close(fd_);
  }

  void send(const std::vector<std::uint8_t>& packet) {
    ASSERT_EQ(
        ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_),
        static_cast<ssize_t>(packet.size()));
  }
  void send_asap(const std::vector<std::uint8_t>& message) { send(perf::build_data(a_, kAsapPpid, message)); }

  // Reads what the lane sent (SACKs what carried DATA), running the control thread's loop
  // between reads when `control` is true, until done() or 5 s.
  template <typename Done>
  bool pump_until(Done done, bool control) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      if (control) loop_.run_once(0);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 2) <= 0) continue;
      std::uint8_t buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      perf::PeerInput in = perf::consume(a_, buf, static_cast<std::size_t>(n), 0xff);
      if (in.init_ack) cookie_ = in.cookie;
      for (auto& m : in.payloads) received_.push_back(std::move(m));
      if (a_.sack_due) send(perf::build_sack(a_));
    }
    return true;
  }

  // The first message of `type` received (and removed from what was received), if any.
  std::optional<std::vector<std::uint8_t>> take(wire::AsapType type) {
    auto it = std::find_if(received_.begin(), received_.end(), [&](const auto& m) {
      return !m.empty() && m[0] == static_cast<std::uint8_t>(type);
    });
    if (it == received_.end()) return std::nullopt;
    std::vector<std::uint8_t> m = std::move(*it);
    received_.erase(it);
    return m;
  }
  bool has(wire::AsapType type) const {
    return std::any_of(received_.begin(), received_.end(),
                       [&](const auto& m) { return !m.empty() && m[0] == static_cast<std::uint8_t>(type); });
  }

  // The PE ids of the first Handle Resolution Response still unread.
  std::vector<PoolElementId> first_answer() {
    const auto m = take(wire::AsapType::kHandleResolutionResponse);
    EXPECT_TRUE(m.has_value());
    if (!m) return {};
    auto r = wire::decode_asap(*m);
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    const auto* hrr = std::get_if<wire::HandleResolutionResponse>(&r.value());
    EXPECT_NE(hrr, nullptr);
    std::vector<PoolElementId> ids;
    if (hrr != nullptr)
      for (const auto& pe : hrr->elements) ids.push_back(pe.id);
    return ids;
  }

  // With the control thread held: `write` then a Handle Resolution on the association. Returns
  // once the lane has taken the resolution in (its counter) and had time to answer it; the
  // control thread has not run meanwhile.
  void write_then_resolve_while_control_is_held(const std::vector<std::uint8_t>& write) {
    const std::uint64_t before = resolutions_in();
    send_asap(write);
    send_asap(resolution());
    ASSERT_TRUE(pump_until([&] { return resolutions_in() > before; }, false))
        << "the lane never saw the resolution";
    // An answer from the lane leaves within the same lane iteration; give it time to arrive.
    const auto settle = std::chrono::steady_clock::now() + 100ms;
    pump_until([&] { return std::chrono::steady_clock::now() > settle; }, false);
  }

  std::uint64_t resolutions_in() const {
    return lanes_->counters(0).asap_in_by_type[kHandleResolutionSlot].get();
  }
  const runtime::LaneCounters& lane() const { return lanes_->counters(0); }

  handlespace::QsbrDomain domain_{2 + kernel::KernelLanes::kMaxLanes};
  std::unique_ptr<handlespace::Handlespace> hs_;
  std::unique_ptr<handlespace::ReaderContext> reader_;
  runtime::EventLoop loop_;
  daemon::ProtocolRouter router_;
  std::unique_ptr<kernel::KernelLanes> lanes_;
  std::unique_ptr<daemon::TransportOutput> output_;
  asap::AsapConfig config_;
  std::unique_ptr<asap::AsapServer> asap_;
  int fd_ = -1;
  sockaddr_in to_{};
  perf::SynthAssociation a_;
  std::vector<std::uint8_t> cookie_;
  std::vector<std::vector<std::uint8_t>> received_;
};

TEST_F(LaneOrderTest, ResolutionAfterRegistrationOnTheSameAssociationSeesThePe) {
  write_then_resolve_while_control_is_held(registration());
  // Nothing answered yet: the resolution waits behind the Registration on the control thread.
  EXPECT_FALSE(has(wire::AsapType::kHandleResolutionResponse));
  EXPECT_EQ(lane().resolutions_after_write_forwarded.get(), 1u);
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kHandleResolutionResponse); }, true));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{kPe});
  const auto response = take(wire::AsapType::kRegistrationResponse);
  ASSERT_TRUE(response.has_value());
  {
    auto r = wire::decode_asap(*response);
    ASSERT_TRUE(r.has_value());
    const auto* rr = std::get_if<wire::RegistrationResponse>(&r.value());
    ASSERT_NE(rr, nullptr);
    ASSERT_FALSE(rr->rejected) << "cause "
                               << (rr->error && !rr->error->causes.empty() ? int(rr->error->causes[0].code)
                                                                           : -1)
                               << " rejected=" << asap_->counters().registrations_rejected;
  }
  EXPECT_EQ(asap_->counters().registrations, 1u);

  // Once the control thread has caught up, the lane answers the association's resolutions
  // itself again, with the control thread still held.
  const std::uint64_t answered = lane().resolutions_answered.get();
  send_asap(resolution());
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kHandleResolutionResponse); }, false));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{kPe});
  EXPECT_EQ(lane().resolutions_answered.get(), answered + 1);
  EXPECT_EQ(lane().resolutions_after_write_forwarded.get(), 1u);
}

TEST_F(LaneOrderTest, ResolutionAfterDeregistrationOnTheSameAssociationNoLongerSeesThePe) {
  send_asap(registration());
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kRegistrationResponse); }, true));
  ASSERT_EQ(asap_->counters().registrations, 1u);

  write_then_resolve_while_control_is_held(deregistration());
  EXPECT_FALSE(has(wire::AsapType::kHandleResolutionResponse));
  EXPECT_EQ(lane().resolutions_after_write_forwarded.get(), 1u);
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kHandleResolutionResponse); }, true));
  EXPECT_TRUE(has(wire::AsapType::kDeregistrationResponse));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{});
}

// Another association's resolutions are not held up by this one's write in flight: they stay on
// the lane's fast path (answered at once, control thread held).
TEST_F(LaneOrderTest, OtherAssociationsKeepBeingAnsweredOnTheLane) {
  send_asap(registration());
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kRegistrationResponse); }, true));
  received_.clear();

  perf::SynthAssociation first = a_;
  a_ = perf::SynthAssociation{};
  a_.local_port = 40124;
  a_.peer_port = kAsapPort;
  a_.local_tag = 0x5a6b7c8d;
  a_.next_tsn = 5000;
  a_.keep_payloads = true;
  cookie_.clear();
  send(perf::build_init(a_, 8));
  ASSERT_TRUE(pump_until([&] { return !cookie_.empty(); }, true));
  send(perf::build_cookie_echo(a_, cookie_));
  ASSERT_TRUE(pump_until([&] { return a_.established; }, true));
  perf::SynthAssociation second = a_;

  // The first association deregisters (the control thread is held: in flight) ...
  a_ = first;
  send_asap(deregistration());
  // ... while the second resolves: answered on the lane, still with the PE.
  first = a_;
  a_ = second;
  const std::uint64_t answered = lane().resolutions_answered.get();
  send_asap(resolution());
  ASSERT_TRUE(pump_until([&] { return has(wire::AsapType::kHandleResolutionResponse); }, false));
  EXPECT_EQ(first_answer(), std::vector<PoolElementId>{kPe});
  EXPECT_EQ(lane().resolutions_answered.get(), answered + 1);
  EXPECT_EQ(lane().resolutions_after_write_forwarded.get(), 0u);
  if (a_.established) send(perf::build_abort(a_));
  a_ = first;
}

}  // namespace
}  // namespace poolreg::integration
