// poolreg-e2e-bench: one load process of the end-to-end loopback benchmark (run_e2e.sh starts the
// daemon and 1..n of these). Drives a running poolregd through the client library over
// usrsctp/UDP or TCP for a fixed time with a fixed number of requests in flight, and prints one
// result line:
//   e2e transport=sctp mode=resolve ops=123456 seconds=3.00 rate=41152 mean_us=48 max_us=2100 errors=0
//
// Modes: resolve  - a pool of --pes PEs is registered first, then Handle Resolutions (registrar
//                   default answer size) are pipelined, --inflight at a time;
//        register - --pes PEs are registered and then re-registered round-robin (each answered
//                   Registration counts), --inflight at a time (one outstanding per PE).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"

namespace {

using namespace poolreg;
using namespace std::chrono_literals;

struct Args {
  std::string transport = "sctp";
  std::string mode = "resolve";
  std::uint16_t port = 3863;
  std::uint16_t udp = 9899;
  double seconds = 3.0;
  std::uint32_t inflight = 16;
  std::uint32_t pes = 10;
  std::string pool;
};

client::PeRegistration registration(const PoolHandle& h, PoolElementId id) {
  client::PeRegistration r;
  r.handle = h;
  r.id = id;
  r.user_transport.protocol = TransportProtocol::kTcp;
  r.user_transport.port = static_cast<std::uint16_t>(10000 + id % 50000);
  r.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  r.policy.type = PolicyType::kRoundRobin;
  return r;
}

struct Totals {
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  client::LatencyStats latency;
};

int run(const Args& a) {
  client::ClientOptions o;
  o.registrar.port = a.port;
  o.registrar.remote_udp_port = a.udp;
  o.registrar.transport = a.transport == "tcp" ? client::ClientTransport::kTcp : client::ClientTransport::kSctp;
  std::unique_ptr<kernel::SctpStack> stack;
  if (o.registrar.transport == client::ClientTransport::kSctp) {
    kernel::SctpStackConfig sc;
    sc.udp_port = 0;
    std::string error;
    stack = kernel::SctpStack::create(sc, &error);
    if (!stack) {
      std::fprintf(stderr, "usrsctp: %s\n", error.c_str());
      return 1;
    }
  }
  runtime::EventLoop loop;
  const std::string pool_name = a.pool.empty() ? "bench-" + std::to_string(::getpid()) : a.pool;
  const PoolHandle h = *PoolHandle::from_string(pool_name);
  client::PoolElementClient pe(loop, stack.get(), o);
  if (client::connect_and_wait(pe, 5s) != client::ClientStatus::kOk) {
    std::fprintf(stderr, "PE: cannot connect to the registrar\n");
    return 1;
  }
  for (std::uint32_t i = 1; i <= a.pes; ++i) {
    auto r = client::register_and_wait(pe, registration(h, i));
    if (!r.ok()) {
      std::fprintf(stderr, "registration %u failed: %s cause %u\n", i, client::to_string(r.status), r.error_code);
      return 1;
    }
  }

  Totals t;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(a.seconds));
  bool running = true;
  std::uint32_t outstanding = 0;

  if (a.mode == "resolve") {
    client::PoolUserClient pu(loop, stack.get(), o);
    if (client::connect_and_wait(pu, 5s) != client::ClientStatus::kOk) {
      std::fprintf(stderr, "PU: cannot connect to the registrar\n");
      return 1;
    }
    std::function<void()> issue = [&] {
      ++outstanding;
      pu.resolve(h, 0, [&](const client::ResolutionResult& r) {
        --outstanding;
        if (r.ok() && !r.elements.empty()) {
          ++t.ops;
          t.latency.add(r.latency);
        } else {
          ++t.errors;
        }
        if (running) issue();
      });
    };
    for (std::uint32_t i = 0; i < a.inflight; ++i) issue();
    while (std::chrono::steady_clock::now() < end) loop.run_once(10);
    running = false;
    client::run_until(loop, [&] { return outstanding == 0; }, 5s);
    client::close_and_wait(pu);
  } else {
    std::uint32_t next = 0;
    std::function<void()> issue = [&] {
      const PoolElementId id = 1 + (next++ % a.pes);
      ++outstanding;
      const auto s = pe.reregister(h, id, [&](const client::PeResult& r) {
        --outstanding;
        if (r.ok()) {
          ++t.ops;
          t.latency.add(r.latency);
        } else {
          ++t.errors;
        }
        if (running) issue();
      });
      if (s == client::ClientStatus::kBusy) {  // that PE still has one outstanding: next one
        --outstanding;
        loop.defer([&] { if (running) issue(); });
      }
    };
    for (std::uint32_t i = 0; i < std::min(a.inflight, a.pes); ++i) issue();
    while (std::chrono::steady_clock::now() < end) loop.run_once(10);
    running = false;
    client::run_until(loop, [&] { return outstanding == 0; }, 5s);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::uint32_t i = 1; i <= a.pes; ++i) pe.deregister(h, i);
  client::run_until(loop, [&] { return pe.outstanding() == 0; }, 5s);
  client::close_and_wait(pe);
  std::printf("e2e transport=%s mode=%s ops=%llu seconds=%.2f rate=%.0f mean_us=%.0f max_us=%.0f errors=%llu\n",
              a.transport.c_str(), a.mode.c_str(), static_cast<unsigned long long>(t.ops), secs,
              static_cast<double>(t.ops) / secs, static_cast<double>(t.latency.mean()) / 1000.0,
              static_cast<double>(t.latency.max) / 1000.0, static_cast<unsigned long long>(t.errors));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"poolreg-e2e-bench: end-to-end load against a running poolregd (see perf/dataplane/run_e2e.sh)"};
  app.add_option("--transport", a.transport, "sctp (usrsctp over UDP) or tcp")->check(CLI::IsMember({"sctp", "tcp"}));
  app.add_option("--mode", a.mode, "resolve or register")->check(CLI::IsMember({"resolve", "register"}));
  app.add_option("--port", a.port, "registrar ASAP port (SCTP and TCP)");
  app.add_option("--udp", a.udp, "registrar UDP encapsulation port");
  app.add_option("--seconds", a.seconds, "measurement time");
  app.add_option("--inflight", a.inflight, "requests in flight");
  app.add_option("--pes", a.pes, "PEs registered by this process");
  app.add_option("--pool", a.pool, "pool handle (default bench-<pid>)");
  CLI11_PARSE(app, argc, argv);
  return run(a);
}
