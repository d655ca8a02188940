// LoadDriver implementation (see load_driver.hpp for the design).
#include "perf/poolgen/load_driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "registrar/wire/asap_codec.hpp"

namespace poolreg::poolgen {

namespace {

enum PeState : std::uint8_t {
  kIdle = 0,
  kRegistering,
  kRegistered,
  kMoving,  // registered, re-registration pending
  kDeregistering,
  kDeregistered,
  kFailed,
  kLost,
};
constexpr std::uint8_t kDead = 0x01;
constexpr std::uint8_t kAnswered = 0x02;  // first registration got an answer (ramp accounting)
constexpr std::uint8_t kRetry = 0x04;     // re-registration after association loss

bool pending(std::uint8_t s) { return s == kRegistering || s == kMoving || s == kDeregistering; }
bool registered(std::uint8_t s) { return s == kRegistered || s == kMoving; }

std::string hex(unsigned v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

std::string cause_text(std::uint16_t code) {
  return hex(code) + " " + std::string(error_cause_name(static_cast<ErrorCause>(code)));
}

std::uint64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Deterministic "does PE i die" decision without per-PE storage.
bool chosen_to_die(std::uint64_t i, std::uint64_t seed, double fraction) {
  if (fraction <= 0) return false;
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0 < fraction;
}

// The local IPv4 address (host order) this host sends from towards `target`, the address the
// registrar sees as the association's (address_mode association); 127.0.0.1 for a loopback or
// IPv6 target or when the kernel has no route.
std::uint32_t local_v4_towards(const IpAddress& target) {
  constexpr std::uint32_t kLoopback = 0x7f000001u;
  if (!target.is_v4() || target.is_loopback()) return kLoopback;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kLoopback;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);  // any port: a UDP connect() only picks the route, nothing is sent
  std::memcpy(&to.sin_addr.s_addr, target.data(), 4);  // network order already
  sockaddr_in local{};
  socklen_t len = sizeof local;
  std::uint32_t out = kLoopback;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
    out = ntohl(local.sin_addr.s_addr);
  ::close(fd);
  return out;
}

}  // namespace

// One PE association: forwards AsapConnection events to the driver.
class LoadDriver::PeAssociation final : public client::AsapConnection::Listener {
 public:
  PeAssociation(LoadDriver& d, std::uint32_t index, std::uint16_t registrar, kernel::SctpStack* stack,
                const client::ClientOptions& options)
      : driver(d), index(index), registrar(registrar), conn(d.loop_, stack, options, *this) {}
  void on_up() override { driver.on_pe_up(index); }
  void on_message(ConnectionId from, wire::AsapMessage& m) override { driver.on_pe_message(index, from, m); }
  void on_down(client::ClientStatus s, runtime::CloseReason) override { driver.on_pe_down(index, s); }

