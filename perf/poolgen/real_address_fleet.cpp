#include "perf/poolgen/real_address_fleet.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <variant>
#include <vector>

#include "registrar/common/connection.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::poolgen {

std::uint64_t real_addresses_needed(std::uint64_t pes) noexcept { return 2 + 3 * pes; }

namespace {

using Clock = std::chrono::steady_clock;

TimeNs now_ns() {
  return static_cast<TimeNs>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

volatile std::sig_atomic_t g_signals = 0;
void on_signal(int) { g_signals = g_signals + 1; }

// What usrsctp's receive thread hands to the driver thread: a message or an event of one socket.
struct Incoming {
  std::uint32_t owner = 0;       // PE index + 1; 0 = the PU association
  std::uint32_t generation = 0;  // the owner's association (a PE's new one has the next number)
  bool notification = false;     // an SCTP_ASSOC_CHANGE
  std::uint16_t state = 0;       // its sac_state
  std::vector<std::uint8_t> bytes;
};

class Fleet;
Fleet* g_fleet = nullptr;  // usrsctp's threaded stack is process-global; so is its one fleet

int receive(struct socket*, union sctp_sockstore, void* data, std::size_t length, struct sctp_rcvinfo,
            int flags, void* ulp_info);

class Fleet {
 public:
  enum class Phase : std::uint8_t {
    kIdle,           // not opened yet
    kConnecting,     // first association: connect under way (non-blocking)
    kReconnecting,   // break-before-make: the new association's connect under way
    kRegistering,    // first registration sent
    kRegistered,     // idle, registered
    kAwaitAddAck,    // make-before-break: ADD-IP sent, waiting for the peer's acknowledgement
    kReregistering,  // a move's registration sent
    kVisiblePoll,    // moved; resolving its pool until the new address shows
    kDeregistering,
    kDone,  // failed or deregistered: no more traffic
  };
  struct Pe {
    struct socket* so = nullptr;
    TimeNs sent = 0;        // the outstanding request's send time
    TimeNs move_start = 0;  // when the current move began (ADD-IP or abort)
    TimeNs next_poll = 0;
    std::uint32_t generation = 0;  // of the current association (events of an older one are stale)
    std::uint16_t port = 0;        // local SCTP port (one for all the association's addresses)
    std::uint8_t reg = 0;          // index (0..2) of the registered address
    std::uint8_t spare = 1;        // bound, not registered
    std::uint8_t old = 0;          // the address being left (make-before-break)
    Phase phase = Phase::kIdle;
    bool break_before_make = false;
    bool poll_outstanding = false;  // a resolution of its pool is unanswered
  };

  Fleet(const PoolgenConfig& c, TimeseriesWriter* ts, const FleetProgress& progress)
      : c_(c), ts_(ts), progress_(progress), pes_(c.pes), rng_(c.seed) {}

  std::uint32_t address(std::uint64_t pe, std::uint8_t k) const {
    return c_.pe_address_base + 2 + static_cast<std::uint32_t>(3 * pe + k);
  }
  // prefix + 1: the address this host sends from towards the registrar (its route's source).
  std::uint32_t anchor() const { return c_.pe_address_base + 1; }
  std::string pool_of(std::uint64_t pe) const { return c_.pool_prefix + "real-" + std::to_string(pe); }

  // Called by usrsctp's threads.
  void push(Incoming in) {
    const std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(in));
  }

  Expected<RunStats, std::string> run() {
    const auto& r = c_.registrars.front();
    std::memset(&to_, 0, sizeof to_);
    to_.sin_family = AF_INET;
    std::memcpy(&to_.sin_addr, r.address.data(), 4);
    to_.sin_port = htons(r.port);
    stats_.rss_start_bytes = process_vmrss_bytes();
    stats_.pe_slot_bytes = sizeof(Pe);
    stats_.lanes = 1;
    std::uint16_t pu_port = 0;
    pu_ = open_socket(0, {anchor()}, &pu_port, nullptr, true);
    if (pu_ == nullptr)
      return unexpected(std::string("the PU association to ") + r.text + " did not come up");
    usrsctp_set_non_blocking(pu_, 1);  // a full send buffer fails a poll, never stalls this thread
    const TimeNs start = now_ns();
    const TimeNs load_end = start + static_cast<TimeNs>(c_.duration_s * 1e9);
    TimeNs next_second = start + kNsPerSec, next_scan = start;
    double ramp_credit = 0;
    TimeNs last = start;
    TimeNs next_move = 0;
    std::uint64_t opened = 0;
    while (now_ns() < load_end && g_signals == 0) {
      const TimeNs now = now_ns();
      drain(now);
      // Ramp: connect and register at register_rate, at most `window` registrations outstanding.
      ramp_credit = std::min(ramp_credit + c_.register_rate * static_cast<double>(now - last) / 1e9,
                             std::max(1.0, c_.register_rate / 100));
      last = now;
      while (opened < pes_.size() && ramp_credit >= 1 && outstanding_ < c_.window) {
        ramp_credit -= 1;
        open_pe(opened++);
      }
      if (opened == pes_.size() && stats_.ramp_seconds == 0 && outstanding_ == 0) {
        stats_.ramp_seconds = static_cast<double>(now - start) / 1e9;
        stats_.rss_loaded_bytes = process_vmrss_bytes();
        stats_.vmrss_after_setup_bytes = stats_.rss_loaded_bytes;
      }
      // Moves: one Poisson process of rate registered / move_interval_s over random PEs.
      if (c_.move_interval_s > 0 && stats_.pes_registered > 0) {
        if (next_move == 0) next_move = now + next_gap();
        while (next_move <= now) {
          move_one(now);
          next_move += next_gap();
        }
      }
      poll_moving(now);
      if (now >= next_scan) {
        scan_timeouts(now_ns());  // later than `now`: the ramp's connects block
        next_scan = now + 10 * kNsPerMs;
      }
      if (now >= next_second) {
        second(static_cast<double>(now - start) / 1e9, "load");
        next_second += kNsPerSec;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    stats_.elapsed_s = static_cast<double>(now_ns() - start) / 1e9;
    stats_.load_end_registered = stats_.pes_registered;
    stats_.load_end_alive = stats_.pes_registered;
    for (const Pe& p : pes_)
      if (p.so != nullptr) ++stats_.pe_assocs.up_at_load_end;
    if (stats_.vmrss_after_setup_bytes == 0) stats_.vmrss_after_setup_bytes = process_vmrss_bytes();
    stats_.pe_assocs.failed = stats_.pe_assocs.attempted - stats_.pe_assocs.up;
    // Moves still under way when the load phase ends are cut, not failed.
    for (Pe& p : pes_) {
      if (p.phase == Phase::kConnecting) {
        ++stats_.c.connect_failures;
        stats_.error("association still connecting at the end of the load phase");
        p.phase = Phase::kDone;
      }
      if (p.phase == Phase::kReconnecting) {  // cut by the end: its PE is gone from the registrar
        ++stats_.c.probe_cut_by_end;
        --stats_.pes_registered;
        p.phase = Phase::kDone;
      }
      if (p.phase == Phase::kAwaitAddAck || p.phase == Phase::kReregistering ||
          p.phase == Phase::kVisiblePoll) {
        ++stats_.c.probe_cut_by_end;
        p.phase = Phase::kRegistered;
      }
      if (p.phase == Phase::kRegistering) {
        ++stats_.c.registrations_timeout;
        stats_.error("registration unanswered at the end of the load phase");
        p.phase = Phase::kDone;
      }
    }
    cleanup(start);
    stats_.total_s = static_cast<double>(now_ns() - start) / 1e9;
    second(stats_.total_s, "cleanup");
    for (Pe& p : pes_)
      if (p.so != nullptr) usrsctp_close(p.so);
    usrsctp_close(pu_);
    stats_.rss_peak_bytes = std::max(stats_.rss_peak_bytes, process_vmrss_bytes());
    return stats_;
  }

 private:
  TimeNs next_gap() {
    const double rate =
        static_cast<double>(std::max<std::uint64_t>(stats_.pes_registered, 1)) / c_.move_interval_s;
    std::exponential_distribution<double> gap(rate);
    return static_cast<TimeNs>(gap(rng_) * 1e9) + 1;
  }

  static sockaddr_in in4(std::uint32_t host_order, std::uint16_t port) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(host_order);
    in.sin_port = htons(port);
    return in;
  }

  // A socket bound to `addresses`, connecting to the registrar: `blocking` returns once it is up
  // (usrsctp's threads do the handshake), else at once (SCTP_ASSOC_CHANGE says how it went);
  // nullptr when binding or connecting failed (*why says which). `owner` and `generation` come
  // back with every event of the socket.
  struct socket* open_socket(std::uint32_t owner, const std::vector<std::uint32_t>& addresses,
                             std::uint16_t* port, std::string* why, bool blocking,
                             std::uint32_t generation = 0) {
    const auto ulp = static_cast<std::uintptr_t>(owner) | (static_cast<std::uintptr_t>(generation) << 32);
    // usrsctp hands ulp_info back untouched: a number in it, not a pointer to anything.
    void* const tag = reinterpret_cast<void*>(ulp);  // NOLINT(performance-no-int-to-ptr)
    struct socket* so = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, receive, nullptr, 0, tag);
    if (so == nullptr) return nullptr;
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = SCTP_ASSOC_CHANGE;
    ev.se_on = 1;
    usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      sockaddr_in in = in4(addresses[i], i == 0 ? 0 : *port);
      const int rc = i == 0 ? usrsctp_bind(so, reinterpret_cast<sockaddr*>(&in), sizeof in)
                            : usrsctp_bindx(so, reinterpret_cast<sockaddr*>(&in), 1, SCTP_BINDX_ADD_ADDR);
      if (rc != 0) {
        if (why != nullptr) *why = "binding a PE address failed (is it configured on this host?)";
        usrsctp_close(so);
        return nullptr;
      }
      if (i == 0) {
        sockaddr* list = nullptr;
        if (usrsctp_getladdrs(so, 0, &list) > 0 && list != nullptr) {
          *port = ntohs(reinterpret_cast<sockaddr_in*>(list)->sin_port);
          usrsctp_freeladdrs(list);
        }
      }
    }
    sctp_udpencaps encaps{};
    encaps.sue_address.ss_family = AF_INET;
    encaps.sue_port = htons(c_.registrars.front().udp_port);
    sockaddr_in peer = to_;
    if (!blocking) usrsctp_set_non_blocking(so, 1);
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps) != 0 ||
        (usrsctp_connect(so, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0 &&
         (blocking || errno != EINPROGRESS))) {
      if (why != nullptr) *why = "association never came up";
      usrsctp_close(so);
      return nullptr;
    }
    return so;
  }

  bool send(struct socket* so, const wire::AsapMessage& m) {
    std::vector<std::uint8_t> bytes;
    if (so == nullptr || !wire::encode(m, wire::WireOptions{}, bytes).ok()) return false;
    sctp_sndinfo info{};
    info.snd_ppid = htonl(kAsapPpid);
    const bool sent = usrsctp_sendv(so, bytes.data(), bytes.size(), nullptr, 0, &info, sizeof info,
                                    SCTP_SENDV_SNDINFO, 0) == static_cast<ssize_t>(bytes.size());
    if (!sent) {
      ++stats_.c.send_failures;
      stats_.error("send failed");
    }
    return sent;
  }

  wire::Registration registration(std::uint64_t i, std::uint32_t addr) const {
    wire::Registration reg;
    reg.pool_handle = *PoolHandle::from_string(pool_of(i));
    reg.element.id = static_cast<PoolElementId>(i + 1);
    reg.element.registration_life_ms = c_.life_ms;
    reg.element.user_transport.protocol = TransportProtocol::kSctp;
    reg.element.user_transport.port = static_cast<std::uint16_t>(7000 + i % 50000);
    reg.element.user_transport.addresses = {IpAddress::v4(addr)};
    // Policies cycled over the pools (one per PE), with parameters as LoadDriver gives them.
    reg.element.policy.type = c_.policies[i % c_.policies.size()];
    reg.element.policy.weight = static_cast<std::uint32_t>(1 + i % 10);
    reg.element.policy.priority = static_cast<std::uint32_t>(i % 4);
    reg.element.policy.load = static_cast<std::uint32_t>((i * 2654435761u) % 0xFFFFFFFFu);
    reg.element.policy.load_degradation = 0x01000000u;
    return reg;
  }

  void open_pe(std::uint64_t i) {
    Pe& p = pes_[i];
    ++stats_.pe_assocs.attempted;
    if (stats_.pe_assocs.first_attempt_ns == 0) stats_.pe_assocs.first_attempt_ns = now_ns();
    std::string why;
    p.so = open_socket(static_cast<std::uint32_t>(i + 1), {address(i, 0), address(i, 1), anchor()}, &p.port,
                       &why, false, ++p.generation);
    if (p.so == nullptr) {
      ++stats_.c.connect_failures;
      stats_.error(why);
      p.phase = Phase::kDone;
      return;
    }
    p.reg = 0;
    p.spare = 1;
    p.sent = now_ns();  // the connect's start (connect_timeout_ms)
    p.phase = Phase::kConnecting;
    ++outstanding_;  // the window bounds connects and first registrations together
  }

  // The association of PE `i` came up (kConnecting, kReconnecting): its registration goes out.
  void on_up(std::uint64_t i) {
    Pe& p = pes_[i];
    ++stats_.c.connects;
    if (p.phase == Phase::kReconnecting) {
      reregister(i, now_ns());  // its latency from the send; move_to_visible counts the handshake too
      return;
    }
    ++stats_.pe_assocs.up;
    stats_.pe_assocs.last_up_ns = now_ns();
    ++stats_.c.registrations_sent;
    p.sent = now_ns();
    p.phase = Phase::kRegistering;
    if (!send(p.so, registration(i, address(i, 0)))) {
      p.phase = Phase::kDone;
      --outstanding_;
    }
  }

  // PE `i`'s association ended (or never came up): an error; the PE takes no further part.
  void on_down(std::uint64_t i) {
    Pe& p = pes_[i];
    switch (p.phase) {
      case Phase::kConnecting:
        ++stats_.c.connect_failures;
        stats_.error("association never came up");
        --outstanding_;
        break;
      case Phase::kReconnecting:
        ++stats_.c.connect_failures;
        stats_.error("break-before-make: the new association never came up");
        --stats_.pes_registered;
        break;
      case Phase::kRegistering:
        ++stats_.c.connections_lost;
        stats_.error("association lost");
        --outstanding_;
        break;
      case Phase::kIdle:
      case Phase::kDone:
      case Phase::kDeregistering:
        return;
      default:
        ++stats_.c.connections_lost;
        stats_.error("association lost");
        --stats_.pes_registered;
        break;
    }
    p.phase = Phase::kDone;
    if (p.so != nullptr) usrsctp_close(p.so);
    p.so = nullptr;
  }

  void move_one(TimeNs now) {
    std::uniform_int_distribution<std::uint64_t> pick(0, pes_.size() - 1);
    const std::uint64_t i = pick(rng_);
    Pe& p = pes_[i];
    if (p.phase != Phase::kRegistered) {
      ++stats_.c.moves_skipped;
      return;
    }
    const auto target = static_cast<std::uint8_t>(3 - p.reg - p.spare);
    ++stats_.c.probe_moves;
    p.move_start = now;
    p.break_before_make = (moves_++ % 2) == 1;
    ++(p.break_before_make ? stats_.real_moves.new_association : stats_.real_moves.asconf).started;
    if (!p.break_before_make) {
      sockaddr_in in = in4(address(i, target), p.port);
      if (usrsctp_bindx(p.so, reinterpret_cast<sockaddr*>(&in), 1, SCTP_BINDX_ADD_ADDR) != 0) {
        stats_.error("ADD-IP (bindx) failed");
        return;
      }
      p.old = p.reg;
      p.reg = target;
      p.phase = Phase::kAwaitAddAck;
      moving_.push_back(i);
      return;
    }
    // Break-before-make: the old association is aborted first, then one from the new address is
    // opened. Known limit: usrsctp 0.9.5's threaded stack (Debian's libusrsctp2) crashed while
    // freeing associations under this load (README.md "Known limit").
    linger l{};
    l.l_onoff = 1;
    usrsctp_setsockopt(p.so, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    usrsctp_close(p.so);
    p.so = nullptr;
    std::string why;
    p.so = open_socket(static_cast<std::uint32_t>(i + 1), {address(i, target), address(i, p.spare), anchor()},
                       &p.port, &why, false, ++p.generation);
    if (p.so == nullptr) {
      ++stats_.c.connect_failures;
      stats_.error("break-before-make: " + why);
      --stats_.pes_registered;
      p.phase = Phase::kDone;
      return;
    }
    p.reg = target;
    p.sent = now;  // the connect's start (connect_timeout_ms)
    p.phase = Phase::kReconnecting;
    moving_.push_back(i);
  }

  void reregister(std::uint64_t i, TimeNs now) {
    Pe& p = pes_[i];
    ++stats_.c.reregistrations_sent;
    p.sent = now;
    p.phase = Phase::kReregistering;
    if (!send(p.so, registration(i, address(i, p.reg)))) p.phase = Phase::kRegistered;
  }

  void drain(TimeNs now) {
    {
      const std::lock_guard lock(mutex_);
      work_.swap(inbox_);
    }
    for (Incoming& in : work_) {
      if (in.owner == 0) {
        on_pu_message(in, now);
      } else if (in.owner <= pes_.size()) {
        on_pe(in.owner - 1, in, now);
      }
    }
    work_.clear();
  }

  void on_pe(std::uint64_t i, const Incoming& in, TimeNs now) {
    Pe& p = pes_[i];
    if (in.generation != p.generation) return;  // from an association the PE already left
    if (in.notification) {
      if (in.state == SCTP_COMM_UP) {
        if (p.phase == Phase::kConnecting || p.phase == Phase::kReconnecting) on_up(i);
      } else {
        on_down(i);
      }
      return;
    }
    auto decoded = wire::decode_asap(in.bytes);
    if (!decoded) {
      ++stats_.c.asap_errors;
      stats_.error("undecodable message");
      return;
    }
    if (const auto* r = std::get_if<wire::RegistrationResponse>(&decoded.value())) {
      const TimeNs took = now - p.sent;
      if (p.phase == Phase::kRegistering) {
        --outstanding_;
        if (r->rejected) {
          ++stats_.c.registrations_failed;
          stats_.error("registration rejected by the registrar");
          p.phase = Phase::kDone;
          return;
        }
        ++stats_.c.registrations_ok;
        stats_.registration.record(took);
        stats_.window.registration.record(took);
        ++stats_.pes_registered;
        stats_.peak_pes_registered = std::max(stats_.peak_pes_registered, stats_.pes_registered);
        p.phase = Phase::kRegistered;
      } else if (p.phase == Phase::kReregistering) {
        if (r->rejected) {
          ++stats_.c.reregistrations_failed;
          stats_.error("move refused: re-registration rejected by the registrar");
          p.phase = Phase::kRegistered;
          return;
        }
        ++stats_.c.reregistrations_ok;
        stats_.reregistration.record(took);
        stats_.window.reregistration.record(took);
        if (!p.break_before_make) {
          // Make-before-break: the old address leaves the association (DELETE-IP).
          sockaddr_in in = in4(address(i, p.old), p.port);
          if (usrsctp_bindx(p.so, reinterpret_cast<sockaddr*>(&in), 1, SCTP_BINDX_REM_ADDR) != 0)
            stats_.error("DELETE-IP (bindx) failed");
        }
        p.phase = Phase::kVisiblePoll;
        p.next_poll = now;
        if (p.break_before_make) moving_.push_back(i);  // a make-before-break move is listed since its ADD-IP
      } else if (p.phase == Phase::kDeregistering) {
        ++stats_.c.unexpected_messages;
      }
      return;
    }
    if (const auto* ka = std::get_if<wire::EndpointKeepAlive>(&decoded.value())) {
      // Answered here, not on usrsctp's receive thread: only this thread closes sockets.
      ++stats_.c.keepalives_received;
      wire::EndpointKeepAliveAck ack;
      ack.pool_handle = ka->pool_handle;
      ack.pe_id = ka->pe_id.value_or(0);
      if (send(p.so, ack)) ++stats_.c.keepalives_answered;
      return;
    }
    if (const auto* d = std::get_if<wire::DeregistrationResponse>(&decoded.value())) {
      if (p.phase == Phase::kDeregistering) {
        --outstanding_;
        if (d->error) {
          ++stats_.c.deregistrations_failed;
          stats_.error("deregistration refused");
        } else {
          ++stats_.c.deregistrations_ok;
          stats_.deregistration.record(now - p.sent);
          stats_.window.deregistration.record(now - p.sent);
        }
        --stats_.pes_registered;
        p.phase = Phase::kDone;
      }
      return;
    }
    ++stats_.c.unexpected_messages;
  }

  void on_pu_message(const Incoming& in, TimeNs now) {
    if (in.notification) {
      if (in.state != SCTP_COMM_UP) {
        ++stats_.c.connections_lost;
        stats_.error("PU association lost");
      }
      return;
    }
    auto decoded = wire::decode_asap(in.bytes);
    const auto* r = decoded ? std::get_if<wire::HandleResolutionResponse>(&decoded.value()) : nullptr;
    if (r == nullptr) {
      ++stats_.c.unexpected_messages;
      return;
    }
    ++stats_.c.resolutions_ok;
    stats_.c.elements_received += r->elements.size();
    const auto raw = r->pool_handle.bytes();
    const std::string name(raw.begin(), raw.end());
    const std::string prefix = c_.pool_prefix + "real-";
    if (name.rfind(prefix, 0) != 0) return;
    const std::uint64_t i = std::strtoull(name.c_str() + prefix.size(), nullptr, 10);
    if (i >= pes_.size()) return;
    Pe& p = pes_[i];
    p.poll_outstanding = false;
    if (p.phase != Phase::kVisiblePoll) return;
    const IpAddress want = IpAddress::v4(address(i, p.reg));
    for (const auto& e : r->elements)
      for (const auto& a : e.user_transport.addresses)
        if (a == want) {
          const TimeNs took = now - p.move_start;
          stats_.move_to_visible.record(took);
          stats_.window.move_to_visible.record(took);
          ++stats_.c.probe_visible;
          auto& kind = p.break_before_make ? stats_.real_moves.new_association : stats_.real_moves.asconf;
          ++kind.visible;
          kind.move_to_visible.record(took);
          p.phase = Phase::kRegistered;
          return;
        }
  }

  // `address` is among the association's usable local addresses (ADD-IP acknowledged).
  static bool local_address_usable(struct socket* so, std::uint32_t address) {
    sockaddr* list = nullptr;
    const int n = usrsctp_getladdrs(so, 0, &list);
    bool found = false;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(list);
    for (int k = 0; k < n && list != nullptr; ++k) {
      sockaddr_in in{};
      std::memcpy(&in, bytes + static_cast<std::size_t>(k) * sizeof(sockaddr_in), sizeof in);
      if (in.sin_family == AF_INET && ntohl(in.sin_addr.s_addr) == address) found = true;
    }
    if (list != nullptr) usrsctp_freeladdrs(list);
    return found;
  }

  void poll_moving(TimeNs now) {
    const auto interval = static_cast<TimeNs>(c_.probe_interval_ms * 1e6);
    std::erase_if(moving_, [&](std::uint64_t i) {
      Pe& p = pes_[i];
      if (p.phase == Phase::kAwaitAddAck) {
        // usrsctp keeps an added address restricted (not among the association's local
        // addresses) until the peer's ASCONF-ACK arrives, and reports no event for it.
        if (local_address_usable(p.so, address(i, p.reg))) reregister(i, now);
        return false;
      }
      if (p.phase == Phase::kReregistering || p.phase == Phase::kReconnecting) return false;
      if (p.phase != Phase::kVisiblePoll) return true;
      if (now - p.move_start > static_cast<TimeNs>(c_.probe_give_up_s * 1e9)) {
        ++stats_.c.probe_gave_up;
        stats_.error("move not visible: the registrar did not list the new address within probe.give_up_s");
        p.phase = Phase::kRegistered;
        return true;
      }
      // One resolution per moving PE at a time, at most one per interval (a slow registrar is
      // asked no faster than it answers).
      if (p.next_poll <= now && !p.poll_outstanding) {
        wire::HandleResolution h;
        h.pool_handle = *PoolHandle::from_string(pool_of(i));
        ++stats_.c.probe_resolutions;
        ++stats_.c.resolutions_sent;
        p.poll_outstanding = send(pu_, h);
        p.next_poll = now + interval;
      }
      return false;
    });
  }

  void scan_timeouts(TimeNs now) {
    const TimeNs timeout = static_cast<TimeNs>(c_.request_timeout_ms) * kNsPerMs;
    const TimeNs connect_timeout = static_cast<TimeNs>(c_.connect_timeout_ms) * kNsPerMs;
    for (Pe& p : pes_) {
      if ((p.phase == Phase::kConnecting || p.phase == Phase::kReconnecting) &&
          now - p.sent > connect_timeout) {
        on_down(static_cast<std::uint64_t>(&p - pes_.data()));
        continue;
      }
      if (p.phase == Phase::kRegistering && now - p.sent > timeout) {
        --outstanding_;
        ++stats_.c.registrations_timeout;
        stats_.error("registration timed out");
        p.phase = Phase::kDone;
      } else if (p.phase == Phase::kReregistering && now - p.sent > timeout) {
        ++stats_.c.reregistrations_timeout;
        stats_.error("re-registration timed out");
        p.phase = Phase::kRegistered;
      } else if (p.phase == Phase::kAwaitAddAck && now - p.move_start > timeout) {
        stats_.error("ADD-IP not acknowledged by the registrar");
        p.reg = p.old;
        p.phase = Phase::kRegistered;
      }
    }
  }

  void second(double t_s, std::string_view phase) {
    stats_.pes_alive = stats_.pes_registered;
    stats_.rss_peak_bytes = std::max(stats_.rss_peak_bytes, process_vmrss_bytes());
    if (progress_) progress_(stats_, t_s);
    if (ts_ != nullptr) ts_->write_second(stats_, t_s, phase);
    stats_.window.reset();
  }

  void cleanup(TimeNs start) {
    if (!c_.cleanup) return;
    const TimeNs now = now_ns();
    for (std::uint64_t i = 0; i < pes_.size(); ++i) {
      Pe& p = pes_[i];
      if (p.phase != Phase::kRegistered) continue;
      wire::Deregistration d;
      d.pool_handle = *PoolHandle::from_string(pool_of(i));
      d.pe_id = static_cast<PoolElementId>(i + 1);
      ++stats_.c.deregistrations_sent;
      p.sent = now;
      p.phase = Phase::kDeregistering;
      ++outstanding_;
      if (!send(p.so, d)) {
        --outstanding_;
        p.phase = Phase::kDone;
      }
    }
    const TimeNs until = now + static_cast<TimeNs>(c_.cleanup_timeout_s * 1e9);
    TimeNs next_second =
        start + static_cast<TimeNs>((static_cast<std::uint64_t>(stats_.elapsed_s) + 1) * kNsPerSec);
    while (outstanding_ > 0 && now_ns() < until && g_signals < 2) {
      drain(now_ns());
      if (now_ns() >= next_second) {
        second(static_cast<double>(now_ns() - start) / 1e9, "cleanup");
        next_second += kNsPerSec;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    for (Pe& p : pes_)
      if (p.phase == Phase::kDeregistering) {
        ++stats_.c.deregistrations_timeout;
        stats_.error("deregistration timed out");
        p.phase = Phase::kDone;
      }
  }

  const PoolgenConfig& c_;
  TimeseriesWriter* ts_;
  FleetProgress progress_;
  std::vector<Pe> pes_;
  std::vector<std::uint64_t> moving_;
  std::mt19937_64 rng_;
  RunStats stats_;
  sockaddr_in to_{};
  struct socket* pu_ = nullptr;
  std::uint64_t outstanding_ = 0;
  std::uint64_t moves_ = 0;
  std::mutex mutex_;
  std::vector<Incoming> inbox_, work_;
};

// usrsctp's receive thread: keep-alives are answered here at once (a PE that answers late is
// removed); everything else goes to the driver thread.
int receive(struct socket*, union sctp_sockstore, void* data, std::size_t length, struct sctp_rcvinfo,
            int flags, void* ulp_info) {
  if (data == nullptr || g_fleet == nullptr) {
    std::free(data);
    return 1;
  }
  Incoming in;
  const auto ulp = reinterpret_cast<std::uintptr_t>(ulp_info);
  in.owner = static_cast<std::uint32_t>(ulp & 0xFFFFFFFFu);
  in.generation = static_cast<std::uint32_t>(ulp >> 32);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  if ((flags & MSG_NOTIFICATION) != 0) {
    const auto* n = static_cast<const sctp_notification*>(data);
    in.notification = true;
    if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && length >= sizeof(sctp_assoc_change)) {
      in.state = n->sn_assoc_change.sac_state;
      if (in.state == SCTP_COMM_UP || in.state == SCTP_COMM_LOST || in.state == SCTP_SHUTDOWN_COMP ||
          in.state == SCTP_CANT_STR_ASSOC)
        g_fleet->push(std::move(in));
    }
    std::free(data);
    return 1;
  }
  in.bytes.assign(bytes, bytes + length);
  g_fleet->push(std::move(in));
  std::free(data);
  return 1;
}

// A free UDP port for usrsctp's own encapsulation socket; 0 when none could be found.
std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  socklen_t len = sizeof in;
  const bool found = ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len) == 0;
  ::close(fd);
  return found ? ntohs(in.sin_port) : 0;
}

}  // namespace

Expected<RunStats, std::string> run_real_address_fleet(const PoolgenConfig& config,
                                                       TimeseriesWriter* timeseries,
                                                       const FleetProgress& progress) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::uint16_t udp_port = free_udp_port();
  if (udp_port == 0) return unexpected(std::string("no free UDP port for usrsctp's encapsulation socket"));
  usrsctp_init(udp_port, nullptr, nullptr);
  // A registrar that does not answer fails a connect within seconds, not minutes.
  usrsctp_sysctl_set_sctp_init_rtx_max_default(3);
  usrsctp_sysctl_set_sctp_init_rto_max_default(1000);
  Expected<RunStats, std::string> result = unexpected(std::string("not run"));
  {
    Fleet fleet(config, timeseries, progress);
    g_fleet = &fleet;
    result = fleet.run();
    // usrsctp's threads may still deliver until finish: they find the fleet until then.
    for (int i = 0; i < 300 && usrsctp_finish() != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    g_fleet = nullptr;
  }
  return result;
}

}  // namespace poolreg::poolgen
