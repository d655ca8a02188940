// poolreg-assoc-scale-bench: N concurrent SCTP associations with one PE each on ONE lane
// (issue 16 item 4): set-up rate, registrar memory per idle association, heartbeats handled.
//
// The registrar side is what a poolregd lane plus its control thread run for these
// associations, in one thread: sctp::SctpEngine on the linked usrsctp copy (AF_CONN, the lane's
// tunables: path MTU 1452, SCTP heartbeat asap.sctp_heartbeat_interval_ms) with the ASAP
// listener, and asap::AsapServer with a Handlespace (the control thread's ASAP side; keep-alives
// at asap.keepalive_interval_ms). Engine events go to the server after each engine call, never
// from inside usrsctp's callbacks, as the daemon's event ring does; the server's output goes back
// through SctpEngine::send.
// The peers are the synthetic SCTP source (sctp_synth.hpp), one association each, each from its
// own IPv4 address (10.16.0.0 + i, UDP port 9899, SCTP port 20000 + i % 40000), fed to
// SctpEngine::on_sctp_packet and reading what the engine's packet path sends. Each peer:
// INIT, COOKIE ECHO, one Registration (pool "ScalePool", its own address as user transport),
// then answers every SCTP HEARTBEAT (HEARTBEAT ACK) and every ASAP Endpoint Keep-Alive
// (Keep-Alive Ack), and SACKs all DATA.
//
// Phases: set-up in batches of --batch associations (each batch driven until every peer of it
// is registered or failed); then --idle-s seconds idle: engine and server timers are offered a
// run every millisecond, as a lane's loop does (the engine runs usrsctp's at most every
// timer_granularity_ms). Reported:
//   set-ups/s                associations up + PE registered per wall second of the set-up phase
//   per registrar CPU-second the same per CPU second (thread CPU time) spent inside the
//                            registrar's calls (engine input, timers, server): the synthetic
//                            peers' work and other processes on a shared machine left out
//   memory per association   (RSS and jemalloc stats.allocated after the idle phase - before the
//                            set-up) / N; the peers' state is allocated before the first snapshot
//   jemalloc size classes    where the allocated growth lies (largest first): who allocates what
//   idle                     heartbeats/s and keep-alives/s answered; process CPU per second;
//                            the timer runs' CPU; registrar CPU per inbound packet (timers included)
//   survived                 associations still up and PEs still registered at the end
// What it leaves out: the packet source (DPDK rx/tx, frame parsing, kernel UDP) and its
// per-packet cost, the event/command rings between a lane and the control thread (one thread
// here), ENRP; loss and reordering (none); and the peers run on the same core as the registrar
// (the per-CPU-second rate separates them).
#include <arpa/inet.h>
#include <jemalloc/jemalloc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/sctp/sctp_engine.hpp"
#include "perf/dataplane/sctp_synth.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace {

using namespace poolreg;

constexpr std::uint32_t kFirstPeerIp = 0x0a100000;  // 10.16.0.0
constexpr std::uint8_t kRegistrarIp[4] = {10, 0, 0, 1};
constexpr std::uint16_t kUdpPort = 9899;
constexpr std::uint16_t kAsapPort = 3863;
constexpr std::uint32_t kAsapPpid = 11;
constexpr std::uint8_t kRegistrationResponse = 0x03, kKeepAlive = 0x07;

struct Options {
  std::uint32_t associations = 10000;
  std::uint32_t batch = 1000;
  double idle_s = 10;
  std::uint32_t heartbeat_ms = 1000;  // asap.sctp_heartbeat_interval_ms default
  std::uint32_t keepalive_ms = 5000;  // asap.keepalive_interval_ms default
  std::uint32_t send_space = 0;       // 0: the engine's default
  std::uint32_t receive_space = 0;
  std::uint16_t streams = 0;        // registrar's outbound streams (0: the engine's default)
  std::uint16_t peer_streams = 16;  // the peers' INIT stream counts
  std::uint32_t timer_ms = 0;       // engine timer_granularity_ms (0: the engine default)
  bool register_pe = true;
  std::uint32_t size_classes = 8;
};

