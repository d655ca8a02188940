// poolreg-sctp-synth: the synthetic SCTP source of poolreg-dpdk-resolution-bench (sctp_synth.hpp)
// over a real UDP socket (SCTP over UDP, RFC 6951), for the registrars that are not in-process:
// poolregd on kernel sockets (the baseline of the DPDK lanes) or poolregd --dpdk behind a veth.
// Opens --associations associations (a distinct SCTP port each, spread round robin over --sockets
// UDP sockets: a registrar with several lanes steers peers by IP and UDP port), then, for
// --seconds, keeps --window Handle Resolutions in flight, round robin over the associations
// (SACKs sent as answers come in), and waits for the last answers. Prints one line:
//   synth associations=128 requests=123456 answers=123456 seconds=3.00 rate=41152
// --writes: instead of Handle Resolutions, each association carries one PE of its own (PE ID
// 0x10000 + association number, pools WritePool-0..63, its user address the source's
// --local-address so that the address check keeps it; write_requests.hpp) and sends its
// Registration: the first one registers the PE (not timed: every PE is registered before the
// --seconds start), every later one is a re-registration; the associations take turns in a
// random order, at most one write in flight per association (--window at most --associations).
// The answers counted are Registration Responses; refused ones (R=1) are reported as refused=N.
// Exit 1 when the handshake or the answers stall (2 s without progress).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "perf/dataplane/sctp_synth.hpp"
#include "perf/dataplane/write_requests.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace {

using namespace poolreg;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kTagBase = 0x7e570000;
constexpr std::uint8_t kHandleResolutionResponse = 6;

struct Source {
  std::vector<int> fds;  // association i uses fds[i % fds.size()]
  sockaddr_in to{};
  std::vector<perf::SynthAssociation> associations;
  std::vector<std::vector<std::uint8_t>> init_cookies;
  std::uint8_t count_type = kHandleResolutionResponse;
  std::vector<std::uint32_t> in_flight;  // per association (--writes)
  std::uint64_t refused = 0;             // Registration Responses with R=1 (--writes)

