// The ASAP writes of the write benchmarks (poolreg-dpdk-write-bench, poolreg-sctp-synth --writes),
// pre-encoded once per PE: a Registration (RFC 5352; sent again it is the PE's re-registration)
// and a Deregistration. Every PE is SCTP on port 7000 at one IPv4 address: the address of the
// association it registers over, so the registrar's address check (asap.address_check, on by
// default) keeps it. Round robin policy, registration life 30 s (RFC 5352's default).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registrar/common/ids.hpp"

namespace poolreg::perf {

constexpr std::uint8_t kAsapRegistrationResponse = 3;
constexpr std::uint8_t kAsapDeregistrationResponse = 4;
constexpr std::uint32_t kAsapPpid = 11;

struct PeWrites {
  std::vector<std::uint8_t> registration;
  std::vector<std::uint8_t> deregistration;
};

// The pool of the write benchmarks' PE number `index` ("WritePool-<index % pools>").
std::string write_pool_name(std::uint64_t index, unsigned pools);
// ipv4: the PE's (and its association's) address in network byte order.
PeWrites encode_pe_writes(const std::string& pool, PoolElementId id, const std::uint8_t ipv4[4]);

}  // namespace poolreg::perf