// ---- memory ----
std::uint64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t je_u64(const char* name) {
  std::size_t v = 0, len = sizeof v;
  return mallctl(name, &v, &len, nullptr, 0) == 0 ? v : 0;
}

// Bytes in use per jemalloc size class (small bins, then large extents).
struct SizeClasses {
  std::vector<std::uint64_t> size, bytes;
};
SizeClasses size_classes() {
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  mallctl("epoch", &epoch, &len, &epoch, len);
  SizeClasses out;
  unsigned nbins = 0, nlextents = 0;
  len = sizeof nbins;
  mallctl("arenas.nbins", &nbins, &len, nullptr, 0);
  len = sizeof nlextents;
  mallctl("arenas.nlextents", &nlextents, &len, nullptr, 0);
  const std::string all = "stats.arenas." + std::to_string(MALLCTL_ARENAS_ALL);
  for (unsigned j = 0; j < nbins; ++j) {
    const std::uint64_t sz = je_u64(("arenas.bin." + std::to_string(j) + ".size").c_str());
    const std::uint64_t n = je_u64((all + ".bins." + std::to_string(j) + ".curregs").c_str());
    out.size.push_back(sz);
    out.bytes.push_back(sz * n);
  }
  for (unsigned j = 0; j < nlextents; ++j) {
    const std::uint64_t sz = je_u64(("arenas.lextent." + std::to_string(j) + ".size").c_str());
    const std::uint64_t n = je_u64((all + ".lextents." + std::to_string(j) + ".curlextents").c_str());
    out.size.push_back(sz);
    out.bytes.push_back(sz * n);
  }
  return out;
}

struct Memory {
  std::uint64_t rss = 0;
  std::uint64_t allocated = 0;
  SizeClasses classes;
};
Memory memory_now() {
  Memory m;
  m.classes = size_classes();  // refreshes the epoch
  m.allocated = je_u64("stats.allocated");
  m.rss = rss_bytes();
  return m;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The calling thread's CPU time: the registrar's share on a shared machine, where wall time also
// counts other processes' turns.
std::uint64_t thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1000000000u + static_cast<std::uint64_t>(t.tv_nsec);
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// ---- the peers ----
struct Peer {
  perf::SynthAssociation sctp;
  bool registered = false;
  bool failed = false;
};

// One SCTP packet in flight (bytes in a shared arena).
struct Packet {
  std::uint32_t peer = 0;  // index of the peer it is from / for
  std::size_t offset = 0;
  std::uint16_t length = 0;
};

class PacketQueue {
 public:
  void push(std::uint32_t peer, const std::uint8_t* bytes, std::size_t length) {
    packets_.push_back(Packet{peer, arena_.size(), static_cast<std::uint16_t>(length)});
    arena_.insert(arena_.end(), bytes, bytes + length);
  }
  bool empty() const noexcept { return packets_.empty(); }
  // Takes the queued packets into `into` (swapped), leaving this queue empty.
  void take(std::vector<Packet>& packets, std::vector<std::uint8_t>& arena) {
    packets.clear();
    arena.clear();
    packets.swap(packets_);
    arena.swap(arena_);
  }
  void release() {
    std::vector<Packet>().swap(packets_);
    std::vector<std::uint8_t>().swap(arena_);
  }

 private:
  std::vector<Packet> packets_;
  std::vector<std::uint8_t> arena_;
};

// The engine's packet path: what the registrar sends, kept for the peers.
class CollectingPath final : public sctp::SctpPacketPath {
 public:
  CollectingPath(std::uint32_t peers, PacketQueue& out) : peers_(peers), out_(out) {}
  bool send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) override {
    std::uint32_t ip = 0;
    std::memcpy(&ip, to.ip, 4);
    const std::uint32_t index = ntohl(ip) - kFirstPeerIp;
    if (to.ipv6 || index >= peers_) {
      ++unknown;
      return false;
    }
    out_.push(index, packet, length);
    return true;
  }
  bool reaches(const sctp::SctpPeer&) const override { return true; }
  std::uint8_t path_index() const noexcept override { return 0; }
  std::uint64_t unknown = 0;

 private:
  std::uint32_t peers_;
  PacketQueue& out_;
};

