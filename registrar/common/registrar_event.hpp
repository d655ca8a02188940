// RegistrarEvent and RegistrarEventSink: what happened in the registrar, as an operator watching
// it live wants to see it (poolctl events, issue 18): PEs registered, moved or removed (with the
// cause), pools created or removed, ENRP peers up/down/dead, takeovers started/won/lost, audit
// mismatches and repairs.
//
// Contract
// - Publishers (AsapServer, EnrpServer and its parts) and the sink run on the registrar's control
//   thread, the one that makes every handlespace write: events are raised where the write
//   happens, in the order the writes happen. Handle Resolutions (answered on the lanes too)
//   produce no event, so no other thread ever publishes. The sink is not thread-safe.
// - Zero cost without a subscriber: a publisher checks wants(kind) (a pointer test, a load and a
//   bit test, inline) before it builds anything; wants() is false until a listener asks for the
//   kind through set_interest().
// - publish() stamps the event with the next sequence number (monotonic from 1, per sink, over
//   every published event, so gaps a subscriber sees are events it filtered out or lost) and the
//   wall-clock time, then hands it to the listener synchronously. The listener must not call
//   back into the registrar.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "registrar/common/ids.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg {

enum class RegistrarEventKind : std::uint8_t {
  kPeRegistered,     // a PE new to this registrar's handlespace (ASAP here, or learned from a peer)
  kPeMoved,          // an existing PE changed its transport or addresses, or its home registrar
  kPeRemoved,        // with a PeRemovalCause
  kPoolCreated,      // its first PE arrived
  kPoolRemoved,      // its last PE left
  kPeerUp,           // an ENRP peer heard (again)
  kPeerDown,         // a peer missed MAX-TIME-LAST-HEARD and is being probed
  kPeerDead,         // a peer presumed dead (no answer to the probe)
  kTakeoverStarted,  // we started taking over a dead peer's PEs
  kTakeoverWon,      // our takeover finished: its PEs are ours
  kTakeoverLost,     // another registrar took over the peer instead of us
  kAuditMismatch,    // a peer's announced checksum differs from our view of its PEs
  kAuditRepaired,    // the repair sync with that peer completed
};
inline constexpr std::size_t kRegistrarEventKinds = 13;

// Why a PE left the handlespace.
enum class PeRemovalCause : std::uint8_t {
  kNone,
  kDeregistration,      // ASAP Deregistration from the PE
  kKeepaliveTimeout,    // no Keep-Alive Ack in time
  kAssociationLoss,     // its association closed (ASAP-KA-04)
  kUnreachableReports,  // MAX-BAD-PE-REPORT Endpoint Unreachable reports
  kOperator,            // poolctl deregister
  kEnrpPeer,            // the owner's Handle Update DEL
  kExpired,             // a peer-owned PE's registration life ran out
  kAuditPurge,          // not in the owner's table at the end of an audit repair sync
  kTest,                // test-corrupt-view (tests only)
};

// Names as the control socket and poolctl show them ("pe_registered", "keepalive_timeout").
std::string_view event_kind_name(RegistrarEventKind kind) noexcept;
std::optional<RegistrarEventKind> parse_event_kind(std::string_view name) noexcept;
std::string_view removal_cause_name(PeRemovalCause cause) noexcept;
// The kinds a filter word names, as a mask: a kind ("pe_removed"), a family ("pe", "pool",
// "peer", "takeover", "audit": every kind starting with it and '_') or "all"; 0 = unknown word.
std::uint32_t event_kinds_named(std::string_view word) noexcept;

constexpr std::uint32_t event_kind_bit(RegistrarEventKind kind) noexcept {
  return std::uint32_t{1} << static_cast<unsigned>(kind);
}
inline constexpr std::uint32_t kAllEventKinds = (std::uint32_t{1} << kRegistrarEventKinds) - 1;

