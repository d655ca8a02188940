// VethNamespace: a network namespace with one end of a veth pair inside (address given) and the
// other end left in our namespace, up, without an address, for DPDK's net_af_packet PMD. Checksum
// offload is switched off on both ends (ethtool -K tx off): otherwise the kernel hands af_packet
// UDP datagrams with partial checksums, which a NIC would complete but a PMD on a veth cannot.
//
// Teardown: the destructor deletes the namespace (which deletes the veth pair) even when the test
// failed; names carry our pid, and the constructor first removes leftovers of dead test processes
// (a SIGKILLed test cannot run its destructor). Needs root; ok() is false with reason() otherwise.
#pragma once

#include <unistd.h>

#include <string>

#include "tests/common/network_namespace.hpp"

namespace poolreg::dpdk::test {

using test_netns::run_quiet;

class VethNamespace {
 public:
  static constexpr const char* kPrefix = "prdpdk";

  // inner_cidr6: optional IPv6 address/prefix for the inner end (no duplicate address detection).
  explicit VethNamespace(const std::string& inner_cidr, const std::string& inner_cidr6 = "") {
    if (::geteuid() != 0) {
      reason_ = "needs root (network namespaces and a veth pair)";
      return;
    }
    if (run_quiet("command -v ethtool") != 0) {
      reason_ = "needs ethtool (Debian package ethtool, installed by .ci/setup.sh)";
      return;
    }
    remove_stale();
    // pid plus a per-process count: a test may hold several (one per DPDK port).
    static int instances = 0;
    const std::string id = std::to_string(::getpid()) + (instances++ == 0 ? "" : "n" + std::to_string(instances));
    ns_ = std::string(kPrefix) + "-" + id;
    outer_ = "pdo" + id;
    inner_ = "pdi" + id;
    const std::string in = "ip netns exec " + ns_ + " ";
    if (run_quiet("ip netns add " + ns_) != 0) {
      reason_ = "ip netns add failed (no network namespace support here?)";
      ns_.clear();
      return;
    }
    const bool ok = run_quiet("ip link add " + outer_ + " type veth peer name " + inner_) == 0 &&
                    run_quiet("ip link set " + inner_ + " netns " + ns_) == 0 &&
                    run_quiet("sysctl -qw net.ipv6.conf." + outer_ + ".disable_ipv6=1") == 0 &&
                    run_quiet("ip link set " + outer_ + " up") == 0 &&
                    run_quiet("ethtool -K " + outer_ + " tx off rx off") == 0 &&
                    run_quiet(in + "ip addr add " + inner_cidr + " dev " + inner_) == 0 &&
                    run_quiet(in + "ip link set " + inner_ + " up") == 0 &&
                    run_quiet(in + "ip link set lo up") == 0 &&
                    run_quiet(in + "ethtool -K " + inner_ + " tx off rx off") == 0 &&
                    (inner_cidr6.empty() ||
                     run_quiet(in + "ip -6 addr add " + inner_cidr6 + " dev " + inner_ + " nodad") == 0);
    if (!ok) reason_ = "setting up the veth pair in " + ns_ + " failed";
  }
  ~VethNamespace() {
    if (!ns_.empty()) run_quiet("ip netns del " + ns_);
    if (!outer_.empty()) run_quiet("ip link del " + outer_);  // normally gone with the namespace
  }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  bool ok() const noexcept { return reason_.empty(); }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& name() const noexcept { return ns_; }
  const std::string& outer_interface() const noexcept { return outer_; }
  const std::string& inner_interface() const noexcept { return inner_; }

 private:
  // prdpdk-<pid> namespaces whose test process is gone.
  static void remove_stale() {
    test_netns::remove_stale_namespaces(kPrefix, [](const std::string&, const std::string& id) {
      run_quiet("ip link del pdo" + id);  // pid[nN]
    });
  }

  std::string ns_, outer_, inner_, reason_;
};

}  // namespace poolreg::dpdk::test
