// ENRP Handle Updates per PE move at scale (issue 14 acceptance: "ENRP messages per move <= 1
// under 10^4 moves/s of 10^5 PEs"), in process: one registrar as poolregd wires it (AsapServer
// and EnrpServer on one handlespace, jemalloc, the daemon's defaults for address check, rebind
// probe, handover hold and update damping) with one ENRP peer, and a MessageOutput that counts
// what would go on the wire. Every PE has its own SCTP association, registered through ASAP
// Registration messages with the address check on. Time is simulated (a manual clock stepped in
// 1 ms ticks, both servers' timers run every tick), so the offered move rate is exact whatever
// the machine is doing; the wall time of the move phase is printed too (what one control thread
// needs for that load).
//
// Moves arrive as a Poisson process over random PEs not already moving, each PE alternating
// between two addresses of its own:
//   mbb  make-before-break (mSCTP): ADD-IP of the new address, re-registration with it 5 ms
//        later, DELETE-IP of the old one 200 ms later; run with enrp.transport_update_delay_ms 0
//        (every association address change is its own update) and with the daemon default.
//   bbm  break-before-make: the old association is silently dead; the PE opens a new association
//        from its new address and re-registers: the rebind probe of the old binding goes
//        unanswered, the registration is accepted after asap.rebind_probe_ms; the old
//        association is reported lost 2 s later.
// Messages per move are counted in the steady state (after a warm-up as long as the transport
// delay, so held transport changes have had time to be carried or sent), and in total including
// a drain after the last move. With `rereg_ms` > 0 every PE also re-registers unchanged every
// rereg_ms (random phase; RSPLIB PEs re-register periodically): those updates are sent whether
// PEs move or not, so they are subtracted (one per periodic re-registration) before dividing by
// the moves; they also carry held transport changes.
//   enrp_per_move [pes 100000] [moves_per_s 10000] [seconds 60] [rereg_ms 0]
// Left out: Endpoint Keep-Alives (the interval is set beyond the run: nobody acks them here), the
// SCTP stack, the wire.
#include <jemalloc/jemalloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "registrar/asap/asap_server.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"

