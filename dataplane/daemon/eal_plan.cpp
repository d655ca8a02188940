// Reading the EAL arguments statically (see eal_plan.hpp).
#include "dataplane/daemon/eal_plan.hpp"

#include <algorithm>
#include <charconv>
#include <regex>
#include <set>

#include <fmt/format.h>

namespace poolreg::daemon {
namespace {

bool parse_unsigned(std::string_view text, std::uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
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
      *error = fmt::format("\"{}\" in core list \"{}\" is not a core number or range", part, text);
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
        if (!core_source.empty()) p.problems.push_back(fmt::format("two core lists: {} and --lcores {}", core_source, v));
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
        p.problems.push_back(fmt::format("EAL -a {}: \"{}\" is not a PCI address (DDDD:BB:DD.F)", v, address));
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

std::string dpdk_setup_plan(const config::RegistrarConfig& c) {
  const EalPlan p = parse_eal_plan(c.dpdk);
  std::string out = "hugepages=" + std::to_string(p.no_huge ? 0u : c.dpdk.hugepages) + "\n";
  out += "hugepage_size_kb=" + std::to_string(c.dpdk.hugepage_size_kb) + "\n";
  if (!p.huge_dir.empty()) out += "huge_dir=" + p.huge_dir + "\n";
  for (const std::string& dev : p.pci) out += "pci=" + dev + "\n";
  return out;
}

}  // namespace poolreg::daemon
