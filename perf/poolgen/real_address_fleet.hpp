// RealAddressFleet: poolgen's real-address mobility mode (--pe-addresses, issue 19 item 3). Every
// simulated PE holds its own SCTP association from real, distinct IPv4 addresses of this host and
// moves between them with the registrar's address check ON:
//   make-before-break: ADD-IP (RFC 5061 ASCONF) of the new address on the live association, wait
//     until usrsctp lists it among the association's usable local addresses (the peer's
//     ASCONF-ACK arrived), re-register with {new}, DELETE-IP the old;
//   break-before-make: abort the association, open a new one from the new address, register {new}.
// Moves alternate between the two kinds. Each PE is alone in its own pool; after every move the
// pool is resolved (one PU association) until the answer lists the new address: move_to_visible.
// A move the registrar refused (rejected re-registration) is an error, and so is one whose new
// address was not listed within probe_give_up_s; so are failed binds, unacknowledged ASCONFs,
// associations that never came up or were lost, and request timeouts.
//
// Threads: usrsctp's own (receive, timers) run the handshakes and hand every message and
// association event to the driver thread (a locked queue); the driver thread (the caller of
// run_real_address_fleet) does everything else and alone closes sockets.
//
// Why threaded usrsctp and not the client library's SctpStack: the client library speaks AF_CONN
// (usrsctp never sees an IP address, it cannot bind one or send an ASCONF carrying one), and one
// UDP socket leaves from the one address routing chooses. Here the program's usrsctp copy runs in
// its own threaded mode (usrsctp_init) with AF_INET sockets bound to the PE's addresses; so this
// mode runs alone (no LoadDriver lanes, no loopback PUs in the same process).
//
// Addresses: the operator gives an IPv4 prefix whose hosts are configured on this host
// (run_scenarios.sh mobility-real makes them in a network namespace). PE i owns the three hosts
// prefix + 2 + 3i .. + 3i + 2: an association is bound to two of them (usrsctp lists the bound
// addresses in its INIT only when there are at least two; a single bound address is not listed,
// and the UDP source is the one routing picks, prefix + 1 or another of the host), one is
// registered, the third is the next move's target.
#pragma once

#include <functional>
#include <string>

#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "perf/poolgen/timeseries.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

using FleetProgress = std::function<void(const RunStats& stats, double elapsed_s)>;

// Addresses a prefix must hold for `pes` PEs (prefix + 1 and three per PE after it).
std::uint64_t real_addresses_needed(std::uint64_t pes) noexcept;

// Runs the whole real-address load (blocks: ramp, moves for duration_s, cleanup) and returns its
// stats, or a set-up error (usrsctp, addresses).
Expected<RunStats, std::string> run_real_address_fleet(const PoolgenConfig& config,
                                                       TimeseriesWriter* timeseries,
                                                       const FleetProgress& progress);

}  // namespace poolreg::poolgen
