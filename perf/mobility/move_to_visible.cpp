// move_to_visible: how long a moved PE takes to become visible at another registrar (issue 14,
// perf acceptance). The namespace lab of the mobility integration test (tests/integration/
// mobility_lab.hpp: registrars A and B peered over ENRP, the PE's host with an old and a new path,
// this process as the PU asking B). Per move, the time from the PE's registration send (the line
// written to the kernel_sctp_peer helper) to the reply of the first Handle Resolution at B that
// lists the new address; B is asked back to back, at most one request per millisecond, so the
// resolution granularity is max(1 ms, one resolution round trip), both printed. Kinds:
//   make-before-break: ADD-IP of the new address on the live association, then a re-registration
//     with {new, old} (sent again every 250 ms while B does not list new: ASCONF may not be applied
//     at A yet and the address check then drops the new address; the time runs from the first);
//   break-before-make: the old path's veth is deleted, the PE opens a new association from the new
//     address and registers {new} over it (A probes the old binding for asap.rebind_probe_ms).
// Each configuration (default = address check on; asap.address_check=false as the baseline) gets
// fresh registrars; ENRP Handle Updates received by B per move come from B's "stats" counters.
// Bounded: --moves per kind and --max-seconds per kind and configuration. Needs root and `ip`.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include "tests/integration/mobility_lab.hpp"

