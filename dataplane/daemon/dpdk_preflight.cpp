// Static checks of the DPDK configuration against the host (see dpdk_preflight.hpp).
#include "dataplane/daemon/dpdk_preflight.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "dataplane/daemon/config_mapping.hpp"

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

// PCI address as EAL takes it: DDDD:BB:DD.F or BB:DD.F (domain 0000).
bool normalise_pci(const std::string& text, std::string* out) {
  static const std::regex full("^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\\.[0-7]$");
  static const std::regex short_form("^[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\\.[0-7]$");
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (std::regex_match(t, full)) {
    *out = t;
    return true;
  }
  if (std::regex_match(t, short_form)) {
    *out = "0000:" + t;
    return true;
  }
  return false;
}

// Sets the value of an option given as "--opt=value" or "--opt value"; advances i.
bool take_value(const std::vector<std::string>& args, std::size_t& i, const std::string& name, std::string* value) {
  const std::string& a = args[i];
  if (a == name) {
    if (i + 1 >= args.size()) return false;
    *value = args[++i];
    return true;
  }
  if (a.rfind(name + "=", 0) == 0) {
    *value = a.substr(name.size() + 1);
    return true;
  }
  // Short options also come glued: -l0-1, -m256.
  if (name.size() == 2 && a.size() > 2 && a.rfind(name, 0) == 0 && a[1] != '-') {
    *value = a.substr(2);
    return true;
  }
  return false;
}

}  // namespace

bool parse_cpu_list(const std::string& text, std::vector<unsigned>* out, std::string* error) {
  std::set<unsigned> cpus;
  std::size_t start = 0;
  if (text.empty()) {
    *error = "empty core list";
    return false;
  }
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t dash = part.find('-');
    std::uint64_t lo = 0, hi = 0;
    const bool ok = dash == std::string::npos
                        ? parse_unsigned(part, &lo) && (hi = lo, true)
                        : parse_unsigned(std::string_view(part).substr(0, dash), &lo) &&
                              parse_unsigned(std::string_view(part).substr(dash + 1), &hi);
    if (!ok || lo > hi || hi >= 4096) {
      *error = "\"" + part + "\" in core list \"" + text + "\" is not a core number or range";
      return false;
    }
    for (std::uint64_t c = lo; c <= hi; ++c) cpus.insert(static_cast<unsigned>(c));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out->assign(cpus.begin(), cpus.end());
  return true;
}

EalPlan parse_eal_plan(const config::DpdkSection& dpdk) {
  EalPlan p;
  std::string core_source;
  auto set_cores = [&p, &core_source](const std::string& list, const std::string& source) {
    if (!core_source.empty()) {
      p.problems.push_back("two core lists: " + core_source + " and " + source + " (give one)");
      return;
    }
    core_source = source;
    std::string error;
    if (!parse_cpu_list(list, &p.lcores, &error)) p.problems.push_back(source + ": " + error);
  };
  if (!dpdk.lcores.empty()) set_cores(dpdk.lcores, "dpdk.lcores \"" + dpdk.lcores + "\"");
  const std::vector<std::string>& a = dpdk.eal_args;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string v;
    if (take_value(a, i, "-l", &v)) {
      set_cores(v, "EAL -l " + v);
    } else if (take_value(a, i, "--lcores", &v)) {
      if (v.find_first_of("@()") != std::string::npos) {
        if (!core_source.empty()) p.problems.push_back("two core lists: " + core_source + " and --lcores " + v);
        core_source = "--lcores " + v;
        p.lcores_checked = false;
      } else {
        set_cores(v, "EAL --lcores " + v);
      }
    } else if (take_value(a, i, "-c", &v)) {
      std::uint64_t mask = 0;
      const std::string hex = v.rfind("0x", 0) == 0 ? v.substr(2) : v;
      const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), mask, 16);
      if (ec != std::errc() || end != hex.data() + hex.size() || mask == 0) {
        p.problems.push_back("EAL -c " + v + ": not a hexadecimal core mask");
      } else {
        std::string list;
        for (unsigned c = 0; c < 64; ++c)
          if ((mask >> c) & 1u) list += (list.empty() ? "" : ",") + std::to_string(c);
        set_cores(list, "EAL -c " + v);
      }
    } else if (take_value(a, i, "--main-lcore", &v)) {
      std::uint64_t m = 0;
      if (!parse_unsigned(v, &m) || m >= 4096)
        p.problems.push_back("EAL --main-lcore " + v + ": not a core number");
      else
        p.main_lcore = static_cast<int>(m);
    } else if (take_value(a, i, "-a", &v) || take_value(a, i, "--allow", &v) || take_value(a, i, "-w", &v)) {
      const std::string address = v.substr(0, v.find(','));
      std::string normal;
      if (!normalise_pci(address, &normal))
        p.problems.push_back("EAL -a " + v + ": \"" + address + "\" is not a PCI address (DDDD:BB:DD.F)");
      else
        p.pci.push_back(normal);
    } else if (take_value(a, i, "--vdev", &v)) {
      static const std::regex vdev("^(net|crypto|event|baseband|dma|raw)_[a-z0-9_]+?[0-9]+(,[A-Za-z0-9_]+=[^,]*)*$");
      if (!std::regex_match(v, vdev))
        p.problems.push_back("EAL --vdev " + v + ": not a virtual device (e.g. net_tap0,iface=x or net_af_packet0,iface=eth1)");
      else
        p.vdevs.push_back(v);
    } else if (a[i] == "--no-pci") {
      p.no_pci = true;
    } else if (a[i] == "--no-huge") {
      p.no_huge = true;
    } else if (take_value(a, i, "-m", &v)) {
      if (!parse_unsigned(v, &p.memory_mb) || p.memory_mb == 0) p.problems.push_back("EAL -m " + v + ": not megabytes");
    } else if (take_value(a, i, "--socket-mem", &v)) {
      std::uint64_t total = 0;
      std::size_t start = 0;
      bool ok = true;
      while (ok) {
        const std::size_t comma = v.find(',', start);
        std::uint64_t mb = 0;
        ok = parse_unsigned(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start), &mb);
        total += mb;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (!ok) p.problems.push_back("EAL --socket-mem " + v + ": not a list of megabytes");
      p.memory_mb = total;
    } else if (take_value(a, i, "--huge-dir", &v)) {
      p.huge_dir = v;
    }
  }
  if (p.main_lcore < 0 && !p.lcores.empty()) p.main_lcore = static_cast<int>(p.lcores.front());
  return p;
}