namespace {

using namespace poolreg;
using Wall = std::chrono::steady_clock;

constexpr RegistrarId kOwnId = 0x0a0b0c0d;
constexpr RegistrarId kPeerId = 0x11223344;
constexpr ConnectionId kEnrpConnection = 1;  // PE associations are numbered from 2 up
constexpr TimeNs kTick = kNsPerMs;
constexpr std::size_t kPools = 1000;

// Counts what the servers send; the outgoing ENRP connection is the static peer's.
class CountingOutput final : public MessageOutput {
 public:
  bool send(ConnectionId, WireProtocol protocol, std::span<const std::uint8_t> message) override {
    if (protocol == WireProtocol::kEnrp && !message.empty() &&
        message[0] == static_cast<std::uint8_t>(wire::EnrpType::kHandleUpdate))
      ++handle_updates;
    return true;
  }
  void abort(ConnectionId) override {}
  ConnectionId connect(WireProtocol protocol, const TransportEndpoint&) override {
    return protocol == WireProtocol::kEnrp ? kEnrpConnection : kNoConnectionId;  // no takeover probes here
  }
  std::size_t handle_updates = 0;
};

// AsapServer needs its listener and EnrpServer its monitor at construction (as in the daemon).
class Forwarder final : public OwnedPeListener, public PeMonitor {
 public:
  OwnedPeListener* listener = nullptr;
  PeMonitor* monitor = nullptr;
  void on_owned_pe_registered(const PoolHandle& h, const PoolElement& pe) override {
    listener->on_owned_pe_registered(h, pe);
  }
  void on_owned_pe_removed(const PoolHandle& h, const PoolElement& pe) override {
    listener->on_owned_pe_removed(h, pe);
  }
  void on_owned_pe_transport_changed(const PoolHandle& h, const PoolElement& pe) override {
    listener->on_owned_pe_transport_changed(h, pe);
  }
  void monitor_as_new_home(const PoolHandle& h, const PoolElement& pe) override {
    monitor->monitor_as_new_home(h, pe);
  }
};

enum class MoveKind { kMakeBeforeBreak, kBreakBeforeMake };

struct Scenario {
  const char* name;
  MoveKind kind;
  TimeNs transport_delay;  // enrp.transport_update_delay_ms
};

struct Result {
  std::size_t moves = 0;
  std::size_t steady_moves = 0;
  std::size_t steady_updates = 0;
  bool set_up_failed = false;  // the registrations did not all reach the ENRP peer
  std::size_t steady_rereg = 0;  // periodic re-registrations within the steady state
  std::size_t rereg = 0;
  std::size_t updates = 0;
  std::size_t pes_at_end = 0;
  double wall_ms = 0;
  std::uint64_t coalesced = 0;
  std::uint64_t rebinds = 0;
};

IpAddress address_of(std::size_t pe, int side) {
  return IpAddress::v4((side == 0 ? 0x0a000000u : 0x0b000000u) + static_cast<std::uint32_t>(pe) + 1);
}

ConnectionPeer sctp_peer(std::vector<IpAddress> addresses) {
  ConnectionPeer p;
  p.kind = TransportProtocol::kSctp;
  p.protocol = WireProtocol::kAsap;
  p.addresses = std::move(addresses);
  p.port = 50000;
  return p;
}

class Run {
 public:
  Run(const Scenario& s, std::size_t pes)
      : scenario_(s), pes_(pes), hs_(hs_config(), domain_), reader_(domain_, 1) {
    reader_.online();
    asap::AsapConfig ac;
    ac.registrar_id = kOwnId;
    ac.keepalive_interval = 3600 * kNsPerSec;  // left out (see the header)
    ac.rebind_probe = 300 * kNsPerMs;          // the daemon's defaults
    ac.handover_hold = 3 * kNsPerSec;
    enrp::EnrpConfig ec;
    ec.own_id = kOwnId;
    ec.own_endpoint.protocol = TransportProtocol::kSctp;
    ec.own_endpoint.port = 9901;
    ec.own_endpoint.addresses = {IpAddress::v4(0x0a090002)};
    TransportEndpoint peer = ec.own_endpoint;
    peer.addresses = {IpAddress::v4(0x0a090001)};
    ec.static_peers.push_back({peer, 0});
    ec.update_coalesce = 20 * kNsPerMs;
    ec.transport_update_delay = s.transport_delay;
    ec.jitter_seed = 1;
    enrp_ = std::make_unique<enrp::EnrpServer>(ec, hs_, out_, clock_, forward_);
    asap_ = std::make_unique<asap::AsapServer>(ac, hs_, reader_, out_, clock_, &forward_);
    forward_.listener = enrp_.get();
    forward_.monitor = asap_.get();
    for (std::size_t p = 0; p < kPools; ++p)
      handles_.push_back(*PoolHandle::from_string("pool-" + std::to_string(p)));
    connect_enrp_peer(peer);
  }
  ~Run() {
    asap_.reset();
    enrp_.reset();
    reader_.offline();
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Result run(double moves_per_s, double seconds, TimeNs rereg) {
    Result r;
    // Every PE registers over its own association from its first address.
    pes_state_.resize(pes_);
    for (std::size_t i = 0; i < pes_; ++i) {
      pes_state_[i].connection = next_connection_++;
      asap_->on_connection_up(pes_state_[i].connection, sctp_peer({address_of(i, 0)}));
      register_pe(pes_state_[i].connection, i, address_of(i, 0));
      pes_state_[i].registered = address_of(i, 0);
    }
    step_for(kNsPerSec);
    if (out_.handle_updates < pes_) {
      std::fprintf(stderr, "%s: only %zu of %zu registrations reached the ENRP peer\n", scenario_.name,
                   out_.handle_updates, pes_);
      r.set_up_failed = true;
      return r;
    }
    const std::size_t updates_before = out_.handle_updates;
    const TimeNs start = clock_.now();
    rereg_ = rereg;
    if (rereg != 0) {
      std::uniform_int_distribution<TimeNs> phase(0, rereg - 1);
      for (std::size_t i = 0; i < pes_; ++i)
        events_.push({start + phase(rng_), Step::kPeriodic, i, kNoConnectionId});
    }
    const TimeNs end = start + static_cast<TimeNs>(seconds * 1e9);
    const TimeNs steady_from = start + scenario_.transport_delay + 3 * kNsPerSec;
    std::size_t steady_updates_at = 0;
    std::size_t steady_rereg_at = 0;
    bool steady = false;
    std::exponential_distribution<double> gap(moves_per_s / 1e9);
    std::uniform_int_distribution<std::size_t> pick(0, pes_ - 1);
    TimeNs next_move = start + static_cast<TimeNs>(gap(rng_));
    const auto wall0 = Wall::now();
    while (clock_.now() < end) {
      if (!steady && clock_.now() >= steady_from) {
        steady = true;
        steady_updates_at = out_.handle_updates;
        steady_rereg_at = periodic_;
      }
      while (next_move <= clock_.now()) {
        std::size_t pe = pick(rng_);
        for (int tries = 0; tries < 16 && pes_state_[pe].moving; ++tries) pe = pick(rng_);
        if (!pes_state_[pe].moving) {
          start_move(pe);
          ++r.moves;
          if (steady) ++r.steady_moves;
        }
        next_move += static_cast<TimeNs>(gap(rng_)) + 1;
      }
      tick();
    }
    r.steady_updates = out_.handle_updates - steady_updates_at;
    r.steady_rereg = periodic_ - steady_rereg_at;
    moving_phase_ = false;  // the drain: no new periodic re-registrations
    // Drain: the moves in flight finish, held transport changes go out.
    step_for(scenario_.transport_delay + 3 * kNsPerSec);
    r.wall_ms = std::chrono::duration<double, std::milli>(Wall::now() - wall0).count();
    r.updates = out_.handle_updates - updates_before;
    r.rereg = periodic_;
    r.pes_at_end = hs_.counters().pes;
    r.coalesced = enrp_->counters().updates_coalesced;
    r.rebinds = asap_->counters().pe_rebinds;
    return r;
  }

 private:
  struct PeState {
    ConnectionId connection = kNoConnectionId;
    int side = 0;
    bool moving = false;
    IpAddress registered;  // the user address it registered last
  };
  enum class Step { kAddIp, kReregister, kDeleteIp, kNewAssociation, kOldAssociationLost, kPeriodic };
  struct Event {
    TimeNs at;
    Step step;
    std::size_t pe;
    ConnectionId connection;
    bool operator>(const Event& o) const { return at > o.at; }
  };

  static handlespace::HandlespaceConfig hs_config() {
    handlespace::HandlespaceConfig c;
    c.limits.max_pools = kPools + 10;
    return c;
  }

  void connect_enrp_peer(const TransportEndpoint& peer) {
    enrp_->start();
    ConnectionPeer p;
    p.kind = TransportProtocol::kSctp;
    p.protocol = WireProtocol::kEnrp;
    p.outgoing = true;
    p.addresses = peer.addresses;
    p.port = peer.port;
    enrp_->on_connection_up(kEnrpConnection, p);
    wire::Presence presence;
    presence.sender = kPeerId;
    presence.receiver = kOwnId;
    std::vector<std::uint8_t> bytes;
    if (!wire::encode(presence, wire::WireOptions{}, bytes).ok()) std::abort();
    enrp_->on_message(kEnrpConnection, bytes);
  }

  void register_pe(ConnectionId c, std::size_t i, IpAddress address) {
    wire::Registration reg;
    reg.pool_handle = handles_[i % kPools];
    PoolElement& pe = reg.element;
    pe.id = static_cast<PoolElementId>(i + 1);
    pe.registration_life_ms = 30000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = 7;
    pe.user_transport.addresses = {address};
    pe.policy.type = PolicyType::kRoundRobin;
    message_.clear();
    if (!wire::encode(reg, wire::WireOptions{}, message_).ok()) std::abort();
    asap_->on_message(c, message_);
  }

  void start_move(std::size_t i) {
    PeState& s = pes_state_[i];
    s.moving = true;
    const TimeNs now = clock_.now();
    if (scenario_.kind == MoveKind::kMakeBeforeBreak) {
      events_.push({now, Step::kAddIp, i, s.connection});
      events_.push({now + 5 * kNsPerMs, Step::kReregister, i, s.connection});
      events_.push({now + 205 * kNsPerMs, Step::kDeleteIp, i, s.connection});
    } else {
      events_.push({now, Step::kNewAssociation, i, s.connection});
      events_.push({now + 2 * kNsPerSec, Step::kOldAssociationLost, i, s.connection});
    }
  }

  void apply(const Event& e) {
    PeState& s = pes_state_[e.pe];
    const IpAddress from = address_of(e.pe, s.side);
    const IpAddress to = address_of(e.pe, 1 - s.side);
    switch (e.step) {
      case Step::kAddIp:
        asap_->on_addresses_changed(e.connection, sctp_peer({from, to}));
        break;
      case Step::kReregister:
        register_pe(e.connection, e.pe, to);
        s.registered = to;
        break;
      case Step::kDeleteIp:
        asap_->on_addresses_changed(e.connection, sctp_peer({to}));
        s.side = 1 - s.side;
        s.moving = false;
        break;
      case Step::kNewAssociation:
        s.connection = next_connection_++;
        asap_->on_connection_up(s.connection, sctp_peer({to}));
        register_pe(s.connection, e.pe, to);
        s.registered = to;
        s.side = 1 - s.side;
        break;
      case Step::kOldAssociationLost:
        asap_->on_connection_closed(e.connection);
        s.moving = false;
        break;
      case Step::kPeriodic:
        if (!moving_phase_) break;
        // Unchanged, from where the PE is now (mid-move: the address it registered last).
        register_pe(s.connection, e.pe, s.registered);
        ++periodic_;
        events_.push({e.at + rereg_, Step::kPeriodic, e.pe, kNoConnectionId});
        break;
    }
  }

  void tick() {
    while (!events_.empty() && events_.top().at <= clock_.now()) {
      const Event e = events_.top();
      events_.pop();
      apply(e);
    }
    asap_->run_timers(clock_.now());
    enrp_->run_timers(clock_.now());
    clock_.advance(kTick);
  }
  void step_for(TimeNs d) {
    const TimeNs until = clock_.now() + d;
    while (clock_.now() < until) tick();
  }

  Scenario scenario_;
  std::size_t pes_;
  ManualClock clock_{1000 * kNsPerSec};
  handlespace::QsbrDomain domain_{8};
  handlespace::Handlespace hs_;
  handlespace::ReaderContext reader_;
  CountingOutput out_;
  Forwarder forward_;
  std::unique_ptr<enrp::EnrpServer> enrp_;
  std::unique_ptr<asap::AsapServer> asap_;
  std::vector<PoolHandle> handles_;
  std::vector<PeState> pes_state_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::vector<std::uint8_t> message_;
  ConnectionId next_connection_ = 2;
  TimeNs rereg_ = 0;
  std::size_t periodic_ = 0;
  bool moving_phase_ = true;
  std::mt19937_64 rng_{42};
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t pes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  const double rate = argc > 2 ? std::strtod(argv[2], nullptr) : 10'000;
  const double seconds = argc > 3 ? std::strtod(argv[3], nullptr) : 60;
  const TimeNs rereg = (argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0) * kNsPerMs;
  if (pes == 0 || rate <= 0 || seconds <= 0) {
    std::fprintf(stderr, "usage: enrp_per_move [pes] [moves_per_s] [seconds] [rereg_ms]\n");
    return 2;
  }
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0) std::printf("allocator: jemalloc %s\n", version);
  const std::string periodic = rereg == 0 ? std::string("off") : std::to_string(rereg / kNsPerMs) + " ms";
  std::printf(
      "%zu PEs, one association each, address check on; %.0f moves/s for %.0f s (simulated time); "
      "periodic re-registration %s\n",
      pes, rate, seconds, periodic.c_str());
  const Scenario scenarios[] = {
      {"mbb, transport_update_delay_ms=0", MoveKind::kMakeBeforeBreak, 0},
      {"mbb, transport_update_delay_ms=30000", MoveKind::kMakeBeforeBreak, 30 * kNsPerSec},
      {"bbm, transport_update_delay_ms=30000", MoveKind::kBreakBeforeMake, 30 * kNsPerSec},
  };
  int status = 0;
  for (const Scenario& s : scenarios) {
    Run run(s, pes);
    const Result r = run.run(rate, seconds, rereg);
    if (r.set_up_failed) return 1;
    // Periodic re-registrations cost one update each, moves or not: not move traffic.
    auto per_move = [](std::size_t updates, std::size_t rereg, std::size_t moves) {
      const double u = updates > rereg ? static_cast<double>(updates - rereg) : 0.0;
      return moves == 0 ? 0.0 : u / static_cast<double>(moves);
    };
    std::printf(
        "%-38s moves %zu, periodic re-registrations %zu; Handle Updates per move: steady state %.3f ((%zu - "
        "%zu) "
        "/ %zu), with drain %.3f; coalesced %llu, rebinds %llu; PEs at end %zu; wall %.0f ms for moves, "
        "timers "
        "and drain (%.0f moves/s on one thread)\n",
        s.name, r.moves, r.rereg, per_move(r.steady_updates, r.steady_rereg, r.steady_moves),
        r.steady_updates, r.steady_rereg, r.steady_moves, per_move(r.updates, r.rereg, r.moves),
        static_cast<unsigned long long>(r.coalesced), static_cast<unsigned long long>(r.rebinds),
        r.pes_at_end, r.wall_ms, static_cast<double>(r.moves) / (r.wall_ms / 1e3));
    if (r.pes_at_end != pes) status = 1;  // a move must never lose a PE
  }
  return status;
}
