#include "registrar/wire/pool_element_view.hpp"

#include <array>

#include "registrar/wire/tlv_reader.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {
namespace {

// Distance to the next TLV, clamped to the end (the last TLV's padding may lie beyond it).
std::size_t step(const std::uint8_t* p, const std::uint8_t* end) noexcept {
  const auto left = static_cast<std::size_t>(end - p);
  if (left < kTlvHeaderSize) return left;
  const std::size_t len = load_u16(p + 2);
  const std::size_t padded = pad4(len < kTlvHeaderSize ? kTlvHeaderSize : len);
  return padded < left ? padded : left;
}

}  // namespace

void AddressListView::Iterator::settle() noexcept {
  while (p_ != end_) {
    if (end_ - p_ < static_cast<std::ptrdiff_t>(kTlvHeaderSize)) {
      p_ = end_;
      return;
    }
    const std::uint16_t pure = load_u16(p_) & 0x3fff;
    if (pure == 0x0001 || pure == 0x0002) return;
    p_ += step(p_, end_);
  }
}

IpAddress AddressListView::Iterator::operator*() const noexcept {
  // The decoder validated the list: an IPv4 TLV has 4 value bytes, an IPv6 TLV 16.
  const std::uint16_t pure = load_u16(p_) & 0x3fff;
  if (pure == 0x0001) return IpAddress::v4({p_[4], p_[5], p_[6], p_[7]});
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 16; ++i) b[i] = p_[4 + i];
  return IpAddress::v6(b);
}

AddressListView::Iterator& AddressListView::Iterator::operator++() noexcept {
  if (p_ != end_) p_ += step(p_, end_);
  settle();
  return *this;
}

TransportEndpoint TransportView::to_endpoint() const {
  TransportEndpoint t;
  t.protocol = protocol;
  t.port = port;
  t.use = use;
  t.dccp_service_code = dccp_service_code;
  t.addresses.reserve(addresses.size());
  for (const IpAddress& a : addresses) t.addresses.push_back(a);
  return t;
}

PoolElement PoolElementView::to_pool_element() const {
  PoolElement e;
  e.id = id;
  e.home_registrar = home_registrar;
  e.registration_life_ms = registration_life_ms;
  e.user_transport = user_transport.to_endpoint();
  e.policy = policy;
  if (asap_transport) e.asap_transport = asap_transport->to_endpoint();
  const std::size_t n = address_types.size() / param::kAddressTypeEntrySize;
  e.address_types.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* x = address_types.data() + i * param::kAddressTypeEntrySize;
    AddressTypeEntry entry;
    entry.type = static_cast<AddressType>(x[0]);
    entry.retiring = (x[1] & param::kAddressTypeRetiring) != 0;
    entry.lifetime_ms = load_u32(x + 4);
    e.address_types.push_back(entry);
  }
  return e;
}

}  // namespace poolreg::wire
