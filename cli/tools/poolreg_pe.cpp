// poolreg-pe: registers one or many pool elements with a registrar, keeps them alive (answers
// Endpoint Keep-Alives), re-registers them periodically (optionally moving them between
// addresses), and deregisters them on SIGINT/SIGTERM or after --duration. One line per event.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <deque>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/tools/tool_common.hpp"
#include "cli/client/pool_element_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/runtime/event_loop.hpp"

namespace poolreg::tools {
namespace {

struct PeArgs {
  ConnectionArgs connection;
  std::string pool;
  std::uint64_t id = 0;
  std::uint32_t count = 1;
  std::string policy = "rr";
  std::uint32_t weight = 1;
  std::uint32_t priority = 0;
  double load = 0;
  double degradation = 0;
  std::string protocol = "sctp";
  std::vector<std::string> addresses;
  std::vector<std::string> address_types;
  std::uint16_t port = 7;
  bool control_channel = false;
  std::uint32_t life_ms = 30000;
  std::int64_t reregister_ms = -1;
  std::vector<std::string> move_addresses;
  double duration_s = 0;
  std::uint32_t window = 1000;
  bool silent = false;
  bool quiet = false;
  bool reconnect = true;
  int listen_port = -1;
};

std::optional<std::vector<IpAddress>> parse_address_set(const std::string& text) {
  std::vector<IpAddress> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t plus = text.find('+', start);
    const std::string item = text.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    auto a = IpAddress::parse(item);
    if (!a) return std::nullopt;
    out.push_back(*a);
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return out;
}

// --address-type ADDR=TYPE[:LIFETIME_MS]; the lifetime only (and always) with graceful.
std::optional<client::AddressTypeSpec> parse_address_type_spec(const std::string& text, std::string& why) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) {
    why = "expected ADDR=TYPE[:LIFETIME_MS]";
    return std::nullopt;
  }
  auto ip = IpAddress::parse(text.substr(0, eq));
  if (!ip) {
    why = "bad address";
    return std::nullopt;
  }
  const std::string rest = text.substr(eq + 1);
  const std::size_t colon = rest.find(':');
  auto type = parse_address_type(rest.substr(0, colon));
  if (!type) {
    why = "type must be fixed, session, nonpersistent or graceful";
    return std::nullopt;
  }
  client::AddressTypeSpec spec{*ip, {}};
  spec.entry.type = *type;
  if (*type == AddressType::kGracefulReplacement) {
    if (colon == std::string::npos) {
      why = "graceful needs a lifetime: graceful:MS";
      return std::nullopt;
    }
    try {
      std::size_t used = 0;
      const unsigned long ms = std::stoul(rest.substr(colon + 1), &used);
      if (used != rest.size() - colon - 1 || ms == 0 || ms > 0xffffffffUL) throw std::out_of_range("lifetime");
      spec.entry.lifetime_ms = static_cast<std::uint32_t>(ms);
    } catch (const std::exception&) {
      why = "lifetime must be 1..4294967295 ms";
      return std::nullopt;
    }
  } else if (colon != std::string::npos) {
    why = "only graceful takes a lifetime";
    return std::nullopt;
  }
  return spec;
}

// Drives the PEs: a bounded window of outstanding requests over a FIFO of tasks.
class PeProgram {
 public:
  PeProgram(runtime::EventLoop& loop, kernel::SctpStack* stack, const client::ClientOptions& options,
            const PeArgs& args, client::PeRegistration templ, std::vector<std::vector<IpAddress>> moves)
      : loop_(loop),
        client_(loop, stack, options),
        args_(args),
        templ_(std::move(templ)),
        moves_(std::move(moves)),
        endpoint_(args.connection.registrar + " over " + transport_name(args.connection)) {
    client::PoolElementEvents ev;
    ev.on_connected = [this] { on_connected(); };
    ev.on_connection_lost = [this](client::ClientStatus s, runtime::CloseReason r) { on_lost(s, r); };
    ev.on_keep_alive = [this](const PoolHandle& h, PoolElementId id, RegistrarId pr, bool home, bool acked) {
      if (!args_.quiet) {
        event("keep-alive", h, id,
              "from-pr=" + hex_id(pr) + " H=" + (home ? "1" : "0") + (acked ? " acked" : " ignored"));
      }
    };
    ev.on_home_changed = [this](const PoolHandle& h, PoolElementId id, RegistrarId pr) {
      event("home-changed", h, id,
            "new-home-pr=" + hex_id(pr) + " (re-registers there at the next re-registration)");
    };
    ev.on_error_message = [this](const wire::OperationError& e) {
      const std::uint16_t code = e.causes.empty() ? 0 : e.causes.front().code;
      line("asap-error cause=" + hex_id(code).substr(6) + " (" +
           std::string(error_cause_name(static_cast<ErrorCause>(code))) + ")");
    };
    client_.set_events(std::move(ev));
  }

