// RegistrarConfig: every setting of a poolreg registrar (poolregd), as loaded from TOML.
//
// Contract
// - A plain value type: copy it freely; it owns no resources and holds no pointers.
// - Member initialisers are the embedded defaults (config/poolregd.toml spells out the same values;
//   a unit test keeps the two equal). Mode- and profile-dependent defaults come from
//   RegistrarConfig::defaults(mode, profile); the loader starts from those.
// - A RegistrarConfig returned by the loader without errors satisfies every range and cross-field
//   rule documented here and in config/README.md. Code that builds one by hand should call
//   validate_config() (config_loader.hpp) before using it.
// - Durations are integer milliseconds (fields end in _ms); 0 means "off" only where stated.
// - Field names are the TOML key names; struct names are the TOML section names.
//
// Sources of defaults: shared/spec/registrar-defaults.md (RSPLIB), shared/spec/asap.md section 5,
// shared/spec/enrp.md section 5 (RFC 5353 vs RSPLIB timers), shared/spec/nextgen.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registrar/common/address_scope.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::config {

// Wire mode of the registrar (design.md "Wire modes"). kNextgen still speaks RFC to RFC peers.
enum class WireMode : std::uint8_t { kRfc, kNextgen };

// ENRP timer profile: kRfc = RFC 5353 values (heartbeat 30 s, last heard 61 s);
// kFast = RSPLIB-like fast failover (heartbeat 2444 ms, last heard 5 s, no response 5 s, takeover 5 s).
enum class EnrpProfile : std::uint8_t { kRfc, kFast };

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
enum class LogFormat : std::uint8_t { kText, kJson };

// An IP address plus port, written "1.2.3.4:9901" or "[::1]:9901" in TOML.
struct SocketAddress {
  IpAddress address;
  std::uint16_t port = 0;

  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

// One statically configured ENRP peer. id 0 = unknown until its first Presence (enrp.md section 3).
struct EnrpPeerConfig {
  SocketAddress address;
  RegistrarId id = 0;
  // The peer's SCTP UDP encapsulation port (RFC 6951); 0 = learned from its association, else
  // poolregd --sctp-peer-udp-port / --sctp-remote-udp-port (default 9899).
  std::uint16_t udp_port = 0;
  // Connect to the peer over native SCTP (IP protocol 132) instead of UDP encapsulation (a
  // registrar on kernel SCTP, e.g. RSPLIB's default build). Needs enrp.sctp_native (the raw
  // socket); excludes udp_port. How an association the peer opened ran still wins (learned).
  bool sctp_native = false;

  friend bool operator==(const EnrpPeerConfig&, const EnrpPeerConfig&) = default;
};

// [registrar]
struct RegistrarSection {
  // 0 = draw a random non-zero ID at start (choose_registrar_id()). RFC mode: must fit 32 bits.
  // Next-gen mode: 64-bit; when set, its low 32 bits must be non-zero (nextgen.md section 2).
  RegistrarId id = 0;
  WireMode mode = WireMode::kRfc;
  // Handlespace shards. 0 = automatic (one per CPU core the daemon uses). Range 0..1024.
  std::uint32_t shards = 0;
  // Kernel-socket backend: SCTP lanes (threads, each with its own UDP socket of one SO_REUSEPORT
  // group and its own usrsctp copy). 0 = automatic: every CPU the daemon may use but one, at
  // least 1. Range 0..16 (the glibc link-map namespaces of the private usrsctp copies; fewer may
  // load: start-up says so). DPDK mode: ignored (its lanes are the poll lcores).
  std::uint32_t lanes = 0;
  // Answer ASAP Handle Resolutions on the lanes from the lock-free handlespace (both backends);
  // false = every ASAP message goes to the control thread's AsapServer.
  bool resolve_on_lanes = true;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  // Empty = log to stderr; otherwise append to this file.
  std::string log_file;
  // Started as root: the user (name or numeric uid) and group (name or gid; empty = the user's
  // primary group) poolregd switches to once its sockets are bound (privilege_drop.hpp). Empty
  // = keep the identity it was started with (systemd's User= does the switch for the unit).
  std::string user;
  std::string group;