struct RegistrarEvent {
  std::uint64_t seq = 0;           // set by publish()
  std::int64_t wall_time_ns = 0;   // set by publish(): ns since the Unix epoch
  RegistrarEventKind kind = RegistrarEventKind::kPeRegistered;
  // PE and pool events: the pool; PE events also the PE as stored (after the change; removed:
  // as it was), so its home, transports and policy are shown.
  std::optional<PoolHandle> handle;
  std::optional<PoolElement> pe;
  PeRemovalCause cause = PeRemovalCause::kNone;
  // kPeMoved: the home before the change when it changed (0: same home, only transports changed).
  RegistrarId previous_home = 0;
  // Peer, takeover and audit events: the peer (the takeover target), its ENRP endpoint when known.
  RegistrarId peer = 0;
  std::optional<TransportEndpoint> peer_endpoint;
  // kTakeoverWon / kTakeoverLost: the registrar that took the target over; kTakeoverWon also
  // `count` = PEs taken. kAuditRepaired: `count` = PEs purged.
  RegistrarId taker = 0;
  std::uint64_t count = 0;
};

// Receives published events (dataplane/control's event hub).
class RegistrarEventListener {
 public:
  virtual ~RegistrarEventListener() = default;
  virtual void on_registrar_event(const RegistrarEvent& event) = 0;
};

class RegistrarEventSink {
 public:
  using WallClock = std::int64_t (*)();
  RegistrarEventSink() = default;
  RegistrarEventSink(const RegistrarEventSink&) = delete;
  RegistrarEventSink& operator=(const RegistrarEventSink&) = delete;

  // The listener and the kinds it wants (a mask of event_kind_bit; 0 = none: publishers skip).
  void set_listener(RegistrarEventListener* listener) noexcept { listener_ = listener; }
  void set_interest(std::uint32_t kinds) noexcept { interest_ = kinds; }
  std::uint32_t interest() const noexcept { return listener_ != nullptr ? interest_ : 0; }
  // Tests: a fixed clock instead of the system's.
  void set_wall_clock(WallClock clock) noexcept { wall_clock_ = clock; }

  bool wants(RegistrarEventKind kind) const noexcept {
    return listener_ != nullptr && (interest_ & event_kind_bit(kind)) != 0;
  }
  // Stamps and delivers the event (nothing when the kind is not wanted).
  void publish(RegistrarEvent event);
  // Events published so far (= the last sequence number).
  std::uint64_t published() const noexcept { return next_seq_ - 1; }

 private:
  RegistrarEventListener* listener_ = nullptr;
  std::uint32_t interest_ = 0;
  std::uint64_t next_seq_ = 1;
  WallClock wall_clock_ = nullptr;  // nullptr: std::chrono::system_clock
};

// The check every publisher makes first: a null sink wants nothing.
inline bool wants_event(const RegistrarEventSink* sink, RegistrarEventKind kind) noexcept {
  return sink != nullptr && sink->wants(kind);
}

// The PE and pool events of one successful handlespace write, shared by every writer (ASAP and
// ENRP) so they cannot drift. `pe` as stored now; `created`, `pool_created`, `previous_home` from
// the handlespace's RegisterOutcome; `before`: the PE as it was, when the caller looked it up
// (only when the sink wants kPeMoved). A re-registration is kPeMoved when the home changed or
// the transports differ from `before`; an unchanged refresh raises nothing. Order: pool_created
// before the PE's first registration. Inline up to the interest test: the write path pays a load
// and a branch when nobody listens.
namespace detail {
void publish_pe_written(RegistrarEventSink& sink, const PoolHandle& handle, const PoolElement& pe, bool created,
                        bool pool_created, RegistrarId previous_home, const PoolElement* before);
void publish_pe_removed(RegistrarEventSink& sink, const PoolHandle& handle, const PoolElement& pe, bool pool_removed,
                        PeRemovalCause cause);
}  // namespace detail
inline void publish_pe_written(RegistrarEventSink* sink, const PoolHandle& handle, const PoolElement& pe,
                               bool created, bool pool_created, RegistrarId previous_home,
                               const PoolElement* before) {
  if (sink != nullptr && sink->interest() != 0)
    detail::publish_pe_written(*sink, handle, pe, created, pool_created, previous_home, before);
}
// A PE removed (as it was) and, when it was the last one, its pool after it.
inline void publish_pe_removed(RegistrarEventSink* sink, const PoolHandle& handle, const PoolElement& pe,
                               bool pool_removed, PeRemovalCause cause) {
  if (sink != nullptr && sink->interest() != 0) detail::publish_pe_removed(*sink, handle, pe, pool_removed, cause);
}
// Whether a writer should look the PE up before a re-registration (for publish_pe_written).
inline bool wants_previous_pe(const RegistrarEventSink* sink) noexcept {
  return wants_event(sink, RegistrarEventKind::kPeMoved);
}

}  // namespace poolreg
