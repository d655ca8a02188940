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
      batch_(config.keepalive_batch) {
  options_.max_pool_handle = config.max_pool_handle;
  options_.max_message = std::min<std::size_t>(config.max_message, 65535);
  options_.max_addresses = config.max_addresses;
}

std::unique_ptr<LaneKeepAlives> LaneKeepAlives::for_engine(const handlespace::Handlespace& hs,
                                                           handlespace::QsbrDomain& domain,
                                                           const asap::AsapConfig& config,
                                                           LaneCounters& counters, Reports& reports,
                                                           const Clock& clock, sctp::SctpEngine& engine) {
  auto ka = std::make_unique<LaneKeepAlives>(
      hs, domain, config, counters, reports, clock,
      [&engine](ConnectionId id, std::span<const std::span<const std::uint8_t>> messages,
                std::span<SendResult> results) {
        engine.send_batch(id, WireProtocol::kAsap, messages, results);
      });
  engine.set_local_consumer(ka.get());
  return ka;
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
  send_due();
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
  const std::size_t offset = due_bytes_.size();
  due_bytes_.resize(offset + kKeepAliveBytes);
  const auto encoded =
      wire::encode(ka, o, wire::ByteSink(std::span<std::uint8_t>(due_bytes_).subspan(offset)));
  due_bytes_.resize(offset + (encoded ? encoded.size : 0));
  if (!encoded) {
    counters_.keepalive_send_failures.add();  // times out like a lost one
    return;
  }
  due_.push_back(
      Due{e.association, i, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(encoded.size)});
}

void LaneKeepAlives::send_due() {
  if (due_.empty()) return;
  // By association, in due order within each (offsets grow with it): no stable_sort buffer.
  std::sort(due_.begin(), due_.end(), [](const Due& a, const Due& b) {
    return a.association != b.association ? a.association < b.association : a.offset < b.offset;
  });
  for (std::size_t b = 0; b < due_.size();) {
    std::size_t end = b + 1;
    if (batch_)
      while (end < due_.size() && due_[end].association == due_[b].association) ++end;
    messages_.clear();
    for (std::size_t k = b; k < end; ++k)
      messages_.emplace_back(due_bytes_.data() + due_[k].offset, due_[k].size);
    results_.assign(end - b, SendResult::kError);
    send_(due_[b].association, messages_, results_);
    if (end - b > 1) counters_.keepalive_batches.add();
    for (std::size_t k = b; k < end; ++k) {
      const SendResult sent = results_[k - b];
      if (send_ok(sent)) {
        counters_.keepalives_sent.add();
        continue;
      }
      counters_.keepalive_send_failures.add();
      const asap::OwnedPeTable::Index i = due_[k].index;
      if (sent == SendResult::kNoConnection && table_.at(i).in_use &&
          table_.at(i).association == due_[k].association) {
        // The association is gone (its close is on its way to the control thread, which tears its
        // PEs down or holds them and does not unwatch them one by one): the entry goes without a
        // report.
        timers_.disarm(i);
        table_.erase(i);
        counters_.keepalive_watched.set(table_.size());
      }
    }
    b = end;
  }
  due_.clear();
  due_bytes_.clear();
}

}  // namespace poolreg::runtime
