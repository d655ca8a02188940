// Resolution latency while a large association is torn down (issue 16 item 3), in process:
// AsapServer on a real handlespace (jemalloc, as poolregd), a MessageOutput that only counts,
// an ENRP listener that encodes one Handle Update DEL per removed owned PE (as a registrar with
// one peer would), the steady clock. Registers <pes> PEs over association 1 (ASAP Registration
// messages through on_message), 1000 PEs over association 2 in the same pools, then closes
// association 1 and runs an event loop that, per iteration, runs the server's due timers (the
// teardown pass) and then answers one Handle Resolution from a PU (association 3). A
// resolution that arrives during a pass waits for the rest of it: the iteration's duration is
// that resolution's worst-case wait. Prints the teardown's first pass (inside
// on_connection_closed), total time, passes, and max / p99 / p50 of the iteration durations.
//   teardown_latency [pes, default 1000000] [pools, default 10000]
// Written against the API common to the old and the new AsapServer, so one source measures
// both (the old one removes everything inside on_connection_closed).
#include <jemalloc/jemalloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "registrar/asap/asap_server.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/common/registrar_events.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"

namespace {

using namespace poolreg;
using Wall = std::chrono::steady_clock;

constexpr RegistrarId kOwnId = 0x0a0b0c0d;

class CountingOutput final : public MessageOutput {
 public:
  bool send(ConnectionId, WireProtocol, std::span<const std::uint8_t> message) override {
    ++sent;
    bytes += message.size();
    return true;
  }
  void abort(ConnectionId) override {}
  ConnectionId connect(WireProtocol, const TransportEndpoint&) override { return kNoConnectionId; }
  std::size_t sent = 0;
  std::size_t bytes = 0;
};

// Encodes the ENRP Handle Update DEL of every removed owned PE (into a reused buffer).
class DelEncodingListener final : public OwnedPeListener {
 public:
  void on_owned_pe_registered(const PoolHandle&, const PoolElement&) override {}
  void on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) override {
    update_.sender = kOwnId;
    update_.receiver = 0x11223344;
    update_.action = wire::UpdateAction::kDeletePe;
    update_.pool_handle = handle;
    update_.element = pe;
    buffer_.clear();
    if (!wire::encode(update_, wire::WireOptions{}, buffer_).ok()) std::abort();
    ++dels;
  }
  std::size_t dels = 0;

 private:
  wire::HandleUpdate update_;
  std::vector<std::uint8_t> buffer_;
};

ConnectionPeer sctp_peer(IpAddress address, std::uint16_t port) {
  ConnectionPeer p;
  p.kind = TransportProtocol::kSctp;
  p.protocol = WireProtocol::kAsap;
  p.addresses = {address};
  p.port = port;
  return p;
}

PoolElement pe_of(PoolElementId id, IpAddress address) {
  PoolElement pe;
  pe.id = id;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = 7;
  pe.user_transport.addresses = {address};
  pe.policy.type = PolicyType::kRoundRobin;
  return pe;
}

