// Static checks of the DPDK configuration against the host (see dpdk_preflight.hpp).
#include "dataplane/daemon/dpdk_preflight.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <fmt/format.h>
#include "dataplane/daemon/config_mapping.hpp"
#if POOLREG_HAVE_DPDK
#include "dataplane/dpdk/routing_config.hpp"
#endif

namespace poolreg::daemon {
namespace {

namespace fs = std::filesystem;

// Poll lanes load private usrsctp copies into glibc link-map namespaces: 16 at most
// (dataplane/sctp/usrsctp_stack.hpp), 12 with glibc's default tunables.
constexpr unsigned kMaxPollLanes = 16;
constexpr unsigned kDefaultNamespaceLanes = 12;
// An mbuf of the backend's pools: RTE_MBUF_DEFAULT_BUF_SIZE (2176) + the mbuf header and the
// mempool's per-object header, rounded up.
constexpr std::uint64_t kMbufBytes = 2432;

std::string read_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

bool parse_unsigned(std::string_view text, std::uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string join(const std::vector<unsigned>& v) {
  std::string s;
  for (unsigned x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// Addresses: the port answers ARP/ND for them, so they must be the registrar's own unicast ones.
void check_addresses(const config::RegistrarConfig& c, PreflightReport& r) {
  unsigned own = 0;
  for (const auto& list : {c.asap.listen, c.enrp.listen})
    for (const auto& a : list)
      if (!is_unspecified(a) && !a.is_multicast() && !a.is_loopback()) ++own;
#if POOLREG_HAVE_DPDK
  // dpdk.addresses / routes / gateway as the backend will read them; laid on the ports when
  // dpdk.ports names them (the probed ports are known only at start).
  auto routing = dpdk::parse_routing(c.dpdk.addresses, c.dpdk.routes, c.dpdk.gateway);
  if (!routing) {
    r.problems.push_back(routing.error());
  } else if (!routing->empty()) {
    if (c.dpdk.addresses.size() > own) own = static_cast<unsigned>(c.dpdk.addresses.size());
    std::vector<IpAddress> listen;
    for (const auto& list : {c.asap.listen, c.enrp.listen}) listen.insert(listen.end(), list.begin(), list.end());
    if (!c.dpdk.ports.empty())
      if (auto plan = dpdk::plan_port_routing(*routing, c.dpdk.ports, listen); !plan) r.problems.push_back(plan.error());
    r.summary.push_back("routing: " + std::to_string(c.dpdk.addresses.size()) + " port address(es), " +
                        std::to_string(routing->routes.size()) + " route(s) and gateway(s)");
  }
#endif
  if (own == 0)
    r.problems.push_back("asap.listen has no unicast address of the registrar (wildcard and loopback cannot be "
                         "answered for on a DPDK port): e.g. --listen 10.0.0.1");
  else
    r.summary.push_back("addresses: " + std::to_string(own) + " unicast address(es) from asap.listen/enrp.listen");
  if (c.asap.udp_encapsulation_port == 0)
    r.problems.push_back("asap.udp_encapsulation_port = 0: the DPDK backend carries SCTP over UDP only");
}

// Cores: the main lcore is the control lcore, every other one a poll lane.
// Returns the poll lcores.
std::vector<unsigned> check_cores(const EalPlan& p, const fs::path& sys, PreflightReport& r) {
  std::vector<unsigned> poll;
  std::vector<unsigned> online;
  {
    std::string error;
    const std::string text = read_line(sys / "devices/system/cpu/online");
    if (text.empty() || !parse_cpu_list(text, &online, &error))
      r.warnings.push_back("online CPUs unknown (" + (sys / "devices/system/cpu/online").string() + ")");
  }
  std::vector<unsigned> isolated;
  {
    std::string error;
    const std::string text = read_line(sys / "devices/system/cpu/isolated");
    if (!text.empty()) parse_cpu_list(text, &isolated, &error);
  }
  if (!p.lcores_checked) {
    r.warnings.push_back("core list given with --lcores groups/'@': not checked here");
  } else if (p.lcores.empty() && p.problems.empty()) {
    r.warnings.push_back("no core list (dpdk.lcores or -l): EAL takes every CPU; set dpdk.lcores to pin the lanes");
  } else if (!p.lcores.empty()) {
    for (unsigned l : p.lcores) {
      if (!online.empty() && std::find(online.begin(), online.end(), l) == online.end())
        r.problems.push_back("lcore " + std::to_string(l) + " is not an online CPU (online: " + join(online) + ")");
    }
    if (p.main_lcore >= 0 && std::find(p.lcores.begin(), p.lcores.end(), static_cast<unsigned>(p.main_lcore)) == p.lcores.end())
      r.problems.push_back("--main-lcore " + std::to_string(p.main_lcore) + " is not in the core list " + join(p.lcores));
    for (unsigned l : p.lcores)
      if (static_cast<int>(l) != p.main_lcore) poll.push_back(l);
    if (poll.empty())
      r.problems.push_back("core list " + join(p.lcores) +
                           " has no poll lcore: the main lcore is the control lcore, give two cores or more (e.g. 0-1)");
    if (poll.size() > kMaxPollLanes)
      r.problems.push_back(std::to_string(poll.size()) + " poll lanes: at most " + std::to_string(kMaxPollLanes) +
                           " (each loads a private usrsctp copy into a glibc link-map namespace)");
    else if (poll.size() > kDefaultNamespaceLanes) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): --check-config runs on one thread, nothing sets the environment
      const char* tunables = std::getenv("GLIBC_TUNABLES");
      if (tunables == nullptr || std::string(tunables).find("glibc.rtld.nns") == std::string::npos)
        r.problems.push_back(std::to_string(poll.size()) + " poll lanes: more than " +
                             std::to_string(kDefaultNamespaceLanes) +
                             " need GLIBC_TUNABLES=glibc.rtld.nns=16 in poolregd's environment");
    }
    std::vector<unsigned> shared;
    for (unsigned l : poll)
      if (std::find(isolated.begin(), isolated.end(), l) == isolated.end()) shared.push_back(l);
    if (!poll.empty())
      r.summary.push_back("lcores: control " + std::to_string(p.main_lcore) + ", poll lanes " + join(poll) +
                          " (isolated CPUs: " + (isolated.empty() ? std::string("none") : join(isolated)) + ")");
    if (!shared.empty() && !poll.empty())
      r.warnings.push_back("poll lcore(s) " + join(shared) +
                           " not isolated: other tasks share them (kernel command line isolcpus/nohz_full/rcu_nocbs, "
                           "dataplane/packaging/README.md)");
  }
  return poll;
}

// Ports: PCI devices from -a must exist; vdevs are counted; dpdk.ports must name existing ones.
// Returns the number of ports EAL will probe.
unsigned check_ports(const config::RegistrarConfig& c, const EalPlan& p, const fs::path& sys, PreflightReport& r) {
  unsigned ports = static_cast<unsigned>(p.vdevs.size());
  if (p.no_pci && !p.pci.empty()) r.problems.push_back("--no-pci together with -a/--allow: the PCI devices would not be probed");
  for (const std::string& dev : p.pci) {
    const fs::path d = sys / "bus/pci/devices" / dev;
    std::error_code ec;
    if (!fs::exists(d, ec)) {
      r.problems.push_back("PCI device " + dev + " does not exist (" + d.string() + ")");
      continue;
    }
    const fs::path driver = fs::read_symlink(d / "driver", ec);
    const std::string name = ec ? std::string("none") : driver.filename().string();
    if (name != "vfio-pci" && name != "uio_pci_generic" && name != "igb_uio")
      r.warnings.push_back(fmt::format("PCI device {} is bound to {}, not vfio-pci (poolreg-dpdk-setup start binds it)",
                                       dev, name));
    ++ports;
    r.summary.push_back(fmt::format("port: PCI {} (driver {})", dev, name));
  }
  for (const std::string& v : p.vdevs) r.summary.push_back("port: vdev " + v);
  if (p.pci.empty() && !p.no_pci) {
    // EAL probes every PCI device bound to a DPDK driver.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sys / "bus/pci/devices", ec)) {
      std::error_code lec;
      const std::string name = fs::read_symlink(e.path() / "driver", lec).filename().string();
      if (!lec && (name == "vfio-pci" || name == "uio_pci_generic" || name == "igb_uio")) {
        ++ports;
        r.summary.push_back("port: PCI " + e.path().filename().string() + " (driver " + name + ", probed: no -a given)");
      }
    }
  }
  if (ports == 0) r.problems.push_back("no port: give a PCI device (-a DDDD:BB:DD.F) or a --vdev in dpdk.eal_args");
  for (std::uint16_t id : c.dpdk.ports)
    if (id >= ports)
      r.problems.push_back("dpdk.ports names port " + std::to_string(id) + ", but the EAL arguments give " +
                           std::to_string(ports) + " port(s) (ids 0.." + std::to_string(ports == 0 ? 0 : ports - 1) + ")");
  return ports;
}

// Every poll lane needs its own TX queue on every port: af_packet has qpairs of them.
void check_queues(const EalPlan& p, const std::vector<unsigned>& poll, PreflightReport& r) {
  for (const std::string& v : p.vdevs) {
    if (v.rfind("net_af_packet", 0) != 0 || poll.empty()) continue;
    std::uint64_t qpairs = 1;
    const std::size_t at = v.find(",qpairs=");
    if (at != std::string::npos) parse_unsigned(std::string_view(v).substr(at + 8, v.find(',', at + 1) - at - 8), &qpairs);
    if (qpairs < poll.size())
      r.problems.push_back("--vdev " + v + " has " + std::to_string(qpairs) + " queue pair(s); " +
                           std::to_string(poll.size()) + " poll lanes need one TX queue each (add qpairs=" +
                           std::to_string(poll.size()) + ")");
  }
}

// Memory: the mbuf pool (dataplane/dpdk/dpdk_backend.cpp raises dpdk.mempool_size to fill every
// RX and TX ring of every port and lane at once) must fit in -m / --socket-mem.
void check_memory(const config::RegistrarConfig& c, const EalPlan& p, const fs::path& sys, std::size_t poll_lanes,
                  unsigned ports, PreflightReport& r) {
  const std::uint64_t lanes = std::max<std::uint64_t>(1, poll_lanes);
  const std::uint64_t mbufs = std::max<std::uint64_t>(c.dpdk.mempool_size, std::max(1u, ports) * lanes * 2048 + 2047);
  const std::uint64_t pool_mb = (mbufs * kMbufBytes + (1u << 20) - 1) >> 20;
  r.summary.push_back("mbuf pool: " + std::to_string(mbufs) + " mbufs (" + std::to_string(pool_mb) +
                      " MB), burst " + std::to_string(c.dpdk.burst_size));
  if (p.memory_mb != 0 && pool_mb + 64 > p.memory_mb)
    r.problems.push_back("EAL memory " + std::to_string(p.memory_mb) + " MB is too small for the mbuf pool (" +
                         std::to_string(pool_mb) + " MB) plus 64 MB for rings and tables");

  // Hugepages.
  if (p.no_huge) {
    r.summary.push_back("memory: --no-huge (anonymous memory, no DMA: virtual devices only)");
    if (!p.pci.empty()) r.problems.push_back("--no-huge with PCI devices: a NIC needs hugepage memory for DMA");
  } else {
    const fs::path hp = sys / "kernel/mm/hugepages" / ("hugepages-" + std::to_string(c.dpdk.hugepage_size_kb) + "kB");
    std::error_code ec;
    if (!fs::exists(hp, ec)) {
      r.problems.push_back("hugepages of " + std::to_string(c.dpdk.hugepage_size_kb) +
                           " kB (dpdk.hugepage_size_kb) are not offered by this kernel (" + hp.string() + ")");
    } else {
      std::uint64_t free_pages = 0;
      parse_unsigned(read_line(hp / "free_hugepages"), &free_pages);
      const std::uint64_t free_mb = free_pages * c.dpdk.hugepage_size_kb / 1024;
      const std::uint64_t planned_mb = std::uint64_t{c.dpdk.hugepages} * c.dpdk.hugepage_size_kb / 1024;
      const std::uint64_t need_mb = p.memory_mb != 0 ? p.memory_mb : pool_mb + 64;
      r.summary.push_back("hugepages: " + std::to_string(free_pages) + " free of " +
                          std::to_string(c.dpdk.hugepage_size_kb) + " kB (" + std::to_string(free_mb) + " MB), " +
                          std::to_string(need_mb) + " MB needed");
      if (free_mb < need_mb)
        r.problems.push_back("hugepages: " + std::to_string(free_mb) + " MB free, " + std::to_string(need_mb) +
                             " MB needed (" + (p.memory_mb != 0 ? "-m/--socket-mem" : "the mbuf pool") +
                             "): reserve them (dpdk.hugepages + poolreg-dpdk-setup start, or dpdk-hugepages.py)");
      if (c.dpdk.hugepages != 0 && planned_mb < need_mb)
        r.problems.push_back("dpdk.hugepages = " + std::to_string(c.dpdk.hugepages) + " pages (" +
                             std::to_string(planned_mb) + " MB) is less than the " + std::to_string(need_mb) +
                             " MB needed");
    }
  }
}

}  // namespace

PreflightReport check_dpdk_preflight(const config::RegistrarConfig& c, const std::string& sysfs_root) {
  PreflightReport r;
  const fs::path sys(sysfs_root);
  const EalPlan p = parse_eal_plan(c.dpdk);
  r.problems = p.problems;
  check_addresses(c, r);
  const std::vector<unsigned> poll = check_cores(p, sys, r);
  const unsigned ports = check_ports(c, p, sys, r);
  check_queues(p, poll, r);
  check_memory(c, p, sys, poll.size(), ports, r);
  return r;
}

}  // namespace poolreg::daemon
