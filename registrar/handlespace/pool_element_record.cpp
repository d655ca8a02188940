#include "registrar/handlespace/pool_element_record.hpp"

#include <array>
#include <new>

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
  if (!all_v4(pe.user_transport.addresses)) r->flags_ |= kUserMixed;
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
  out += write_block(out, pe.user_transport.addresses);
  if (pe.asap_transport) {
    r->flags_ |= kHasAsap;
    r->asap_port_ = pe.asap_transport->port;
    r->flags_ |= static_cast<std::uint8_t>((static_cast<unsigned>(pe.asap_transport->protocol) & kAsapProtocolMask)
                                           << kAsapProtocolShift);
    if (pe.asap_transport->use == TransportUse::kDataPlusControl) r->flags_ |= kAsapControl;
    r->n_asap_ = static_cast<std::uint8_t>(pe.asap_transport->addresses.size());
    if (!all_v4(pe.asap_transport->addresses)) r->flags_ |= kAsapMixed;
    write_block(out, pe.asap_transport->addresses);
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
  return head + user + block_length(addresses_base() + user, n_asap_, (flags_ & kAsapMixed) != 0);
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
  pe.id = id();
  pe.home_registrar = home();
  pe.registration_life_ms = registration_life_ms();
  pe.policy = policy();
  pe.user_transport.protocol = protocol_;
  pe.user_transport.use = use_;
  pe.user_transport.port = user_port();
  pe.user_transport.dccp_service_code = dccp_service_code();
  for (IpAddress a : user_addresses()) pe.user_transport.addresses.push_back(a);
  if (has_asap_transport()) {
    TransportEndpoint asap;
    asap.protocol = record_->asap_protocol();
    asap.use = record_->asap_use();
    asap.port = asap_port();
    for (IpAddress a : asap_addresses()) asap.addresses.push_back(a);
    pe.asap_transport = std::move(asap);
  }
  return pe;
}

}  // namespace poolreg::handlespace
