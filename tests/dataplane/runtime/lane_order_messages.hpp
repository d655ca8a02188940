// The ASAP messages of the order-per-association tests (runtime::LaneOrder, issue 16 item 1):
// integration_lane_order on a kernel lane and dpdk_lane_order on a poll lane both register,
// deregister and resolve one PE of one pool.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "registrar/wire/asap_codec.hpp"

namespace poolreg::test::lane_order {

inline const PoolHandle kPool = *PoolHandle::from_string("OrderPool");
constexpr PoolElementId kPe = 0x5eed;

template <typename Message>
std::vector<std::uint8_t> encoded(const Message& message) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(wire::encode(message, wire::WireOptions{}, wire::ByteSink(out)).ok());
  return out;
}

// The PE's Registration; `address` is its association's (the registrar's address check).
inline std::vector<std::uint8_t> registration(IpAddress address) {
  wire::Registration m;
  m.pool_handle = kPool;
  m.element.id = kPe;
  m.element.registration_life_ms = 30000;
  m.element.user_transport.protocol = TransportProtocol::kSctp;
  m.element.user_transport.port = 7000;
  m.element.user_transport.addresses.push_back(address);
  m.element.policy.type = PolicyType::kRoundRobin;
  return encoded(m);
}

inline std::vector<std::uint8_t> deregistration() {
  wire::Deregistration m;
  m.pool_handle = kPool;
  m.pe_id = kPe;
  return encoded(m);
}

inline std::vector<std::uint8_t> resolution() {
  wire::HandleResolution m;
  m.pool_handle = kPool;
  return encoded(m);
}

}  // namespace poolreg::test::lane_order
