#include "perf/dataplane/write_requests.hpp"

#include <array>

#include "registrar/common/ip_address.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::perf {

std::string write_pool_name(std::uint64_t index, unsigned pools) {
  return "WritePool-" + std::to_string(index % pools);
}

PeWrites encode_pe_writes(const std::string& pool, PoolElementId id, const std::uint8_t ipv4[4]) {
  PeWrites w;
  wire::Registration reg;
  reg.pool_handle = *PoolHandle::from_string(pool);
  reg.element.id = id;
  reg.element.registration_life_ms = 30000;
  reg.element.user_transport.protocol = TransportProtocol::kSctp;
  reg.element.user_transport.port = 7000;
  reg.element.user_transport.addresses.push_back(
      IpAddress::v4(std::array<std::uint8_t, 4>{ipv4[0], ipv4[1], ipv4[2], ipv4[3]}));
  reg.element.policy.type = PolicyType::kRoundRobin;
  wire::Deregistration dereg;
  dereg.pool_handle = reg.pool_handle;
  dereg.pe_id = id;
  if (!wire::encode(reg, wire::WireOptions{}, wire::ByteSink(w.registration)).ok() ||
      !wire::encode(dereg, wire::WireOptions{}, wire::ByteSink(w.deregistration)).ok())
    return {};
  return w;
}

}  // namespace poolreg::perf