// What the engine reports, kept until its call returned (the daemon's event ring).
struct EngineEvent {
  enum class Kind : std::uint8_t { kUp, kMessage, kClosed, kActivity, kAddresses } kind = Kind::kUp;
  ConnectionId id = 0;
  ConnectionPeer peer;
  std::uint8_t* data = nullptr;
  std::size_t length = 0;
  std::uint32_t srtt_us = 0;
};

class QueuedEvents final : public sctp::EngineEventSink {
 public:
  void on_connected(ConnectionId id, const ConnectionPeer& peer) override {
    events.push_back({EngineEvent::Kind::kUp, id, peer, nullptr, 0, 0});
  }
  void on_message(ConnectionId id, const runtime::MessageInfo& info, std::uint8_t* data,
                  std::size_t length) override {
    events.push_back({EngineEvent::Kind::kMessage, id, {}, data, length, info.srtt_us});
  }
  void on_closed(ConnectionId id, sctp::CloseReason) override {
    events.push_back({EngineEvent::Kind::kClosed, id, {}, nullptr, 0, 0});
  }
  void on_unknown_ppid(ConnectionId, std::uint32_t) override { ++unknown_ppid; }
  void on_activity(ConnectionId id) override {
    events.push_back({EngineEvent::Kind::kActivity, id, {}, nullptr, 0, 0});
  }
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override {
    events.push_back({EngineEvent::Kind::kAddresses, id, peer, nullptr, 0, 0});
  }
  std::vector<EngineEvent> events;
  std::uint64_t unknown_ppid = 0;
};

// AsapServer's output: straight into the engine (the daemon's command ring, without the ring).
class EngineOutput final : public MessageOutput {
 public:
  explicit EngineOutput(sctp::SctpEngine& engine) : engine_(engine) {}
  bool send(ConnectionId c, WireProtocol protocol, std::span<const std::uint8_t> message) override {
    return runtime::send_ok(engine_.send(c, protocol, message));
  }
  void abort(ConnectionId c) override {
    ++aborts;
    engine_.abort(c);
  }
  void close(ConnectionId c) override {
    ++closes;
    engine_.close(c);
  }
  ConnectionId connect(WireProtocol, const TransportEndpoint&) override { return kNoConnectionId; }
  std::uint64_t aborts = 0, closes = 0;

 private:
  sctp::SctpEngine& engine_;
};

class Bench {
 public:
  explicit Bench(const Options& o)
      : o_(o),
        hs_(handlespace::HandlespaceConfig{}, domain_),
        reader_(domain_, 7),
        path_(o.associations, to_peers_) {
    peers_.resize(o.associations);
    for (std::uint32_t i = 0; i < o.associations; ++i) {
      Peer& p = peers_[i];
      p.sctp.local_port = static_cast<std::uint16_t>(20000 + i % 40000);
      p.sctp.peer_port = kAsapPort;
      p.sctp.local_tag = 0x5eed0000u + i + 1;
      p.sctp.next_tsn = 1000;
    }
    handle_ = *PoolHandle::from_string("ScalePool");
  }
  ~Bench() {
    server_.reset();
    reader_.offline();
  }

  std::string start() {
    sctp::SctpEngineConfig ec;
    ec.path_mtu = 1500 - 48;
    ec.heartbeat_interval_ms = o_.heartbeat_ms;
    if (o_.send_space != 0) ec.send_space = o_.send_space;
    if (o_.receive_space != 0) ec.receive_space = o_.receive_space;
    if (o_.streams != 0) ec.streams = o_.streams;
    if (o_.timer_ms != 0) ec.timer_granularity_ms = o_.timer_ms;
    auto engine = sctp::SctpEngine::create(ec, ids_);
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    if (!engine_->listen(WireProtocol::kAsap, kAsapPort).has_value()) return "ASAP listener";
    engine_->attach({&path_}, &events_, nullptr);
    output_ = std::make_unique<EngineOutput>(*engine_);
    asap_.registrar_id = 0x1234;
    asap_.keepalive_interval = static_cast<TimeNs>(o_.keepalive_ms) * kNsPerMs;
    asap_.max_associations = o_.associations;  // limits.max_associations as measured
    // The daemon's defaults (limits.first_message_timeout_ms, asap.association_idle_timeout_ms):
    // the server's sweep over its associations runs as in poolregd.
    // --no-register measures associations alone: no first message, so no first-message timeout.
    asap_.first_message_timeout = o_.register_pe ? 5 * kNsPerSec : 0;
    asap_.association_idle_timeout = 300 * kNsPerSec;
    reader_.online();
    server_ = std::make_unique<asap::AsapServer>(asap_, hs_, reader_, *output_, clock_, nullptr);
    return {};
  }

