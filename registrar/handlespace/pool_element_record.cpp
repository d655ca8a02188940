#include "registrar/handlespace/pool_element_record.hpp"

#include <algorithm>
#include <array>
#include <new>

#include "registrar/common/pool_element_addresses.hpp"

namespace poolreg::handlespace {

static_assert(sizeof(PoolElementRecord) == 32, "keep the record header compact");
// The ASAP transport protocol is stored in 3 bits of flags_ (RFC 5354 TLV codes 3..7).
static_assert(static_cast<unsigned>(TransportProtocol::kDccp) <= 7 && static_cast<unsigned>(TransportProtocol::kSctp) <= 7 &&
              static_cast<unsigned>(TransportProtocol::kTcp) <= 7 && static_cast<unsigned>(TransportProtocol::kUdp) <= 7 &&
              static_cast<unsigned>(TransportProtocol::kUdpLite) <= 7);

namespace {

bool all_v4(const std::vector<IpAddress>& addresses) noexcept {
  for (const auto& a : addresses)
    if (!a.is_v4()) return false;
  return true;
}

std::size_t block_size(const std::vector<IpAddress>& addresses) noexcept {
  if (all_v4(addresses)) return addresses.size() * 4;
  std::size_t n = addresses.size();  // family bytes
  for (const auto& a : addresses) n += a.size();
  return n;
}

bool is_graceful(const AddressTypeEntry& e) noexcept { return e.type == AddressType::kGracefulReplacement; }

// The user addresses in stability order (stable: equal ranks keep the PE's order).
std::array<std::uint8_t, 256> stability_order(const PoolElement& pe, std::size_t n) noexcept {
  std::array<std::uint8_t, 256> order{};
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint8_t>(i);
  std::stable_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), [&](std::uint8_t a, std::uint8_t b) {
    return stability_rank(pe.address_types[a]) < stability_rank(pe.address_types[b]);
  });
  return order;
}

// Typed user block: family bytes with the type above the family, then the addresses, both in
// stability order. Returns bytes written.
std::size_t write_typed_block(std::uint8_t* out, const PoolElement& pe,
                              const std::array<std::uint8_t, 256>& order) noexcept {
  const auto& addrs = pe.user_transport.addresses;
  std::uint8_t* p = out;
  for (std::size_t k = 0; k < addrs.size(); ++k) {
    const AddressTypeEntry& e = pe.address_types[order[k]];
    std::uint8_t family = addrs[order[k]].is_v4() ? 4 : 6;
    family |= static_cast<std::uint8_t>((static_cast<unsigned>(e.type) & kTypeMask) << kTypeShift);
    if (e.retiring) family |= kRetiringBit;
    *p++ = family;
  }
  for (std::size_t k = 0; k < addrs.size(); ++k) {
    const IpAddress& a = addrs[order[k]];
    std::memcpy(p, a.data(), a.size());
    p += a.size();
  }
  return static_cast<std::size_t>(p - out);
}

std::size_t graceful_entries(const PoolElement& pe) noexcept {
  return static_cast<std::size_t>(std::count_if(pe.address_types.begin(), pe.address_types.end(), is_graceful));
}

