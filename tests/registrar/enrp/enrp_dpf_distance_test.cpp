// A registrar that learns a DPF PE over ENRP adds its own distance to the sender (issue 14 item
// 7, policies.md §3, RSPLIB): half the SRTT of the ENRP association it came over, rounded to
// distance_step_ms, added to the distance in the Handle Update / Handle Table Response. The SRTT
// is data here (SimNetwork::set_link_srtt, as runtime::MessageInfo::srtt_us would carry it).
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

PoolElement dpf_pe(PoolElementId id, RegistrarId home, std::uint32_t distance_ms,
                   PolicyType type = PolicyType::kLeastUsedDpf) {
  PoolElement pe = make_pe(id, home);
  pe.policy.type = type;
  pe.policy.load = 0x10000000u;
  pe.policy.load_dpf = 0x00100000u;
  pe.policy.weight = 10;
  pe.policy.weight_dpf = 0x00100000u;
  pe.policy.distance_ms = distance_ms;  // the home registrar's measurement
  return pe;
}

TEST_F(EnrpCluster, HandleUpdateAddsTheHopToTheSenderToTheDpfDistance) {
  make3();
  net.set_link_srtt(a->index, b->index, 100'000);  // 50 ms hop
  net.set_link_srtt(a->index, c->index, 290'000);  // 145 ms -> 150
  start_and_settle();
  const PoolHandle h = handle("DpfPool");
  register_owned(*a, h, dpf_pe(0x51, kA, 100));
  const PoolHandle w = handle("DpfWrandPool");
  register_owned(*a, w, dpf_pe(0x52, kA, 100, PolicyType::kWeightedRandomDpf));
  net.pump();
  EXPECT_EQ(find_pe(*a->hs, h, 0x51)->policy.distance_ms, 100u);  // the home keeps its own
  EXPECT_EQ(find_pe(*b->hs, h, 0x51)->policy.distance_ms, 150u);
  EXPECT_EQ(find_pe(*c->hs, h, 0x51)->policy.distance_ms, 250u);
  EXPECT_EQ(find_pe(*b->hs, w, 0x52)->policy.distance_ms, 150u);

  // A refresh carries the home's new distance: the hop is added to it, not to what B stored.
  register_owned(*a, h, dpf_pe(0x51, kA, 0));
  net.pump();
  EXPECT_EQ(find_pe(*b->hs, h, 0x51)->policy.distance_ms, 50u);
  EXPECT_EQ(find_pe(*c->hs, h, 0x51)->policy.distance_ms, 150u);
}

TEST_F(EnrpCluster, NonDpfPoliciesAndUnmeasuredLinksAddNothing) {
  make3();
  net.set_link_srtt(a->index, b->index, 100'000);
  start_and_settle();
  const PoolHandle h = handle("RrPool");
  register_owned(*a, h, make_pe(0x61, kA));  // round robin: no distance
  const PoolHandle d = handle("DpfPool");
  register_owned(*a, d, dpf_pe(0x62, kA, 100));
  net.pump();
  EXPECT_EQ(find_pe(*b->hs, h, 0x61)->policy.distance_ms, 0u);
  EXPECT_EQ(find_pe(*c->hs, d, 0x62)->policy.distance_ms, 100u);  // A-C: no SRTT measured
}

TEST_F(EnrpCluster, HandleTableResponseAddsTheHopToTheSenderToTheDpfDistance) {
  a = &net.add_node(kA);
  b = &net.add_node(kB);
  net.mesh_static_peers();
  net.set_link_srtt(a->index, b->index, 200'000);  // 100 ms hop
  net.kill(b->index);  // B starts later and learns A's PEs from A's table
  a->srv().start();
  net.advance(1 * kNsPerSec);
  const PoolHandle h = handle("DpfPool");
  for (PoolElementId id = 1; id <= 3; ++id) register_owned(*a, h, dpf_pe(id, kA, 50 * id));
  net.advance(1 * kNsPerSec);

  net.revive(b->index);
  net.build(*b);
  b->srv().start();
  net.advance(2 * kNsPerSec);
  ASSERT_TRUE(b->srv().startup_complete());
  for (PoolElementId id = 1; id <= 3; ++id) {
    auto pe = find_pe(*b->hs, h, id);
    ASSERT_TRUE(pe.has_value()) << id;
    EXPECT_EQ(pe->policy.distance_ms, 50 * id + 100) << id;
  }
  EXPECT_GT(b->srv().counters().sync_pes_received, 0u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
