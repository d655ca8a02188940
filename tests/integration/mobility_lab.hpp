// The network-namespace lab of the mobility cases (issue 14), shared by the integration test
// (tests/integration/mobility_netns_integration_test.cpp) and the move-to-visible benchmark
// (perf/mobility): a hub namespace with a bridge, one namespace per "host" with a veth per address
// on it, two registrars A (the PE's home, 10.77.0.1) and B (10.77.0.2) peered over ENRP with fast
// timers, the PE's host with an old path 10.77.0.11 and a new one 10.77.0.12, and the PU's host
// 10.77.0.20 (the calling process moves itself there). Needs root and `ip`.
#pragma once

#include <fcntl.h>
#include <sched.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/network_namespace.hpp"
#include "tests/integration/cluster_integration_fixture.hpp"
#include "tests/integration/foreign_pe.hpp"

namespace poolreg::integration::mobility {

using test_netns::NetworkNamespace;

// Every host's ports are the defaults (one daemon per namespace).
constexpr std::uint16_t kAsapPort = 3863;
constexpr std::uint16_t kUdpPort = 9899;
constexpr std::uint16_t kEnrpPort = 9901;
constexpr RegistrarId kIdA = 0x20000001u;
constexpr RegistrarId kIdB = 0x20000002u;

inline const char* const kRegistrarA = "10.77.0.1";
inline const char* const kRegistrarB = "10.77.0.2";
inline const char* const kOldPath = "10.77.0.11";
inline const char* const kNewPath = "10.77.0.12";
inline const char* const kPuAddress = "10.77.0.20";
inline const IpAddress kOld = IpAddress::v4({10, 77, 0, 11});
inline const IpAddress kNew = IpAddress::v4({10, 77, 0, 12});
// The pool every case registers its PE in.
inline const char* const kPool = "mobile";

inline std::string ip_command() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(p, X_OK) == 0) return p;
  return "ip";
}

// A host on the lab's bridge: a namespace with one veth per address ("eth0", "eth1"...; their
// other ends, "<tag>0"..., are bridge ports in the hub).
class Host {
 public:
  Host(const NetworkNamespace& hub, const std::string& name, const std::string& tag,
       const std::vector<std::string>& addresses)
      : ns_(name), hub_(hub), tag_(tag) {
    ok_ = ns_.ok();
    for (std::size_t i = 0; ok_ && i < addresses.size(); ++i) {
      const std::string port = tag + std::to_string(i), eth = "eth" + std::to_string(i);
      ok_ = test_netns::add_veth(hub, port, ns_, eth) && hub.run("ip link set " + port + " master br0") &&
            ns_.run("ip addr add " + addresses[i] + "/32 dev " + eth);
    }
    // Replies only for the interface's own address (no ARP flux between the PE's two paths).
    ok_ = ok_ && ns_.run("sysctl -qw net.ipv4.conf.all.arp_ignore=1") &&
          ns_.run("sysctl -qw net.ipv4.conf.all.arp_announce=2") && (addresses.empty() || use_path(0, addresses[0]));
  }
  ~Host() { hub_.run("ip link del " + tag_ + "0"); }  // the rest goes with the namespace
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  bool ok() const noexcept { return ok_; }
  const NetworkNamespace& ns() const noexcept { return ns_; }
  // The lab's subnet through interface `i`, with `source` as the address of what leaves.
  bool use_path(std::size_t i, const std::string& source) const {
    return ns_.run("ip route replace 10.77.0.0/24 dev eth" + std::to_string(i) + " src " + source);
  }
  // The path over interface `i` is cut: its veth is deleted (with its address and route).
  bool cut(std::size_t i) const { return ns_.run("ip link del eth" + std::to_string(i)); }

 private:
  NetworkNamespace ns_;
  const NetworkNamespace& hub_;
  std::string tag_;
  bool ok_ = false;
};

// The hub: a namespace holding the bridge br0 that every host's veths are ports of.
struct Hub {
  explicit Hub(const std::string& name)
      : ns(name), ok(ns.run("ip link add br0 type bridge") && ns.run("ip link set br0 up")) {}
  NetworkNamespace ns;
  bool ok;
};

// The hub, the registrars' hosts and the PU's host; `base` is "<prefix>-<pid>-" (see
// test_netns::remove_stale_namespaces).
struct MobilityLab {
  explicit MobilityLab(const std::string& base)
      : hub(base + "hub"),
        a(hub.ns, base + "a", "a", {kRegistrarA}),
        b(hub.ns, base + "b", "b", {kRegistrarB}),
        u(hub.ns, base + "u", "u", {kPuAddress}) {}
  bool ok() const { return hub.ok && a.ok() && b.ok() && u.ok(); }

