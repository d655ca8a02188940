#include "dataplane/runtime/lane_keepalives.hpp"

#include <algorithm>
#include <utility>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/asap_messages.hpp"

namespace poolreg::runtime {

namespace {
constexpr std::size_t kKeepAliveBytes = 256;  // header + RegistrarId + handle (<= 64 B) + PE ID
}  // namespace

LaneKeepAlives::LaneKeepAlives(const handlespace::Handlespace& hs, handlespace::QsbrDomain& domain,
                               const asap::AsapConfig& config, LaneCounters& counters, Reports& reports,
                               const Clock& clock, Send send)
    : hs_(hs),
      reader_(domain, config.registrar_id ^ 0x6b617069u),
      registrar_id_(config.registrar_id),
      interval_(config.keepalive_interval),
      timeout_(config.keepalive_timeout),
      counters_(counters),
      reports_(reports),
      clock_(clock),
      send_(std::move(send)),
      timers_(config.timer_tick, config.timer_slots, clock.now()),
      tx_(kKeepAliveBytes) {
  options_.max_pool_handle = config.max_pool_handle;
  options_.max_message = std::min<std::size_t>(config.max_message, 65535);
  options_.max_addresses = config.max_addresses;
}

LaneKeepAlives::~LaneKeepAlives() { reader_.offline(); }

void LaneKeepAlives::set_timers(TimeNs interval, TimeNs timeout) noexcept {
  interval_ = interval;
  timeout_ = timeout;
}

void LaneKeepAlives::watch(const KeepAliveWatch& w) {
  bool created = false;
  const asap::OwnedPeTable::Index i = table_.insert(w.handle, w.id, created);
  if (i >= tickets_.size()) {
    tickets_.resize(static_cast<std::size_t>(i) + 1, 0);
    next_gen_.resize(static_cast<std::size_t>(i) + 1, 0);
  }
  asap::OwnedPe& e = table_.at(i);
  e.association = w.connection;
  e.state = asap::MonitorState::kIdle;
  tickets_[i] = w.ticket;
  next_gen_[i] = w.next_gen ? 1 : 0;
  timers_.arm(i, clock_.now() + interval_);
  counters_.keepalive_watched.set(table_.size());
}

void LaneKeepAlives::unwatch(ConnectionId connection, const PoolHandle& handle, PoolElementId id) {
  const asap::OwnedPeTable::Index i = table_.find(handle, id);
  if (i == asap::OwnedPeTable::kNotFound || table_.at(i).association != connection) return;
  timers_.disarm(i);
  table_.erase(i);
  counters_.keepalive_watched.set(table_.size());
}

void LaneKeepAlives::drop(asap::OwnedPeTable::Index i, KeepAliveReport::Kind kind) {
  const asap::OwnedPe& e = table_.at(i);
  KeepAliveReport r;
  r.kind = kind;
  r.connection = e.association;
  r.handle = e.handle;
  r.id = e.id;
  r.ticket = tickets_[i];
  timers_.disarm(i);
  table_.erase(i);
  counters_.keepalive_watched.set(table_.size());
  reports_.keepalive_report(r);
}

bool LaneKeepAlives::consume(ConnectionId id, std::span<const std::uint8_t> message) {
  if (message.empty() || message[0] != static_cast<std::uint8_t>(wire::AsapType::kEndpointKeepAliveAck))
    return false;
  if (table_.size() == 0) {
    counters_.keepalive_acks_forwarded.add();
    return false;
  }
  // Decode as AsapServer does; anything to report (errors, unknown parameters) goes to it.
  const auto r = wire::decode_asap(message, options_);
  if (!r || !r.reports().empty()) {
    counters_.keepalive_acks_forwarded.add();
    return false;
  }
  const auto* ack = std::get_if<wire::EndpointKeepAliveAck>(&r.value());
  const asap::OwnedPeTable::Index i =
      ack != nullptr ? table_.find(ack->pool_handle, ack->pe_id) : asap::OwnedPeTable::kNotFound;
  if (i == asap::OwnedPeTable::kNotFound || table_.at(i).association != id) {
    counters_.keepalive_acks_forwarded.add();  // unknown here, or another association's: the control thread's
    return false;
  }
  counters_.keepalive_acks.add();
  table_.at(i).state = asap::MonitorState::kIdle;
  timers_.arm(i, clock_.now() + interval_);  // ASAP-KA-03: re-arm
  return true;
}

void LaneKeepAlives::run_timers() {
  if (timers_.size() == 0) return;
  timers_.run_due(clock_.now(), [this](asap::KeepAliveScheduler::TimerId id) { on_timer(id); });
}

void LaneKeepAlives::on_timer(asap::OwnedPeTable::Index i) {
  asap::OwnedPe& e = table_.at(i);
  if (!e.in_use) return;
  if (e.state != asap::MonitorState::kIdle) {  // ASAP-KA-02: no Ack in time
    counters_.keepalive_timeouts.add();
    drop(i, KeepAliveReport::Kind::kTimedOut);
    return;
  }
  // Revalidate: ownership or binding may have changed (ENRP takeover, a rebind) since the watch.
  bool still_ours = false;
  hs_.lookup(e.handle, e.id, [&](const handlespace::PoolElementView& v) {
    still_ours = v.home() == registrar_id_ && v.association() == e.association;
  });
  if (!still_ours) {
    counters_.keepalive_not_ours.add();
    drop(i, KeepAliveReport::Kind::kNotOurs);
    return;
  }
  wire::EndpointKeepAlive ka;
  ka.home = false;
  ka.registrar_id = registrar_id_;
  ka.pool_handle = e.handle;
  ka.pe_id = e.id;  // always (asap.md 2: without it RSPLIB acks every PE it has)
  wire::WireOptions o = options_;
  o.next_gen = next_gen_[i] != 0;
  e.state = asap::MonitorState::kAwaitingAck;
  timers_.arm(i, clock_.now() + timeout_);  // ASAP-KA-01; a failed send times out like a lost one
  const auto encoded = wire::encode(ka, o, wire::ByteSink(std::span<std::uint8_t>(tx_)));
  const SendResult sent = encoded ? send_(e.association, std::span<const std::uint8_t>(tx_.data(), encoded.size))
                                  : SendResult::kTooBig;
  if (send_ok(sent)) {
    counters_.keepalives_sent.add();
    return;
  }
  counters_.keepalive_send_failures.add();
  if (sent == SendResult::kNoConnection) {
    // The association is gone (its close is on its way to the control thread, which tears its PEs
    // down or holds them and does not unwatch them one by one): the entry goes without a report.
    timers_.disarm(i);
    table_.erase(i);
    counters_.keepalive_watched.set(table_.size());
  }
}

}  // namespace poolreg::runtime