  void send(std::size_t association, const std::vector<std::uint8_t>& packet) const {
    ::sendto(fds[association % fds.size()], packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to),
             sizeof to);
  }
  // Reads what arrived (up to `wait_ms` for the first datagram); returns the answers counted.
  std::uint64_t receive(int wait_ms) {
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back(pollfd{fd, POLLIN, 0});
    if (::poll(p.data(), p.size(), wait_ms) <= 0) return 0;
    std::uint64_t answers = 0;
    std::uint8_t buffer[65536];
    for (int fd : fds) {
      for (int k = 0; k < 100000; ++k) {  // bounded; what is left is read next time
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0) break;
        const std::uint32_t tag = perf::packet_tag(buffer, static_cast<std::size_t>(n));
        if (tag < kTagBase || tag - kTagBase >= associations.size()) continue;
        const std::size_t i = tag - kTagBase;
        perf::PeerInput in = perf::consume(associations[i], buffer, static_cast<std::size_t>(n), count_type);
        if (in.init_ack) init_cookies[i] = std::move(in.cookie);
        answers += in.counted;
        if (!in_flight.empty()) in_flight[i] -= std::min<std::uint32_t>(in_flight[i], in.counted);
        // A refused registration: R flag (0x01) of a Registration Response in a lone DATA chunk
        // (12-byte common header, 16-byte DATA header, then the ASAP header).
        if (in.counted > 0 && n > 29 && buffer[12] == 0 && buffer[28] == count_type &&
            (buffer[29] & 0x01) != 0)
          ++refused;
      }
    }
    for (std::size_t i = 0; i < associations.size(); ++i)
      if (associations[i].sack_due && associations[i].established) send(i, perf::build_sack(associations[i]));
    return answers;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Synthetic SCTP-over-UDP load of pre-built ASAP Handle Resolutions"};
  std::string registrar = "127.0.0.1", pool = "BenchPool";
  std::uint16_t udp_port = 9899, sctp_port = 3863, first_port = 20000;
  unsigned count = 128, window = 32, sockets = 1;
  double seconds = 3.0;
  bool writes = false;
  std::string local_address = "127.0.0.1";
  app.add_option("--registrar", registrar, "the registrar's IPv4 address");
  app.add_option("--udp-port", udp_port, "its SCTP-over-UDP port");
  app.add_option("--sctp-port", sctp_port, "its ASAP port");
  app.add_option("--first-port", first_port, "SCTP port of the first association (one each from here)");
  app.add_option("--associations", count, "associations to open");
  app.add_option("--sockets", sockets, "UDP sockets (local ports) the associations are spread over");
  app.add_option("--window", window, "requests in flight (over all associations)");
  app.add_option("--seconds", seconds, "how long to send rounds");
  app.add_option("--pool", pool, "pool handle to resolve");
  app.add_flag("--writes", writes, "send each association's PE registration (re-registrations) instead");
  app.add_option("--local-address", local_address, "--writes: the PEs' user address (the source's address)");
  CLI11_PARSE(app, argc, argv);

  Source s;
  if (sockets == 0 || sockets > 1024) {
    std::fprintf(stderr, "bad --sockets\n");
    return 2;
  }
  for (unsigned k = 0; k < sockets; ++k) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    const int size = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);  // root: beyond rmem_max
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    s.fds.push_back(fd);
  }
  s.to.sin_family = AF_INET;
  s.to.sin_port = htons(udp_port);
  if (::inet_pton(AF_INET, registrar.c_str(), &s.to.sin_addr) != 1) {
    std::fprintf(stderr, "bad --registrar\n");
    return 2;
  }
  std::vector<std::uint8_t> request;
  wire::HandleResolution hr;
  hr.pool_handle = *PoolHandle::from_string(pool);
  if (!wire::encode(hr, wire::WireOptions{}, wire::ByteSink(request)).ok()) return 2;
  std::vector<std::vector<std::uint8_t>> registrations;  // --writes: per association
  if (writes) {
    std::uint8_t ip[4];
    if (::inet_pton(AF_INET, local_address.c_str(), ip) != 1) {
      std::fprintf(stderr, "bad --local-address\n");
      return 2;
    }
    for (unsigned i = 0; i < count; ++i) {
      registrations.push_back(
          perf::encode_pe_writes(perf::write_pool_name(i, 64), 0x10000 + i, ip).registration);
      if (registrations.back().empty()) return 2;
    }
    window = std::min(window, count);
    s.count_type = perf::kAsapRegistrationResponse;
    s.in_flight.assign(count, 0);
  }

  s.associations.resize(count);
  s.init_cookies.resize(count);
  for (unsigned i = 0; i < count; ++i) {
    auto& a = s.associations[i];
    a.local_port = static_cast<std::uint16_t>(first_port + i);
    a.peer_port = sctp_port;
    a.local_tag = kTagBase + i;
    a.next_tsn = 1000;
    s.send(i, perf::build_init(a));
  }
  auto wait_for = [&](auto done) {
    auto last = Clock::now();
    while (!done()) {
      if (s.receive(10) > 0 || Clock::now() - last < std::chrono::seconds(2)) continue;
      return false;
    }
    return true;
  };
  auto all = [&](auto pred) {
    for (unsigned i = 0; i < count; ++i)
      if (!pred(i)) return false;
    return true;
  };
  if (!wait_for([&] { return all([&](unsigned i) { return !s.init_cookies[i].empty(); }); })) {
    std::fprintf(stderr, "handshake: not every INIT was answered\n");
    return 1;
  }
  for (unsigned i = 0; i < count; ++i) s.send(i, perf::build_cookie_echo(s.associations[i], s.init_cookies[i]));
  if (!wait_for([&] { return all([&](unsigned i) { return s.associations[i].established; }); })) {
    std::fprintf(stderr, "handshake: not every COOKIE ECHO was answered\n");
    return 1;
  }

  // --writes: every PE registered before timing (a window's worth at a time).
  if (writes) {
    std::uint64_t sent = 0, got = 0;
    auto last = Clock::now();
    while (got < count) {
      while (sent < count && sent - got < window) {
        s.send(sent, perf::build_data(s.associations[sent], perf::kAsapPpid, registrations[sent]));
        s.in_flight[sent] = 1;
        ++sent;
      }
      const std::uint64_t n = s.receive(10);
      got += n;
      if (n > 0) {
        last = Clock::now();
      } else if (Clock::now() - last > std::chrono::seconds(2)) {
        std::fprintf(stderr, "registration stalled: %llu of %u answered\n", static_cast<unsigned long long>(got),
                     count);
        return 1;
      }
    }
  }
  std::vector<std::uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(0x5eed);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t turn = 0;  // --writes: position in `order`

  // Closed loop: at most --window requests in flight over all associations (round robin), so
  // the registrar's UDP socket buffer never overflows (this source does not retransmit).
  const std::uint64_t refused_before = s.refused;
  std::uint64_t requests = 0, answers = 0;
  std::size_t next = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto last = Clock::now();
  for (;;) {
    const bool sending = Clock::now() < end;
    if (!sending && answers >= requests) break;
    while (sending && requests - answers < window) {
      if (writes) {
        // The next association in the random order with no write in flight (window <= count).
        std::size_t tries = 0;
        while (s.in_flight[order[turn]] != 0 && tries++ < count) turn = (turn + 1) % count;
        const std::uint32_t a = order[turn];
        if (s.in_flight[a] != 0) break;
        s.send(a, perf::build_data(s.associations[a], perf::kAsapPpid, registrations[a]));
        s.in_flight[a] = 1;
        if (++turn == count) {
          turn = 0;
          std::shuffle(order.begin(), order.end(), rng);
        }
      } else {
        s.send(next, perf::build_data(s.associations[next], 11, request));
        next = (next + 1) % count;
      }
      ++requests;
    }
    const std::uint64_t got = s.receive(sending ? 0 : 10);
    answers += got;
    if (got > 0) {
      last = Clock::now();
    } else if (Clock::now() - last > std::chrono::seconds(2)) {
      std::fprintf(stderr, "stalled: %llu of %llu answered\n", static_cast<unsigned long long>(answers),
                   static_cast<unsigned long long>(requests));
      for (std::size_t i = 0; i < s.associations.size(); ++i) s.send(i, perf::build_abort(s.associations[i]));
      return 1;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("synth associations=%u requests=%llu answers=%llu seconds=%.2f rate=%.0f refused=%llu\n", count,
              static_cast<unsigned long long>(requests), static_cast<unsigned long long>(answers), elapsed,
              static_cast<double>(answers) / elapsed, static_cast<unsigned long long>(s.refused - refused_before));
  for (std::size_t i = 0; i < s.associations.size(); ++i) s.send(i, perf::build_abort(s.associations[i]));
  for (int fd : s.fds) ::close(fd);
  return 0;
}