  Hub hub;
  Host a, b, u;
};

// A PE's host with the old path (eth0) and the new one (eth1), the old one in use.
inline std::unique_ptr<Host> pe_host(const MobilityLab& lab, const std::string& base, int serial) {
  return std::make_unique<Host>(lab.hub.ns, base + "p" + std::to_string(serial), "p" + std::to_string(serial),
                                std::vector<std::string>{kOldPath, kNewPath});
}

// Moves the calling process into `host`'s namespace; sockets made afterwards (a usrsctp stack's
// UDP socket) live there. False when setns failed.
inline bool enter(const Host& host) {
  const int fd = ::open(("/run/netns/" + host.ns().name()).c_str(), O_RDONLY | O_CLOEXEC);
  const bool moved = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
  if (fd >= 0) ::close(fd);
  return moved;
}

// Registrar `id` on `host` at `self`, ENRP peer `peer` (fast profile timers), run in the host's
// namespace; `extra` are more poolregd arguments (e.g. "--set", "asap.address_check=false").
inline std::unique_ptr<Poolregd> registrar(const std::string& name, RegistrarId id, const Host& host,
                                           const char* self, const char* peer, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "--id", std::to_string(id), "--set", std::string("asap.listen=[\"") + self + "\"]",
      "--set", std::string("enrp.peers=[{ address = \"") + peer + ":" + std::to_string(kEnrpPort) +
                   "\", udp_port = " + std::to_string(kUdpPort) + " }]",
      "--set", "enrp.profile=fast", "--set", "enrp.heartbeat_interval_ms=1000",
      "--set", "enrp.max_time_last_heard_ms=2000", "--set", "enrp.max_time_no_response_ms=1000",
      "--set", "enrp.takeover_expiry_ms=1000", "--set", "enrp.mentor_discovery_ms=1000"};
  for (auto& a : extra) args.push_back(std::move(a));
  auto d = std::make_unique<Poolregd>(name, DaemonPorts{kAsapPort, kUdpPort, kEnrpPort}, std::move(args));
  d->wrap({ip_command(), "netns", "exec", host.ns().name()});
  return d;
}

// Words of an environment variable (space separated); none when unset.
inline std::vector<std::string> words_of_env(const char* name) {
  std::vector<std::string> out;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
  const char* value = std::getenv(name);
  std::istringstream in(value != nullptr ? value : "");
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

inline std::uint64_t asap_counter(const Poolregd& d, const char* name) {
  json r = control_call(d, "stats");
  if (r.is_null() || !r.contains("asap") || r["asap"].is_null()) return 0;
  return r["asap"].value(name, std::uint64_t{0});
}

// The stdin line telling a ForeignPe to send a registration of PE `id` in kPool with `addresses`.
inline std::string registration_line(PoolElementId id, std::vector<IpAddress> addresses) {
  return hex_of(registration_of(kPool, id, std::move(addresses))) + "\n";
}

// The same for a deregistration of PE `id` from kPool.
inline std::string deregistration_line(PoolElementId id) {
  wire::Deregistration d;
  d.pool_handle = *PoolHandle::from_string(kPool);
  d.pe_id = id;
  std::vector<std::uint8_t> message;
  if (!wire::encode(d, wire::WireOptions{}, message).ok()) message.clear();
  return hex_of(message) + "\n";
}

// The kernel_sctp_peer helper `helper` as a PE in `host`'s namespace bound to `addresses` and
// connected to A (from its own UDP port `own_udp_port`, 0: a free one); nullptr (with its first
// line in *why) when it did not come up.
inline std::unique_ptr<ForeignPe> start_pe(const char* helper, const Host& host, const std::string& addresses,
                                           std::string* why, std::uint16_t own_udp_port = 0) {
  auto pe = std::make_unique<ForeignPe>(helper, host.ns().exec(), kUdpPort,
                                        std::string(kRegistrarA) + ":" + std::to_string(kAsapPort), addresses,
                                        own_udp_port);
  const std::string up = pe->started() ? pe->line() : "";
  if (up.rfind("UP ", 0) == 0) return pe;
  if (why != nullptr) *why = "PE helper: " + up;
  return nullptr;
}

// Registers PE `id` with `addresses` through `pe`: accepted?
inline bool registered(ForeignPe& pe, PoolElementId id, std::vector<IpAddress> addresses) {
  return pe.tell(registration_line(id, std::move(addresses))) && ForeignPe::registration_accepted(pe.line()) == true;
}

}  // namespace poolreg::integration::mobility
