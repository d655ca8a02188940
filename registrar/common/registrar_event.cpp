#include "registrar/common/registrar_event.hpp"

#include <array>
#include <chrono>

namespace poolreg {
namespace {

constexpr std::array<std::string_view, kRegistrarEventKinds> kKindNames = {
    "pe_registered", "pe_moved",         "pe_removed",   "pool_created",   "pool_removed",
    "peer_up",       "peer_down",        "peer_dead",    "takeover_started", "takeover_won",
    "takeover_lost", "audit_mismatch",   "audit_repaired"};

constexpr std::array<std::string_view, 10> kCauseNames = {
    "none",     "deregistration", "keepalive_timeout", "association_loss", "unreachable_reports",
    "operator", "enrp_peer",      "expired",           "audit_purge",      "test"};

}  // namespace

std::string_view event_kind_name(RegistrarEventKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < kKindNames.size() ? kKindNames[i] : std::string_view("unknown");
}

std::optional<RegistrarEventKind> parse_event_kind(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == name) return static_cast<RegistrarEventKind>(i);
  return std::nullopt;
}

std::uint32_t event_kinds_named(std::string_view word) noexcept {
  if (word == "all") return kAllEventKinds;
  std::uint32_t mask = 0;
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    const std::string_view name = kKindNames[i];
    const bool family = name.size() > word.size() && name.starts_with(word) && name[word.size()] == '_';
    if (name == word || (!word.empty() && family)) mask |= std::uint32_t{1} << i;
  }
  return mask;
}

std::string_view removal_cause_name(PeRemovalCause cause) noexcept {
  const auto i = static_cast<std::size_t>(cause);
  return i < kCauseNames.size() ? kCauseNames[i] : std::string_view("unknown");
}

void RegistrarEventSink::publish(RegistrarEvent event) {
  if (!wants(event.kind)) return;
  event.seq = next_seq_++;
  event.wall_time_ns = wall_clock_ != nullptr ? wall_clock_()
                                              : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count();
  listener_->on_registrar_event(event);
}

namespace detail {

void publish_pe_written(RegistrarEventSink& s, const PoolHandle& handle, const PoolElement& pe, bool created,
                        bool pool_created, RegistrarId previous_home, const PoolElement* before) {
  RegistrarEventSink* sink = &s;
  if (pool_created && sink->wants(RegistrarEventKind::kPoolCreated)) {
    RegistrarEvent e;
    e.kind = RegistrarEventKind::kPoolCreated;
    e.handle = handle;
    sink->publish(std::move(e));
  }
  RegistrarEvent e;
  e.handle = handle;
  if (created) {
    if (!sink->wants(RegistrarEventKind::kPeRegistered)) return;
    e.kind = RegistrarEventKind::kPeRegistered;
  } else {
    const bool rehomed = previous_home != 0 && previous_home != pe.home_registrar;
    const bool transports_changed = before != nullptr && (before->user_transport != pe.user_transport ||
                                                          before->asap_transport != pe.asap_transport);
    if ((!rehomed && !transports_changed) || !sink->wants(RegistrarEventKind::kPeMoved)) return;
    e.kind = RegistrarEventKind::kPeMoved;
    if (rehomed) e.previous_home = previous_home;
  }
  e.pe = pe;
  sink->publish(std::move(e));
}

void publish_pe_removed(RegistrarEventSink& s, const PoolHandle& handle, const PoolElement& pe, bool pool_removed,
                        PeRemovalCause cause) {
  RegistrarEventSink* sink = &s;
  if (sink->wants(RegistrarEventKind::kPeRemoved)) {
    RegistrarEvent e;
    e.kind = RegistrarEventKind::kPeRemoved;
    e.handle = handle;
    e.pe = pe;
    e.cause = cause;
    sink->publish(std::move(e));
  }
  if (pool_removed && sink->wants(RegistrarEventKind::kPoolRemoved)) {
    RegistrarEvent e;
    e.kind = RegistrarEventKind::kPoolRemoved;
    e.handle = handle;
    e.cause = cause;
    sink->publish(std::move(e));
  }
}

}  // namespace detail
}  // namespace poolreg
