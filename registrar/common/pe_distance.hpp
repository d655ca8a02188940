// The distance of a pool element for the distance-sensitive (DPF) policies (shared/spec/
// policies.md §3, RSPLIB): the registrar measures it, the PE does not claim it. The home
// registrar takes half the smoothed round-trip time of the PE's association (SCTP: the primary
// path's SRTT; TCP: tcpi_rtt), rounded to the configured step (asap.distance_step_ms, RSPLIB 50
// ms); a registrar that learns the PE over ENRP adds half the SRTT of that ENRP association,
// rounded the same way, to the distance the sender announced.
//
// Pure functions, any thread, no state.
#pragma once

#include <cstdint>

#include "registrar/common/connection.hpp"
#include "registrar/common/policy.hpp"

namespace poolreg {

// The policies whose selection reads PolicyParams::distance_ms.
constexpr bool is_distance_policy(PolicyType type) noexcept {
  return type == PolicyType::kWeightedRandomDpf || type == PolicyType::kLeastUsedDpf ||
         type == PolicyType::kLeastUsedDegradationDpf || type == PolicyType::kPriorityLeastUsedDpf ||
         type == PolicyType::kPriorityLeastUsedDegradationDpf;
}

// Half of `srtt_us` (microseconds) in milliseconds, rounded to the nearest multiple of `step_ms`
// (halves round up; step 0 or 1: whole milliseconds). 0 when nothing was measured (srtt_us 0).
// Saturates at UINT32_MAX.
constexpr std::uint32_t distance_from_srtt(std::uint32_t srtt_us, std::uint32_t step_ms) noexcept {
  const std::uint64_t half_us = srtt_us / 2;
  const std::uint64_t step_us = static_cast<std::uint64_t>(step_ms == 0 ? 1 : step_ms) * 1000;
  const std::uint64_t ms = (half_us + step_us / 2) / step_us * (step_us / 1000);
  return ms > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(ms);
}

// a + b without wrapping (a distance plus the ENRP hop to its sender).
constexpr std::uint32_t add_distance(std::uint32_t a, std::uint32_t b) noexcept {
  const std::uint64_t sum = static_cast<std::uint64_t>(a) + b;
  return sum > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(sum);
}

// A PE learned over ENRP: its distance is the sender's plus the hop to the sender (`hop_ms`,
// distance_from_srtt of the ENRP association). Other policies carry no distance: unchanged.
constexpr void add_hop_distance(PolicyParams& policy, std::uint32_t hop_ms) noexcept {
  if (is_distance_policy(policy.type)) policy.distance_ms = add_distance(policy.distance_ms, hop_ms);
}

// Messages whose receiver reads the path's SRTT (MessageInfo::srtt_us): an ASAP Registration
// (the home registrar's distance) and an ENRP Handle Table Response or Handle Update (the hop
// to the sender). The transports measure the RTT only for these, so a Handle Resolution or a
// Keep-Alive Ack costs no getsockopt. `type`: the message's first byte.
constexpr bool message_wants_path_rtt(WireProtocol protocol, std::uint8_t type) noexcept {
  if (protocol == WireProtocol::kAsap) return type == 0x01;  // Registration
  return type == 0x03 || type == 0x04;                       // Handle Table Response, Handle Update
}

}  // namespace poolreg
