// RoutedClientNamespace: a client network namespace on its own subnet behind a router namespace
// (a VethNamespace, whose inner end faces poolregd's DPDK port): a second veth pair between router
// and client, IPv4 (and, with IPv6 addresses given, IPv6) forwarding on in the router, the
// client's default routes through the router.
// The client reaches poolregd's subnet only through the router; poolregd reaches the client only
// through its gateway (the router's inner address).
//
// Checksum offload is off on both new ends (the router forwards what the client sends to the
// af_packet port, which cannot complete partial checksums). Teardown: the destructor deletes the
// client namespace (and with it the pair); the name starts with the router's, so a dead test's
// leftovers are removed by VethNamespace's stale clean-up. Needs root; ok() / reason() as VethNamespace.
#pragma once

#include <string>

#include "tests/dataplane/dpdk/veth_namespace.hpp"

namespace poolreg::dpdk::test {

class RoutedClientNamespace {
 public:
  // router_cidr: the router's address on the client subnet (e.g. "10.62.0.254/24"); client_cidr
  // the client's; gateway: router_cidr's address. The *6 ones: the same for IPv6 ("" = none; no
  // duplicate address detection).
  RoutedClientNamespace(const VethNamespace& router, const std::string& router_cidr, const std::string& client_cidr,
                        const std::string& gateway, const std::string& router_cidr6 = "",
                        const std::string& client_cidr6 = "", const std::string& gateway6 = "") {
    if (!router.ok()) {
      reason_ = router.reason();
      return;
    }
    ns_ = router.name() + "c";
    const std::string id = router.name().substr(std::string(VethNamespace::kPrefix).size() + 1);
    const std::string router_end = "pdr" + id, client_end = "pdc" + id;
    const std::string in_router = "ip netns exec " + router.name() + " ";
    const std::string in_client = "ip netns exec " + ns_ + " ";
    if (run_quiet("ip netns add " + ns_) != 0) {
      reason_ = "ip netns add " + ns_ + " failed";
      ns_.clear();
      return;
    }
    const bool ok =
        run_quiet(in_router + "ip link add " + router_end + " type veth peer name " + client_end + " netns " + ns_) == 0 &&
        run_quiet(in_router + "ip addr add " + router_cidr + " dev " + router_end) == 0 &&
        run_quiet(in_router + "ip link set " + router_end + " up") == 0 &&
        run_quiet(in_router + "ethtool -K " + router_end + " tx off rx off") == 0 &&
        run_quiet(in_router + "sysctl -qw net.ipv4.ip_forward=1") == 0 &&
        run_quiet(in_client + "ip addr add " + client_cidr + " dev " + client_end) == 0 &&
        run_quiet(in_client + "ip link set " + client_end + " up") == 0 &&
        run_quiet(in_client + "ip link set lo up") == 0 &&
        run_quiet(in_client + "ethtool -K " + client_end + " tx off rx off") == 0 &&
        run_quiet(in_client + "ip route add default via " + gateway) == 0 &&
        (router_cidr6.empty() ||
         (run_quiet(in_router + "ip -6 addr add " + router_cidr6 + " dev " + router_end + " nodad") == 0 &&
          run_quiet(in_router + "sysctl -qw net.ipv6.conf.all.forwarding=1") == 0 &&
          run_quiet(in_client + "ip -6 addr add " + client_cidr6 + " dev " + client_end + " nodad") == 0 &&
          run_quiet(in_client + "ip -6 route add default via " + gateway6) == 0));
    if (!ok) reason_ = "setting up the router " + router.name() + " and the client namespace " + ns_ + " failed";
  }
  ~RoutedClientNamespace() {
    if (!ns_.empty()) run_quiet("ip netns del " + ns_);
  }
  RoutedClientNamespace(const RoutedClientNamespace&) = delete;
  RoutedClientNamespace& operator=(const RoutedClientNamespace&) = delete;

  bool ok() const noexcept { return reason_.empty(); }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& name() const noexcept { return ns_; }

 private:
  std::string ns_, reason_;
};

}  // namespace poolreg::dpdk::test