// Writes the packed block; returns bytes written.
std::size_t write_block(std::uint8_t* out, const std::vector<IpAddress>& addresses) noexcept {
  std::uint8_t* p = out;
  if (!all_v4(addresses)) {
    for (const auto& a : addresses) *p++ = a.is_v4() ? 4 : 6;
  }
  for (const auto& a : addresses) {
    std::memcpy(p, a.data(), a.size());
    p += a.size();
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace

// The optional values of `pe` in ValueIndex order (absent = 0).
static std::array<std::uint32_t, 8> optional_values(const PoolElement& pe) noexcept {
  const PolicyParams& p = pe.policy;
  return {p.weight, p.priority, p.load, p.load_degradation, p.weight_dpf, p.load_dpf, p.distance_ms,
          pe.user_transport.dccp_service_code};
}

std::size_t PoolElementRecord::allocation_size(const PoolElement& pe, std::uint64_t association) noexcept {
  std::size_t n = sizeof(PoolElementRecord) + block_size(pe.user_transport.addresses);
  if (poolreg::has_address_types(pe)) {
    // Mixed layout (a family byte each) plus a u64 per graceful address.
    if (all_v4(pe.user_transport.addresses)) n += pe.user_transport.addresses.size();
    n += 8 * graceful_entries(pe);
  }
  if (association != 0) n += sizeof association;
  for (std::uint32_t v : optional_values(pe)) n += v != 0 ? 4 : 0;
  if (pe.asap_transport) n += block_size(pe.asap_transport->addresses);
  return n;
}

PoolElementRecord* PoolElementRecord::create(const PoolElement& pe, std::uint64_t association,
                                             std::uint32_t registration_seq) {
  const std::size_t size = allocation_size(pe, association);
  void* memory = ::operator new(size);
  auto* r = new (memory) PoolElementRecord();
  r->id_ = pe.id;
  r->home_ = pe.home_registrar;
  r->life_ms_ = pe.registration_life_ms;
  r->seq_ = registration_seq;
  r->user_port_ = pe.user_transport.port;
  r->n_user_ = static_cast<std::uint8_t>(pe.user_transport.addresses.size());
  const bool typed = poolreg::has_address_types(pe);
  if (typed || !all_v4(pe.user_transport.addresses)) r->flags_ |= kUserMixed;
  auto* out = reinterpret_cast<std::uint8_t*>(r + 1);
  if (association != 0) {
    r->flags_ |= kHasAssociation;
    std::memcpy(out, &association, sizeof association);
    out += sizeof association;
  }
  const auto values = optional_values(pe);
  for (unsigned i = 0; i < values.size(); ++i) {
    if (values[i] == 0) continue;
    r->values_ |= static_cast<std::uint8_t>(1u << i);
    std::memcpy(out, &values[i], 4);
    out += 4;
  }
  std::array<std::uint8_t, 256> order{};
  if (typed) {
    order = stability_order(pe, pe.user_transport.addresses.size());
    out += write_typed_block(out, pe, order);
  } else {
    out += write_block(out, pe.user_transport.addresses);
  }
  if (pe.asap_transport) {
    r->flags_ |= kHasAsap;
    r->asap_port_ = pe.asap_transport->port;
    r->flags_ |= static_cast<std::uint8_t>((static_cast<unsigned>(pe.asap_transport->protocol) & kAsapProtocolMask)
                                           << kAsapProtocolShift);
    if (pe.asap_transport->use == TransportUse::kDataPlusControl) r->flags_ |= kAsapControl;
    r->n_asap_ = static_cast<std::uint8_t>(pe.asap_transport->addresses.size());
    if (!all_v4(pe.asap_transport->addresses)) r->flags_ |= kAsapMixed;
    out += write_block(out, pe.asap_transport->addresses);
  }
  if (typed) {
    for (std::size_t k = 0; k < pe.user_transport.addresses.size(); ++k) {
      const AddressTypeEntry& e = pe.address_types[order[k]];
      if (!is_graceful(e)) continue;
      const std::uint64_t v = e.retiring ? e.retire_at : e.lifetime_ms;
      std::memcpy(out, &v, sizeof v);
      out += sizeof v;
    }
  }
  return r;
}

PoolElementRecord* PoolElementRecord::clone_with_home(const PoolElementRecord& from, RegistrarId home) {
  const std::size_t size = from.allocated_bytes();
  void* memory = ::operator new(size);
  std::memcpy(memory, static_cast<const void*>(&from), size);
  auto* r = static_cast<PoolElementRecord*>(memory);
  r->home_ = home;
  return r;
}

std::size_t PoolElementRecord::allocated_bytes() const noexcept {
  const std::size_t user = user_block_length();
  const std::size_t head = static_cast<std::size_t>(addresses_base() - tail()) + sizeof(PoolElementRecord);
  return head + user + block_length(addresses_base() + user, n_asap_, (flags_ & kAsapMixed) != 0) +
         8 * graceful_count();
}

std::size_t PoolElementRecord::graceful_count() const noexcept {
  if (!(flags_ & kUserMixed)) return 0;
  const std::uint8_t* f = addresses_base();
  std::size_t n = 0;
  for (std::size_t i = 0; i < n_user_; ++i)
    n += ((f[i] >> kTypeShift) & kTypeMask) == static_cast<std::uint8_t>(AddressType::kGracefulReplacement) ? 1 : 0;
  return n;
}

const std::uint8_t* PoolElementRecord::graceful_base() const noexcept {
  const std::size_t user = user_block_length();
  return addresses_base() + user + block_length(addresses_base() + user, n_asap_, (flags_ & kAsapMixed) != 0);
}

bool PoolElementRecord::has_address_types() const noexcept {
  if (!(flags_ & kUserMixed)) return false;
  const std::uint8_t* f = addresses_base();
  for (std::size_t i = 0; i < n_user_; ++i)
    if ((f[i] & ~kFamilyMask) != 0) return true;
  return false;
}

std::size_t PoolElementRecord::address_types(std::span<AddressTypeEntry> out) const noexcept {
  if (!has_address_types() || out.size() < n_user_) return 0;
  const std::uint8_t* f = addresses_base();
  const std::uint8_t* g = graceful_base();
  for (std::size_t i = 0; i < n_user_; ++i) {
    AddressTypeEntry e;
    e.type = static_cast<AddressType>((f[i] >> kTypeShift) & kTypeMask);
    e.retiring = (f[i] & kRetiringBit) != 0;
    if (e.type == AddressType::kGracefulReplacement) {
      std::uint64_t v;
      std::memcpy(&v, g, sizeof v);
      g += sizeof v;
      if (e.retiring) e.retire_at = v;
      else e.lifetime_ms = static_cast<std::uint32_t>(v);
    }
    out[i] = e;
  }
  return n_user_;
}

TimeNs PoolElementRecord::earliest_retirement() const noexcept {
  if (!(flags_ & kUserMixed)) return 0;
  const std::uint8_t* f = addresses_base();
  const std::uint8_t* g = graceful_base();
  TimeNs earliest = 0;
  for (std::size_t i = 0; i < n_user_; ++i) {
    if (((f[i] >> kTypeShift) & kTypeMask) != static_cast<std::uint8_t>(AddressType::kGracefulReplacement)) continue;
    std::uint64_t v;
    std::memcpy(&v, g, sizeof v);
    g += sizeof v;
    if ((f[i] & kRetiringBit) != 0 && (earliest == 0 || v < earliest)) earliest = v;
  }
  return earliest;
}

// Sized delete: jemalloc then takes the size class from the size instead of looking the
// address up in its radix tree (a cache miss per free on a large handlespace). The record is
// still warm here (QSBR frees it a few hundred retirements after the writer last read it).
// clang enables sized deallocation only with -fsized-deallocation (the fuzz build uses clang).
void PoolElementRecord::destroy(void* record) noexcept {
#if defined(__cpp_sized_deallocation)
  ::operator delete(record, static_cast<const PoolElementRecord*>(record)->allocated_bytes());
#else
  ::operator delete(record);
#endif
}

AddressList PoolElementRecord::user_addresses() const noexcept {
  const std::uint8_t* base = addresses_base();
  if (flags_ & kUserMixed) return {base, base + n_user_, n_user_};
  return {nullptr, base, n_user_};
}

AddressList PoolElementRecord::asap_addresses() const noexcept {
  const std::uint8_t* base = addresses_base() + user_block_length();
  if (flags_ & kAsapMixed) return {base, base + n_asap_, n_asap_};
  return {nullptr, base, n_asap_};
}

PoolElement PoolElementView::to_pool_element() const {
  PoolElement pe;
  copy_to(pe);
  return pe;
}

void PoolElementView::copy_to(PoolElement& pe) const {
  pe.id = id();
  pe.home_registrar = home();
  pe.registration_life_ms = registration_life_ms();
  pe.policy = policy();
  pe.user_transport.protocol = protocol_;
  pe.user_transport.use = use_;
  pe.user_transport.port = user_port();
  pe.user_transport.dccp_service_code = dccp_service_code();
  const auto user = user_addresses();
  pe.user_transport.addresses.assign(user.begin(), user.end());
  pe.address_types.clear();
  if (record_->has_address_types()) {
    pe.address_types.resize(pe.user_transport.addresses.size());
    record_->address_types(pe.address_types);
  }
  if (has_asap_transport()) {
    TransportEndpoint& asap = pe.asap_transport ? *pe.asap_transport : pe.asap_transport.emplace();
    asap.protocol = record_->asap_protocol();
    asap.use = record_->asap_use();
    asap.port = asap_port();
    asap.dccp_service_code = 0;
    const auto addresses = asap_addresses();
    asap.addresses.assign(addresses.begin(), addresses.end());
  } else {
    pe.asap_transport.reset();
  }
}

}  // namespace poolreg::handlespace