  // Opens peers [first, last) and drives them until each is registered (or up, without
  // registration) or failed.
  void open(std::uint32_t first, std::uint32_t last) {
    for (std::uint32_t i = first; i < last; ++i) {
      const auto init = perf::build_init(peers_[i].sctp, o_.peer_streams);
      to_registrar_.push(i, init.data(), init.size());
    }
    for (int rounds = 0; rounds < 100000; ++rounds) {
      pump();
      bool done = true;
      for (std::uint32_t i = first; i < last && done; ++i) done = peers_[i].failed || ready(peers_[i]);
      if (done) return;
      tick();  // delayed SACKs, retransmissions: a lost step is retried by usrsctp's timers
    }
  }

  // One lane-loop pass of timers.
  void tick() {
    const std::uint64_t t0 = thread_cpu_ns();
    engine_->run_timers(now_ns() / 1000000);
    server_->run_timers(static_cast<TimeNs>(clock_.now()));
    dispatch_events();
    const std::uint64_t spent = thread_cpu_ns() - t0;
    registrar_ns_ += spent;
    timer_ns_ += spent;
    pump();
  }

  // Feeds the peers' packets to the engine and the engine's to the peers until both are quiet.
  void pump() {
    for (;;) {
      dispatch_events();
      if (to_registrar_.empty() && to_peers_.empty()) return;
      if (!to_registrar_.empty()) {
        to_registrar_.take(batch_, arena_);
        const std::uint64_t t0 = thread_cpu_ns();
        for (const Packet& p : batch_) {
          sctp::SctpPacketFrom from;
          const std::uint32_t ip = htonl(kFirstPeerIp + p.peer);
          std::memcpy(from.src_ip, &ip, 4);
          std::memcpy(from.dst_ip, kRegistrarIp, 4);
          from.src_port = kUdpPort;
          engine_->on_sctp_packet(from, arena_.data() + p.offset, p.length);
          ++packets_in;
          dispatch_events();
        }
        registrar_ns_ += thread_cpu_ns() - t0;
      }
      if (!to_peers_.empty()) {
        to_peers_.take(batch_, arena_);
        for (const Packet& p : batch_) peer_input(p.peer, arena_.data() + p.offset, p.length);
      }
    }
  }

  void release_buffers() {
    to_registrar_.release();
    to_peers_.release();
    std::vector<Packet>().swap(batch_);
    std::vector<std::uint8_t>().swap(arena_);
    std::vector<EngineEvent>().swap(events_.events);
  }

  bool ready(const Peer& p) const { return o_.register_pe ? p.registered : p.sctp.established; }
  std::uint32_t count_ready() const {
    std::uint32_t n = 0;
    for (const Peer& p : peers_) n += (ready(p) && !p.sctp.aborted) ? 1 : 0;
    return n;
  }
  std::uint32_t count_failed() const {
    std::uint32_t n = 0;
    for (const Peer& p : peers_) n += (p.failed || p.sctp.aborted) ? 1 : 0;
    return n;
  }

  sctp::SctpEngine& engine() { return *engine_; }
  asap::AsapServer& server() { return *server_; }
  handlespace::Handlespace& handlespace() { return hs_; }
  const EngineOutput& output() const { return *output_; }
  std::uint64_t registrar_ns() const { return registrar_ns_; }
  std::uint64_t timer_ns() const { return timer_ns_; }  // the part in the timer runs
  std::uint64_t heartbeats = 0, keepalives = 0, registrations_answered = 0, closed_events = 0;
  std::uint64_t packets_in = 0;  // SCTP packets the engine received