  int start() {
    if (args_.silent) client_.set_answer_keep_alives(false);
    const client::ClientStatus s = client_.connect();
    if (s != client::ClientStatus::kOk) {
      line(std::string("connect-failed ") + endpoint_ + ": " +
           connect_failure_text(args_.connection, client_.connection().connect_error(), client_.connection().tls_error()));
      return 1;
    }
    line("connecting to " + endpoint_);
    return 0;
  }

  void shutdown() {
    if (shutting_down_) {
      finish();
      return;
    }
    shutting_down_ = true;
    if (rereg_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(rereg_timer_);
    if (reconnect_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(reconnect_timer_);
    tasks_.clear();
    if (!client_.connected()) {
      finish();
      return;
    }
    line("shutting down: deregistering " + std::to_string(registered_count()) + " PE(s)");
    client_.for_each([&](const client::PeInfo& pe) {
      if (pe.state == client::PeState::kRegistered || pe.state == client::PeState::kRegistering) {
        tasks_.push_back(Task{Task::kDeregister, pe.element.id, 0});
      }
    });
    // Bounded: give the answers at most one request timeout (+1 s) after the last one is sent.
    loop_.schedule_after(
        client_timeout() * (1 + tasks_.size() / std::max<std::uint32_t>(1, args_.window)) + kNsPerSec,
        [this] { finish(); });
    pump();
  }

  int exit_code() const { return initial_failures_ > 0 ? 2 : (fatal_ ? 1 : 0); }
  client::PoolElementClient& client() { return client_; }

  void print_summary() {
    const auto& c = client_.counters();
    char buf[512];
    std::snprintf(
        buf, sizeof buf,
        "summary registrations=%llu accepted=%llu rejected=%llu timeouts=%llu deregistrations=%llu "
        "keep-alives=%llu acks=%llu ignored=%llu home-changes=%llu reg-latency-avg=%.3fms max=%.3fms",
        static_cast<unsigned long long>(c.registrations_sent),
        static_cast<unsigned long long>(c.registrations_accepted),
        static_cast<unsigned long long>(c.registrations_rejected),
        static_cast<unsigned long long>(c.timeouts),
        static_cast<unsigned long long>(c.deregistrations_answered),
        static_cast<unsigned long long>(c.keep_alives_received),
        static_cast<unsigned long long>(c.keep_alive_acks_sent),
        static_cast<unsigned long long>(c.keep_alives_ignored),
        static_cast<unsigned long long>(c.home_changes), to_ms(c.registration_latency.mean()),
        to_ms(c.registration_latency.max));
    line(buf);
  }

 private:
  struct Task {
    enum Kind { kRegister, kReregister, kDeregister } kind;
    PoolElementId id;
    std::uint32_t index;  // kRegister: which of the --count PEs
  };

  TimeNs client_timeout() const { return TimeNs{args_.connection.timeout_ms} * kNsPerMs; }

  void line(const std::string& text) const {
    std::printf("%s %s\n", timestamp().c_str(), text.c_str());
    std::fflush(stdout);
  }
  void event(const char* what, const PoolHandle& h, PoolElementId id, const std::string& detail) const {
    line(std::string(what) + " pool=" + h.to_display() + " id=" + hex_id(id) +
         (detail.empty() ? "" : " " + detail));
  }

  std::size_t registered_count() const {
    std::size_t n = 0;
    client_.for_each(
        [&](const client::PeInfo& pe) { n += pe.state == client::PeState::kRegistered ? 1 : 0; });
    return n;
  }

  void on_connected() {
    line("connected to " + endpoint_ +
         (client_.connection().listen_port()
              ? " (PE listener on port " + std::to_string(client_.connection().listen_port()) + ")"
              : ""));
    if (!registered_once_) {
      registered_once_ = true;
      for (std::uint32_t i = 0; i < args_.count; ++i) tasks_.push_back(Task{Task::kRegister, 0, i});
      if (args_.reregister_ms > 0) {
        rereg_timer_ =
            loop_.schedule_every(TimeNs(args_.reregister_ms) * kNsPerMs, [this] { reregister_all(); });
      }
    } else {
      // Reconnected: the registrar dropped our PEs with the old association; register them again.
      client_.for_each([&](const client::PeInfo& pe) {
        if (pe.state == client::PeState::kLost) tasks_.push_back(Task{Task::kReregister, pe.element.id, 0});
      });
    }
    pump();
  }

  void on_lost(client::ClientStatus status, runtime::CloseReason reason) {
    tasks_.clear();
    if (shutting_down_) {
      finish();
      return;
    }
    const bool never_up = status == client::ClientStatus::kConnectFailed;
    line(std::string(never_up ? "connect-failed " : "connection-lost ") + endpoint_ +
         " reason=" + runtime::to_string(reason) +
         (never_up ? ": " + connect_failure_text(args_.connection, client_.connection().connect_error(), client_.connection().tls_error()) : "") +
         (args_.reconnect ? "; reconnecting in 1 s" : ""));
    if (!args_.reconnect) {
      fatal_ = true;
      finish();
      return;
    }
    reconnect_timer_ = loop_.schedule_after(kNsPerSec, [this] {
      reconnect_timer_ = runtime::EventLoop::kNoTimer;
      if (client_.connect() != client::ClientStatus::kOk)
        on_lost(client::ClientStatus::kConnectFailed, runtime::CloseReason::kConnectFailed);
    });
  }

  void reregister_all() {
    ++move_index_;
    client_.for_each([&](const client::PeInfo& pe) {
      if (pe.state == client::PeState::kRegistered)
        tasks_.push_back(Task{Task::kReregister, pe.element.id, 0});
    });
    pump();
  }

  void pump() {
    while (!tasks_.empty() && in_flight_ < args_.window) {
      Task t = tasks_.front();
      tasks_.pop_front();
      ++in_flight_;
      switch (t.kind) {
        case Task::kRegister:
          issue_register(t.index);
          break;
        case Task::kReregister:
          issue_reregister(t.id);
          break;
        case Task::kDeregister:
          issue_deregister(t.id);
          break;
      }
    }
    if (shutting_down_ && tasks_.empty() && in_flight_ == 0) finish();
  }

  void done() {
    --in_flight_;
    loop_.defer([this] { pump(); });
  }

  std::string result_detail(const client::PeResult& r) const {
    if (r.ok()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "latency=%.3fms", to_ms(r.latency));
      return buf;
    }
    std::string s = std::string("status=") + client::to_string(r.status);
    if (r.status == client::ClientStatus::kRejected) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%x", r.error_code);
      s += std::string(" cause=") + buf + " (" + std::string(error_cause_name(r.cause())) + ")";
    }
    return s;
  }

