// PoolElement: everything ASAP/ENRP say about one PE (the decoded Pool Element parameter).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "registrar/common/address_type.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg {

struct PoolElement {
  PoolElementId id = 0;
  RegistrarId home_registrar = 0;
  // Milliseconds; 0xFFFFFFFF is stored as is (about 49.7 days), as RSPLIB does.
  std::uint32_t registration_life_ms = 0;
  TransportEndpoint user_transport;
  PolicyParams policy;
  // Present in ENRP messages (mandatory there), absent in ASAP ones.
  std::optional<TransportEndpoint> asap_transport;
  // RFC 8653 types of the user addresses (next-gen TLV 0x8045): empty, or one entry per
  // user_transport.addresses element in the same order (pool_element_addresses.hpp).
  std::vector<AddressTypeEntry> address_types;

  friend bool operator==(const PoolElement&, const PoolElement&) = default;
};

}  // namespace poolreg