 private:
  void dispatch_events() {
    // The server may make the engine report more (an abort): take them in turns.
    while (!events_.events.empty()) {
      std::vector<EngineEvent> now;
      now.swap(events_.events);
      for (EngineEvent& e : now) {
        switch (e.kind) {
          case EngineEvent::Kind::kUp:
            server_->on_connection_up(e.id, e.peer);
            break;
          case EngineEvent::Kind::kMessage:
            server_->on_message(e.id, {e.data, e.length}, e.srtt_us);
            std::free(e.data);
            break;
          case EngineEvent::Kind::kClosed:
            ++closed_events;
            server_->on_connection_closed(e.id);
            break;
          case EngineEvent::Kind::kActivity:
            server_->on_activity(e.id);
            break;
          case EngineEvent::Kind::kAddresses:
            server_->on_addresses_changed(e.id, e.peer);
            break;
        }
      }
    }
  }

  void send_to_registrar(std::uint32_t i, const std::vector<std::uint8_t>& packet) {
    to_registrar_.push(i, packet.data(), packet.size());
  }

  void peer_input(std::uint32_t i, const std::uint8_t* bytes, std::size_t length) {
    Peer& p = peers_[i];
    perf::PeerInput in = perf::consume(p.sctp, bytes, length, kKeepAlive);
    if (in.wrong_tag) return;
    if (in.abort) p.failed = true;
    if (in.init_ack) send_to_registrar(i, perf::build_cookie_echo(p.sctp, in.cookie));
    if (in.cookie_ack && o_.register_pe)
      send_to_registrar(i, perf::build_data(p.sctp, kAsapPpid, registration(i)));
    if ((in.asap_types & (1u << kRegistrationResponse)) != 0) {
      p.registered = true;
      ++registrations_answered;
    }
    if (in.heartbeats != 0) {
      heartbeats += in.heartbeats;
      send_to_registrar(i, perf::build_heartbeat_ack(p.sctp, in.heartbeat_info));
    }
    for (unsigned k = 0; k < in.counted; ++k) {
      ++keepalives;
      send_to_registrar(i, perf::build_data(p.sctp, kAsapPpid, keepalive_ack(i)));
    }
    if (p.sctp.sack_due) send_to_registrar(i, perf::build_sack(p.sctp));
  }

  PoolElementId pe_id(std::uint32_t i) const { return 0x10000000u + i; }

  const std::vector<std::uint8_t>& registration(std::uint32_t i) {
    PoolElement pe;
    pe.id = pe_id(i);
    pe.registration_life_ms = 30000;
    pe.user_transport.protocol = TransportProtocol::kSctp;
    pe.user_transport.port = 7000;
    pe.user_transport.addresses.push_back(IpAddress::v4(kFirstPeerIp + i));
    pe.policy.type = PolicyType::kRoundRobin;
    wire::Registration r;
    r.pool_handle = handle_;
    r.element = pe;
    scratch_.clear();
    (void)wire::encode(r, wire::WireOptions{}, wire::ByteSink(scratch_));
    return scratch_;
  }
  const std::vector<std::uint8_t>& keepalive_ack(std::uint32_t i) {
    scratch_.clear();
    (void)wire::encode(wire::EndpointKeepAliveAck{handle_, pe_id(i)}, wire::WireOptions{},
                       wire::ByteSink(scratch_));
    return scratch_;
  }

  Options o_;
  std::atomic<std::uint64_t> ids_{1};
  handlespace::QsbrDomain domain_{8};
  handlespace::Handlespace hs_;
  handlespace::ReaderContext reader_;
  asap::AsapConfig asap_;
  SteadyClock clock_;
  PoolHandle handle_;
  std::vector<Peer> peers_;
  PacketQueue to_registrar_, to_peers_;
  std::vector<Packet> batch_;
  std::vector<std::uint8_t> arena_;
  std::vector<std::uint8_t> scratch_;
  CollectingPath path_;
  QueuedEvents events_;
  std::unique_ptr<sctp::SctpEngine> engine_;
  std::unique_ptr<EngineOutput> output_;
  std::unique_ptr<asap::AsapServer> server_;
  std::uint64_t registrar_ns_ = 0;
  std::uint64_t timer_ns_ = 0;
};

