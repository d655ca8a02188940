// Helpers shared by the handlespace tests: PE builders and a from-scratch checksum oracle.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/pe_checksum.hpp"

namespace poolreg::handlespace::testing {

inline HandlespaceConfig config_with_shards(std::size_t shards, std::size_t feedback_capacity = 4096) {
  HandlespaceConfig c;
  c.shard_count = shards;
  c.feedback_queue_capacity = feedback_capacity;
  return c;
}

inline PoolHandle handle(const std::string& text) { return *PoolHandle::from_string(text); }

inline PoolElement make_pe(PoolElementId id, RegistrarId home, std::uint32_t v4 = 0x0a000001, std::uint16_t port = 5000,
                           PolicyType policy = PolicyType::kRoundRobin) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = home;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = port;
  pe.user_transport.use = TransportUse::kDataOnly;
  pe.user_transport.addresses = {IpAddress::v4(v4)};
  pe.policy.type = policy;
  return pe;
}

// Everything the handlespace holds, rebuilt by walking it (writer side).
struct ScratchChecksums {
  std::map<RegistrarId, ChecksumAccumulator> by_owner;
};

inline ScratchChecksums recompute_checksums(const Handlespace& hs) {
  ScratchChecksums out;
  SnapshotCursor cursor;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    auto r = hs.snapshot(cursor, std::nullopt, 0, [&](const PoolHandle& h, const PoolElementView& pe) {
      out.by_owner[pe.home()].add(checksum16_contribution(h.bytes(), pe.id()), checksum32_contribution(h.bytes(), pe.id()));
    });
    if (!r.more) break;
    cursor = r.next;
  }
  return out;
}

}  // namespace poolreg::handlespace::testing
