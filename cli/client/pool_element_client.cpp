#include "cli/client/pool_element_client.hpp"

#include <limits>
#include <utility>
#include <variant>

namespace poolreg::client {

const char* to_string(PeState s) noexcept {
  switch (s) {
    case PeState::kRegistering:
      return "registering";
    case PeState::kRegistered:
      return "registered";
    case PeState::kRejected:
      return "rejected";
    case PeState::kDeregistering:
      return "deregistering";
    case PeState::kDeregistered:
      return "deregistered";
    case PeState::kLost:
      return "lost";
  }
  return "?";
}

namespace {

std::uint16_t first_cause(const std::optional<wire::OperationError>& error) {
  if (!error || error->causes.empty()) return 0;
  return error->causes.front().code;
}

bool is_active(PeState s) {
  return s == PeState::kRegistering || s == PeState::kRegistered || s == PeState::kDeregistering;
}

}  // namespace

PoolElementClient::PoolElementClient(runtime::EventLoop& loop, kernel::SctpStack* stack,
                                     const ClientOptions& options)
    : loop_(loop),
      options_(options),
      connection_(loop, stack, options, *this),
      deadlines_(loop, options.request_timeout,
                 [this](std::uint64_t seq, const DeadlineKey& key) { on_expired(seq, key); }),
      random_(std::random_device{}()) {}

PoolElementClient::~PoolElementClient() { *alive_ = false; }

void PoolElementClient::close() {
  connection_.close();
  fail_all(ClientStatus::kClosed);
}

void PoolElementClient::abort() {
  connection_.abort();
  fail_all(ClientStatus::kClosed);
}

PoolElementId PoolElementClient::random_id(const PoolHandle& handle) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::uint64_t v = random_();
    if (!options_.next_gen) v &= 0xffffffffu;
    if (short_id(v) == 0) continue;
    if (pes_.find(Key{handle, short_id(v)}) == pes_.end()) return v;
  }
  return 0;
}

PoolElementClient::Record* PoolElementClient::lookup(const PoolHandle& handle, PoolElementId id) {
  auto it = pes_.find(Key{handle, short_id(id)});
  if (it == pes_.end()) return nullptr;
  return &it->second;
}

const PeInfo* PoolElementClient::find(const PoolHandle& handle, PoolElementId id) const {
  auto it = pes_.find(Key{handle, short_id(id)});
  if (it == pes_.end() || it->second.info.element.id != id) return nullptr;
  return &it->second.info;
}

void PoolElementClient::fail_later(PeCallback callback, PeResult result) {
  if (!callback) return;
  std::weak_ptr<bool> token = alive_;
  loop_.defer([token, callback = std::move(callback), result = std::move(result)] {
    if (auto t = token.lock(); t && *t) callback(result);
  });
}

void PoolElementClient::complete(Pending& pending, PeResult result) {
  PeCallback callback = std::move(pending.callback);
  pending = Pending{};
  --outstanding_;
  if (callback) callback(result);  // pending may be dangling from here on
}

PoolElementId PoolElementClient::register_pe(const PeRegistration& reg, PeCallback callback) {
  PeResult fail = pe_result(ClientStatus::kInvalidArgument, reg.handle, reg.id);
  if (reg.handle.empty() || reg.handle.size() > options_.max_pool_handle) {
    fail_later(std::move(callback), fail);
    return 0;
  }
  PoolElementId id = reg.id;
  if (id == 0) {
    id = random_id(reg.handle);
  } else if (short_id(id) == 0 || (!options_.next_gen && id > std::numeric_limits<std::uint32_t>::max())) {
    id = 0;  // RFC mode carries 32-bit IDs only; the short form must be non-zero
  }
  if (id == 0) {
    fail_later(std::move(callback), fail);
    return 0;
  }
  fail.id = id;
  if (!connection_.usable()) {
    fail.status = ClientStatus::kNotConnected;
    fail_later(std::move(callback), fail);
    return 0;
  }
  const Key key{reg.handle, short_id(id)};
  auto it = pes_.find(key);
  if (it != pes_.end()) {
    // A known PE may be registered again only when it is no longer active (and is the same PE).
    if (it->second.info.element.id != id || is_active(it->second.info.state)) {
      fail_later(std::move(callback), fail);
      return 0;
    }
  } else {
    it = pes_.emplace(key, Record{}).first;
  }
  Record& rec = it->second;
  rec.info.handle = reg.handle;
  rec.info.element.id = id;
  rec.info.element.home_registrar = 0;
  rec.info.element.registration_life_ms = reg.registration_life_ms;
  rec.info.element.user_transport = reg.user_transport;
  rec.info.element.policy = reg.policy;
  rec.info.element.asap_transport.reset();
  rec.address_types = reg.address_types;
  rec.info.state = PeState::kRegistering;
  const ClientStatus s = send_registration(rec, false, std::move(callback));
  if (s != ClientStatus::kOk) {
    pes_.erase(key);
    return 0;
  }
  return id;
}