void print_size_classes(const Memory& before, const Memory& after, std::uint32_t n, std::uint32_t top) {
  struct Row {
    std::uint64_t size;
    std::int64_t delta;
  };
  std::vector<Row> rows;
  for (std::size_t j = 0; j < after.classes.size.size() && j < before.classes.size.size(); ++j)
    rows.push_back({after.classes.size[j], static_cast<std::int64_t>(after.classes.bytes[j]) -
                                               static_cast<std::int64_t>(before.classes.bytes[j])});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.delta > b.delta; });
  std::printf("jemalloc growth by size class (bytes per association, allocations per association):\n");
  for (std::uint32_t k = 0; k < top && k < rows.size() && rows[k].delta > 0; ++k)
    std::printf("  class %7llu B: %8.1f B/assoc  %6.2f allocs/assoc\n",
                static_cast<unsigned long long>(rows[k].size), static_cast<double>(rows[k].delta) / n,
                static_cast<double>(rows[k].delta) / static_cast<double>(rows[k].size) / n);
}

}  // namespace

static int run(int argc, char** argv) {
  Options o;
  CLI::App app{"N SCTP associations with one PE each on one lane: set-up rate, memory per idle association"};
  app.add_option("-n,--associations", o.associations, "associations (one PE each)")
      ->check(CLI::Range(1u, 10000000u));
  app.add_option("--batch", o.batch, "associations opened at once during set-up")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--idle-s", o.idle_s, "seconds held idle after set-up")->check(CLI::Range(0.0, 3600.0));
  app.add_option("--heartbeat-ms", o.heartbeat_ms,
                 "SCTP heartbeat interval (asap.sctp_heartbeat_interval_ms)");
  app.add_option("--keepalive-ms", o.keepalive_ms, "ASAP keep-alive interval (asap.keepalive_interval_ms)");
  app.add_option("--send-space", o.send_space, "usrsctp default SO_SNDBUF (0: engine default)");
  app.add_option("--receive-space", o.receive_space, "usrsctp default SO_RCVBUF (0: engine default)");
  app.add_option("--streams", o.streams, "registrar's outbound streams (0: engine default)");
  app.add_option("--peer-streams", o.peer_streams, "streams the peers ask for in their INIT")
      ->check(CLI::Range(1, 65535));
  app.add_option("--timer-ms", o.timer_ms, "usrsctp timers at most every this many ms (0: engine default)");
  app.add_flag("!--no-register", o.register_pe, "associations only, no PE registration");
  app.add_option("--size-classes", o.size_classes, "jemalloc size classes to list");
  CLI11_PARSE(app, argc, argv);

  const char* version = nullptr;
  std::size_t len = sizeof version;
  if (mallctl("version", &version, &len, nullptr, 0) == 0) std::printf("allocator: jemalloc %s\n", version);

  Bench bench(o);
  if (auto error = bench.start(); !error.empty()) {
    std::fprintf(stderr, "start: %s\n", error.c_str());
    return 1;
  }
  const Memory m0 = memory_now();
  const double cpu0 = cpu_seconds();
  const std::uint64_t t0 = now_ns();
  std::uint64_t next_tick = t0;
  for (std::uint32_t first = 0; first < o.associations; first += o.batch) {
    bench.open(first, std::min(o.associations, first + o.batch));
    const std::uint32_t done = std::min(o.associations, first + o.batch);
    if (done % 10000 == 0)  // progress of long runs: how far set-up got, and its rate by now
      std::fprintf(stderr, "  %u set up after %.1f s, %.3f registrar CPU-s per 1000 so far\n", done,
                   static_cast<double>(now_ns() - t0) / 1e9,
                   static_cast<double>(bench.registrar_ns()) / 1e6 / done);
    if (now_ns() >= next_tick) {  // timers as a lane runs them, at most every millisecond
      bench.tick();
      next_tick = now_ns() + 1000000;
    }
  }
  const std::uint64_t t1 = now_ns();
  const double setup_s = static_cast<double>(t1 - t0) / 1e9;
  const double setup_registrar_s = static_cast<double>(bench.registrar_ns()) / 1e9;
  const std::uint32_t up = bench.count_ready();
  bench.release_buffers();
  const Memory m1 = memory_now();
  std::printf(
      "set-up: %u of %u associations %s in %.2f s (%u failed): %.0f set-ups/s, %.0f per registrar "
      "CPU-second (%.2f CPU-s inside the registrar's calls, %.2f CPU-s in all)\n",
      up, o.associations, o.register_pe ? "up with their PE registered" : "up", setup_s, bench.count_failed(),
      up / setup_s, up / setup_registrar_s, setup_registrar_s, cpu_seconds() - cpu0);

  // Idle: a lane's loop (timers every millisecond), the peers answering.
  const std::uint64_t hb0 = bench.heartbeats, ka0 = bench.keepalives, reg0 = bench.registrar_ns(),
                      in0 = bench.packets_in, timers0 = bench.timer_ns();
  const double cpu_idle0 = cpu_seconds();
  const std::uint64_t idle_end = now_ns() + static_cast<std::uint64_t>(o.idle_s * 1e9);
  while (now_ns() < idle_end) {
    const std::uint64_t pass = now_ns();
    bench.tick();
    const std::uint64_t spent = now_ns() - pass;
    if (spent < 1000000) std::this_thread::sleep_for(std::chrono::nanoseconds(1000000 - spent));
  }
  const double idle_cpu = cpu_seconds() - cpu_idle0;
  const std::uint64_t idle_in = bench.packets_in - in0;
  const double idle_registrar_s = static_cast<double>(bench.registrar_ns() - reg0) / 1e9;
  bench.release_buffers();
  const Memory m2 = memory_now();
  const std::uint32_t survived = bench.count_ready();
  const double n = o.associations;
  std::printf(
      "idle %.0f s: %.0f SCTP heartbeats/s, %.0f ASAP keep-alives/s answered by the peers; process CPU "
      "%.2f s/s (registrar calls %.2f CPU-s/s)\n",
      o.idle_s, static_cast<double>(bench.heartbeats - hb0) / o.idle_s,
      static_cast<double>(bench.keepalives - ka0) / o.idle_s, idle_cpu / o.idle_s,
      idle_registrar_s / o.idle_s);
  std::printf("idle: timer runs (engine + server, what they send included) %.3f CPU-s/s\n",
              static_cast<double>(bench.timer_ns() - timers0) / 1e9 / o.idle_s);
  std::printf("idle: %llu packets into the registrar, %.1f us registrar CPU per packet (timers included)\n",
              static_cast<unsigned long long>(idle_in),
              idle_in == 0 ? 0.0 : idle_registrar_s * 1e6 / static_cast<double>(idle_in));
  std::printf(
      "survived: %u of %u (engine %zu associations, server %zu associations, %zu PEs monitored, "
      "%llu closes reported, %llu aborts and %llu closes by the server)\n",
      survived, o.associations, bench.engine().connection_count(), bench.server().associations(),
      bench.server().monitored_pes(), static_cast<unsigned long long>(bench.closed_events),
      static_cast<unsigned long long>(bench.output().aborts),
      static_cast<unsigned long long>(bench.output().closes));
  std::printf("memory per association after set-up: RSS %.0f B, jemalloc allocated %.0f B\n",
              (static_cast<double>(m1.rss) - static_cast<double>(m0.rss)) / n,
              (static_cast<double>(m1.allocated) - static_cast<double>(m0.allocated)) / n);
  std::printf("memory per idle association (after idle): RSS %.0f B, jemalloc allocated %.0f B\n",
              (static_cast<double>(m2.rss) - static_cast<double>(m0.rss)) / n,
              (static_cast<double>(m2.allocated) - static_cast<double>(m0.allocated)) / n);
  print_size_classes(m0, m2, o.associations, o.size_classes);
  std::printf(
      "total CPU %.1f s; left out: packet source (DPDK/kernel UDP), lane<->control rings, ENRP; "
      "peers share the core (set-up)\n",
      cpu_seconds() - cpu0);
  return survived == o.associations ? 0 : 2;
}

int main(int argc, char** argv) {
  // A bench has nothing to recover: an exception (a failed allocation at 10^5 associations, CLI11)
  // ends the run with a message and a failure status instead of std::terminate.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poolreg-assoc-scale-bench: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "poolreg-assoc-scale-bench: unknown exception\n");
  }
  return 1;
}