  friend bool operator==(const RegistrarSection&, const RegistrarSection&) = default;
};

// [asap]: PE/PU side (RFC 5352).
struct AsapSection {
  // Local addresses for ASAP (and, unless [enrp].listen is set, ENRP). "0.0.0.0" / "::" = any.
  std::vector<IpAddress> listen = {IpAddress::v4(0x7f000001u)};
  bool sctp = true;                                    // ASAP over SCTP (kernel SCTP or usrsctp)
  std::uint16_t sctp_port = 3863;                      // 1..65535
  std::uint16_t udp_encapsulation_port = 9899;         // SCTP over UDP (RFC 6951); 0 = off
  // Native SCTP (IP protocol 132) on a raw IP socket, beside UDP encapsulation; needs CAP_NET_RAW
  // at start (without it: one log line, UDP encapsulation only). DPDK backend: protocol 132 frames
  // on the port (no raw socket, no capability); off there: dropped as unsupported_protocol.
  bool sctp_native = true;
  bool tcp = true;                                     // ASAP over TCP (nextgen.md section 6 framing)
  std::uint16_t tcp_port = 3863;                       // 1..65535
  bool mptcp = false;                                  // open TCP listeners as IPPROTO_MPTCP; needs tcp
  std::uint32_t max_message_bytes = 65535;             // 1024..65535; longer messages are rejected
  std::uint32_t keepalive_interval_ms = 5000;          // 300..300000 (RSPLIB range)
  std::uint32_t keepalive_timeout_ms = 5000;           // 100..60000 (RSPLIB range)
  bool keepalive_on_lanes = true;                      // SCTP PEs' keep-alives run on their association's lane
  bool keepalive_batch = true;  // a lane's Keep-Alives due in one tick on one association: one send (bundled)
  std::uint32_t sctp_heartbeat_interval_ms = 1000;     // SCTP path heartbeat toward PEs; 0 = kernel default
  // SCTP Path.Max.Retrans (1..9, below the association's 10): a multi-homed peer's failed path is
  // given up (and our packets fail over to its next address) after this many unanswered ones.
  // RFC 9260's 5 (usrsctp_tunables.hpp says why not lower by default).
  std::uint32_t sctp_path_max_retrans = 5;
  std::uint32_t sctp_cookie_life_ms = 10000;           // usrsctp's valid cookie life, 1000..60000
  std::uint32_t association_idle_timeout_ms = 300000;  // RSPLIB autoclose 300 s; 0 = never
  // poolctl deregister of a PE registered here: its re-registration is refused this long (cause
  // 0xa) so that the removal sticks; 0 = off.
  std::uint32_t deregister_hold_ms = 300000;
  // A registration of a PE bound to another live association probes the old one this long
  // before rebinding (break-before-make moves); 0 = refuse at once with cause 0x4.
  std::uint32_t rebind_probe_ms = 300;
  // Handover hold: the PEs of a lost association are kept this long, not offered and without an
  // ENRP DEL, so a PE that reconnects meanwhile costs one update instead of DEL + ADD; 0 = off.
  // 3000: three RFC 5352 T6-serverAnnounce periods (1 s), in which a PE that lost its
  // association hears an announce and re-registers (about one period plus an RTT).
  std::uint32_t handover_hold_ms = 3000;
  std::uint32_t max_bad_pe_reports = 3;                // MAX-BAD-PE-REPORT, 1..1000000
  std::uint32_t handle_resolution_items = 3;           // PEs per HR Response by default, 1..max_items
  std::uint32_t handle_resolution_max_items = 128;     // cap a PU may ask for (HR option), ..1600
  std::uint32_t max_increment = 0;                     // policy "max increment", 0 = policy default
  AddressScope min_address_scope = AddressScope::kLoopback;  // RSPLIB: site-local (registrar/common/address_scope.hpp)
  bool address_check = true;       // PE addresses must belong to the association (ASAP-REG-06/SEC-06)
  double max_hr_rate = 0.0;        // handle resolutions/s per association, 0 = off
  std::uint32_t max_hr_burst = 0;  // token-bucket depth; 0 = same as rate (min 1)
  double max_eu_rate = 0.0;        // endpoint unreachables/s per association, 0 = off
  std::uint32_t max_eu_burst = 0;
  bool server_announce = false;                                      // ASAP Server Announce multicast
  SocketAddress announce_address{IpAddress::v4(0xef000032u), 3863};  // 239.0.0.50:3863
  std::uint32_t announce_interval_ms = 1000;  // 100..60000, randomised +-12.5 % per cycle
  std::uint32_t announce_ttl = 30;            // 1..255
  std::uint32_t distance_step_ms = 50;        // DPF distance rounding, 1..10000

