// RegistrarStateHarness: one registrar as the daemon wires it (AsapServer and EnrpServer on one
// handlespace, ASAP telling ENRP about owned PEs, ENRP asking ASAP to probe taken-over PEs),
// with the unit tests' fakes at the seams: asap::testing::FakeOutput records what both servers
// send, a ManualClock gives time. The stateful fuzz target drives it one step at a time.
//
// It also plays the transport: after each step settle() reports the connections the servers
// aborted or closed back as closed (as the daemon's transports do) and brings up the
// connections they opened (the static ENRP peer's, the ASAP takeover probes').
//
// Contract: single-threaded; the harness is the writer of every shard and owns the one online
// reader. Connection ids: ASAP 1..kAsapConnections, outgoing ones from FakeOutput (9000 up).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>

#include "registrar/asap/asap_server.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/qsbr.hpp"
#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::fuzz {

inline constexpr RegistrarId kOwnId = asap::testing::kOwnId;
inline constexpr RegistrarId kPeerId = asap::testing::kOtherPr;  // the static ENRP peer
inline constexpr std::uint16_t kPeerPort = 9901;
inline constexpr ConnectionId kAsapConnections = 4;
inline const IpAddress kPeerAddress = IpAddress::v4(0x0a090001);  // 10.9.0.1

// EnrpServer needs its PeMonitor (the AsapServer) at construction and the AsapServer needs
// EnrpServer as its listener: this forwarder breaks the cycle (the daemon does the same).
class PeMonitorForwarder final : public PeMonitor {
 public:
  void set(PeMonitor* target) noexcept { target_ = target; }
  void monitor_as_new_home(const PoolHandle& handle, const PoolElement& pe) override {
    if (target_ != nullptr) target_->monitor_as_new_home(handle, pe);
  }

 private:
  PeMonitor* target_ = nullptr;
};

class RegistrarStateHarness {
 public:
  RegistrarStateHarness();
  ~RegistrarStateHarness();
  RegistrarStateHarness(const RegistrarStateHarness&) = delete;
  RegistrarStateHarness& operator=(const RegistrarStateHarness&) = delete;

  // ASAP transport events on connection c (1..kAsapConnections); `addresses` is the peer's
  // SCTP address list.
  void asap_up(ConnectionId c, std::vector<IpAddress> addresses);
  void asap_close(ConnectionId c);
  void asap_message(ConnectionId c, std::span<const std::uint8_t> bytes);
  void asap_addresses_changed(ConnectionId c, std::vector<IpAddress> addresses);
  // A message from the static ENRP peer over its connection (dropped while it has none).
  void enrp_message(std::span<const std::uint8_t> bytes);
  void enrp_peer_lost();
  // Moves the clock and runs both servers' timers as the daemon's loop would.
  void advance(TimeNs delta);
  // The transport's reactions to what the servers did in the last step (see above).
  void settle();
  // Runs AsapServer's teardown passes until no lost association's PEs remain. False when
  // they do not finish within a generous bound (a teardown that never ends).
  bool finish_teardowns();

  const handlespace::Handlespace& handlespace() const noexcept { return hs_; }
  const asap::AsapServer& asap() const noexcept { return *asap_; }
  const enrp::EnrpServer& enrp() const noexcept { return *enrp_; }
  // Connections AsapServer may bind PEs to right now (up, not yet reported closed).
  const std::set<ConnectionId>& open_asap() const noexcept { return open_asap_; }
  // Outgoing ASAP connections (takeover probes) that are up: Keep-Alive Acks may come on them.
  const std::set<ConnectionId>& probe_connections() const noexcept { return probes_; }
  TimeNs now() const noexcept { return clock_.now(); }

 private:
  ManualClock clock_{1'000 * kNsPerSec};
  handlespace::QsbrDomain domain_{8};
  handlespace::Handlespace hs_;
  handlespace::ReaderContext reader_;
  asap::testing::FakeOutput out_;
  PeMonitorForwarder monitor_;
  std::unique_ptr<enrp::EnrpServer> enrp_;
  std::unique_ptr<asap::AsapServer> asap_;
  std::set<ConnectionId> open_asap_;
  std::set<ConnectionId> probes_;
  ConnectionId enrp_connection_ = kNoConnectionId;
  std::size_t connects_seen_ = 0;
};

}  // namespace poolreg::fuzz
