// A foreign PE for integration tests: the kernel_sctp_peer helper (tests/dataplane/kernel) in its
// "multihomed" mode, plain threaded usrsctp over UDP encapsulation as another SCTP stack would
// speak to poolregd (answering Endpoint Keep-Alives), with RFC 5061 address changes on stdin; plus the bits the tests feed it
// (hex lines, an RFC Registration, the host's second IPv4 address).
#pragma once

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {

// The host's first IPv4 address that is not a loopback one (nullopt: none).
inline std::optional<IpAddress> second_host_address() {
  std::optional<IpAddress> second;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  for (ifaddrs* i = list; i != nullptr && !second; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    const IpAddress ip = IpAddress::v4(ntohl(in->sin_addr.s_addr));
    if (!ip.is_loopback()) second = ip;
  }
  ::freeifaddrs(list);
  return second;
}

inline std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

// An RFC ASAP Registration of PE `id` (round robin, SCTP user transport on port 7000 + id, life
// 30 s) in `pool`; empty when it cannot be encoded.
inline std::vector<std::uint8_t> registration_of(const char* pool, PoolElementId id, std::vector<IpAddress> addresses) {
  wire::Registration reg;
  reg.pool_handle = *PoolHandle::from_string(pool);
  reg.element.id = id;
  reg.element.registration_life_ms = 30000;
  reg.element.user_transport.protocol = TransportProtocol::kSctp;
  reg.element.user_transport.port = static_cast<std::uint16_t>(7000 + id);
  reg.element.user_transport.addresses = std::move(addresses);
  reg.element.policy.type = PolicyType::kRoundRobin;
  std::vector<std::uint8_t> message;
  if (!wire::encode(reg, wire::WireOptions{}, message).ok()) message.clear();
  return message;
}

inline std::vector<std::uint8_t> bytes_of(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// The kernel_sctp_peer helper ("multihomed" mode: a foreign PE on threaded usrsctp) bound to
// `addresses` (space separated) and connected to `daemon`: lines from it and lines to it.
// Bounded: the helper gives up after 10 s without a line.
class ForeignPe {
 public:
  ForeignPe(const char* helper, const Poolregd& daemon, const std::string& addresses)
      : ForeignPe(helper, "", daemon.ports().udp, std::to_string(daemon.ports().asap), addresses) {}
  // The same run by `launcher` (e.g. "ip netns exec NS ", "" = none) and connected to
  // `destination` ("address:port", or a port on 127.0.0.1) over UDP port `udp_port`, from its own
  // UDP port `own_udp_port` (0: a free one).
  ForeignPe(const char* helper, const std::string& launcher, std::uint16_t udp_port, const std::string& destination,
            const std::string& addresses, std::uint16_t own_udp_port = 0) {
    // A helper that already exited (its association lost, its 10 s without a line) must not kill
    // the test with SIGPIPE when it is told something, or in finish(): tell() then returns false.
    std::signal(SIGPIPE, SIG_IGN);
    if (::pipe(to_peer_) != 0) return;
    const std::string ports =
        std::to_string(udp_port) + (own_udp_port != 0 ? "/" + std::to_string(own_udp_port) : std::string());
    const std::string command = launcher + helper + " multihomed " + ports + " " + destination + " " + addresses +
                                " <&" + std::to_string(to_peer_[0]);
    f_ = ::popen(command.c_str(), "r");
    ::close(to_peer_[0]);
  }
  ~ForeignPe() { finish(); }
  ForeignPe(const ForeignPe&) = delete;
  ForeignPe& operator=(const ForeignPe&) = delete;

  bool started() const { return f_ != nullptr; }
  std::string line() {
    char buf[4096] = {};
    return f_ == nullptr || std::fgets(buf, sizeof buf, f_) == nullptr ? std::string() : std::string(buf);
  }
  bool tell(const std::string& text) {
    return ::write(to_peer_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }
  // The Registration Response in a "RECV <hex>" line: accepted (true), rejected (false), or
  // nullopt for anything else.
  static std::optional<bool> registration_accepted(const std::string& line) {
    if (line.rfind("RECV ", 0) != 0 || line.size() < 6) return std::nullopt;
    auto decoded = wire::decode_asap(bytes_of(line.substr(5, line.size() - 6)));
    const auto* response = decoded ? std::get_if<wire::RegistrationResponse>(&decoded.value()) : nullptr;
    if (response == nullptr) return std::nullopt;
    return !response->rejected;
  }
  // The helper closes its association (empty line) and exits: its pclose() status.
  int finish() {
    if (f_ == nullptr) return -1;
    tell("\n");
    ::close(to_peer_[1]);
    const int status = ::pclose(f_);
    f_ = nullptr;
    return status;
  }

 private:
  int to_peer_[2] = {-1, -1};
  FILE* f_ = nullptr;
};

}  // namespace poolreg::integration