  friend bool operator==(const AsapSection&, const AsapSection&) = default;
};

// [limits]: resource caps; exceeding one yields cause 0x6 (out of resources).
struct LimitsSection {
  std::uint32_t max_pools = 65536;           // 1..16777216
  std::uint32_t max_pes_per_pool = 1048576;  // 1..max_pes_total
  std::uint32_t max_pes_total = 4194304;     // 1..268435456
  std::uint32_t max_addresses_per_pe = 64;   // addresses per transport TLV, 1..128
  std::uint32_t max_pool_handle_bytes = 32;  // 1..64 (kPoolHandleCapacity)
  std::uint32_t max_associations = 65536;    // ASAP associations/connections, 1..16777216
  // Per-client quotas (issue 17), 0 = off. A PE quota answers a new PE with cause 0x6; an
  // association over max_associations_per_address is aborted as soon as it is up.
  std::uint32_t max_pes_per_association = 16384;     // a load-balancer front's PEs over one association
  std::uint32_t max_pes_per_address = 65536;         // four such fronts behind one address
  std::uint32_t max_associations_per_address = 4096; // PU farms behind one NAT address
  // TCP: bytes of incomplete messages held over all connections (0 = off); beyond, the
  // connection holding the largest (then oldest) partial message is reset.
  std::uint32_t partial_frame_budget_bytes = 64u << 20;
  // A connection that has not completed one message this long after it came up is reset (0 = off).
  std::uint32_t first_message_timeout_ms = 5000;
  // SCTP peers without an association (a bare INIT's sender) each lane keeps, 1..1048576.
  std::uint32_t max_pending_sctp_peers = 16384;
  // With those full, a pending peer that only sent INITs may be replaced by a new peer once it
  // has been quiet this long (0 = never, only after its cookie life), 0..60000.
  std::uint32_t sctp_init_only_evict_ms = 1000;

  friend bool operator==(const LimitsSection&, const LimitsSection&) = default;
};

// [enrp]: registrar to registrar (RFC 5353).
struct EnrpSection {
  bool enabled = true;
  // Local ENRP addresses; empty = same as [asap].listen.
  std::vector<IpAddress> listen;
  std::uint16_t sctp_port = 9901;  // 1..65535, must differ from [asap].sctp_port
  bool sctp_native = true;         // accept ENRP over native SCTP (raw IP socket, as asap.sctp_native)
  bool tcp = false;                // ENRP over TCP, next-gen mode only
  std::uint16_t tcp_port = 9901;
  std::vector<EnrpPeerConfig> peers;                                  // static peers
  // SEC-04: accept a PR that is not a static peer (nor introduced by one) when it sends a
  // Presence (RSPLIB behaviour). multicast = true implies it (discovery needs it).
  bool allow_dynamic_peers = false;
  bool multicast = false;                                             // multicast Presence send/receive
  SocketAddress multicast_address{IpAddress::v4(0xef000033u), 9901};  // 239.0.0.51:9901
  std::uint32_t multicast_ttl = 30;                                   // 1..255
  EnrpProfile profile = EnrpProfile::kRfc;       // selects the defaults of the timers below
  std::uint32_t heartbeat_interval_ms = 30000;   // PEER-HEARTBEAT-CYCLE, 1000..300000 (fast 2444)
  std::uint32_t max_time_last_heard_ms = 61000;  // 1000..300000 (fast 5000); > heartbeat interval
  std::uint32_t max_time_no_response_ms = 5000;  // 1000..60000
  std::uint32_t takeover_expiry_ms = 30000;      // 1000..120000 (fast 5000; RFC silent, RSPSIM 30 s)
  std::uint32_t mentor_discovery_ms = 5000;      // 1000..60000
  std::uint32_t max_elements_per_handle_table_response = 128;  // 1..65535
  std::uint32_t max_handle_table_response_bytes = 1400;        // 512..max_message_bytes (nextgen 16384)
  bool takeover_suggestion = false;                            // draft-dreibholz-rserpool-enrp-takeover
  // Handle Updates of a PE within this long after one went out are held; the latest is sent
  // when it ends (mobile PEs that move or ping-pong often). 0 = off.
  std::uint32_t update_coalesce_ms = 20;
  // A Handle Update that changes only an owned PE's association addresses (SCTP ADD-IP /
  // DELETE-IP / SET-PRIMARY) waits this long for the PE's next update to carry it. 0 = at once.
  std::uint32_t transport_update_delay_ms = 30000;

