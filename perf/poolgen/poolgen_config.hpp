// PoolgenConfig: everything one poolgen run does (targets, sizes, rates, durations), loaded from a
// scenario TOML file (perf/poolgen/scenarios/*.toml) and/or command-line flags, then checked by
// validate(): among other things only loopback registrars (127.0.0.0/8, ::1) are accepted unless
// allow_remote is set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/client/client_options.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/policy.hpp"

namespace poolreg::poolgen {

struct RegistrarTarget {
  std::string text;  // as given, for messages
  IpAddress address = IpAddress::v4(0x7f000001u);
  std::uint16_t port = 3863;       // ASAP SCTP/TCP port
  std::uint16_t udp_port = 9899;   // its usrsctp UDP encapsulation port (SCTP only)
};

// How PE user addresses are chosen.
//   spread:      every PE gets a random address in 127.0.0.0/8 and moves to a new random one. The
//                registrar must run with --set asap.address_check=false (ASAP-REG-06 keeps only
//                addresses of the association, which is 127.0.0.1 here).
//   association: every PE uses 127.0.0.1 (an address the association really has, so the address
//                check passes); a move changes the user transport PORT instead of the address.
enum class AddressMode : std::uint8_t { kSpread, kAssociation };

enum class ProgressMode : std::uint8_t { kAuto, kAnsi, kPlain, kOff };

// An SLO gate on one operation's latency (--max-p99-ms OP=MS): the run fails the gate (exit 3)
// when the operation's p99 is above max_ms or it has no samples.
struct LatencyGate {
  std::string operation;  // a report name: LatencySet::kNames
  double max_ms = 0;
};

// Lanes: lane 0 runs on the linked usrsctp, each further one on a private dlmopen'd copy; glibc
// offers 16 link-map namespaces (dataplane/sctp/usrsctp_stack.hpp).
inline constexpr std::uint32_t kMaxThreads = 15;
// Client associations one lane's usrsctp copy can hold: each leaves from a socket of its own bound
// to an ephemeral SCTP port, and usrsctp's ephemeral range is 49152..65535 (measured: the 16385th
// connect is refused at once, and every further attempt scans the whole range).
inline constexpr std::uint64_t kSctpAssociationsPerLane = 16384;

struct PoolgenConfig {
  std::string scenario_name = "cli";
  std::vector<RegistrarTarget> registrars;
  client::ClientTransport transport = client::ClientTransport::kSctp;
  // SCTP: native SCTP (IP protocol 132, raw IP sockets, root or CAP_NET_RAW) instead of SCTP over
  // UDP; the registrars' udp ports are then not used. Command line only (--sctp-native).
  bool sctp_native = false;
  std::uint32_t pe_associations = 4;  // per registrar
  std::uint32_t pu_associations = 1;  // per registrar
  bool allow_remote = false;          // targets outside 127.0.0.0/8 and ::1 (--allow-remote)
  // Generator lanes (threads), each with its own usrsctp copy and its share of the run
  // (lane_partition.hpp). 1..kMaxThreads.
  std::uint32_t threads = 1;
  // Every simulated PE holds its own association (opened at register_rate, the registration sent
  // over it once it is up, keep-alives answered on it) instead of sharing pe_associations.
  bool assoc_per_pe = false;
  // Set by partition_lanes() for one lane's LoadDriver (a single-lane run keeps the defaults).
  std::uint32_t lane = 0;
  std::uint32_t lanes = 1;
  std::uint64_t pe_id_base = 0;    // the lane's first PE is PE ID pe_id_base + 1 (probes first)
  std::uint64_t load_pe_base = 0;  // the lane's first load PE is load PE number load_pe_base of the run

  // Pool elements.
  std::uint64_t pes = 1000;
  std::uint32_t pools = 10;
  std::string pool_prefix = "poolgen-";
  std::vector<PolicyType> policies{PolicyType::kRoundRobin};  // cycled over the pools
  double register_rate = 2000;       // new PEs per second during ramp-up
  std::uint32_t window = 2000;       // outstanding PE requests per association
  std::uint32_t life_ms = 30000;
  double move_interval_s = 0;        // mean time between moves of one PE (0 = no mobility)
  AddressMode address_mode = AddressMode::kSpread;
  double dead_fraction = 0;          // PEs that stop answering keep-alives
  double die_at_s = -1;              // when they start dying (-1 = right after ramp-up)
  double die_spread_s = 1;           // deaths spread over this long
  // Real-address mobility mode (--pe-addresses, real_address_fleet.hpp): an IPv4 prefix
  // "A.B.C.D/N" whose hosts are configured on this host; empty = off. validate() sets the base
  // (the prefix's first address, host order) and turns the mode's fixed choices on.
  std::string pe_addresses;
  std::uint32_t pe_address_base = 0;

  // Pool users.
  std::uint64_t pus = 10;
  double resolve_rate = 1000;        // handle resolutions per second (all PUs together)
  std::uint32_t items = 3;           // Handle Resolution Option items (0 = option not sent)
  double unreachable_fraction = 0;   // of returned PEs reported with Endpoint Unreachable
  std::uint32_t pu_window = 5000;    // outstanding resolutions per PU association

  // Move-to-visible probes: probe PEs, each alone in its own pool, moved every probe_move_s and
  // resolved every probe_interval_ms until the new address/port shows.
  std::uint32_t probes = 4;
  double probe_move_s = 1.0;
  double probe_interval_ms = 2.0;
  double probe_give_up_s = 5.0;

  // Run.
  double duration_s = 10;
  bool cleanup = true;
  double cleanup_timeout_s = 15;
  std::uint32_t request_timeout_ms = 3000;
  std::uint32_t connect_timeout_ms = 5000;
  // An association whose requests time out while nothing arrived on it for this long is declared
  // dead and aborted (a killed usrsctp registrar sends no ABORT). 0 = never; < 0 = 3 request timeouts.
  double silent_association_s = -1;
  std::string report_path;
  std::string timeseries_path;  // one JSON line per second (--timeseries)
  // SLO gates (verdict.hpp): p99 limits per operation, and the least achieved/target rate ratio
  // of every operation with a target rate (0 = no rate gate).
  std::vector<LatencyGate> max_p99;
  double min_rate_ratio = 0;
  std::string pcap_path;
  std::uint32_t pcap_every = 100;     // write every Nth generated message
  std::uint32_t pcap_max = 5000;      // at most this many messages
  ProgressMode progress = ProgressMode::kAuto;
  std::uint64_t seed = 1;
};

// "ADDR", "ADDR:PORT", "ADDR:PORT/UDPPORT", "[V6]:PORT/UDPPORT" (client::parse_registrar_address,
// the syntax every client tool shares). The error (a message) when malformed.
Expected<RegistrarTarget, std::string> parse_registrar(const std::string& text);

// Applies a scenario file on top of `config`. The error ("file:line:col: reason") on any problem,
// including unknown keys (`config` may then be partly updated).
Expected<void, std::string> load_scenario(const std::string& path, PoolgenConfig& config);

// Checks ranges and the safety rule (loopback targets only without allow_remote); the error
// explains why not.
Expected<void, std::string> validate(PoolgenConfig& config);

const char* to_string(AddressMode m) noexcept;

}  // namespace poolreg::poolgen