  LoadDriver& driver;
  std::uint32_t index;
  std::uint16_t registrar;
  client::AsapConnection conn;
  std::uint32_t outstanding = 0;
  TimeNs reconnect_at = 0;  // != 0: reconnect attempt due
  TimeNs last_rx = 0;       // last message received
  bool timed_out = false;   // a request timed out since the last check
  bool attempted = false;   // its first connect was started
  bool ever_up = false;     // it came up at least once
  bool connecting = false;  // assoc_per_pe: counted in connecting_ (a connect is under way)
};

LoadDriver::LoadDriver(runtime::EventLoop& loop, kernel::SctpStack* stack, const PoolgenConfig& config)
    : loop_(loop), stack_(stack), config_(config), rng_(config.seed) {
  stats_.pe_slot_bytes = sizeof(PeSlot);
}

LoadDriver::~LoadDriver() {
  *alive_ = false;
  for (auto id : {tick_timer_, second_timer_, probe_timer_})
    if (id != runtime::EventLoop::kNoTimer) loop_.cancel(id);
}

std::uint32_t LoadDriver::now_us() const noexcept {
  return static_cast<std::uint32_t>((loop_.now() - start_) / 1000);
}

std::uint32_t LoadDriver::pool_of(std::uint32_t index) const noexcept {
  if (index < probes_) return config_.pools + index;
  return static_cast<std::uint32_t>((config_.load_pe_base + (index - probes_)) % config_.pools);
}

PoolElementId LoadDriver::pe_id_of(std::uint32_t index) const noexcept { return config_.pe_id_base + index + 1; }

std::uint32_t LoadDriver::index_of(std::uint64_t short_pe_id) const noexcept {
  if (short_pe_id <= config_.pe_id_base || short_pe_id - config_.pe_id_base > total_pes_) return total_pes_;
  return static_cast<std::uint32_t>(short_pe_id - config_.pe_id_base - 1);
}

void LoadDriver::add_outstanding(std::uint32_t a) {
  ++pe_assocs_[a]->outstanding;
  ++outstanding_total_;
}

void LoadDriver::remove_outstanding(std::uint32_t a) {
  PeAssociation& pa = *pe_assocs_[a];
  if (pa.outstanding == 0) return;
  --pa.outstanding;
  --outstanding_total_;
}

PolicyParams LoadDriver::policy_of(std::uint32_t index) const {
  const std::uint32_t pool = pool_of(index);
  PolicyParams p;
  p.type = pool >= config_.pools ? PolicyType::kRoundRobin : config_.policies[pool % config_.policies.size()];
  const std::uint64_t id = pe_id_of(index) - 1;  // the run's PE number, the same whatever the lanes
  p.weight = static_cast<std::uint32_t>(1 + id % 10);
  p.priority = static_cast<std::uint32_t>(id % 4);
  p.load = static_cast<std::uint32_t>((id * 2654435761u) % 0xFFFFFFFFu);
  p.load_degradation = 0x01000000u;
  return p;
}

std::uint32_t LoadDriver::new_address(std::uint32_t assoc) {
  if (config_.address_mode == AddressMode::kAssociation) return local_v4_[pe_assocs_[assoc]->registrar];
  // 127.0.0.2 .. 127.255.255.254
  return 0x7f000000u | static_cast<std::uint32_t>(2 + rng_() % 0xFFFFFDu);
}

std::uint16_t LoadDriver::new_port() {
  if (config_.address_mode == AddressMode::kSpread) return 7;
  return static_cast<std::uint16_t>(1024 + rng_() % 64000);
}

void LoadDriver::record_rss() {
  const std::uint64_t r = rss_bytes();
  stats_.rss_peak_bytes = std::max(stats_.rss_peak_bytes, r);
}

Expected<void, std::string> LoadDriver::start() {
  stats_.rss_start_bytes = rss_bytes();
  stats_.vmrss_before_setup_bytes = process_vmrss_bytes();
  start_ = loop_.now();
  last_tick_ = start_;
  probes_ = config_.probes;
  total_pes_ = static_cast<std::uint32_t>(config_.pes) + probes_;
  for (std::uint32_t p = 0; p < config_.pools; ++p) {
    auto h = PoolHandle::from_string(config_.pool_prefix + std::to_string(p));
    if (!h) {
      return unexpected("pool handle too long: " + config_.pool_prefix + std::to_string(p));
    }
    pools_.push_back(*h);
  }
  for (std::uint32_t k = 0; k < probes_; ++k) {
    auto h = PoolHandle::from_string(config_.pool_prefix + "probe-" + std::to_string(k));
    if (!h) {
      return unexpected("pool handle too long");
    }
    pools_.push_back(*h);
  }
  pes_.assign(total_pes_, PeSlot{});
  probe_state_.assign(probes_, Probe{});
  if (!config_.pcap_path.empty()) {
    capture::PcapWriterOptions po;
    po.udp_encapsulation_src_port = stack_ != nullptr ? stack_->udp_port() : 9899;
    pcap_ = std::make_unique<capture::PcapWriter>(config_.pcap_path, po);
    if (!pcap_->ok()) {
      return unexpected("cannot write pcap file " + config_.pcap_path);
    }
  }
  // Associations.
  for (std::size_t r = 0; r < config_.registrars.size(); ++r) {
    const RegistrarTarget& t = config_.registrars[r];
    local_v4_.push_back(local_v4_towards(t.address));
    client::ClientOptions o;
    o.registrar.address = t.address;
    o.registrar.port = t.port;
    o.registrar.remote_udp_port = config_.sctp_native ? 0 : t.udp_port;  // 0: native SCTP
    o.registrar.transport = config_.transport;
    o.connect_timeout = TimeNs(config_.connect_timeout_ms) * kNsPerMs;
    o.request_timeout = TimeNs(config_.request_timeout_ms) * kNsPerMs;
    // assoc_per_pe: association i is PE i's (one registrar, validate()), opened by pump_connects.
    const std::uint32_t pe_assocs = config_.assoc_per_pe ? total_pes_ : config_.pe_associations;
    pe_assocs_.reserve(pe_assocs_.size() + pe_assocs);
    for (std::uint32_t i = 0; i < pe_assocs; ++i) {
      const auto index = static_cast<std::uint32_t>(pe_assocs_.size());
      pe_assocs_.push_back(std::make_unique<PeAssociation>(*this, index, static_cast<std::uint16_t>(r), stack_, o));
    }
    if (config_.pus > 0 || probes_ > 0) {
      for (std::uint32_t i = 0; i < config_.pu_associations; ++i) {
        auto pu = std::make_unique<client::PoolUserClient>(loop_, stack_, o);
        const std::size_t k = pus_.size();
        client::PoolUserEvents ev;
        ev.on_connected = [this] {
          ++stats_.c.connects;
          pu_ever_up_ = true;
        };
        ev.on_connection_lost = [this, k](client::ClientStatus s, runtime::CloseReason) {
          if (s == client::ClientStatus::kConnectFailed) {
            ++stats_.c.connect_failures;
            this->error("PU association: connect failed");
          } else {
            ++stats_.c.connections_lost;
            this->error("PU association: lost");
          }
          pu_reconnect_at_[k] = static_cast<std::uint64_t>(loop_.now() + kNsPerSec);
        };
        ev.on_error_message = [this](const wire::OperationError&) { ++stats_.c.asap_errors; };
        pu->set_events(std::move(ev));
        pus_.push_back(std::move(pu));
        pu_registrar_.push_back(static_cast<std::uint16_t>(r));
        pu_reconnect_at_.push_back(0);
        pu_answers_seen_.push_back(0);
        pu_timeouts_seen_.push_back(0);
        pu_quiet_since_.push_back(0);
      }
    }
  }
  for (std::uint32_t a = 0; a < pe_assocs_.size() && !config_.assoc_per_pe; ++a) {
    if (!first_connect(a)) {
      return unexpected("cannot open an association to " + config_.registrars[pe_assocs_[a]->registrar].text);
    }
  }
  for (auto& pu : pus_) {
    if (pu->connect() != client::ClientStatus::kOk) {
      return unexpected("cannot open a PU association");
    }
  }
  load_end_ = start_ + static_cast<TimeNs>(config_.duration_s * 1e9);
  tick_timer_ = loop_.schedule_every(kNsPerMs, [this] { tick(); });
  second_timer_ = loop_.schedule_every(kNsPerSec, [this] { second(); });
  if (probes_ > 0) {
    probe_timer_ = loop_.schedule_every(static_cast<TimeNs>(config_.probe_move_s * 1e9), [this] {
      if (phase_ != Phase::kLoad) return;
      for (std::uint32_t k = 0; k < probes_; ++k) probe_move(k);
    });
  }
  record_rss();
  return {};
}

void LoadDriver::request_stop() {
  if (phase_ == Phase::kLoad) begin_cleanup();
  else if (phase_ == Phase::kCleanup) finish();
}

// ---------------------------------------------------------------- association events

bool LoadDriver::first_connect(std::uint32_t a) {
  PeAssociation& pa = *pe_assocs_[a];
  pa.attempted = true;
  ++stats_.pe_assocs.attempted;
  if (stats_.pe_assocs.first_attempt_ns == 0) stats_.pe_assocs.first_attempt_ns = loop_.now();
  return start_connect(a);
}

bool LoadDriver::start_connect(std::uint32_t a) {
  PeAssociation& pa = *pe_assocs_[a];
  if (pa.conn.connect() != client::ClientStatus::kOk) return false;
  if (config_.assoc_per_pe && !pa.connecting) {
    pa.connecting = true;
    ++connecting_;
  }
  return true;
}

void LoadDriver::connect_done(std::uint32_t a) {
  PeAssociation& pa = *pe_assocs_[a];
  if (!pa.connecting) return;
  pa.connecting = false;
  if (connecting_ > 0) --connecting_;
}

void LoadDriver::on_pe_up(std::uint32_t a) {
  ++stats_.c.connects;
  PeAssociation& pa = *pe_assocs_[a];
  pa.last_rx = loop_.now();
  connect_done(a);
  if (!pa.ever_up) {
    pa.ever_up = true;
    // Up during the load phase only: one still connecting when it ended was counted failed.
    if (phase_ == Phase::kLoad) {
      ++stats_.pe_assocs.up;
      stats_.pe_assocs.last_up_ns = loop_.now();
    }
  }
  if (config_.assoc_per_pe) register_over_own_association(a);
}

void LoadDriver::register_over_own_association(std::uint32_t a) {
  if (phase_ != Phase::kLoad) return;
  PeSlot& s = pes_[a];
  if ((s.flags & kDead) != 0) return;
  if (s.state == kIdle) {
    s.address = a < probes_ ? local_v4_[0] : new_address(a);
    s.port = new_port();
  } else if (s.state == kLost || s.state == kFailed) {
    if ((s.flags & kRetry) != 0) ++stats_.c.failovers;
    s.flags &= static_cast<std::uint8_t>(~kRetry);
  } else {
    return;  // registered or pending already
  }
  s.assoc = a;
  if (!send_registration(a, false)) {
    s.state = kFailed;
    first_answer_failed(a);
  }
}

void LoadDriver::first_answer_failed(std::uint32_t index) {
  PeSlot& s = pes_[index];
  if ((s.flags & kAnswered) != 0) return;
  s.flags |= kAnswered;
  ++first_answers_;
}

void LoadDriver::pump_connects(double dt) {
  const TimeNs now = loop_.now();
  const bool reconnect_due = !reconnects_.empty() && now >= reconnects_.front().first;
  if (next_connect_ >= total_pes_ && !reconnect_due) return;
  connect_tokens_ =
      std::min(connect_tokens_ + config_.register_rate * dt, std::max(1.0, config_.register_rate * 0.05));
  while (connect_tokens_ >= 1 && connecting_ < config_.window) {
    // Reconnects first, through the same bucket and window: thousands of failed set-ups retried
    // all at once a second later would be an INIT storm that fails them again.
    if (!reconnects_.empty() && now >= reconnects_.front().first) {
      const std::uint32_t a = reconnects_.front().second;
      reconnects_.pop_front();
      PeAssociation& pa = *pe_assocs_[a];
      pa.reconnect_at = 0;
      connect_tokens_ -= 1;
      if (!start_connect(a)) {
        pa.reconnect_at = now + kNsPerSec;
        reconnects_.emplace_back(pa.reconnect_at, a);
      }
      continue;
    }
    if (next_connect_ >= total_pes_) break;
    connect_tokens_ -= 1;
    const std::uint32_t a = next_connect_++;
    if (first_connect(a)) continue;
    ++stats_.c.connect_failures;
    error("PE association to " + config_.registrars[pe_assocs_[a]->registrar].text + ": connect refused at once");
    pes_[a].state = kFailed;
    first_answer_failed(a);
  }
}

void LoadDriver::check_silent_associations() {
  const TimeNs now = loop_.now();
  if (config_.silent_association_s <= 0) return;
  const auto limit = static_cast<TimeNs>(config_.silent_association_s * 1e9);
  for (auto& pa : pe_assocs_) {
    const bool silent = pa->timed_out && now - pa->last_rx >= limit;
    pa->timed_out = false;
    if (!silent || pa->conn.state() != client::AsapConnection::State::kConnected) continue;
    ++stats_.c.connections_lost;
    error("PE association to " + config_.registrars[pa->registrar].text + ": silent, aborted");
    pa->conn.abort();
    pe_association_lost(pa->index);
  }
  for (std::size_t k = 0; k < pus_.size(); ++k) {
    const auto& c = pus_[k]->counters();
    const std::uint64_t answers = c.resolutions_answered + c.resolutions_rejected;
    if (answers != pu_answers_seen_[k] || pu_quiet_since_[k] == 0) pu_quiet_since_[k] = now;
    const bool silent = c.timeouts > pu_timeouts_seen_[k] && answers == pu_answers_seen_[k] &&
                        now - pu_quiet_since_[k] >= limit;
    pu_timeouts_seen_[k] = c.timeouts;
    pu_answers_seen_[k] = answers;
    if (!silent || !pus_[k]->connected()) continue;
    ++stats_.c.connections_lost;
    error("PU association to " + config_.registrars[pu_registrar_[k]].text + ": silent, aborted");
    pus_[k]->abort();
    if (phase_ == Phase::kLoad) pu_reconnect_at_[k] = static_cast<std::uint64_t>(now + kNsPerSec);
  }
}

void LoadDriver::on_pe_down(std::uint32_t a, client::ClientStatus status) {
  PeAssociation& pa = *pe_assocs_[a];
  connect_done(a);
  if (status == client::ClientStatus::kClosed) return;
  if (status == client::ClientStatus::kConnectFailed) {
    ++stats_.c.connect_failures;
    if (config_.assoc_per_pe && !pa.ever_up && pes_[a].state == kIdle) {
      // Its first connect failed: the PE's first registration cannot be answered (ramp accounting);
      // the reconnect below registers it if the association comes up later.
      pes_[a].state = kFailed;
      first_answer_failed(a);
    }
    error("PE association to " + config_.registrars[pa.registrar].text + ": connect failed");
  } else {
    ++stats_.c.connections_lost;
    error("PE association to " + config_.registrars[pa.registrar].text + ": lost");
  }
  pe_association_lost(a);
}

void LoadDriver::pe_association_lost(std::uint32_t a) {
  PeAssociation& pa = *pe_assocs_[a];
  outstanding_total_ -= std::min<std::uint64_t>(outstanding_total_, pa.outstanding);
  pa.outstanding = 0;
  // The registrar drops every PE of a lost association (asap.md §1): register them again over
  // another association (failover), or with assoc_per_pe over its own once reconnected (one PE:
  // no scan), unless they are dead or we are stopping.
  const std::uint32_t first = config_.assoc_per_pe ? a : 0;
  const std::uint32_t end = config_.assoc_per_pe ? std::min(a + 1, total_pes_) : total_pes_;
  for (std::uint32_t i = first; i < end; ++i) {
    PeSlot& s = pes_[i];
    if (s.assoc != a || s.state == kIdle) continue;
    switch (s.state) {
      case kRegistering:
        ++stats_.c.registrations_lost;
        break;
      case kMoving:
        ++stats_.c.reregistrations_lost;
        break;
      default:
        break;
    }
    if (registered(s.state)) pe_gone(i);
    if (s.state == kRegistering || registered(s.state) || s.state == kFailed) {
      s.state = kLost;
      if ((s.flags & kDead) == 0 && phase_ == Phase::kLoad) {
        s.flags |= kRetry;
        if (!config_.assoc_per_pe) retry_.push_back(i);
      }
    } else if (s.state == kDeregistering) {
      s.state = kDeregistered;
    }
  }
  if (phase_ == Phase::kLoad && pa.reconnect_at == 0) {
    pa.reconnect_at = loop_.now() + kNsPerSec;
    reconnects_.emplace_back(pa.reconnect_at, a);
  }
}

void LoadDriver::pe_gone(std::uint32_t index) {
  PeSlot& s = pes_[index];
  if (stats_.pes_registered > 0) --stats_.pes_registered;
  if ((s.flags & kDead) == 0 && stats_.pes_alive > 0) --stats_.pes_alive;
}

void LoadDriver::on_pe_message(std::uint32_t a, ConnectionId from, wire::AsapMessage& m) {
  pe_assocs_[a]->last_rx = loop_.now();
  if (auto* r = std::get_if<wire::RegistrationResponse>(&m)) {
    on_registration_response(*r);
  } else if (auto* d = std::get_if<wire::DeregistrationResponse>(&m)) {
    on_deregistration_response(*d);
  } else if (auto* k = std::get_if<wire::EndpointKeepAlive>(&m)) {
    on_keep_alive(a, from, *k);
  } else if (std::holds_alternative<wire::AsapError>(m)) {
    ++stats_.c.asap_errors;
    error("ASAP Error message from registrar");
  } else {
    ++stats_.c.unexpected_messages;
  }
}

void LoadDriver::on_registration_response(const wire::RegistrationResponse& m) {
  const std::uint32_t index = index_of(short_id(m.pe_id));
  if (index >= total_pes_ || !(pools_[pool_of(index)] == m.pool_handle)) {
    ++stats_.c.unexpected_messages;
    return;
  }
  PeSlot& s = pes_[index];
  if (s.state != kRegistering && s.state != kMoving) {
    ++stats_.c.unexpected_messages;  // e.g. late answer after a timeout
    return;
  }
  remove_outstanding(s.assoc);
  const TimeNs latency = TimeNs(now_us() - s.sent_us) * 1000;
  const std::uint16_t code = m.error && !m.error->causes.empty() ? m.error->causes.front().code : 0;
  if (s.state == kRegistering) {
    if ((s.flags & kAnswered) == 0) {
      s.flags |= kAnswered;
      ++first_answers_;
    }
    if (!m.rejected) {
      ++stats_.c.registrations_ok;
      record(&LatencySet::registration, latency);
      s.state = kRegistered;
      ++stats_.pes_registered;
      if ((s.flags & kDead) == 0) ++stats_.pes_alive;
      stats_.peak_pes_registered = std::max(stats_.peak_pes_registered, stats_.pes_registered);
    } else {
      ++stats_.c.registrations_failed;
      error("registration rejected: cause " + cause_text(code));
      s.state = kFailed;
    }
  } else {
    if (!m.rejected) {
      ++stats_.c.reregistrations_ok;
      record(&LatencySet::reregistration, latency);
    } else {
      ++stats_.c.reregistrations_failed;
      error("re-registration rejected: cause " + cause_text(code));
    }
    s.state = kRegistered;  // a rejected re-registration changes nothing at the registrar
  }
}

void LoadDriver::on_deregistration_response(const wire::DeregistrationResponse& m) {
  const std::uint32_t index = index_of(short_id(m.pe_id));
  if (index >= total_pes_ || pes_[index].state != kDeregistering) {
    ++stats_.c.unexpected_messages;
    return;
  }
  PeSlot& s = pes_[index];
  remove_outstanding(s.assoc);
  record(&LatencySet::deregistration, TimeNs(now_us() - s.sent_us) * 1000);
  if (m.error && !m.error->causes.empty()) {
    ++stats_.c.deregistrations_failed;
    error("deregistration rejected: cause " + cause_text(m.error->causes.front().code));
  } else {
    ++stats_.c.deregistrations_ok;
  }
  s.state = kDeregistered;
}

void LoadDriver::on_keep_alive(std::uint32_t a, ConnectionId from, const wire::EndpointKeepAlive& m) {
  ++stats_.c.keepalives_received;
  if (m.home) ++stats_.c.home_flag_keepalives;
  const std::uint32_t index = m.pe_id ? index_of(short_id(*m.pe_id)) : total_pes_;
  if (index >= total_pes_) {
    ++stats_.c.keepalives_unknown;
    return;
  }
  if (!(pools_[pool_of(index)] == m.pool_handle)) {
    ++stats_.c.keepalives_unknown;
    return;
  }
  if (pes_[index].flags & kDead) {
    ++stats_.c.keepalives_ignored;
    return;
  }
  wire::EndpointKeepAliveAck ack;
  ack.pool_handle = m.pool_handle;
  ack.pe_id = *m.pe_id;
  if (send_pe(a, ack, from)) ++stats_.c.keepalives_answered;
}

// ---------------------------------------------------------------- sending

template <typename Message>
bool LoadDriver::send_pe(std::uint32_t a, const Message& m, ConnectionId via) {
  PeAssociation& pa = *pe_assocs_[a];
  const client::ClientStatus st = pa.conn.send(m, via);
  if (st != client::ClientStatus::kOk) {
    ++stats_.c.send_failures;
    error(std::string("send failed: ") + client::to_string(st));
    return false;
  }
  if (pcap_ && stats_.c.pcap_messages < config_.pcap_max && (pcap_seen_++ % config_.pcap_every) == 0) {
    pcap_buffer_.clear();
    if (wire::encode(m, pa.conn.wire_options(), pcap_buffer_).ok()) sample_pcap(a, true, pcap_buffer_);
  }
  return true;
}

void LoadDriver::sample_pcap(std::uint32_t a, bool to_registrar, std::span<const std::uint8_t> bytes) {
  const RegistrarTarget& t = config_.registrars[pe_assocs_[a]->registrar];
  capture::Endpoint local{t.address.is_v4() ? IpAddress::v4(0x7f000001u) : t.address,
                          static_cast<std::uint16_t>(49152 + a)};
  capture::Endpoint remote{t.address, t.port};
  const auto& src = to_registrar ? local : remote;
  const auto& dst = to_registrar ? remote : local;
  const TimeNs ts = static_cast<TimeNs>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const bool ok = config_.transport == client::ClientTransport::kTcp
                      ? pcap_->write_tcp(src, dst, bytes, ts)
                      : pcap_->write_sctp_over_udp(src, dst, capture::kPpidAsap, bytes, ts);
  if (ok) ++stats_.c.pcap_messages;
}

bool LoadDriver::send_registration(std::uint32_t index, bool move) {
  PeSlot& s = pes_[index];
  wire::Registration m;
  m.pool_handle = pools_[pool_of(index)];
  m.element.id = pe_id_of(index);
  m.element.registration_life_ms = config_.life_ms;
  m.element.user_transport.protocol = TransportProtocol::kSctp;
  m.element.user_transport.port = s.port;
  m.element.user_transport.use = TransportUse::kDataOnly;
  m.element.user_transport.addresses.push_back(IpAddress::v4(s.address));
  m.element.policy = policy_of(index);
  if (!send_pe(s.assoc, m)) return false;
  s.sent_us = now_us();
  s.state = move ? kMoving : kRegistering;
  add_outstanding(s.assoc);
  deadlines_.emplace_back(s.sent_us, index);
  if (move) ++stats_.c.reregistrations_sent;
  else ++stats_.c.registrations_sent;
  return true;
}

bool LoadDriver::send_deregistration(std::uint32_t index) {
  PeSlot& s = pes_[index];
  wire::Deregistration m;
  m.pool_handle = pools_[pool_of(index)];
  m.pe_id = pe_id_of(index);
  if (!send_pe(s.assoc, m)) return false;
  pe_gone(index);
  s.sent_us = now_us();
  s.state = kDeregistering;
  add_outstanding(s.assoc);
  deadlines_.emplace_back(s.sent_us, index);
  ++stats_.c.deregistrations_sent;
  return true;
}

// ---------------------------------------------------------------- schedules

int LoadDriver::pick_pe_association() {
  for (std::size_t n = 0; n < pe_assocs_.size(); ++n) {
    const std::size_t a = assoc_cursor_++ % pe_assocs_.size();
    PeAssociation& pa = *pe_assocs_[a];
    if (pa.conn.state() == client::AsapConnection::State::kConnected && pa.outstanding < config_.window)
      return static_cast<int>(a);
  }
  return -1;
}

void LoadDriver::tick() {
  const TimeNs now = loop_.now();
  const double dt = static_cast<double>(now - last_tick_) / 1e9;
  last_tick_ = now;
  expire_timeouts();
  // Reconnects (every association that went down, a second later; a queue, not a scan). With
  // assoc_per_pe pump_connects paces them.
  while (!config_.assoc_per_pe && !reconnects_.empty() && now >= reconnects_.front().first) {
    PeAssociation& pa = *pe_assocs_[reconnects_.front().second];
    reconnects_.pop_front();
    pa.reconnect_at = 0;
    if (phase_ == Phase::kLoad && pa.conn.connect() != client::ClientStatus::kOk) {
      pa.reconnect_at = now + kNsPerSec;
      reconnects_.emplace_back(pa.reconnect_at, pa.index);
    }
  }
  for (std::size_t k = 0; k < pus_.size(); ++k) {
    if (pu_reconnect_at_[k] != 0 && static_cast<std::uint64_t>(now) >= pu_reconnect_at_[k]) {
      pu_reconnect_at_[k] = 0;
      if (phase_ == Phase::kLoad && pus_[k]->connect() != client::ClientStatus::kOk)
        pu_reconnect_at_[k] = static_cast<std::uint64_t>(now + kNsPerSec);
    }
  }
  if (phase_ == Phase::kLoad) {
    if (now >= load_end_) {
      begin_cleanup();
      return;
    }
    if (config_.assoc_per_pe) pump_connects(dt);
    else pump_registrations(dt);
    pump_deaths();
    pump_moves(dt);
    pump_resolutions();
    if (stats_.ramp_seconds == 0 && first_answers_ >= total_pes_) {
      stats_.ramp_seconds = static_cast<double>(now - start_) / 1e9;
      stats_.rss_loaded_bytes = rss_bytes();
      stats_.vmrss_after_setup_bytes = process_vmrss_bytes();
      record_rss();
    }
  } else if (phase_ == Phase::kCleanup) {
    pump_cleanup();
  }
}

void LoadDriver::expire_timeouts() {
  const std::uint32_t now = now_us();
  const std::uint32_t timeout_us = config_.request_timeout_ms * 1000u;
  while (!deadlines_.empty() && now - deadlines_.front().first >= timeout_us) {
    const auto [sent, index] = deadlines_.front();
    deadlines_.pop_front();
    PeSlot& s = pes_[index];
    if (!pending(s.state) || s.sent_us != sent) continue;
    remove_outstanding(s.assoc);
    pe_assocs_[s.assoc]->timed_out = true;
    if (s.state == kRegistering) {
      ++stats_.c.registrations_timeout;
      error("registration timeout");
      if ((s.flags & kAnswered) == 0) {
        s.flags |= kAnswered;
        ++first_answers_;
      }
      s.state = kFailed;
    } else if (s.state == kMoving) {
      ++stats_.c.reregistrations_timeout;
      error("re-registration timeout");
      s.state = kRegistered;
    } else {
      ++stats_.c.deregistrations_timeout;
      error("deregistration timeout");
      s.state = kDeregistered;
    }
  }
}

void LoadDriver::pump_registrations(double dt) {
  if (next_new_ >= total_pes_ && retry_.empty()) return;
  reg_tokens_ = std::min(reg_tokens_ + config_.register_rate * dt, std::max(1.0, config_.register_rate * 0.05));
  while (reg_tokens_ >= 1) {
    std::uint32_t index;
    bool retry = false;
    if (!retry_.empty()) {
      index = retry_.front();
      retry = true;
    } else if (next_new_ < total_pes_) {
      index = next_new_;
    } else {
      break;
    }
    const int a = pick_pe_association();
    if (a < 0) break;
    PeSlot& s = pes_[index];
    if (retry) {
      retry_.pop_front();
      if (s.state != kLost || (s.flags & kDead)) continue;
      ++stats_.c.failovers;
    } else {
      ++next_new_;
      s.address = index < probes_ ? local_v4_[pe_assocs_[a]->registrar] : new_address(static_cast<std::uint32_t>(a));
      s.port = new_port();
    }
    s.assoc = static_cast<std::uint32_t>(a);
    reg_tokens_ -= 1;
    if (!send_registration(index, false)) {
      s.state = kFailed;
      break;
    }
  }
}

void LoadDriver::pump_deaths() {
  if (config_.dead_fraction <= 0 || death_cursor_ >= total_pes_) return;
  const double die_at = config_.die_at_s >= 0 ? config_.die_at_s : -1;
  const TimeNs now = loop_.now();
  double since;
  if (die_at >= 0) {
    since = static_cast<double>(now - start_) / 1e9 - die_at;
  } else {
    if (stats_.ramp_seconds == 0) return;
    since = static_cast<double>(now - start_) / 1e9 - stats_.ramp_seconds;
  }
  if (since < 0) return;
  const double frac = config_.die_spread_s <= 0 ? 1.0 : std::min(1.0, since / config_.die_spread_s);
  const auto target = static_cast<std::uint32_t>(probes_ + frac * (total_pes_ - probes_));
  if (death_cursor_ < probes_) death_cursor_ = probes_;
  for (; death_cursor_ < target; ++death_cursor_) {
    if (!chosen_to_die(death_cursor_, config_.seed, config_.dead_fraction)) continue;
    PeSlot& s = pes_[death_cursor_];
    if (s.flags & kDead) continue;
    s.flags |= kDead;
    ++stats_.c.pes_died;
    if (registered(s.state) && stats_.pes_alive > 0) --stats_.pes_alive;
  }
}

void LoadDriver::pump_moves(double dt) {
  if (config_.move_interval_s <= 0 || total_pes_ <= probes_) return;
  const double rate = static_cast<double>(stats_.pes_alive) / config_.move_interval_s;
  move_tokens_ = std::min(move_tokens_ + rate * dt, std::max(1.0, rate * 0.05));
  const std::uint32_t load_pes = total_pes_ - probes_;
  while (move_tokens_ >= 1) {
    move_tokens_ -= 1;
    const auto index = static_cast<std::uint32_t>(probes_ + rng_() % load_pes);
    PeSlot& s = pes_[index];
    PeAssociation& pa = *pe_assocs_[s.assoc];
    if (s.state != kRegistered || (s.flags & kDead) ||
        pa.conn.state() != client::AsapConnection::State::kConnected || pa.outstanding >= config_.window) {
      ++stats_.c.moves_skipped;
      continue;
    }
    s.address = new_address(s.assoc);
    s.port = new_port();
    send_registration(index, true);
  }
}

client::PoolUserClient* LoadDriver::pick_pu(std::size_t registrar_preference, bool any) {
  client::PoolUserClient* fallback = nullptr;
  for (std::size_t n = 0; n < pus_.size(); ++n) {
    const std::size_t k = pu_cursor_++ % pus_.size();
    client::PoolUserClient& pu = *pus_[k];
    if (!pu.connected() || pu.outstanding() >= config_.pu_window) continue;
    if (any || pu_registrar_[k] == registrar_preference) return &pu;
    if (fallback == nullptr) fallback = &pu;
  }
  return fallback;
}

void LoadDriver::pump_resolutions() {
  if (config_.pus == 0 || config_.resolve_rate <= 0) return;
  const auto now = static_cast<double>(loop_.now() - start_);
  if (!pu_ever_up_) {
    // No PU association is up yet: a client cannot intend to send before it has connected, so the
    // schedule starts with the first one (a registrar that never answers is a connect error).
    res_due_ns_ = now;
    return;
  }
  const double interval = 1e9 / config_.resolve_rate;
  const double max_wait = static_cast<double>(config_.request_timeout_ms) * 1e6;
  // Due for longer than a request timeout and still not sent: dropped, in bulk (bounded work).
  if (now - res_due_ns_ > max_wait) {
    const double n = std::floor((now - max_wait - res_due_ns_) / interval) + 1;
    stats_.c.resolutions_skipped += static_cast<std::uint64_t>(n);
    res_due_ns_ += n * interval;
  }
  while (res_due_ns_ <= now) {
    client::PoolUserClient* pu = pick_pu(0, true);
    if (pu == nullptr) return;  // no room: it stays due and keeps its intended send time
    const TimeNs intended = start_ + static_cast<TimeNs>(res_due_ns_);
    res_due_ns_ += interval;
    const PoolHandle& handle = pools_[rng_() % config_.pools];
    ++resolution_seq_;  // simulated PU = resolution_seq_ % pus (stateless)
    ++stats_.c.resolutions_sent;
    std::weak_ptr<bool> alive = alive_;
    pu->resolve(handle, config_.items, [this, alive, pu, intended](const client::ResolutionResult& r) {
      if (alive.expired()) return;
      if (r.ok()) {
        ++stats_.c.resolutions_ok;
        record(&LatencySet::resolution, loop_.now() - intended);
        record(&LatencySet::resolution_raw, r.latency);
        stats_.c.elements_received += r.elements.size();
        if (config_.unreachable_fraction > 0) {
          std::uniform_real_distribution<double> u(0, 1);
          for (const PoolElement& pe : r.elements) {
            if (u(rng_) < config_.unreachable_fraction &&
                pu->report_unreachable(r.handle, pe.id) == client::ClientStatus::kOk)
              ++stats_.c.unreachable_reports;
          }
        }
      } else if (r.status == client::ClientStatus::kRejected) {
        if (r.cause() == ErrorCause::kUnknownPoolHandle) {
          ++stats_.c.resolutions_unknown_pool;
        } else {
          ++stats_.c.resolutions_rejected_other;
          error("resolution rejected: cause " + cause_text(r.error_code));
        }
      } else if (r.status == client::ClientStatus::kTimeout) {
        ++stats_.c.resolutions_timeout;
        error("resolution timeout");
      } else {
        ++stats_.c.resolutions_failed_other;
        error(std::string("resolution failed: ") + client::to_string(r.status));
      }
    });
  }
}

// ---------------------------------------------------------------- probes (move-to-visible)

void LoadDriver::probe_move(std::uint32_t k) {
  Probe& p = probe_state_[k];
  PeSlot& s = pes_[k];
  if (p.moved_at != 0 || s.state != kRegistered) return;
  PeAssociation& pa = *pe_assocs_[s.assoc];
  if (pa.conn.state() != client::AsapConnection::State::kConnected) return;
  // Probe PEs always move (address in spread mode, port in association mode).
  s.address = config_.address_mode == AddressMode::kSpread ? new_address(s.assoc) : local_v4_[pa.registrar];
  s.port = static_cast<std::uint16_t>(1024 + rng_() % 64000);
  if (!send_registration(k, true)) return;
  ++stats_.c.probe_moves;
  p.moved_at = loop_.now();
  p.address = s.address;
  p.port = s.port;
  probe_resolve(k);
}

void LoadDriver::probe_resolve(std::uint32_t k) {
  Probe& p = probe_state_[k];
  if (p.moved_at == 0 || p.resolving) return;
  if (phase_ != Phase::kLoad) {
    // The run ended while this move was propagating (a move every few hundred ms, visible after
    // ~1-2 ms: it happens); nothing was late, so it is counted apart and is not an error.
    ++stats_.c.probe_cut_by_end;
    p.moved_at = 0;
    return;
  }
  if (loop_.now() - p.moved_at > static_cast<TimeNs>(config_.probe_give_up_s * 1e9)) {
    ++stats_.c.probe_gave_up;
    error("probe: new address not visible within give-up time");
    p.moved_at = 0;
    return;
  }
  // Resolve at another registrar than the PE's own when there is one (ENRP propagation),
  // else at the same one.
  const std::size_t home = pe_assocs_[pes_[k].assoc]->registrar;
  const std::size_t target = (home + 1 + k) % config_.registrars.size();
  client::PoolUserClient* pu = pick_pu(config_.registrars.size() > 1 && target == home ? (home + 1) % config_.registrars.size() : target, false);
  std::weak_ptr<bool> alive = alive_;
  auto again = [this, alive, k] {
    loop_.schedule_after(static_cast<TimeNs>(config_.probe_interval_ms * 1e6), [this, alive, k] {
      if (!alive.expired()) probe_resolve(k);
    });
  };
  if (pu == nullptr) {
    again();
    return;
  }
  p.resolving = true;
  ++stats_.c.probe_resolutions;
  pu->resolve(pools_[pool_of(k)], wire::kHroItemsMax, [this, alive, k, again](const client::ResolutionResult& r) {
    if (alive.expired()) return;
    Probe& pr = probe_state_[k];
    pr.resolving = false;
    if (pr.moved_at == 0) return;
    if (r.ok()) {
      for (const PoolElement& pe : r.elements) {
        if (short_id(pe.id) != short_id(pe_id_of(k)) || pe.user_transport.port != pr.port) continue;
        for (const IpAddress& ip : pe.user_transport.addresses) {
          if (ip == IpAddress::v4(pr.address)) {
            ++stats_.c.probe_visible;
            record(&LatencySet::move_to_visible, loop_.now() - pr.moved_at);
            pr.moved_at = 0;
            return;
          }
        }
      }
    }
    again();
  });
}

// ---------------------------------------------------------------- end of run

void LoadDriver::count_unfinished_connects() {
  const auto waited = [this] { return std::to_string(static_cast<double>(loop_.now() - start_) / 1e9).substr(0, 4); };
  for (const auto& pa : pe_assocs_) {
    if (pa->conn.state() != client::AsapConnection::State::kConnecting) continue;
    ++stats_.c.connect_failures;
    error("PE association to " + config_.registrars[pa->registrar].text + ": not up when the load phase ended (" +
          waited() + " s, no answer)");
  }
  for (std::size_t k = 0; k < pus_.size(); ++k) {
    if (pus_[k]->connection().state() != client::AsapConnection::State::kConnecting) continue;
    ++stats_.c.connect_failures;
    error("PU association to " + config_.registrars[pu_registrar_[k]].text + ": not up when the load phase ended (" +
          waited() + " s, no answer)");
  }
}

void LoadDriver::begin_cleanup() {
  if (phase_ != Phase::kLoad) return;
  // An association still connecting has had no answer for the whole run (SCTP over UDP to a port
  // nobody listens on hears nothing, not even a refusal): the run never reached its registrar.
  count_unfinished_connects();
  // Every PE association counts once: up, or failed (never came up during the load phase).
  stats_.pe_assocs.failed = stats_.pe_assocs.attempted - stats_.pe_assocs.up;
  for (const auto& pa : pe_assocs_)
    if (pa->conn.state() == client::AsapConnection::State::kConnected) ++stats_.pe_assocs.up_at_load_end;
  // A ramp that never finished (associations still failing) is measured at the end of the load
  // phase instead, over the associations up by then.
  if (stats_.vmrss_after_setup_bytes == 0) stats_.vmrss_after_setup_bytes = process_vmrss_bytes();
  phase_ = Phase::kCleanup;
  stats_.load_end_registered = stats_.pes_registered;
  stats_.load_end_alive = stats_.pes_alive;
  stats_.elapsed_s = static_cast<double>(loop_.now() - start_) / 1e9;
  if (probe_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(probe_timer_);
  probe_timer_ = runtime::EventLoop::kNoTimer;
  retry_.clear();
  cleanup_cursor_ = 0;
  cleanup_deadline_ = loop_.now() + static_cast<TimeNs>(config_.cleanup_timeout_s * 1e9);
  if (!config_.cleanup) finish();
}

void LoadDriver::pump_cleanup() {
  if (loop_.now() >= cleanup_deadline_) {
    error("cleanup: time limit reached before every deregistration was answered");
    finish();
    return;
  }
  while (cleanup_cursor_ < total_pes_) {
    PeSlot& s = pes_[cleanup_cursor_];
    if (pending(s.state) && s.state != kDeregistering) return;  // wait for its answer
    if (s.state != kRegistered || (s.flags & kDead)) {
      ++cleanup_cursor_;
      continue;
    }
    PeAssociation& pa = *pe_assocs_[s.assoc];
    if (pa.conn.state() != client::AsapConnection::State::kConnected) {
      ++cleanup_cursor_;
      continue;
    }
    if (pa.outstanding >= config_.window) return;
    send_deregistration(cleanup_cursor_);
    ++cleanup_cursor_;
  }
  bool busy = outstanding_total_ > 0;
  for (const auto& pu : pus_) busy = busy || pu->outstanding() > 0;
  if (!busy) finish();
}

void LoadDriver::finish() {
  if (phase_ == Phase::kDone) return;
  if (stats_.elapsed_s == 0) stats_.elapsed_s = static_cast<double>(loop_.now() - start_) / 1e9;
  phase_ = Phase::kDone;
  stats_.total_s = static_cast<double>(loop_.now() - start_) / 1e9;
  record_rss();
  if (tick_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(tick_timer_);
  if (second_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(second_timer_);
  tick_timer_ = second_timer_ = runtime::EventLoop::kNoTimer;
  if (on_second_) on_second_(stats_, stats_.total_s, true);
  for (auto& pa : pe_assocs_) pa->conn.close();
  for (auto& pu : pus_) pu->close();
  if (pcap_) pcap_->flush();
  finished_ = true;
  // Give the graceful closes a moment, then stop the loop.
  loop_.schedule_after(300 * kNsPerMs, [this] { loop_.stop(); });
}

void LoadDriver::second() {
  record_rss();
  if (phase_ == Phase::kLoad) check_silent_associations();
  const double elapsed = static_cast<double>(loop_.now() - start_) / 1e9;
  if (on_second_) on_second_(stats_, elapsed, false);
  if (timeseries_ != nullptr && !timeseries_failed_ &&
      !timeseries_->write_second(stats_, elapsed, phase_ == Phase::kLoad ? "load" : "cleanup")) {
    timeseries_failed_ = true;
    error("timeseries: write failed (" + config_.timeseries_path + ")");
  }
  stats_.window.reset();
}

}  // namespace poolreg::poolgen
