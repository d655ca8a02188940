#include "registrar/asap/asap_server.hpp"

#include <algorithm>
#include <utility>

#include "registrar/asap/graceful_addresses.hpp"
#include "registrar/common/ipv4_mapped.hpp"
#include "registrar/common/pe_distance.hpp"
#include "registrar/common/pool_element_addresses.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/registration_salvage.hpp"
#include "registrar/wire/tlv_locate.hpp"

namespace poolreg::asap {

namespace {

using wire::AsapType;
using wire::ByteSink;

// PEs whose unreachable reporters are remembered at once (UnreachableReporters bound).
constexpr std::size_t kMaxReportedPes = 65536;
// PEs removed by the operator whose re-registration is refused at once (DeregisterHolds bound).
constexpr std::size_t kMaxDeregisterHolds = 65536;

constexpr std::uint8_t type_code(AsapType t) noexcept { return static_cast<std::uint8_t>(t); }

std::size_t cause_slot(ErrorCause cause) noexcept {
  const auto v = static_cast<std::size_t>(cause);
  return v < kErrorCauseSlots ? v : 0;
}


bool contains_address(const std::vector<IpAddress>& list, const IpAddress& address) noexcept {
  const IpAddress n = unmapped(address);
  return std::any_of(list.begin(), list.end(), [&](const IpAddress& x) { return unmapped(x) == n; });
}

}  // namespace

AsapServer::AsapServer(const AsapConfig& config, handlespace::Handlespace& handlespace,
                       handlespace::ReaderContext& reader, MessageOutput& output, const Clock& clock,
                       OwnedPeListener* enrp)
    : config_(config),
      hs_(handlespace),
      reader_(reader),
      out_(output),
      clock_(clock),
      enrp_(enrp),
      timers_(config.timer_tick, config.timer_slots, clock.now()),
      answerer_(config),
      reporters_(config.max_bad_pe_reports, kMaxReportedPes),
      holds_(kMaxDeregisterHolds),
      rebinds_(config.max_pending_rebinds),
      tx_(std::max<std::size_t>(config.max_message, 64) + 4) {
  config_.max_message = std::min<std::size_t>(config_.max_message, 65535);
}

AsapServer::~AsapServer() = default;

void AsapServer::apply_live_settings(const AsapConfig& next) noexcept {
  const bool timers_changed = next.keepalive_interval != config_.keepalive_interval ||
                              next.keepalive_timeout != config_.keepalive_timeout;
  config_.keepalive_interval = next.keepalive_interval;
  config_.keepalive_timeout = next.keepalive_timeout;
  if (timers_changed) out_.set_keepalive_timers(config_.keepalive_interval, config_.keepalive_timeout);
  if (config_.keepalive_on_lanes && !next.keepalive_on_lanes && lane_watched_ != 0) {
    // Off: every PE on a lane comes back now (a lane keeps no PE the switch does not allow).
    owned_.for_each_index([&](OwnedPeTable::Index i) {
      if (owned_.at(i).state != MonitorState::kOnLane) return;
      take_back(i);
      timers_.arm(i, clock_.now() + config_.keepalive_interval);
    });
  }
  config_.keepalive_on_lanes = next.keepalive_on_lanes;  // on: PEs move to the lanes at their next Ack
  config_.hr_rate_limit = next.hr_rate_limit;
  config_.eu_rate_limit = next.eu_rate_limit;
  config_.max_addresses = next.max_addresses;
  config_.max_associations = next.max_associations;
  config_.max_pes_per_association = next.max_pes_per_association;
  config_.max_associations_per_address = next.max_associations_per_address;
  config_.max_pes_per_address = next.max_pes_per_address;
  config_.deregister_hold = next.deregister_hold;
  config_.rebind_probe = next.rebind_probe;  // probes started from then on
  config_.handover_hold = next.handover_hold;  // holds started from then on
  if (next.association_idle_timeout != config_.association_idle_timeout ||
      next.first_message_timeout != config_.first_message_timeout)
    next_idle_sweep_ = 0;  // re-plan the sweep
  config_.association_idle_timeout = next.association_idle_timeout;
  config_.first_message_timeout = next.first_message_timeout;
}

// ------------------------------------------------------------------------------ helpers

Association& AsapServer::association_for(ConnectionId c) {
  if (Association* a = associations_.find(c)) return *a;
  // A message on a connection never announced: no peer addresses, so the address filter
  // refuses every PE address on it (with address_check on).
  return associations_.upsert(c, ConnectionPeer{}, clock_.now(), config_.hr_rate_limit, config_.eu_rate_limit);
}

wire::WireOptions AsapServer::options_for(const Association& a) const noexcept {
  return answerer_.options_for(a.ng_capabilities);
}

bool AsapServer::send(ConnectionId c, std::span<const std::uint8_t> message) {
  if (out_.send(c, WireProtocol::kAsap, message)) return true;
  ++counters_.send_failures;
  return false;
}

std::uint32_t AsapServer::items_for(const std::optional<std::uint32_t>& hro) const noexcept {
  return answerer_.items_for(hro);
}

void AsapServer::send_error(ConnectionId c, ErrorCause cause, std::span<const std::uint8_t> info) {
  // Header + Operation Error TLV + cause TLV = 12 bytes; keep the padded total <= max_message.
  const std::size_t max_info = (config_.max_message - 12) & ~static_cast<std::size_t>(3);
  if (info.size() > max_info) info = info.first(max_info);
  wire::WireOptions o;
  o.max_message = config_.max_message;
  auto r = wire::encode_asap_error(cause, info, o, ByteSink(std::span<std::uint8_t>(tx_)));
  if (!r) return;
  ++counters_.errors_sent_by_cause[cause_slot(cause)];
  send(c, std::span<const std::uint8_t>(tx_.data(), r.size));
}

void AsapServer::send_registration_reject(ConnectionId c, const PoolHandle& handle, PoolElementId id,
                                          ErrorCause cause, std::span<const std::uint8_t> info,
                                          const wire::WireOptions& o) {
  const std::size_t max_info = (config_.max_message - 64) & ~static_cast<std::size_t>(3);
  if (info.size() > max_info) info = info.first(max_info);
  wire::RegistrationResponse resp;
  resp.rejected = true;
  resp.pool_handle = handle;
  resp.pe_id = id;
  resp.error = wire::OperationError::single(cause, info);
  ++counters_.registrations_rejected;
  ++counters_.errors_sent_by_cause[cause_slot(cause)];
  auto r = wire::encode(resp, o, ByteSink(std::span<std::uint8_t>(tx_)));
  if (r) send(c, std::span<const std::uint8_t>(tx_.data(), r.size));
}

void AsapServer::send_reports(ConnectionId c, std::span<const std::uint8_t> bytes,
                              const wire::UnrecognizedReports& reports, std::uint8_t type) {
  if (type == type_code(AsapType::kError)) return;  // never answer an Error with an Error
  for (const wire::TlvLocation& loc : reports) {
    if (loc.offset > bytes.size()) continue;
    const std::size_t n = std::min<std::size_t>(loc.length, bytes.size() - loc.offset);
    ++counters_.unrecognized_parameter_reports;
    send_error(c, ErrorCause::kUnrecognizedParameter, bytes.subspan(loc.offset, n));
  }
}

void AsapServer::handle_decode_failure(ConnectionId c, std::span<const std::uint8_t> bytes,
                                       const wire::DecodeError& e, std::uint8_t type, const wire::WireOptions& o) {
  const auto kind = static_cast<std::size_t>(e.kind);
  if (kind < kDecodeErrorKindSlots) ++counters_.decode_errors_by_kind[kind];
  if (e.silent_drop) {
    ++counters_.silently_dropped;
    return;
  }
  if (type == type_code(AsapType::kError)) return;  // WIRE-04: never answer an Error with an Error
  const bool framing = e.kind == wire::DecodeErrorKind::kTruncatedHeader ||
                       e.kind == wire::DecodeErrorKind::kBadMessageLength ||
                       e.kind == wire::DecodeErrorKind::kTrailingBytes;
  if (type == type_code(AsapType::kRegistration) && !framing) {
    if (auto s = wire::salvage_registration(bytes, o)) {
      send_registration_reject(c, s->handle, s->id, e.cause, e.offending(bytes), o);
      return;
    }
  }
  send_error(c, e.cause, e.offending(bytes));
}

// ------------------------------------------------------------------------------ transport events

void AsapServer::on_connection_up(ConnectionId connection, const ConnectionPeer& peer) {
  if (config_.max_associations != 0 && !peer.outgoing && associations_.find(connection) == nullptr &&
      associations_.size() >= config_.max_associations) {
    // Refused before anything is registered over it: the PE/PU retries or uses another PR.
    ++counters_.associations_refused;
    refused_.insert(connection);
    out_.abort(connection);
    return;
  }
  if (!admit_from_address(connection, peer)) return;
  ++counters_.associations_up;
  associations_.upsert(connection, peer, clock_.now(), config_.hr_rate_limit, config_.eu_rate_limit);
}

void AsapServer::on_message(ConnectionId connection, std::span<const std::uint8_t> bytes, std::uint32_t srtt_us) {
  ++counters_.messages_received;
  if (!refused_.empty() && refused_.contains(connection)) return;
  Association& a = association_for(connection);
  if (srtt_us != 0) a.peer.srtt_us = srtt_us;
  a.last_activity = clock_.now();
  a.message_seen = true;
  const std::uint8_t type = bytes.empty() ? 0 : bytes[0];
  if (type == type_code(AsapType::kRegistration)) handle_registration(connection, a, bytes);
  else if (type == type_code(AsapType::kHandleResolution)) handle_handle_resolution(connection, a, bytes);
  else handle_other(connection, a, bytes, type);
  reader_.quiescent();
}

void AsapServer::on_activity(ConnectionId connection) {
  if (Association* a = associations_.find(connection)) {
    a->last_activity = clock_.now();
    a->message_seen = true;
  }
}

void AsapServer::on_connection_closed(ConnectionId connection) {
  if (connection == kNoConnectionId) return;
  if (refused_.erase(connection) != 0) return;
  ++counters_.associations_closed;
  close_association(connection, false);
}

void AsapServer::close_association(ConnectionId c, bool /*aborted*/) {
  // Takeover keep-alives still waiting on this association keep their timeout: no Ack will
  // come, so they time out and the PE is removed then (asap.md 4.4).
  associations_.erase(c);
  bound_.erase(c);
  quotas_.remove_association(c);
  if (c == kNoConnectionId) return;
  if (config_.handover_hold <= 0 || !hold_association(c)) {
    teardowns_.push_back(Teardown{c, false});
    run_teardowns();
  }
  if (!rebinds_.empty()) {
    // The probed association itself went down: its PEs waiting to move do so now.
    std::vector<PendingRebinds::Entry> decided;
    rebinds_.take_probing(c, decided);
    counters_.rebind_old_closed += decided.size();
    for (auto& e : decided) rebind_parked(e);
  }
}

// Bounded: a teardown of 10^6 PEs would otherwise hold the event loop for a second (ENRP DEL
// encoding included), and resolutions would wait that long. Every removed owned PE still gets
// its DEL (forget_removed), in removal order.
void AsapServer::run_teardowns() {
  std::size_t budget = std::max<std::size_t>(config_.teardown_batch, 1);
  while (budget > 0 && !teardowns_.empty()) {
    // Collect first: the ENRP listener must not run inside the handlespace's removal loop.
    const Teardown t = teardowns_.front();
    const std::size_t n = hs_.remove_association(
        t.connection,
        [&](const handlespace::RemovedPeView& v) {
          if (removed_count_ == removed_.size()) removed_.emplace_back();
          v.copy_to(removed_[removed_count_++]);
        },
        budget);
    if (t.after_hold) counters_.pe_hold_expired += std::min(n, budget);
    if (n < budget) teardowns_.pop_front();  // none left
    budget -= std::min(n, budget);
  }
  // Swapped out: the listener calls below could, in principle, close another association.
  std::vector<handlespace::RemovedPe> batch;
  batch.swap(removed_);
  const std::size_t count = removed_count_;
  removed_count_ = 0;
  for (std::size_t i = 0; i < count; ++i) {
    ++counters_.removed_by_association_loss;
    forget_removed(batch[i], PeRemovalCause::kAssociationLoss);
  }
  if (removed_.empty()) removed_.swap(batch);  // keep the entries for the next pass
}

// Handover hold (issue 14 item 3). The PEs stay registered (ENRP hears nothing; they still count
// in the audit checksums) but leave their pools' selectors, so no policy offers an address that
// is probably dead. Their monitor entries go: a keep-alive over the gone association could only
// time out, and a resumed PE gets a fresh one from its registration (track_owned). A monitor
// entry bound elsewhere (a takeover H=1 still waiting) is not this association's and stays.
bool AsapServer::hold_association(ConnectionId c) {
  const std::size_t n = hs_.hold_association(c, [&](const PoolHandle& handle, const handlespace::PoolElementView& v) {
    // Only AsapServer state here (no handlespace writer call inside the handlespace's walk).
    const OwnedPeTable::Index idx = owned_.find(handle, v.id());
    if (idx != OwnedPeTable::kNotFound && owned_.at(idx).association == c) release_monitor(idx);
  });
  // A second close report of the same association (after our own abort, say) must not tear
  // down the PEs its first one held.
  if (n == 0) return handovers_.contains(c);
  counters_.pe_held += n;
  handovers_.hold(c, clock_.now() + config_.handover_hold);
  return true;
}

// ------------------------------------------------------------------------------ registration

void AsapServer::handle_registration(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes,
                                     ConnectionId rebind_from) {
  wire::WireOptions o = options_for(a);
  auto r = wire::decode_registration_view(bytes, o);
  if (!r) {
    handle_decode_failure(c, bytes, r.error(), type_code(AsapType::kRegistration), o);
    return;
  }
  send_reports(c, bytes, r.reports(), type_code(AsapType::kRegistration));
  const wire::RegistrationView& view = r.value();
  a.ng_capabilities = view.ng_capabilities;  // the PE's latest registration decides (nextgen.md 1)
  o = options_for(a);
  const PoolHandle& handle = view.pool_handle;
  const PoolElementId id = view.element.id;

  PoolElement pe = view.element.to_pool_element();
  pe.home_registrar = config_.registrar_id;  // ASAP-REG-08
  pe.asap_transport.reset();

  // RFC 8653 types: next-gen mode only; a PE cannot claim an address retiring (only a move here
  // makes one).
  if (!o.next_gen) pe.address_types.clear();
  for (AddressTypeEntry& t : pe.address_types) t.retiring = false;

  // ASAP-REG-06: user addresses must belong to the association and reach far enough.
  counters_.addresses_filtered += erase_user_addresses_if(pe, [&](const IpAddress& ip, const AddressTypeEntry&) {
    const AddressScope s = address_scope(ip);
    if (s == AddressScope::kInvalid || s < config_.min_address_scope) return true;
    return config_.address_check && !contains_address(a.peer.addresses, ip);
  });
  if (pe.user_transport.addresses.empty()) {
    const ErrorCause cause = config_.address_rejection_is_security ? ErrorCause::kRejectedSecurityConsiderations
                                                                   : ErrorCause::kInvalidValues;
    send_registration_reject(c, handle, id, cause, wire::find_pool_element_part(bytes, wire::PoolElementPart::kUserTransport), o);
    return;
  }

  pe.asap_transport = asap_transport_of(a);  // ASAP-REG-07
  // The distance is this registrar's measurement of the PE's association, not the PE's claim:
  // whatever it sent is overwritten (policies.md §3; README "DPF distance").
  if (is_distance_policy(pe.policy.type))
    pe.policy.distance_ms = distance_from_srtt(a.peer.srtt_us, config_.distance_step_ms);

  if (holds_.held(handle, id, clock_.now())) {
    // Removed by the operator (poolctl deregister): it stays out until the hold ends.
    ++counters_.registrations_refused_operator_hold;
    send_registration_reject(c, handle, id, ErrorCause::kRejectedSecurityConsiderations, {}, o);
    return;
  }
  if (over_pe_quota(c, a, handle, id)) {
    send_registration_reject(c, handle, id, ErrorCause::kLackOfResources, {}, o);
    return;
  }
  if (rebind_from == kNoConnectionId && config_.rebind_probe > 0) {
    // Bound to another live association: the PE moved (its old path died) or an impostor
    // speaks. The old binding is asked first; the answer waits (issue 14 item 2).
    const ConnectionId old = live_binding_elsewhere(handle, id, c);
    if (old != kNoConnectionId) {
      park_for_probe(c, handle, id, old, bytes, o);
      return;
    }
  }

  handlespace::RegistrationOptions ro;
  ro.association = c;
  ro.rebind_from = rebind_from;
  ro.expires_at = 0;  // own PEs: keep-alives decide (asap.md 4.7)
  const std::optional<PoolElement> stored = previous_for_events(handle, id);
  // A move keeps the previous set's Graceful-Replacement addresses for their lifetime; they
  // passed the address check when they were registered.
  hs_.lookup(handle, id, [&](const handlespace::PoolElementView& v) {
    if (v.home() == config_.registrar_id)
      counters_.graceful_addresses_kept += keep_graceful_addresses(pe, v, clock_.now(), config_.max_addresses);
  });
  // The order the record keeps is the one ENRP sends, also to RFC peers (plain addresses).
  order_by_stability(pe);
  // Held (its association was lost): this registration resumes it (pe_hold_resumed).
  const bool was_held = !handovers_.empty() && hs_.held(handle, id);
  auto result = hs_.register_pe(handle, pe, ro);
  if (!result) {
    const ErrorCause cause = result.error().cause;
    std::span<const std::uint8_t> info;
    switch (cause) {
      case ErrorCause::kInconsistentPoolingPolicy: info = wire::find_pool_element_part(bytes, wire::PoolElementPart::kPolicy); break;
      case ErrorCause::kInconsistentTransportType:
      case ErrorCause::kInconsistentDataControlConfiguration:
        info = wire::find_pool_element_part(bytes, wire::PoolElementPart::kUserTransport);
        break;
      case ErrorCause::kInvalidValues: info = wire::find_pool_element_part(bytes, wire::PoolElementPart::kWholeElement); break;
      default: break;
    }
    send_registration_reject(c, handle, id, cause, info, o);
    return;
  }

  if (result->pe_created) ++counters_.registrations;
  else ++counters_.reregistrations;

  wire::RegistrationResponse resp;
  resp.pool_handle = handle;
  resp.pe_id = id;
  if (config_.next_gen && view.ng_capabilities) resp.ng_capabilities = config_.ng_capabilities;
  if (auto e = wire::encode(resp, o, ByteSink(std::span<std::uint8_t>(tx_))))
    send(c, std::span<const std::uint8_t>(tx_.data(), e.size));

  if (rebind_from != kNoConnectionId) ++counters_.pe_rebinds;
  if (was_held) ++counters_.pe_hold_resumed;
  track_owned(handle, id, c);
  note_bound(c, handle, id);
  if (enrp_ != nullptr) enrp_->on_owned_pe_registered(handle, pe);  // ASAP-REG-09
  publish_pe_written(events_, handle, pe, result->pe_created, result->pool_created, result->previous_home,
                     stored ? &*stored : nullptr);
  // A registration parked for this PE from elsewhere lost: the PE just spoke over its binding.
  if (!rebinds_.empty()) {
    if (auto parked = rebinds_.take(handle, id)) {
      if (parked->from != c) {
        ++counters_.rebind_probes_answered;
        refuse_parked(*parked);
      }
    }
  }
}

std::optional<PoolElement> AsapServer::previous_for_events(const PoolHandle& handle, PoolElementId id) const {
  std::optional<PoolElement> pe;
  if (wants_previous_pe(events_))
    hs_.lookup(handle, id, [&](const handlespace::PoolElementView& v) { pe = v.to_pool_element(); });
  return pe;
}

// ------------------------------------------------------------------------------ rebind by probe

ConnectionId AsapServer::live_binding_elsewhere(const PoolHandle& handle, PoolElementId id, ConnectionId c) const {
  const OwnedPeTable::Index idx = owned_.find(handle, id);
  if (idx == OwnedPeTable::kNotFound) return kNoConnectionId;
  const OwnedPe& e = owned_.at(idx);
  if (e.state == MonitorState::kAwaitingBind || e.association == kNoConnectionId || e.association == c)
    return kNoConnectionId;
  if (associations_.find(e.association) == nullptr) return kNoConnectionId;  // closing: no probe needed
  bool bound = false;
  hs_.lookup(handle, id, [&](const handlespace::PoolElementView& v) {
    bound = v.home() == config_.registrar_id && v.association() == e.association;
  });
  return bound ? e.association : kNoConnectionId;
}

void AsapServer::park_for_probe(ConnectionId c, const PoolHandle& handle, PoolElementId id, ConnectionId old,
                                std::span<const std::uint8_t> bytes, const wire::WireOptions& o) {
  PendingRebinds::Entry entry{handle, id, c, old, std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
                              clock_.now() + config_.rebind_probe};
  PendingRebinds::Entry displaced;
  switch (rebinds_.park(std::move(entry), &displaced)) {
    case PendingRebinds::Park::kFull:
      ++counters_.rebind_probes_refused_full;
      send_registration_reject(c, handle, id, ErrorCause::kNonUniquePeIdentifier, {}, o);
      return;
    case PendingRebinds::Park::kReplaced:
      // The probe already out decides for the newest registration; an older one from another
      // association is refused now (two new homes for one PE: at most one is the PE).
      if (displaced.from != c) {
        ++counters_.rebind_displaced;
        refuse_parked(displaced);
      }
      return;
    case PendingRebinds::Park::kParked: {
      ++counters_.rebind_probes;
      // The probe's Ack must reach this thread: a PE on its lane comes back first (the command
      // ring keeps the order, so the lane stops consuming its Acks before the probe leaves).
      const OwnedPeTable::Index idx = owned_.find(handle, id);
      if (idx != OwnedPeTable::kNotFound && owned_.at(idx).state == MonitorState::kOnLane) {
        take_back(idx);
        timers_.arm(idx, clock_.now() + config_.keepalive_interval);
      }
      // An ASAP Endpoint Keep-Alive over the old association: SCTP retransmits it on every
      // path the association still has, and only the PE itself can Ack it over that association.
      send_keepalive(old, handle, id, false);
      return;
    }
  }
}

void AsapServer::refuse_parked(const PendingRebinds::Entry& e) {
  const Association* a = associations_.find(e.from);
  if (a == nullptr) return;  // the new association is gone: nobody to answer
  send_registration_reject(e.from, e.handle, e.id, ErrorCause::kNonUniquePeIdentifier, {}, options_for(*a));
}

void AsapServer::rebind_parked(PendingRebinds::Entry& e) {
  Association* a = associations_.find(e.from);
  if (a == nullptr) {
    ++counters_.rebind_dropped;  // the new association closed while waiting
    return;
  }
  handle_registration(e.from, *a, e.message, e.old);
}

void AsapServer::run_due_rebinds(TimeNs now) {
  std::vector<PendingRebinds::Entry> due;
  rebinds_.take_due(now, due);
  for (auto& e : due) rebind_parked(e);  // no Ack in time: the old binding is dead
}

std::optional<TransportEndpoint> AsapServer::asap_transport_of(const Association& a) const {
  // ASAP-REG-07: the ASAP transport is what the association shows (scope-filtered addresses).
  if (a.peer.addresses.empty() || a.peer.port == 0) return std::nullopt;
  TransportEndpoint asap;
  asap.protocol = a.peer.kind == TransportProtocol::kTcp ? TransportProtocol::kTcp : TransportProtocol::kSctp;
  asap.port = a.peer.port;
  asap.use = TransportUse::kDataOnly;
  for (const IpAddress& ip : a.peer.addresses) {
    const AddressScope s = address_scope(ip);
    if (s != AddressScope::kInvalid && s >= config_.min_address_scope) asap.addresses.push_back(ip);
  }
  if (asap.addresses.empty()) asap.addresses = a.peer.addresses;  // better than no way back
  // TCP: one address (nextgen.md 6.6); the true TCP transport is stored, ENRP describes it
  // as SCTP toward RFC peers (nextgen.md 6.9).
  const std::size_t limit = asap.protocol == TransportProtocol::kSctp ? config_.max_addresses : 1;
  if (asap.addresses.size() > limit) asap.addresses.resize(limit);
  return asap;
}

// ------------------------------------------------------------------------------ address changes

bool AsapServer::bound_here(ConnectionId c, const BoundPeIndex::Key& k) const {
  const OwnedPeTable::Index idx = owned_.find(k.handle, k.id);
  if (idx == OwnedPeTable::kNotFound) return false;
  const OwnedPe& e = owned_.at(idx);
  return e.association == c && e.state != MonitorState::kAwaitingBind;
}

void AsapServer::note_bound(ConnectionId c, const PoolHandle& handle, PoolElementId id) {
  bound_.add(c, handle, id, [&](const BoundPeIndex::Key& k) { return bound_here(c, k); });
}

void AsapServer::on_addresses_changed(ConnectionId connection, const ConnectionPeer& peer) {
  Association* a = associations_.find(connection);
  if (a == nullptr) {
    ++counters_.address_changes_unknown_association;
    return;
  }
  if (peer.srtt_us != 0) a->peer.srtt_us = peer.srtt_us;
  const std::vector<IpAddress> before = associations_.replace_addresses(connection, peer.addresses);
  std::vector<IpAddress> removed;
  for (const IpAddress& ip : before)
    if (!contains_address(a->peer.addresses, ip)) removed.push_back(ip);
  for (const IpAddress& ip : a->peer.addresses)
    if (!contains_address(before, ip)) ++counters_.association_addresses_added;
  counters_.association_addresses_removed += removed.size();
  if (!before.empty() && !a->peer.addresses.empty() && before.front() != a->peer.addresses.front() &&
      contains_address(before, a->peer.addresses.front()))
    ++counters_.association_primary_changes;
  follow_address_change(connection, *a, removed);
  reader_.quiescent();
}

void AsapServer::follow_address_change(ConnectionId c, const Association& a, const std::vector<IpAddress>& removed) {
  const std::optional<TransportEndpoint> asap = asap_transport_of(a);
  bound_.visit(c, [&](const BoundPeIndex::Key& k) { return bound_here(c, k); },
               [&](const BoundPeIndex::Key& k) {
                 std::optional<PoolElement> pe;
                 hs_.lookup(k.handle, k.id, [&](const handlespace::PoolElementView& v) { pe = v.to_pool_element(); });
                 if (!pe || pe->home_registrar != config_.registrar_id) return;
                 PoolElement next = *pe;
                 next.asap_transport = asap;
                 // The path may have changed: the distance follows the association's SRTT.
                 if (is_distance_policy(next.policy.type))
                   next.policy.distance_ms = distance_from_srtt(a.peer.srtt_us, config_.distance_step_ms);
                 // The pruning rule (README "Association address changes"): with the address
                 // check on, a user address was accepted only because the association had it, so
                 // it goes with it; never the last one (the PE stays reachable by what it
                 // registered until it re-registers or its keep-alives fail).
                 if (config_.address_check && !removed.empty()) {
                   PoolElement pruned = next;
                   const std::size_t gone = erase_user_addresses_if(
                       pruned, [&](const IpAddress& ip, const AddressTypeEntry&) { return contains_address(removed, ip); });
                   if (pruned.user_transport.addresses.empty()) {
                     ++counters_.pe_address_prunes_skipped_last;
                   } else {
                     counters_.pe_addresses_pruned += gone;
                     next = std::move(pruned);
                   }
                 }
                 if (next.asap_transport == pe->asap_transport &&
                     next.user_transport.addresses == pe->user_transport.addresses &&
                     next.policy.distance_ms == pe->policy.distance_ms)
                   return;
                 handlespace::RegistrationOptions ro;
                 ro.association = c;
                 ro.expires_at = 0;  // as the registration over this association
                 auto written = hs_.register_pe(k.handle, next, ro);
                 if (!written) return;
                 ++counters_.pe_transports_followed;
                 // Only the association's addresses moved (nothing PUs see): ENRP may let the
                 // PE's next update carry it (enrp.transport_update_delay_ms).
                 const bool transport_only = next.user_transport.addresses == pe->user_transport.addresses &&
                                             next.policy.distance_ms == pe->policy.distance_ms;
                 if (enrp_ != nullptr) {
                   if (transport_only) enrp_->on_owned_pe_transport_changed(k.handle, next);
                   else enrp_->on_owned_pe_registered(k.handle, next);  // Handle Update
                 }
                 publish_pe_written(events_, k.handle, next, written->pe_created, written->pool_created,
                                    written->previous_home, &*pe);
               });
}

// ------------------------------------------------------------------------------ per-client quotas (issue 17)

bool AsapServer::admit_from_address(ConnectionId c, const ConnectionPeer& peer) {
  if (peer.outgoing || associations_.find(c) != nullptr) return true;  // ours, or a refresh
  const std::size_t limit = config_.max_associations_per_address;
  if (limit != 0 && quotas_.associations_of(peer) >= limit) {
    // Refused before anything is registered over it; the daemon logs the counter (rate-limited).
    ++counters_.associations_refused_per_address;
    refused_.insert(c);
    out_.abort(c);
    return false;
  }
  quotas_.add_association(c, peer);
  return true;
}

bool AsapServer::over_pe_quota(ConnectionId c, const Association& a, const PoolHandle& handle, PoolElementId id) {
  const bool association_full = config_.max_pes_per_association != 0 && a.registered_pes >= config_.max_pes_per_association;
  const bool address_full = config_.max_pes_per_address != 0 && quotas_.pes_of(c) >= config_.max_pes_per_address;
  if (!association_full && !address_full) return false;
  // A re-registration of a PE already bound here adds nothing: always served.
  const OwnedPeTable::Index existing = owned_.find(handle, id);
  if (existing != OwnedPeTable::kNotFound && owned_.at(existing).association == c &&
      owned_.at(existing).state != MonitorState::kAwaitingBind)
    return false;
  if (association_full) ++counters_.registrations_refused_per_association;
  else ++counters_.registrations_refused_per_address;
  return true;
}

// ------------------------------------------------------------------------------ monitor table

void AsapServer::detach(OwnedPe& e) noexcept {
  if (e.association == kNoConnectionId) return;
  if (Association* a = associations_.find(e.association)) {
    if (a->monitor_refs > 0) --a->monitor_refs;
    if (e.state != MonitorState::kAwaitingBind && a->registered_pes > 0) {
      --a->registered_pes;
      quotas_.remove_pe(e.association);
    }
  }
  e.association = kNoConnectionId;
}

void AsapServer::track_owned(const PoolHandle& handle, PoolElementId id, ConnectionId c) {
  bool created = false;
  const OwnedPeTable::Index idx = owned_.insert(handle, id, created);
  OwnedPe& e = owned_.at(idx);
  const ConnectionId old = e.association;
  const bool was_on_lane = e.state == MonitorState::kOnLane;
  // Moved to another association (maybe another lane): the old lane lets go first. On the same
  // association the new hand-over replaces the old one on its lane.
  if (was_on_lane && old != c) take_back(idx);
  detach(e);
  e.association = c;
  e.unreachable_probe = false;  // a (re-)registration answers any probe
  if (Association* a = associations_.find(c)) {
    ++a->monitor_refs;
    ++a->registered_pes;
    quotas_.add_pe(c);
  }
  if (e.state == MonitorState::kOnLane) {  // same association: replaced on the lane, or taken back
    e.state = MonitorState::kIdle;
    --lane_watched_;
    settle_idle(idx);
    if (e.state != MonitorState::kOnLane) {
      out_.unwatch_keepalives(c, handle, id);
      ++counters_.keepalive_lane_takebacks;
    }
  } else {
    settle_idle(idx);
  }
  // A takeover association we opened and that no PE uses any more is closed (the PE
  // re-registered over its own association instead).
  if (old != kNoConnectionId && old != c) {
    const Association* oa = associations_.find(old);
    if (oa != nullptr && oa->opened_by_us) abort_if_unused(old);
  }
}

void AsapServer::release_monitor(OwnedPeTable::Index index) {
  OwnedPe& e = owned_.at(index);
  if (!e.in_use) return;
  if (e.state == MonitorState::kOnLane) take_back(index);
  timers_.disarm(index);
  detach(e);
  owned_.erase(index);
}

void AsapServer::settle_idle(OwnedPeTable::Index index) {
  OwnedPe& e = owned_.at(index);
  e.state = MonitorState::kIdle;
  const Association* a = e.association != kNoConnectionId ? associations_.find(e.association) : nullptr;
  // A probe's Ack (unreachable reports, a parked rebind) must reach this thread: not handed over
  // while one is out.
  if (config_.keepalive_on_lanes && a != nullptr && !e.unreachable_probe &&
      (rebinds_.empty() || !rebinds_.probing(e.handle, e.id))) {
    KeepAliveWatch w;
    w.connection = e.association;
    w.handle = e.handle;
    w.id = e.id;
    if (++next_ticket_ == 0) next_ticket_ = 1;
    w.ticket = next_ticket_;
    w.next_gen = options_for(*a).next_gen;
    if (out_.watch_keepalives(w)) {
      timers_.disarm(index);
      e.state = MonitorState::kOnLane;
      e.ticket = w.ticket;
      ++lane_watched_;
      ++counters_.keepalive_lane_watches;
      return;
    }
  }
  timers_.arm(index, clock_.now() + config_.keepalive_interval);
}

void AsapServer::take_back(OwnedPeTable::Index index) {
  OwnedPe& e = owned_.at(index);
  if (e.state != MonitorState::kOnLane) return;
  out_.unwatch_keepalives(e.association, e.handle, e.id);
  e.state = MonitorState::kIdle;
  e.ticket = 0;
  --lane_watched_;
  ++counters_.keepalive_lane_takebacks;
}

void AsapServer::on_lane_keepalive(const KeepAliveReport& report) {
  const OwnedPeTable::Index idx = owned_.find(report.handle, report.id);
  if (idx == OwnedPeTable::kNotFound || owned_.at(idx).state != MonitorState::kOnLane ||
      owned_.at(idx).ticket != report.ticket || owned_.at(idx).association != report.connection) {
    ++counters_.keepalive_lane_reports_stale;
    return;
  }
  OwnedPe& e = owned_.at(idx);
  // The lane has let go of it already: no unwatch.
  e.ticket = 0;
  --lane_watched_;
  if (report.kind == KeepAliveReport::Kind::kNotOurs) {
    ++counters_.keepalive_lane_not_ours;
    e.state = MonitorState::kIdle;
    release_monitor(idx);
  } else {
    ++counters_.keepalive_lane_timeouts;
    e.state = MonitorState::kAwaitingAck;
    keepalive_timed_out(idx);
  }
  reader_.quiescent();
}

void AsapServer::forget_removed(const handlespace::RemovedPe& removed, PeRemovalCause cause) {
  reporters_.forget(removed.handle, removed.pe.id);
  const OwnedPeTable::Index idx = owned_.find(removed.handle, removed.pe.id);
  if (idx != OwnedPeTable::kNotFound) release_monitor(idx);
  if (enrp_ != nullptr && removed.pe.home_registrar == config_.registrar_id)
    enrp_->on_owned_pe_removed(removed.handle, removed.pe);
  publish_pe_removed(events_, removed.handle, removed.pe, removed.pool_removed, cause);
}

handlespace::RemovedPe AsapServer::take_removal_storage() {
  if (spare_removals_.empty()) return {};
  handlespace::RemovedPe storage = std::move(spare_removals_.back());
  spare_removals_.pop_back();
  return storage;
}

void AsapServer::recycle_removal_storage(handlespace::RemovedPe&& storage) {
  constexpr std::size_t kSpares = 4;  // deeper nesting than this does not happen; it would only allocate
  if (spare_removals_.size() < kSpares) spare_removals_.push_back(std::move(storage));
}

void AsapServer::abort_if_unused(ConnectionId c) {
  const Association* a = associations_.find(c);
  if (a == nullptr || a->monitor_refs != 0) return;
  out_.abort(c);
  ++counters_.associations_aborted;
  close_association(c, true);
}

// ------------------------------------------------------------------------------ deregistration etc.

void AsapServer::handle_other(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes, std::uint8_t type) {
  const wire::WireOptions o = options_for(a);
  auto r = wire::decode_asap(bytes, o);
  if (!r) {
    handle_decode_failure(c, bytes, r.error(), type, o);
    return;
  }
  send_reports(c, bytes, r.reports(), type);
  switch (wire::asap_type_of(r.value())) {
    case AsapType::kDeregistration:
      handle_deregistration(c, std::get<wire::Deregistration>(r.value()), o);
      break;
    case AsapType::kEndpointKeepAliveAck:
      handle_keepalive_ack(c, std::get<wire::EndpointKeepAliveAck>(r.value()));
      break;
    case AsapType::kEndpointUnreachable:
      handle_unreachable(c, a, std::get<wire::EndpointUnreachable>(r.value()));
      break;
    case AsapType::kError:
      ++counters_.error_messages_received;  // logged by count only; never answered
      break;
    case AsapType::kCookie:
    case AsapType::kCookieEcho:
    case AsapType::kBusinessCard:
      ++counters_.pe_pu_messages_ignored;  // PE <-> PU messages; nothing for a registrar
      break;
    case AsapType::kServerAnnounce:
      ++counters_.server_announces_ignored;
      break;
    case AsapType::kRegistration:  // dispatched before; kept for completeness
    case AsapType::kHandleResolution:
    case AsapType::kRegistrationResponse:
    case AsapType::kDeregistrationResponse:
    case AsapType::kHandleResolutionResponse:
    case AsapType::kEndpointKeepAlive:
      ++counters_.unexpected_messages;
      break;
  }
}

void AsapServer::handle_deregistration(ConnectionId c, const wire::Deregistration& m, const wire::WireOptions& o) {
  handlespace::RemovedPe removed = take_removal_storage();
  auto r = hs_.deregister_from(m.pool_handle, m.pe_id, c,  // SEC-02 owner check
                               [&](const handlespace::RemovedPeView& v) { v.copy_to(removed); });
  wire::DeregistrationResponse resp;
  resp.pool_handle = m.pool_handle;
  resp.pe_id = m.pe_id;
  const bool was_removed = r && r.value();
  if (!r) {
    ++counters_.deregistrations_refused;
    ++counters_.errors_sent_by_cause[cause_slot(r.error().cause)];
    resp.error = wire::OperationError::single(r.error().cause);
  } else if (was_removed) {
    ++counters_.deregistrations;
    ++counters_.removed_by_deregistration;
  } else {
    ++counters_.deregistrations_unknown;  // still a success answer (ASAP-DEREG-01, RSPLIB)
  }
  if (auto e = wire::encode(resp, o, ByteSink(std::span<std::uint8_t>(tx_))))
    send(c, std::span<const std::uint8_t>(tx_.data(), e.size));
  if (was_removed) forget_removed(removed, PeRemovalCause::kDeregistration);
  recycle_removal_storage(std::move(removed));
}

void AsapServer::handle_unreachable(ConnectionId /*c*/, Association& a, const wire::EndpointUnreachable& m) {
  if (!a.eu_bucket.try_take(config_.eu_rate_limit, clock_.now())) {
    ++counters_.unreachable_rate_limited;  // dropped silently (asap.md 4.5)
    return;
  }
  ++counters_.unreachable_reports;
  if (!hs_.lookup(m.pool_handle, m.pe_id, [](const handlespace::PoolElementView&) {})) {
    ++counters_.unreachable_unknown_pe;
    return;
  }
  // One count per reporting host and PE: more associations from one address add nothing.
  const IpAddress reporter = reporter_address(a.peer.addresses);
  if (!reporters_.first_report(m.pool_handle, m.pe_id, reporter)) {
    ++counters_.unreachable_repeated_reporter;
    return;
  }
  const auto count = hs_.report_unreachable(m.pool_handle, m.pe_id);
  if (!count) {
    ++counters_.unreachable_unknown_pe;
    return;
  }
  if (*count == 1) reporters_.restart(m.pool_handle, m.pe_id, reporter);  // the PE's count started over
  if (*count < std::max<std::uint32_t>(config_.max_bad_pe_reports, 1)) return;
  if (probe_unreachable(m.pool_handle, m.pe_id)) return;
  reporters_.forget(m.pool_handle, m.pe_id);
  handlespace::RemovedPe removed = take_removal_storage();
  if (hs_.deregister(m.pool_handle, m.pe_id,
                     [&](const handlespace::RemovedPeView& v) { v.copy_to(removed); })) {
    ++counters_.removed_by_unreachable_reports;
    forget_removed(removed, PeRemovalCause::kUnreachableReports);  // DEL only when owned by us (ASAP-EU-01)
  }
  recycle_removal_storage(std::move(removed));
}

bool AsapServer::probe_unreachable(const PoolHandle& handle, PoolElementId id) {
  const OwnedPeTable::Index idx = owned_.find(handle, id);
  if (idx == OwnedPeTable::kNotFound) return false;
  OwnedPe& e = owned_.at(idx);
  if (e.state == MonitorState::kAwaitingBind || e.association == kNoConnectionId) return false;
  if (associations_.find(e.association) == nullptr) return false;
  bool bound_here = false;
  hs_.lookup(handle, id, [&](const handlespace::PoolElementView& v) {
    bound_here = v.home() == config_.registrar_id && v.association() == e.association;
  });
  if (!bound_here) return false;
  if (e.unreachable_probe) return true;  // a probe is out: its answer decides
  e.unreachable_probe = true;
  if (e.state == MonitorState::kOnLane) take_back(idx);  // the probe's Ack must come here
  ++counters_.unreachable_probes;
  // A keep-alive already out (kAwaitingAck) serves as the probe: its timeout is no later than a
  // new one's would be.
  if (e.state == MonitorState::kIdle) {
    const ConnectionId c = e.association;
    e.state = MonitorState::kAwaitingAck;
    timers_.arm(idx, clock_.now() + config_.keepalive_timeout);
    send_keepalive(c, handle, id, false);
  }
  return true;
}

// ------------------------------------------------------------------------------ handle resolution

void AsapServer::handle_handle_resolution(ConnectionId c, Association& a, std::span<const std::uint8_t> bytes) {
  wire::WireOptions o = options_for(a);
  auto r = wire::decode_handle_resolution(bytes, o);
  if (!r) {
    handle_decode_failure(c, bytes, r.error(), type_code(AsapType::kHandleResolution), o);
    return;
  }
  send_reports(c, bytes, r.reports(), type_code(AsapType::kHandleResolution));
  a.ng_capabilities = r->ng_capabilities;
  o = options_for(a);
  const bool limited = !a.hr_bucket.try_take(config_.hr_rate_limit, clock_.now());
  answer_resolution(c, r.value(), o, limited);
}

void AsapServer::answer_resolution(ConnectionId c, const wire::HandleResolution& m, const wire::WireOptions& o,
                                   bool rate_limited) {
  const auto a = answerer_.answer(hs_, reader_, m, o, answerer_.items_for(m.items), rate_limited,
                                  std::span<std::uint8_t>(tx_));
  using Status = ResolutionOutcome::Status;
  switch (a.outcome.status) {
    case Status::kRateLimited:
      ++counters_.resolutions_rate_limited;
      ++counters_.errors_sent_by_cause[cause_slot(ErrorCause::kUnknownPoolHandle)];
      break;
    case Status::kUnknownPool:
      ++counters_.resolutions_unknown_pool;
      ++counters_.errors_sent_by_cause[cause_slot(ErrorCause::kUnknownPoolHandle)];
      break;
    case Status::kAnswered:
      ++counters_.resolutions;
      counters_.resolution_pes_returned += a.outcome.pes_returned;
      if (a.outcome.truncated) ++counters_.resolutions_truncated;
      hs_.drain_feedback(hs_.shard_of(m.pool_handle));  // LUD-family policy state advances now
      break;
  }
  if (a.size == 0) {
    ++counters_.send_failures;
    return;
  }
  send(c, std::span<const std::uint8_t>(tx_.data(), a.size));
}

std::optional<std::vector<PoolElement>> AsapServer::operator_resolve(const PoolHandle& handle, std::uint32_t items) {
  std::vector<PoolElement> pes;
  const auto status = hs_.resolve(handle, items_for(items), reader_, [&](const handlespace::PoolElementView& pe) {
    pes.push_back(pe.to_pool_element());
  });
  reader_.quiescent();
  if (status == handlespace::ResolveStatus::kUnknownPool) return std::nullopt;
  hs_.drain_feedback(hs_.shard_of(handle));
  return pes;
}

bool AsapServer::operator_deregister(const PoolHandle& handle, PoolElementId id) {
  // A held PE (handover hold) has no monitor entry but was registered here all the same.
  const bool registered_here = owned_.find(handle, id) != OwnedPeTable::kNotFound || hs_.held(handle, id);
  handlespace::RemovedPe removed = take_removal_storage();
  const bool found =
      hs_.deregister(handle, id, [&](const handlespace::RemovedPeView& v) { v.copy_to(removed); });
  if (found) {
    if (registered_here && config_.deregister_hold > 0)
      holds_.hold(handle, id, clock_.now() + config_.deregister_hold);
    ++counters_.removed_by_operator;
    forget_removed(removed, PeRemovalCause::kOperator);
  }
  recycle_removal_storage(std::move(removed));
  return found;
}

// ------------------------------------------------------------------------------ keep-alive

bool AsapServer::send_keepalive(ConnectionId c, const PoolHandle& handle, PoolElementId id, bool home) {
  const Association* a = associations_.find(c);
  wire::WireOptions o = a != nullptr ? options_for(*a) : options_for(Association{});
  wire::EndpointKeepAlive ka;
  ka.home = home;
  ka.registrar_id = config_.registrar_id;
  ka.pool_handle = handle;
  ka.pe_id = id;  // always (asap.md 2: without it RSPLIB acks every PE it has)
  auto e = wire::encode(ka, o, ByteSink(std::span<std::uint8_t>(tx_)));
  if (!e) return false;
  if (home) ++counters_.keepalives_home_sent;
  else ++counters_.keepalives_sent;
  return send(c, std::span<const std::uint8_t>(tx_.data(), e.size));
}

void AsapServer::handle_keepalive_ack(ConnectionId c, const wire::EndpointKeepAliveAck& m) {
  const OwnedPeTable::Index idx = owned_.find(m.pool_handle, m.pe_id);
  if (idx == OwnedPeTable::kNotFound) {
    ++counters_.keepalive_acks_unknown;  // ASAP-KA-03: ignored
    return;
  }
  OwnedPe& e = owned_.at(idx);
  if (e.association != c) {
    ++counters_.keepalive_acks_wrong_association;  // only the PE's own association counts
    return;
  }
  ++counters_.keepalive_acks;
  if (e.state == MonitorState::kOnLane) return;  // an Ack the lane let through: it monitors the PE
  if (!rebinds_.empty()) {
    // The PE answered over its bound association: a registration of it waiting elsewhere is an
    // impostor's (or a stale path's) and is refused as without a probe.
    if (auto parked = rebinds_.take_if_probing(m.pool_handle, m.pe_id, c)) {
      ++counters_.rebind_probes_answered;
      refuse_parked(*parked);
    }
  }
  if (e.unreachable_probe) {  // the reports were wrong: the PE answers over its association
    e.unreachable_probe = false;
    ++counters_.unreachable_probes_kept;
    reporters_.forget(m.pool_handle, m.pe_id);
    hs_.reset_unreachable(m.pool_handle, m.pe_id);
  }
  if (e.state == MonitorState::kAwaitingBind) {
    std::optional<PoolElement> pe;
    hs_.lookup(m.pool_handle, m.pe_id, [&](const handlespace::PoolElementView& v) { pe = v.to_pool_element(); });
    if (!pe || pe->home_registrar != config_.registrar_id) {
      // Gone, or an accepted takeover suggestion (home still the other PR): the PE re-registers
      // here by itself; nothing to monitor until then.
      release_monitor(idx);
      return;
    }
    handlespace::RegistrationOptions ro;
    ro.association = c;
    if (!hs_.register_pe(m.pool_handle, *pe, ro)) {
      release_monitor(idx);
      return;
    }
    ++counters_.takeover_bound;
    if (Association* a = associations_.find(c)) {
      ++a->registered_pes;
      quotas_.add_pe(c);
    }
    note_bound(c, m.pool_handle, m.pe_id);
  }
  settle_idle(idx);  // ASAP-KA-03: re-arm (here or on the lane)
}

void AsapServer::run_timers(TimeNs now) {
  bool teardown_ran = false;
  if (!handovers_.empty()) {
    // Holds that ended: their PEs still held did not come back; removed as at association loss.
    std::vector<ConnectionId> ended;
    handovers_.take_due(now, ended);
    for (ConnectionId c : ended) teardowns_.push_back(Teardown{c, true});
    if (!ended.empty()) {
      run_teardowns();  // their first pass; later ones below in later runs
      teardown_ran = true;
    }
  }
  if (!teardown_ran && !teardowns_.empty()) {
    ++counters_.association_teardown_passes;
    run_teardowns();
  }
  timers_.run_due(now, [this](KeepAliveScheduler::TimerId id) { on_timer(id); });
  if (!rebinds_.empty()) run_due_rebinds(now);
  if (sweep_period() > 0 && now >= next_idle_sweep_) close_idle_associations(now);
  reader_.quiescent();
}

std::optional<TimeNs> AsapServer::next_timer_due() const {
  if (!teardowns_.empty()) return TimeNs{0};  // the next teardown pass: at once
  std::optional<TimeNs> due = timers_.next_due();
  if (sweep_period() > 0 && !associations_.empty() && (!due || next_idle_sweep_ < *due)) due = next_idle_sweep_;
  if (auto rebind = rebinds_.next_due(); rebind && (!due || *rebind < *due)) due = rebind;
  if (auto hold = handovers_.next_due(); hold && (!due || *hold < *due)) due = hold;
  return due;
}

TimeNs AsapServer::sweep_period() const noexcept {
  TimeNs period = 0;
  for (TimeNs t : {config_.association_idle_timeout, config_.first_message_timeout})
    if (t > 0) period = period == 0 ? t / 4 : std::min(period, t / 4);
  return period == 0 && (config_.association_idle_timeout > 0 || config_.first_message_timeout > 0) ? kNsPerMs
                                                                                                   : period;
}

void AsapServer::close_idle_associations(TimeNs now) {
  // A scan of the association table, at most every quarter of the timeout: associations number
  // thousands, not millions, and the overshoot past the timeout stays below 25 %.
  const TimeNs timeout = config_.association_idle_timeout;
  const TimeNs silent = config_.first_message_timeout;
  next_idle_sweep_ = now + std::max<TimeNs>(sweep_period(), kNsPerMs);
  const auto is_silent = [&](const Association& a) {
    return silent > 0 && !a.message_seen && !a.opened_by_us && now - a.last_activity >= silent;
  };
  const auto idle = associations_.select([&](const Association& a) {
    return is_silent(a) || (timeout > 0 && !a.opened_by_us && a.registered_pes == 0 && a.monitor_refs == 0 &&
                            now - a.last_activity >= timeout);
  });
  for (ConnectionId c : idle) {
    const Association* a = associations_.find(c);
    if (a != nullptr && is_silent(*a)) ++counters_.associations_silent_closed;
    else ++counters_.associations_idle_closed;
    out_.close(c);
    close_association(c, false);
  }
}

void AsapServer::on_timer(KeepAliveScheduler::TimerId id) {
  OwnedPe& e = owned_.at(id);
  if (!e.in_use) return;
  if (e.state != MonitorState::kIdle) {
    keepalive_timed_out(id);
    return;
  }
  // Revalidate: ownership or binding may have changed through ENRP meanwhile.
  bool still_ours = false;
  hs_.lookup(e.handle, e.id, [&](const handlespace::PoolElementView& v) {
    still_ours = v.home() == config_.registrar_id && v.association() == e.association;
  });
  if (!still_ours) {
    release_monitor(id);
    return;
  }
  const PoolHandle handle = e.handle;
  const PoolElementId pe_id = e.id;
  const ConnectionId c = e.association;
  e.state = MonitorState::kAwaitingAck;
  timers_.arm(id, clock_.now() + config_.keepalive_timeout);  // ASAP-KA-01
  send_keepalive(c, handle, pe_id, false);
}

void AsapServer::keepalive_timed_out(OwnedPeTable::Index index) {
  ++counters_.keepalive_timeouts;
  const OwnedPe e = owned_.at(index);
  bool owned = false;
  hs_.lookup(e.handle, e.id, [&](const handlespace::PoolElementView& v) { owned = v.home() == config_.registrar_id; });
  if (owned) {
    handlespace::RemovedPe removed = take_removal_storage();
    if (hs_.deregister(e.handle, e.id, [&](const handlespace::RemovedPeView& v) { v.copy_to(removed); })) {
      // ASAP-KA-02
      PeRemovalCause cause = PeRemovalCause::kKeepaliveTimeout;
      if (e.unreachable_probe) {  // the reports were right
        ++counters_.unreachable_probes_removed;
        ++counters_.removed_by_unreachable_reports;
        cause = PeRemovalCause::kUnreachableReports;
      } else {
        ++counters_.removed_by_keepalive_timeout;
      }
      forget_removed(removed, cause);
    }
    recycle_removal_storage(std::move(removed));
  }
  if (owned_.at(index).in_use && owned_.at(index).id == e.id && owned_.at(index).handle == e.handle)
    release_monitor(index);
  if (e.association == kNoConnectionId) return;
  const Association* a = associations_.find(e.association);
  if (a == nullptr || a->monitor_refs != 0) return;
  // The PE's association carries no other monitored PE: abort it as RSPLIB does. Takeover
  // associations opened by us are always closed.
  if (a->opened_by_us || config_.abort_on_keepalive_timeout) abort_if_unused(e.association);
}

void AsapServer::keep_for_life(const PoolHandle& handle, const PoolElement& pe) {
  ++counters_.takeover_kept_for_life;
  if (pe.home_registrar != config_.registrar_id) return;  // not ours: the owner's updates refresh it
  const TimeNs life = static_cast<TimeNs>(pe.registration_life_ms) * kNsPerMs;
  hs_.set_expiry(handle, pe.id, clock_.now() + std::max<TimeNs>(life, 1));
}

void AsapServer::monitor_as_new_home(const PoolHandle& handle, const PoolElement& pe) {
  ++counters_.takeover_monitors;
  const OwnedPeTable::Index existing = owned_.find(handle, pe.id);
  if (existing != OwnedPeTable::kNotFound) return;  // already monitored (registered here or pending)
  // nextgen.md 6.8: a TCP PE cannot be reached on its ephemeral port; keep it for its life.
  if (!pe.asap_transport || pe.asap_transport->protocol != TransportProtocol::kSctp ||
      pe.asap_transport->addresses.empty() || pe.asap_transport->port == 0) {
    keep_for_life(handle, pe);
    return;
  }
  // The PE may already hold an association with us (it reconnected here before re-registering,
  // or another of its PEs behind the same SCTP endpoint was taken over first): SCTP allows one
  // association between two endpoints, so the Keep-Alive goes there instead of a new connect.
  const ConnectionId existing_association = associations_.find_sctp_asap_peer(*pe.asap_transport);
  const ConnectionId c = existing_association != kNoConnectionId
                             ? existing_association
                             : out_.connect(WireProtocol::kAsap, *pe.asap_transport);
  bool created = false;
  const OwnedPeTable::Index idx = owned_.insert(handle, pe.id, created);
  OwnedPe& e = owned_.at(idx);
  e.state = MonitorState::kAwaitingBind;
  e.association = c;
  if (c == kNoConnectionId) {
    ++counters_.connects_failed;  // no Ack can come: the timeout below removes an owned PE
  } else if (existing_association != kNoConnectionId) {
    ++counters_.takeover_existing_associations;
    if (Association* a = associations_.find(c)) ++a->monitor_refs;
  } else {
    ConnectionPeer peer;
    peer.kind = TransportProtocol::kSctp;
    peer.protocol = WireProtocol::kAsap;
    peer.outgoing = true;
    peer.addresses = pe.asap_transport->addresses;
    peer.port = pe.asap_transport->port;
    Association& a = associations_.upsert(c, peer, clock_.now(), config_.hr_rate_limit, config_.eu_rate_limit);
    a.opened_by_us = true;
    ++a.monitor_refs;
  }
  timers_.arm(idx, clock_.now() + config_.keepalive_timeout);
  if (c != kNoConnectionId) send_keepalive(c, handle, pe.id, true);
}

}  // namespace poolreg::asap