PreflightReport check_dpdk_preflight(const config::RegistrarConfig& c, const std::string& sysfs_root) {
  PreflightReport r;
  const fs::path sys(sysfs_root);
  const EalPlan p = parse_eal_plan(c.dpdk);
  r.problems = p.problems;

  // Addresses: the port answers ARP/ND for them, so they must be the registrar's own unicast ones.
  unsigned own = 0;
  for (const auto& list : {c.asap.listen, c.enrp.listen})
    for (const auto& a : list)
      if (!is_unspecified(a) && !a.is_multicast() && !a.is_loopback()) ++own;
  if (own == 0)
    r.problems.push_back("asap.listen has no unicast address of the registrar (wildcard and loopback cannot be "
                         "answered for on a DPDK port): e.g. --listen 10.0.0.1");
  else
    r.summary.push_back("addresses: " + std::to_string(own) + " unicast address(es) from asap.listen/enrp.listen");
  if (c.asap.udp_encapsulation_port == 0)
    r.problems.push_back("asap.udp_encapsulation_port = 0: the DPDK backend carries SCTP over UDP only");

  // Cores: the main lcore is the control lcore, every other one a poll lane.
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
  std::vector<unsigned> poll;
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

  // Ports: PCI devices from -a must exist; vdevs are counted; dpdk.ports must name existing ones.
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
      r.warnings.push_back("PCI device " + dev + " is bound to " + name +
                           ", not vfio-pci (poolreg-dpdk-setup start binds it)");
    ++ports;
    r.summary.push_back("port: PCI " + dev + " (driver " + name + ")");
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
  // Every poll lane needs its own TX queue on every port: af_packet has qpairs of them.
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

  // Memory: the mbuf pool (dataplane/dpdk/dpdk_backend.cpp raises dpdk.mempool_size to fill every
  // RX and TX ring of every port and lane at once) must fit in -m / --socket-mem.
  const std::uint64_t lanes = std::max<std::uint64_t>(1, poll.size());
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
  return r;
}

std::string dpdk_setup_plan(const config::RegistrarConfig& c) {
  const EalPlan p = parse_eal_plan(c.dpdk);
  std::string out = "hugepages=" + std::to_string(p.no_huge ? 0u : c.dpdk.hugepages) + "\n";
  out += "hugepage_size_kb=" + std::to_string(c.dpdk.hugepage_size_kb) + "\n";
  if (!p.huge_dir.empty()) out += "huge_dir=" + p.huge_dir + "\n";
  for (const std::string& dev : p.pci) out += "pci=" + dev + "\n";
  return out;
}

}  // namespace poolreg::daemon