  friend bool operator==(const EnrpSection&, const EnrpSection&) = default;
};

// [control]: the poolctl control socket (Unix domain stream socket).
struct ControlSection {
  bool enabled = true;
  // Empty = automatic: /run/poolreg/poolregd.sock as root, else $XDG_RUNTIME_DIR/poolreg/poolregd.sock,
  // else /tmp/poolreg-<uid>/poolregd.sock (see default_control_socket_path()).
  std::string socket_path;
  std::uint32_t socket_mode = 0660;  // permission bits of the socket file, 0..0777
  // Test-only commands that damage state on purpose (test-corrupt-view); never in production.
  bool test_commands = false;

  friend bool operator==(const ControlSection&, const ControlSection&) = default;
};

// [metrics]: Prometheus text exposition over HTTP.
struct MetricsSection {
  bool enabled = false;
  SocketAddress listen{IpAddress::v4(0x7f000001u), 9464};

  friend bool operator==(const MetricsSection&, const MetricsSection&) = default;
};

// [tls]: ASAP and ENRP over TLS on their own TCP ports (RFC 5355 mutual authentication; IANA
// 3864 ASAP/TLS, 9902 ENRP/TLS). Off while certificate is empty. ENRP over TLS needs enrp.tcp
// (next-gen mode): it then replaces the plain ENRP TCP listener, and every outgoing ENRP TCP
// connection runs TLS, shows our certificate and checks the peer's (always mutual).
struct TlsSection {
  std::string certificate;   // PEM certificate chain of this registrar
  std::string private_key;   // PEM key of that certificate
  std::string ca_file;       // PEM bundle of the CA(s) that sign peers' and clients' certificates
  std::uint16_t asap_port = 3864;  // ASAP over TLS listener (IANA); 0 = none
  std::uint16_t enrp_port = 9902;  // ENRP over TLS listener (with enrp.tcp); 0 = ENRP stays plain
  bool require_client_certificate_asap = false;  // PEs/PUs must show a certificate the CA signed
  // Identities (subject CN, subjectAltName DNS or URI; exact match) allowed; [] = any the CA signed.
  std::vector<std::string> asap_allowed_identities;
  std::vector<std::string> enrp_allowed_identities;
  std::uint32_t handshake_timeout_ms = 10000;