ClientStatus PoolElementClient::reregister(const PoolHandle& handle, PoolElementId id, PeCallback callback) {
  return reregister(handle, id, PeUpdate{}, std::move(callback));
}

ClientStatus PoolElementClient::reregister(const PoolHandle& handle, PoolElementId id, const PeUpdate& update,
                                           PeCallback callback) {
  Record* rec = lookup(handle, id);
  if (rec == nullptr || rec->info.element.id != id) {
    fail_later(std::move(callback), pe_result(ClientStatus::kInvalidArgument, handle, id));
    return ClientStatus::kInvalidArgument;
  }
  if (!connection_.usable()) {
    fail_later(std::move(callback), pe_result(ClientStatus::kNotConnected, handle, id));
    return ClientStatus::kNotConnected;
  }
  if (rec->registration.seq != 0) {
    fail_later(std::move(callback), pe_result(ClientStatus::kBusy, handle, id));
    return ClientStatus::kBusy;
  }
  PoolElement& e = rec->info.element;
  if (update.addresses) e.user_transport.addresses = *update.addresses;
  if (update.port) e.user_transport.port = *update.port;
  if (update.policy) e.policy = *update.policy;
  if (update.registration_life_ms) e.registration_life_ms = *update.registration_life_ms;
  const bool was_registered = rec->info.state == PeState::kRegistered;
  if (!was_registered && rec->info.state != PeState::kRegistering) rec->info.state = PeState::kRegistering;
  return send_registration(*rec, was_registered, std::move(callback));
}

ClientStatus PoolElementClient::send_registration(Record& rec, bool reregistration, PeCallback callback) {
  const PeResult fail = pe_result(ClientStatus::kBusy, rec.info.handle, rec.info.element.id);
  if (rec.registration.seq != 0) {
    fail_later(std::move(callback), fail);
    return ClientStatus::kBusy;
  }
  wire::Registration m;
  m.pool_handle = rec.info.handle;
  m.element = rec.info.element;
  m.element.home_registrar = 0;
  m.element.asap_transport.reset();
  m.element.address_types.clear();
  if (options_.next_gen && !rec.address_types.empty()) {
    for (const IpAddress& ip : m.element.user_transport.addresses) {
      AddressTypeEntry entry;
      for (const AddressTypeSpec& t : rec.address_types)
        if (t.address == ip) entry = t.entry;
      m.element.address_types.push_back(entry);
    }
  }
  if (options_.next_gen) m.ng_capabilities = options_.ng_capabilities;
  const TimeNs sent_at = loop_.now();  // before send(): the answer may be back before it returns
  const ClientStatus s = connection_.send(m);
  if (s != ClientStatus::kOk) {
    PeResult r = fail;
    r.status = s;
    fail_later(std::move(callback), r);
    return s;
  }
  const std::uint64_t seq = next_seq_++;
  rec.registration = Pending{seq, sent_at, reregistration, std::move(callback)};
  ++outstanding_;
  ++counters_.registrations_sent;
  deadlines_.push(seq, DeadlineKey{Key{rec.info.handle, short_id(rec.info.element.id)}, Kind::kRegistration});
  return ClientStatus::kOk;
}

