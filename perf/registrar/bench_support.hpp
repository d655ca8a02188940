// Helpers shared by the handlespace benchmarks: the PE most of them register (IPv4, SCTP, round
// robin, with an ASAP transport as ASAP stores it) and the process's resident memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <unistd.h>

#include "registrar/common/pool_element.hpp"

namespace poolreg::bench {

inline PoolElement sctp_pe_with_asap(PoolElementId id, RegistrarId home, std::uint32_t address,
                                     std::uint16_t asap_port) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = home;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = 5000;
  pe.user_transport.addresses = {IpAddress::v4(address)};
  pe.policy.type = PolicyType::kRoundRobin;
  TransportEndpoint asap;
  asap.port = asap_port;
  asap.addresses = pe.user_transport.addresses;
  pe.asap_transport = asap;
  return pe;
}

// Resident set size of this process (/proc/self/statm), bytes.
inline std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace poolreg::bench