  void issue_register(std::uint32_t index) {
    client::PeRegistration reg = templ_;
    if (args_.id != 0) reg.id = args_.id + index;
    if (!moves_.empty()) reg.user_transport.addresses = moves_[0];
    client_.register_pe(reg, [this](const client::PeResult& r) {
      if (!r.ok()) ++initial_failures_;
      if (!args_.quiet || !r.ok()) {
        event(r.ok() ? "registered" : "registration-failed", r.handle, r.id, result_detail(r));
      }
      done();
    });
  }

  void issue_reregister(PoolElementId id) {
    client::PeUpdate update;
    std::string moved;
    if (!moves_.empty()) {
      update.addresses = moves_[move_index_ % moves_.size()];
      moved = " addresses=" + format_addresses(*update.addresses, templ_.user_transport.port);
    }
    client_.reregister(templ_.handle, id, update, [this, moved](const client::PeResult& r) {
      if (!args_.quiet || !r.ok()) {
        event(r.ok() ? "reregistered" : "reregistration-failed", r.handle, r.id,
              result_detail(r) + (r.ok() ? moved : ""));
      }
      done();
    });
  }

  void issue_deregister(PoolElementId id) {
    client_.deregister(templ_.handle, id, [this](const client::PeResult& r) {
      if (!args_.quiet || !r.ok()) {
        event(r.ok() ? "deregistered" : "deregistration-failed", r.handle, r.id, result_detail(r));
      }
      done();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    loop_.stop();
  }

  runtime::EventLoop& loop_;
  client::PoolElementClient client_;
  PeArgs args_;
  client::PeRegistration templ_;
  std::vector<std::vector<IpAddress>> moves_;
  std::string endpoint_;
  std::deque<Task> tasks_;
  std::uint32_t in_flight_ = 0;
  std::size_t move_index_ = 0;
  std::uint64_t initial_failures_ = 0;
  bool registered_once_ = false;
  bool shutting_down_ = false;
  bool finished_ = false;
  bool fatal_ = false;
  runtime::EventLoop::TimerId rereg_timer_ = runtime::EventLoop::kNoTimer;
  runtime::EventLoop::TimerId reconnect_timer_ = runtime::EventLoop::kNoTimer;
};

int run(int argc, char** argv) {
  PeArgs args;
  CLI::App app{
      "poolreg-pe: act as one or many RSerPool pool elements (ASAP PE side).\n"
      "Registers with a registrar, answers its Endpoint Keep-Alives, re-registers periodically (optionally\n"
      "moving between addresses), and deregisters on SIGINT/SIGTERM or after --duration.\n"
      "Prints one line per event. Exit code: 0 ok, 1 connection/usage error, 2 a registration failed.\n"
      "Example: poolreg-pe --registrar 127.0.0.1:3863 --pool EchoPool --policy lu --load 25 --port 7",
      "poolreg-pe"};
  app.set_version_flag("--version", std::string("poolreg-pe ") + POOLREG_VERSION);
  add_connection_options(app, args.connection);
  app.add_option("--pool,-p", args.pool, "Pool handle (text) to register in")->required();
  app.add_option("--id", args.id, "PE identifier (0 = random). With --count N: IDs id, id+1, ... id+N-1")
      ->capture_default_str();
  app.add_option("--count,-c,-n", args.count, "Number of PEs to register over the one association (-n as poolgen)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10'000'000u));
  app.add_option(
         "--policy", args.policy,
         "Pool policy: rr, wrr, rand, wrand, pri, lu, lud, plu, rlu, ... (short or long RSerPool name)")
      ->capture_default_str();
  app.add_option("--weight", args.weight, "Weight (wrr, wrand, wrand-dpf)")->capture_default_str();
  app.add_option("--priority", args.priority, "Priority (pri, plu...; bigger wins)")->capture_default_str();
  app.add_option("--load", args.load, "Load in percent 0..100 (lu family)")->capture_default_str();
  app.add_option("--load-degradation", args.degradation, "Load degradation in percent 0..100 (lud, plu...)")
      ->capture_default_str();
  app.add_option("--user-transport", args.protocol,
                 "User transport protocol of the PE's service: sctp, tcp, udp (--transport is the ASAP transport)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sctp", "tcp", "udp"}));
  app.add_option("--address,-a", args.addresses,
                 "User transport address (repeatable). Default: sctp = every local address; tcp/udp = one "
                 "(127.0.0.1 for a loopback registrar)");
  app.add_option("--address-type", args.address_types,
                 "RFC 8653 type of a user address (repeatable, needs --next-gen): ADDR=fixed, ADDR=session, "
                 "ADDR=nonpersistent or ADDR=graceful:LIFETIME_MS (kept that long after a move away from it)");
  app.add_option("--port", args.port, "User transport port of the service")->capture_default_str();
  app.add_flag("--control-channel", args.control_channel, "Transport use data+control (default data only)");
  app.add_option("--life-ms,--life", args.life_ms, "Registration life in ms (--life: the old spelling)")
      ->capture_default_str();
  app.add_option("--reregister-every-ms", args.reregister_ms,
                 "Re-register every N ms (0 = never; default life/3, as RSPLIB)")
      ->capture_default_str();
  app.add_option("--move-addresses", args.move_addresses,
                 "Mobility: address sets cycled through on each re-registration, comma-separated; "
                 "'+' joins addresses of one set (a,b+c)")
      ->delimiter(',');
  app.add_option("--duration", args.duration_s,
                 "Stop (deregister and exit) after S seconds; 0 = until a signal")
      ->capture_default_str();
  app.add_option("--window", args.window, "Maximum outstanding requests (pacing for large --count)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_flag("--silent", args.silent, "Never answer Endpoint Keep-Alives (simulate a dead PE)");
  app.add_flag("--quiet,-q", args.quiet, "Print failures and the final summary only");
  app.add_flag("!--no-reconnect", args.reconnect,
               "Exit when the association is lost instead of reconnecting");
  app.add_option("--listen-port", args.listen_port,
                 "SCTP only: listen on this port for a takeover registrar's association (0 = any free port)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help/--version: 0; usage errors: the documented 1
  }

  auto options = client_options(args.connection);
  if (!options) {
    std::cerr << "poolreg-pe: " << options.error() << "\n";
    return 1;
  }
  if (args.listen_port >= 0) options->pe_listen_port = static_cast<std::uint16_t>(args.listen_port);
  auto policy_type = policy_from_name(args.policy);
  if (!policy_type || !policy_has_wire_codec(*policy_type)) {
    std::cerr << "poolreg-pe: unknown policy '" << args.policy << "'\n";
    return 1;
  }
  auto handle = PoolHandle::from_string(args.pool);
  if (!handle) {
    std::cerr << "poolreg-pe: bad pool handle\n";
    return 1;
  }
  client::PeRegistration templ;
  templ.handle = *handle;
  templ.registration_life_ms = args.life_ms;
  templ.policy.type = *policy_type;
  templ.policy.weight = args.weight;
  templ.policy.priority = args.priority;
  templ.policy.load = from_percent(args.load);
  templ.policy.load_degradation = from_percent(args.degradation);
  templ.user_transport.protocol = args.protocol == "tcp"   ? TransportProtocol::kTcp
                                  : args.protocol == "udp" ? TransportProtocol::kUdp
                                                           : TransportProtocol::kSctp;
  templ.user_transport.port = args.port;
  templ.user_transport.use = args.control_channel ? TransportUse::kDataPlusControl : TransportUse::kDataOnly;
  for (const std::string& a : args.addresses) {
    auto ip = IpAddress::parse(a);
    if (!ip) {
      std::cerr << "poolreg-pe: bad --address '" << a << "'\n";
      return 1;
    }
    templ.user_transport.addresses.push_back(*ip);
  }
  if (templ.user_transport.addresses.empty()) {
    if (templ.user_transport.protocol == TransportProtocol::kSctp) {
      templ.user_transport.addresses = local_addresses();
    } else if (options->registrar.address.is_loopback()) {
      templ.user_transport.addresses = {options->registrar.address};
    } else {
      for (const IpAddress& ip : local_addresses()) {
        if (!ip.is_loopback() && ip.is_v4() == options->registrar.address.is_v4()) {
          templ.user_transport.addresses = {ip};
          break;
        }
      }
    }
    if (templ.user_transport.addresses.empty()) templ.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  }
  for (const std::string& text : args.address_types) {
    std::string why;
    auto spec = parse_address_type_spec(text, why);
    if (!spec) {
      std::cerr << "poolreg-pe: bad --address-type '" << text << "': " << why << "\n";
      return 1;
    }
    templ.address_types.push_back(*spec);
  }
  if (!templ.address_types.empty() && !args.connection.next_gen) {
    std::cerr << "poolreg-pe: --address-type needs --next-gen (RFC registrars know no address types)\n";
    return 1;
  }
  std::vector<std::vector<IpAddress>> moves;
  for (const std::string& set : args.move_addresses) {
    auto parsed = parse_address_set(set);
    if (!parsed) {
      std::cerr << "poolreg-pe: bad --move-addresses entry '" << set << "'\n";
      return 1;
    }
    moves.push_back(*parsed);
  }
  if (args.reregister_ms < 0) args.reregister_ms = args.life_ms / 3;
  if (!moves.empty() && args.reregister_ms == 0) {
    std::cerr << "poolreg-pe: --move-addresses needs re-registrations (--reregister-every-ms > 0)\n";
    return 1;
  }

  runtime::EventLoop loop;
  PeProgram* program_ptr = nullptr;
  // Signals through the loop (the SCTP stack runs on this thread too: no other thread).
  loop.watch_signals({SIGINT, SIGTERM}, [&](int) {
    if (program_ptr) program_ptr->shutdown();
  });
  auto stack = make_stack(args.connection);
  if (!stack) {
    std::cerr << "poolreg-pe: cannot start SCTP: " << stack.error() << "\n";
    return 1;
  }
  int code = 0;
  {
    PeProgram program(loop, stack->get(), *options, args, templ, std::move(moves));
    program_ptr = &program;
    if (program.start() != 0) return 1;
    if (args.duration_s > 0) {
      loop.schedule_after(static_cast<TimeNs>(args.duration_s * 1e9), [&] { program.shutdown(); });
    }
    loop.run();
    program.print_summary();
    code = program.exit_code();
    client::close_and_wait(program.client(), std::chrono::seconds(2));
    program_ptr = nullptr;
  }
  return code;
}

}  // namespace
}  // namespace poolreg::tools

int main(int argc, char** argv) { return poolreg::tools::run(argc, argv); }