ClientStatus PoolElementClient::deregister(const PoolHandle& handle, PoolElementId id, PeCallback callback) {
  Record* rec = lookup(handle, id);
  if (rec == nullptr || rec->info.element.id != id) {
    fail_later(std::move(callback), pe_result(ClientStatus::kInvalidArgument, handle, id));
    return ClientStatus::kInvalidArgument;
  }
  if (rec->deregistration.seq != 0) {
    fail_later(std::move(callback), pe_result(ClientStatus::kBusy, handle, id));
    return ClientStatus::kBusy;
  }
  wire::Deregistration m{handle, id};
  const TimeNs sent_at = loop_.now();
  const ClientStatus s = connection_.usable() ? connection_.send(m) : ClientStatus::kNotConnected;
  if (s != ClientStatus::kOk) {
    fail_later(std::move(callback), pe_result(s, handle, id));
    return s;
  }
  const std::uint64_t seq = next_seq_++;
  rec->deregistration = Pending{seq, sent_at, false, std::move(callback)};
  rec->info.state = PeState::kDeregistering;
  ++outstanding_;
  ++counters_.deregistrations_sent;
  deadlines_.push(seq, DeadlineKey{Key{handle, short_id(id)}, Kind::kDeregistration});
  return ClientStatus::kOk;
}

void PoolElementClient::forget(const PoolHandle& handle, PoolElementId id) {
  auto it = pes_.find(Key{handle, short_id(id)});
  if (it == pes_.end() || it->second.info.element.id != id) return;
  Record rec = std::move(it->second);
  pes_.erase(it);
  for (Pending* p : {&rec.registration, &rec.deregistration}) {
    if (p->seq == 0) continue;
    --outstanding_;
    fail_later(std::move(p->callback), pe_result(ClientStatus::kClosed, handle, id));
  }
}

bool PoolElementClient::set_answer_keep_alives(const PoolHandle& handle, PoolElementId id, bool on) {
  Record* rec = lookup(handle, id);
  if (rec == nullptr || rec->info.element.id != id) return false;
  rec->info.answer_keep_alives = on;
  return true;
}

void PoolElementClient::on_up() {
  if (events_.on_connected) events_.on_connected();
}

void PoolElementClient::on_down(ClientStatus status, runtime::CloseReason reason) {
  fail_all(status);
  if (status != ClientStatus::kClosed && events_.on_connection_lost)
    events_.on_connection_lost(status, reason);
}

void PoolElementClient::fail_all(ClientStatus status) {
  std::vector<std::pair<PeCallback, PeResult>> calls;
  for (auto& [key, rec] : pes_) {
    for (Pending* p : {&rec.registration, &rec.deregistration}) {
      if (p->seq == 0) continue;
      PeResult r = pe_result(status, rec.info.handle, rec.info.element.id);
      r.reregistration = p->reregistration;
      calls.emplace_back(std::move(p->callback), std::move(r));
      *p = Pending{};
      --outstanding_;
    }
    if (is_active(rec.info.state)) rec.info.state = PeState::kLost;
  }
  deadlines_.clear();
  for (auto& [callback, result] : calls) {
    if (callback) callback(result);
  }
}

void PoolElementClient::on_message(ConnectionId from, wire::AsapMessage& message) {
  if (auto* m = std::get_if<wire::RegistrationResponse>(&message)) {
    on_registration_response(*m);
  } else if (auto* d = std::get_if<wire::DeregistrationResponse>(&message)) {
    on_deregistration_response(*d);
  } else if (auto* k = std::get_if<wire::EndpointKeepAlive>(&message)) {
    on_keep_alive(from, *k);
  } else if (auto* e = std::get_if<wire::AsapError>(&message)) {
    ++counters_.error_messages;
    if (events_.on_error_message) events_.on_error_message(e->error);
  } else {
    ++counters_.unexpected_messages;
  }
}

void PoolElementClient::on_registration_response(wire::RegistrationResponse& m) {
  Record* rec = lookup(m.pool_handle, m.pe_id);
  if (rec == nullptr || rec->registration.seq == 0) {
    ++counters_.unexpected_messages;
    return;
  }
  Pending& p = rec->registration;
  PeResult r = pe_result(ClientStatus::kOk, rec->info.handle, rec->info.element.id);
  r.latency = loop_.now() - p.sent_at;
  r.reregistration = p.reregistration;
  r.registrar_capabilities = m.ng_capabilities;
  if (m.rejected) {
    r.status = ClientStatus::kRejected;
    r.error_code = first_cause(m.error);
    ++counters_.registrations_rejected;
    // A refused re-registration leaves the registrar's old state in place (asap.md §4.1 step 7).
    if (rec->info.state == PeState::kRegistering) rec->info.state = PeState::kRejected;
  } else {
    ++counters_.registrations_accepted;
    ++rec->info.registrations;
    if (rec->info.state == PeState::kRegistering || rec->info.state == PeState::kRejected) {
      rec->info.state = PeState::kRegistered;
    }
  }
  counters_.registration_latency.add(r.latency);
  complete(p, std::move(r));
}

