#include "dataplane/dpdk/route_table.hpp"

#include <charconv>
#include <cstring>

namespace poolreg::dpdk {
unsigned common_prefix_bits(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) noexcept {
  unsigned bits = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    const unsigned diff = a[i] ^ b[i];
    if (diff == 0) {
      bits += 8;
      continue;
    }
    return bits + static_cast<unsigned>(__builtin_clz(diff)) - 24;  // leading zeros in the byte
  }
  return bits;
}

namespace {

std::array<std::uint8_t, 16> bytes_of(const IpAddress& a) noexcept {
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), a.data(), a.size());
  return b;
}

}  // namespace

bool IpPrefix::contains(const std::uint8_t* ip) const noexcept {
  return common_prefix_bits(address.data(), ip, address.size()) >= length;
}

bool IpPrefix::is_network() const noexcept {
  const std::uint8_t* b = address.data();
  for (unsigned bit = length; bit < address.size() * 8u; ++bit)
    if ((b[bit / 8] >> (7 - bit % 8)) & 1u) return false;
  return true;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

Expected<IpPrefix, std::string> parse_prefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  auto address = IpAddress::parse(address_text);
  if (!address) return unexpected("\"" + std::string(text) + "\" is not an IP address or ADDRESS/LENGTH");
  IpPrefix p;
  p.address = *address;
  const unsigned max_length = address->is_v4() ? 32 : 128;
  p.length = static_cast<std::uint8_t>(max_length);
  if (slash == std::string_view::npos) return p;
  const std::string_view length_text = text.substr(slash + 1);
  unsigned length = 0;
  const auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (length_text.empty() || ec != std::errc() || end != length_text.data() + length_text.size() || length > max_length)
    return unexpected("\"" + std::string(text) + "\": the prefix length must be 0.." + std::to_string(max_length));
  p.length = static_cast<std::uint8_t>(length);
  p.explicit_length = true;
  return p;
}

void RouteTable::add_address(const IpPrefix& address) { addresses_.push_back(address); }

Expected<void, std::string> RouteTable::add_route(const IpPrefix& destination, const IpAddress& gateway) {
  if (gateway.is_v4() != destination.address.is_v4())
    return unexpected("route " + destination.to_string() + " via " + gateway.to_string() +
                      ": the gateway is of the other address family");
  for (const IpPrefix& a : addresses_)
    if (a.address == gateway)
      return unexpected("route " + destination.to_string() + " via " + gateway.to_string() +
                        ": the gateway is one of our own addresses");
  for (const Route& r : routes_)
    if (r.destination.ipv6() == destination.ipv6() && r.destination.length == destination.length &&
        r.destination.contains(destination.address.data()))
      return unexpected("route " + destination.to_string() + " via " + gateway.to_string() + ": the port already has " +
                        (destination.length == 0 ? std::string("a default gateway of that family (") : std::string("a route to it (")) +
                        "via " + r.gateway.to_string() + ")");
  const IpPrefix* via = connected(gateway.data(), !gateway.is_v4());
  if (via == nullptr)
    return unexpected("route " + destination.to_string() + " via " + gateway.to_string() +
                      ": the gateway is on no connected prefix of the port (give the port's address a prefix "
                      "length, e.g. 192.0.2.1/24)");
  routes_.push_back(Route{destination, gateway, bytes_of(via->address)});
  return {};
}

const IpPrefix* RouteTable::connected(const std::uint8_t* ip, bool ipv6) const noexcept {
  const IpPrefix* best = nullptr;
  for (const IpPrefix& a : addresses_)
    if (a.ipv6() == ipv6 && a.contains(ip) && (best == nullptr || a.length > best->length)) best = &a;
  return best;
}

bool RouteTable::fallback_on_link(bool ipv6) const noexcept {
  bool any = false;
  for (const IpPrefix& a : addresses_) {
    if (a.ipv6() != ipv6) continue;
    if (a.explicit_length) return false;
    any = true;
  }
  return any;
}

std::optional<NextHop> RouteTable::lookup(const std::uint8_t* destination, bool ipv6) const noexcept {
  const std::size_t size = ipv6 ? 16 : 4;
  NextHop hop;
  int best_length = -1;
  if (const IpPrefix* c = connected(destination, ipv6)) {
    best_length = c->length;
    std::memcpy(hop.ip.data(), destination, size);
    std::memcpy(hop.source.data(), c->address.data(), size);
  }
  for (const Route& r : routes_) {
    if (r.destination.ipv6() != ipv6 || r.destination.length <= best_length || !r.destination.contains(destination))
      continue;
    best_length = r.destination.length;
    hop.via_gateway = true;
    hop.ip = bytes_of(r.gateway);
    hop.source = r.source;
  }
  if (best_length >= 0) return hop;
  if (!fallback_on_link(ipv6)) return std::nullopt;
  // Bare addresses only: on-link, from our address closest to the destination (the one on its
  // subnet when we have one there).
  const IpPrefix* best = nullptr;
  unsigned best_bits = 0;
  for (const IpPrefix& a : addresses_) {
    if (a.ipv6() != ipv6) continue;
    const unsigned bits = common_prefix_bits(a.address.data(), destination, size);
    if (best == nullptr || bits > best_bits) {
      best = &a;
      best_bits = bits;
    }
  }
  std::memcpy(hop.ip.data(), destination, size);
  std::memcpy(hop.source.data(), best->address.data(), size);
  return hop;
}

bool RouteTable::on_link(const std::uint8_t* ip, bool ipv6) const noexcept {
  return connected(ip, ipv6) != nullptr || fallback_on_link(ipv6);
}

std::vector<std::string> RouteTable::describe_routes() const {
  std::vector<std::string> out;
  for (const Route& r : routes_)
    out.push_back((r.destination.length == 0 ? std::string("default") : r.destination.to_string()) + " via " +
                  r.gateway.to_string());
  return out;
}

}  // namespace poolreg::dpdk