namespace poolreg::integration::mobility {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

const char* const kPrefix = "prmvb";
constexpr auto kVisibleLimit = std::chrono::seconds(3);       // a move not seen by then is "lost"
constexpr auto kReRegisterEvery = std::chrono::milliseconds(250);
constexpr auto kPollSpacing = std::chrono::milliseconds(1);
constexpr auto kSettle = std::chrono::milliseconds(100);      // > enrp.update_coalesce_ms (20)
// A PE moves long after it registered: the move's update must not fall into the damping window
// of the registration's (enrp.update_coalesce_ms holds it until the window ends).
constexpr auto kBeforeMove = std::chrono::milliseconds(100);

struct Options {
  int moves = 50;
  int max_seconds = 120;
  std::string peer_helper;
  bool trace = false;
};

// One kind of move in one configuration.
struct Series {
  std::vector<double> visible_ms;     // registration send -> first answer at B with the new address
  std::vector<double> accepted_ms;    // registration send -> the PE read A's response
  std::vector<double> after_accept_ms; // visible - accepted: A's update to B and B's answer
  std::vector<std::uint64_t> updates; // ENRP Handle Updates received by B per move
  std::vector<double> poll_rtt_ms;    // every resolution at B
  int resends = 0;                    // make-before-break re-registrations after the first
  int lost = 0;                       // moves B never showed within kVisibleLimit
  int failed = 0;                     // moves whose set-up failed (not measured)
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: with 50 samples p99 is the largest.
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

bool lists(const ResolutionResult& r, const IpAddress& a) {
  for (const auto& e : r.elements)
    for (const auto& x : e.user_transport.addresses)
      if (x == a) return true;
  return false;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

class Bench {
 public:
  Bench(const Options& o, MobilityLab& lab, kernel::SctpStack* stack, std::string base)
      : options_(o), lab_(lab), stack_(stack), base_(std::move(base)) {}

  // Registrars with `extra` arguments, a PU at B, then both kinds of moves; false when the set-up
  // failed (said on stderr).
  bool run(const std::vector<std::string>& extra, Series& mbb, Series& bbm, int config) {
    a_ = registrar("a", kIdA, lab_.a, kRegistrarA, kRegistrarB, extra);
    b_ = registrar("b", kIdB, lab_.b, kRegistrarB, kRegistrarA, extra);
    if (!a_->start() || !b_->start() || !a_->wait_for_log("listening:", 10s) ||
        !b_->wait_for_log("listening:", 10s)) {
      std::fprintf(stderr, "poolregd did not start:\n%s\n%s\n", a_->log().c_str(), b_->log().c_str());
      return false;
    }
    if (!eventually([&] { return peers_alive_and_in_sync(*a_, 1) && peers_alive_and_in_sync(*b_, 1); }, 10s)) {
      std::fprintf(stderr, "the registrars did not peer\n");
      return false;
    }
    pu_ = std::make_unique<PoolUserClient>(loop_, stack_, options_for(kRegistrarB));
    if (client::connect_and_wait(*pu_, 5s) != ClientStatus::kOk) {
      std::fprintf(stderr, "the PU could not reach B\n");
      return false;
    }
    const PoolElementId base_id = 10000u * static_cast<PoolElementId>(config + 1);
    each_move(mbb, [&](int i) { return make_before_break(base_id + static_cast<PoolElementId>(i), mbb); });
    each_move(bbm, [&](int i) { return break_before_make(base_id + 5000 + static_cast<PoolElementId>(i), bbm); });
    pu_.reset();
    a_->kill_now();
    b_->kill_now();
    return true;
  }

 private:
  template <typename Move>
  void each_move(Series& s, Move move) {
    const auto until = Clock::now() + std::chrono::seconds(options_.max_seconds);
    for (int i = 0; i < options_.moves && Clock::now() < until; ++i) {
      if (!move(i)) ++s.failed;
    }
  }

  static client::ClientOptions options_for(const char* registrar) {
    client::ClientOptions o;
    o.registrar.address = *IpAddress::parse(registrar);
    o.registrar.port = kAsapPort;
    o.registrar.transport = ClientTransport::kSctp;
    o.registrar.remote_udp_port = kUdpPort;
    o.connect_timeout = 5 * kNsPerSec;
    o.request_timeout = 3 * kNsPerSec;
    return o;
  }

  // A PE at the old path registered as `id` and visible at B; nullptr when that failed.
  std::unique_ptr<ForeignPe> registered_at_old(const Host& host, PoolElementId id) {
    std::string why;
    auto pe = start_pe(options_.peer_helper.c_str(), host, kOldPath, &why);
    if (pe == nullptr || !registered(*pe, id, {kOld})) {
      std::fprintf(stderr, "PE %" PRIu64 ": %s\n", static_cast<std::uint64_t>(id), pe == nullptr ? why.c_str() : "registration refused");
      return nullptr;
    }
    const auto until = Clock::now() + 5s;
    while (Clock::now() < until) {
      if (lists(client::resolve_and_wait(*pu_, handle_of(kPool), 16, 1s), kOld)) {
        std::this_thread::sleep_for(kBeforeMove);
        return pe;
      }
    }
    std::fprintf(stderr, "PE %" PRIu64 ": never visible at B\n", static_cast<std::uint64_t>(id));
    return nullptr;
  }

  // Polls B from `sent` until it lists the new address; `resend` (may be empty) runs every
  // kReRegisterEvery meanwhile. The measured time, or -1 when B never listed it.
  double poll_until_visible(Clock::time_point sent, Series& s, const std::function<void()>& resend) {
    auto next_resend = sent + kReRegisterEvery;
    while (Clock::now() - sent < kVisibleLimit) {
      const auto asked = Clock::now();
      const auto r = client::resolve_and_wait(*pu_, handle_of(kPool), 16, 1s);
      const auto answered = Clock::now();
      s.poll_rtt_ms.push_back(Ms(answered - asked).count());
      if (lists(r, kNew)) return Ms(answered - sent).count();
      if (resend && answered >= next_resend) {
        resend();
        next_resend = answered + kReRegisterEvery;
      }
      std::this_thread::sleep_until(asked + kPollSpacing);
    }
    return -1;
  }

  // ENRP Handle Updates B received since `before`, after the coalescing window has passed.
  std::uint64_t updates_since(std::uint64_t before) {
    std::this_thread::sleep_for(kSettle);
    return enrp_counter(*b_, "updates_received") - before;
  }

  // Deregisters `id` through `pe` and waits (bounded) until B no longer lists it.
  void leave(ForeignPe& pe, PoolElementId id) {
    pe.tell(deregistration_line(id));
    pe.line();
    eventually([&] { return pool_pe_count(*b_, handle_of(kPool)) <= 0; }, 3s);
  }

  bool make_before_break(PoolElementId id, Series& s) {
    auto host = pe_host(lab_, base_, ++hosts_);
    if (!host->ok()) return false;
    auto pe = registered_at_old(*host, id);
    if (pe == nullptr) return false;
    const std::uint64_t before = enrp_counter(*b_, "updates_received");
    if (!pe->tell(std::string("ADD ") + kNewPath + "\n") || pe->line() != std::string("DONE ADD ") + kNewPath + "\n")
      return false;
    // The PE's responses are read by another thread while this one polls B.
    const std::string reg = registration_line(id, {kNew, kOld});
    std::atomic<int> sends{1};
    const auto sent = Clock::now();
    pe->tell(reg);
    auto accepted = std::async(std::launch::async, [&] {
      const bool ok = ForeignPe::registration_accepted(pe->line()) == true;
      return std::make_pair(ok, Ms(Clock::now() - sent).count());
    });
    const double visible = poll_until_visible(sent, s, [&] {
      pe->tell(reg);
      ++sends;
    });
    const auto [ok, accepted_ms] = accepted.get();
    for (int i = 1; i < sends; ++i) pe->line();  // the resends' responses
    s.resends += sends - 1;
    record(s, visible, ok, accepted_ms, before);
    trace("make-before-break", id, visible, s);
    leave(*pe, id);
    return true;
  }

  // One move's sample: lost (not visible, or not accepted) or its times and B's ENRP updates
  // since `updates_before`.
  void record(Series& s, double visible, bool ok, double accepted_ms, std::uint64_t updates_before) {
    if (visible < 0 || !ok) {
      ++s.lost;
      return;
    }
    s.visible_ms.push_back(visible);
    s.accepted_ms.push_back(accepted_ms);
    s.after_accept_ms.push_back(visible - accepted_ms);
    s.updates.push_back(updates_since(updates_before));
  }

  // One line per move on stderr (--trace).
  void trace(const char* kind, PoolElementId id, double visible, const Series& s) const {
    if (!options_.trace) return;
    std::fprintf(stderr, "%s PE %" PRIu64 ": visible %.2f ms, ENRP updates %" PRIu64 ", resends so far %d\n", kind,
                 static_cast<std::uint64_t>(id), visible, s.updates.empty() ? 0 : s.updates.back(), s.resends);
  }

  bool break_before_make(PoolElementId id, Series& s) {
    auto host = pe_host(lab_, base_, ++hosts_);
    if (!host->ok()) return false;
    auto old_pe = registered_at_old(*host, id);
    if (old_pe == nullptr) return false;
    const std::uint64_t before = enrp_counter(*b_, "updates_received");
    if (!host->cut(0) || !host->use_path(1, kNewPath)) return false;
    std::string why;
    auto pe = start_pe(options_.peer_helper.c_str(), *host, kNewPath, &why);
    if (pe == nullptr) {
      std::fprintf(stderr, "PE %" PRIu64 ": %s\n", static_cast<std::uint64_t>(id), why.c_str());
      return false;
    }
    const auto sent = Clock::now();
    pe->tell(registration_line(id, {kNew}));
    auto accepted = std::async(std::launch::async, [&] {
      const bool ok = ForeignPe::registration_accepted(pe->line()) == true;
      return std::make_pair(ok, Ms(Clock::now() - sent).count());
    });
    const double visible = poll_until_visible(sent, s, {});
    const auto [ok, accepted_ms] = accepted.get();
    record(s, visible, ok, accepted_ms, before);
    trace("break-before-make", id, visible, s);
    leave(*pe, id);
    return true;
  }

  const Options& options_;
  MobilityLab& lab_;
  kernel::SctpStack* stack_;
  std::string base_;
  int hosts_ = 0;
  runtime::EventLoop loop_;
  std::unique_ptr<Poolregd> a_, b_;
  std::unique_ptr<PoolUserClient> pu_;
};

void print_row(const char* config, const char* kind, const Series& s) {
  std::uint64_t updates_min = ~0ull, updates_max = 0, updates_sum = 0;
  for (auto u : s.updates) {
    updates_min = std::min(updates_min, u);
    updates_max = std::max(updates_max, u);
    updates_sum += u;
  }
  if (s.updates.empty()) updates_min = 0;
  std::printf("| %s | %s | %zu | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f / %" PRIu64 "-%" PRIu64 " | %d | %d | %d | %.3f |\n",
              config, kind, s.visible_ms.size(), percentile(s.visible_ms, 50), percentile(s.visible_ms, 99),
              percentile(s.visible_ms, 100), percentile(s.accepted_ms, 50), percentile(s.accepted_ms, 99),
              percentile(s.after_accept_ms, 50), percentile(s.after_accept_ms, 99),
              s.updates.empty() ? 0.0 : static_cast<double>(updates_sum) / static_cast<double>(s.updates.size()),
              updates_min, updates_max, s.resends, s.lost, s.failed, percentile(s.poll_rtt_ms, 50));
}

int usage(const char* self) {
  std::printf(
      "usage: %s [--moves N] [--max-seconds S] [--poolregd PATH] [--peer PATH] [--trace]\n"
      "  Move-to-visible latency at another registrar for make-before-break and break-before-make\n"
      "  moves, with the default configuration (address check on) and with asap.address_check=false\n"
      "  (baseline), in network namespaces it creates (root and `ip` needed).\n"
      "  --moves N        moves per kind and configuration (default 50)\n"
      "  --max-seconds S  time bound per kind and configuration (default 120)\n"
      "  --poolregd PATH  the daemon (default $POOLREGD)\n"
      "  --peer PATH      the kernel_sctp_peer helper, tests/dataplane/kernel (default $KERNEL_SCTP_PEER)\n"
      "  --trace          one line per move on stderr\n",
      self);
  return 2;
}

int run(int argc, char** argv) {
  Options o;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read and set before any thread exists
  if (const char* p = std::getenv("KERNEL_SCTP_PEER")) o.peer_helper = p;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--moves" && has_value) {
      o.moves = std::atoi(argv[++i]);
    } else if (a == "--max-seconds" && has_value) {
      o.max_seconds = std::atoi(argv[++i]);
    } else if (a == "--poolregd" && has_value) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): read and set before any thread exists
      ::setenv("POOLREGD", argv[++i], 1);
    } else if (a == "--trace") {
      o.trace = true;
    } else if (a == "--peer" && has_value) {
      o.peer_helper = argv[++i];
    } else {
      return usage(argv[0]);
    }
  }
  if (o.moves <= 0 || o.max_seconds <= 0 || poolregd_path().empty() || o.peer_helper.empty()) return usage(argv[0]);
  if (const std::string why = test_netns::namespaces_unavailable(); !why.empty()) {
    std::fprintf(stderr, "move_to_visible: %s\n", why.c_str());
    return 77;
  }
  test_netns::remove_stale_namespaces(kPrefix);
  const std::string base = std::string(kPrefix) + "-" + std::to_string(::getpid()) + "-";
  MobilityLab lab(base);
  if (!lab.ok() || !enter(lab.u)) {
    std::fprintf(stderr, "move_to_visible: setting up the namespaces failed\n");
    return 1;
  }
  kernel::SctpStackConfig config;
  config.udp_port = 0;
  config.heartbeat_interval_ms = 1000;
  std::string error;
  auto stack = kernel::SctpStack::create(config, &error);
  if (!stack) {
    std::fprintf(stderr, "move_to_visible: usrsctp: %s\n", error.c_str());
    return 1;
  }
  const std::string load_before = load_average();
  struct Config {
    const char* name;
    std::vector<std::string> extra;
  };
  const std::vector<Config> configs = {{"check on (default)", {}},
                                       {"check off (baseline)", {"--set", "asap.address_check=false"}}};
  std::vector<std::pair<Series, Series>> results(configs.size());
  for (std::size_t c = 0; c < configs.size(); ++c) {
    Bench bench(o, lab, stack.get(), base + std::to_string(c) + "-");
    if (!bench.run(configs[c].extra, results[c].first, results[c].second, static_cast<int>(c))) return 1;
  }
  std::printf("load average before: %s, after: %s; %d moves per kind, rebind probe 300 ms (default)\n\n",
              load_before.c_str(), load_average().c_str(), o.moves);
  std::printf(
      "| configuration | move | samples | visible p50 ms | visible p99 ms | visible max ms | accepted p50 ms | "
      "accepted p99 ms | visible - accepted p50 ms | visible - accepted p99 ms | ENRP updates at B per move (mean / min-max) | re-registrations | lost | failed set-up | "
      "resolution RTT p50 ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t c = 0; c < configs.size(); ++c) {
    print_row(configs[c].name, "make-before-break", results[c].first);
    print_row(configs[c].name, "break-before-make", results[c].second);
  }
  return 0;
}

}  // namespace
}  // namespace poolreg::integration::mobility

int main(int argc, char** argv) {
  try {
    return poolreg::integration::mobility::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "move_to_visible: %s\n", e.what());
    return 1;
  }
}