void PoolElementClient::on_deregistration_response(wire::DeregistrationResponse& m) {
  Record* rec = lookup(m.pool_handle, m.pe_id);
  if (rec == nullptr || rec->deregistration.seq == 0) {
    ++counters_.unexpected_messages;
    return;
  }
  Pending& p = rec->deregistration;
  PeResult r = pe_result(ClientStatus::kOk, rec->info.handle, rec->info.element.id);
  r.latency = loop_.now() - p.sent_at;
  r.error_code = first_cause(m.error);
  ++counters_.deregistrations_answered;
  if (r.error_code != 0) {
    r.status = ClientStatus::kRejected;
    rec->info.state = PeState::kRegistered;
  } else {
    rec->info.state = PeState::kDeregistered;
  }
  counters_.deregistration_latency.add(r.latency);
  complete(p, std::move(r));
}

void PoolElementClient::ack_keep_alive(ConnectionId from, Record& rec,
                                       const wire::EndpointKeepAlive& m) {
  ++rec.info.keep_alives;
  const RegistrarId previous = rec.info.home_registrar;
  if (m.registrar_id != 0) rec.info.home_registrar = m.registrar_id;
  const bool acked = answer_keep_alives_ && rec.info.answer_keep_alives;
  if (acked) {
    wire::EndpointKeepAliveAck ack{rec.info.handle, rec.info.element.id};
    if (connection_.send(ack, from) == ClientStatus::kOk) ++counters_.keep_alive_acks_sent;
  } else {
    ++counters_.keep_alives_ignored;
  }
  const PoolHandle handle = rec.info.handle;  // rec may move if a callback changes the client
  const PoolElementId id = rec.info.element.id;
  const bool home_changed = m.home && m.registrar_id != previous;
  if (home_changed) ++counters_.home_changes;
  if (events_.on_keep_alive) events_.on_keep_alive(handle, id, m.registrar_id, m.home, acked);
  if (home_changed && events_.on_home_changed) events_.on_home_changed(handle, id, m.registrar_id);
}

void PoolElementClient::on_keep_alive(ConnectionId from, const wire::EndpointKeepAlive& m) {
  ++counters_.keep_alives_received;
  if (m.pe_id) {
    Record* rec = lookup(m.pool_handle, *m.pe_id);
    if (rec == nullptr || !is_active(rec->info.state)) {
      ++counters_.keep_alives_unknown_pe;
      return;
    }
    ack_keep_alive(from, *rec, m);
    return;
  }
  // No PE Identifier: ack every registered PE (RSPLIB, asap.md §2). Collect first: callbacks may
  // change the table.
  std::vector<Key> keys;
  for (auto& [key, rec] : pes_) {
    if (is_active(rec.info.state)) keys.push_back(key);
  }
  if (keys.empty()) ++counters_.keep_alives_unknown_pe;
  for (const Key& key : keys) {
    auto it = pes_.find(key);
    if (it != pes_.end()) ack_keep_alive(from, it->second, m);
  }
}

void PoolElementClient::on_expired(std::uint64_t seq, const DeadlineKey& key) {
  auto it = pes_.find(key.key);
  if (it == pes_.end()) return;
  Record& rec = it->second;
  Pending& p = key.kind == Kind::kRegistration ? rec.registration : rec.deregistration;
  if (p.seq != seq) return;  // answered already
  ++counters_.timeouts;
  PeResult r = pe_result(ClientStatus::kTimeout, rec.info.handle, rec.info.element.id);
  r.reregistration = p.reregistration;
  if (key.kind == Kind::kRegistration) {
    if (rec.info.state == PeState::kRegistering) rec.info.state = PeState::kRejected;
  } else if (rec.info.state == PeState::kDeregistering) {
    rec.info.state = PeState::kRegistered;  // unknown; the caller may retry
  }
  complete(p, std::move(r));
}

}  // namespace poolreg::client