  bool enabled() const noexcept { return !certificate.empty(); }
  friend bool operator==(const TlsSection&, const TlsSection&) = default;
};

// [dpdk]: the DPDK backend (dataplane/dpdk) reads it; poolregd --dpdk sets enabled and eal_args.
struct DpdkSection {
  bool enabled = false;
  std::vector<std::string> eal_args;  // passed to rte_eal_init after argv[0]
  std::string lcores;                 // EAL -l list, e.g. "0-1"; empty = EAL default
  std::vector<std::uint16_t> ports;   // DPDK port ids to use; empty = all probed ports
  // The ports' own addresses with prefix lengths, each on its port ("192.0.2.1/24 port 0"); empty
  // = every port answers for the listen addresses, all on-link. Checked by the DPDK backend
  // (dataplane/dpdk/routing_config.hpp), which owns the syntax.
  std::vector<std::string> addresses;
  std::vector<std::string> routes;   // "198.51.100.0/24 via 192.0.2.254"
  std::vector<std::string> gateway;  // default gateways, at most one per family and port
  std::uint32_t burst_size = 32;      // RX/TX burst, 1..512
  std::uint32_t mempool_size = 8191;  // mbufs per port, 511..1048575
  std::uint16_t vlan_id = 0;          // 802.1Q VLAN accepted and sent on the port; 0 = untagged only
  std::uint32_t idle_sleep_us = 50;   // poll lcore sleep per idle iteration; 0 = pure busy polling
  bool resolve_on_poll_lcore = true;  // older name of registrar.resolve_on_lanes: both must be true
  bool rss_steering = true;           // program ports' RSS key/RETA so peers arrive on their lane
  // Hugepages the appliance's setup helper (poolreg-dpdk-setup) reserves before start, of this
  // size; 0 = reserve none (--no-huge, or reserved by other means). poolregd itself only checks them.
  std::uint32_t hugepages = 0;
  std::uint32_t hugepage_size_kb = 2048;

  friend bool operator==(const DpdkSection&, const DpdkSection&) = default;
};

struct RegistrarConfig {
  RegistrarSection registrar;
  AsapSection asap;
  LimitsSection limits;
  EnrpSection enrp;
  ControlSection control;
  MetricsSection metrics;
  TlsSection tls;
  DpdkSection dpdk;

  // Defaults for a wire mode and ENRP profile (the loader starts from these before applying keys):
  // profile kFast sets the RSPLIB-like ENRP timers; mode kNextgen raises
  // max_handle_table_response_bytes to 16384.
  static RegistrarConfig defaults(WireMode mode, EnrpProfile profile);

  friend bool operator==(const RegistrarConfig&, const RegistrarConfig&) = default;
};

// Wire limit: an HR Response with more PEs than this cannot fit a 64 KiB message.
inline constexpr std::uint32_t kHandleResolutionWireLimit = 1600;

// Names used in TOML and logs ("rfc", "nextgen", "fast", "site-local", ...).
const char* to_string(WireMode mode) noexcept;
const char* to_string(EnrpProfile profile) noexcept;
const char* to_string(LogLevel level) noexcept;
const char* to_string(LogFormat format) noexcept;
// "1.2.3.4:5" or "[::1]:5".
std::string to_string(const SocketAddress& address);

// The registrar ID to run with: the configured one, or a random draw from random_bits() when
// it is 0: non-zero, 32 bits in RFC mode, 64 bits with non-zero low 32 bits in next-gen mode.
// random_bits is called until a valid value comes out (bounded: a fallback of 1 after 64 draws).
template <typename RandomBits>
RegistrarId choose_registrar_id(const RegistrarSection& section, RandomBits&& random_bits) {
  if (section.id != 0) return section.id;
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::uint64_t value = static_cast<std::uint64_t>(random_bits());
    if (section.mode == WireMode::kRfc) value &= 0xffffffffu;
    if (short_id(value) != 0) return value;
  }
  return 1;
}

// Control socket path when [control].socket_path is empty. euid 0: /run/poolreg/poolregd.sock;
// otherwise $XDG_RUNTIME_DIR/poolreg/poolregd.sock when xdg_runtime_dir is non-empty, else
// /tmp/poolreg-<euid>/poolregd.sock. poolctl uses the same function to find the daemon.
std::string default_control_socket_path(unsigned euid, const char* xdg_runtime_dir);
// The configured path, or default_control_socket_path() for this process.
std::string effective_control_socket_path(const ControlSection& control);

}  // namespace poolreg::config