// This thread's CPU time: on a shared machine the wall time of a pass includes time the thread
// was not running at all (other processes); the CPU time is what the pass itself costs.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double ms_since(Wall::time_point t0) { return std::chrono::duration<double, std::milli>(Wall::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  const std::size_t pes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::size_t pools = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000;
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0) std::printf("allocator: jemalloc %s\n", version);

  handlespace::QsbrDomain domain(8);
  handlespace::HandlespaceConfig hc;
  hc.limits.max_pools = pools + 10;
  handlespace::Handlespace hs(hc, domain);
  handlespace::ReaderContext reader(domain, 1);
  reader.online();
  CountingOutput out;
  DelEncodingListener enrp;
  SteadyClock clock;
  asap::AsapConfig config;
  config.registrar_id = kOwnId;
  // Keep-alives left out: at the RFC 5 s interval they would fire during the (long) set-up
  // and time out (nobody acks here), removing PEs before the teardown.
  config.keepalive_interval = 3600 * kNsPerSec;
  asap::AsapServer server(config, hs, reader, out, clock, &enrp);

  const IpAddress pe_host = IpAddress::v4(0x0a010101);
  server.on_connection_up(1, sctp_peer(pe_host, 50000));
  server.on_connection_up(2, sctp_peer(IpAddress::v4(0x0a020202), 50001));
  server.on_connection_up(3, sctp_peer(IpAddress::v4(0x0a030303), 50002));
  std::vector<PoolHandle> handles;
  for (std::size_t p = 0; p < pools; ++p) handles.push_back(*PoolHandle::from_string("pool-" + std::to_string(p)));

  std::vector<std::uint8_t> message;
  wire::Registration reg;
  auto register_over = [&](ConnectionId c, PoolElementId id, IpAddress address, std::size_t pool) {
    reg.pool_handle = handles[pool];
    reg.element = pe_of(id, address);
    message.clear();
    if (!wire::encode(reg, wire::WireOptions{}, message).ok()) std::abort();
    server.on_message(c, message);
  };
  auto t0 = Wall::now();
  for (std::size_t i = 0; i < pes; ++i) register_over(1, i + 1, pe_host, i % pools);
  for (std::size_t i = 0; i < 1000; ++i) register_over(2, pes + 1 + i, IpAddress::v4(0x0a020202), i % pools);
  std::printf("registered %zu + 1000 PEs in %.0f ms (%zu in the handlespace)\n", pes, ms_since(t0),
              hs.counters().pes);
  if (hs.counters().pes != pes + 1000) return 1;

  wire::HandleResolution hr;
  std::vector<std::vector<std::uint8_t>> resolutions(64);
  for (std::size_t i = 0; i < resolutions.size(); ++i) {
    hr.pool_handle = handles[(i * 131) % pools];
    if (!wire::encode(hr, wire::WireOptions{}, resolutions[i]).ok()) std::abort();
  }

  t0 = Wall::now();
  double c0 = thread_cpu_ms();
  server.on_connection_closed(1);
  const double first_pass_ms = ms_since(t0);
  const double first_pass_cpu_ms = thread_cpu_ms() - c0;
  std::vector<double> waits, cpu_waits;
  const std::size_t answered_before = server.counters().resolutions;
  std::size_t passes = 0;
  for (std::size_t i = 0; hs.counters().pes > 1000 && i < 10'000'000; ++i) {
    const auto it = Wall::now();
    const double ct = thread_cpu_ms();
    if (auto due = server.next_timer_due(); due && *due <= clock.now()) {
      server.run_timers(clock.now());
      ++passes;
    }
    server.on_message(3, resolutions[i % resolutions.size()]);
    waits.push_back(ms_since(it));
    cpu_waits.push_back(thread_cpu_ms() - ct);
  }
  const double total_ms = ms_since(t0);
  const std::size_t answered = server.counters().resolutions - answered_before;
  std::printf("teardown of %zu PEs: %.1f ms total, %zu later passes, %zu ENRP DELs encoded, %zu resolutions "
              "answered meanwhile\n",
              pes, total_ms, passes, enrp.dels, answered);
  auto report = [](const char* what, std::vector<double>& v, double first) {
    std::sort(v.begin(), v.end());
    auto pct = [&](double q) {
      return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
    };
    std::printf("%s: first pass (in on_connection_closed) %.2f ms; loop iterations (a resolution's worst-case wait) "
                "max %.2f ms, p99 %.3f ms, p50 %.3f ms\n",
                what, first, v.empty() ? 0.0 : v.back(), pct(0.99), pct(0.50));
  };
  report("wall time", waits, first_pass_ms);
  report("thread CPU time", cpu_waits, first_pass_cpu_ms);
  reader.offline();
  return hs.counters().pes == 1000 && enrp.dels == pes ? 0 : 1;
}
