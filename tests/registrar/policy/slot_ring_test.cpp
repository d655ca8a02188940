// SlotRing: rotation, swap-removal and array replacement.
#include "registrar/policy/slot_ring.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <vector>

namespace poolreg::policy {
namespace {

std::vector<Slot> read_all(const SlotRing& ring, bool advance, SlotSet& seen) {
  std::vector<Slot> out(kMaxSelectItems);
  seen.clear();
  out.resize(ring.read(kMaxSelectItems, advance, seen, out.data()));
  return out;
}

TEST(SlotRingTest, RotatesByOnePerAdvancingRead) {
  DeferredReclaimer reclaimer;
  SlotRing ring;
  SlotSet seen;
  for (Slot s = 10; s < 13; ++s) ring.push(s, reclaimer);
  EXPECT_EQ(read_all(ring, true, seen), (std::vector<Slot>{10, 11, 12}));
  EXPECT_EQ(read_all(ring, false, seen), (std::vector<Slot>{11, 12, 10}));
  EXPECT_EQ(read_all(ring, true, seen), (std::vector<Slot>{11, 12, 10}));
  EXPECT_EQ(read_all(ring, true, seen), (std::vector<Slot>{12, 10, 11}));
}

TEST(SlotRingTest, RemoveMovesTheLastSlotIntoTheHoleAndShrinks) {
  DeferredReclaimer reclaimer;
  SlotRing ring;
  SlotSet seen;
  for (Slot s = 0; s < 64; ++s) EXPECT_EQ(ring.push(s, reclaimer), s);
  EXPECT_EQ(ring.remove_at(3, reclaimer), 63u);
  EXPECT_EQ(ring.remove_at(62, reclaimer), SlotRing::kNoSlot);  // the last one: nothing moves
  for (int i = 0; i < 55; ++i) ring.remove_at(0, reclaimer);
  EXPECT_EQ(ring.count(), 7u);
  EXPECT_LT(ring.memory_bytes(), 64 * sizeof(Slot));
  const auto rest = read_all(ring, false, seen);
  EXPECT_EQ(std::set<Slot>(rest.begin(), rest.end()).size(), 7u);
  EXPECT_GT(reclaimer.pending(), 0u);
}

// Arrays (header included) are powers of two in bytes at every size the ring grows or shrinks
// to: allocators round up to their size classes, so one slot past a power of two wasted ~20 %.
TEST(SlotRingTest, ArraysFillPowerOfTwoAllocations) {
  DeferredReclaimer reclaimer;
  SlotRing ring;
  std::set<std::size_t> sizes;
  for (Slot s = 0; s < 1000; ++s) {
    ring.push(s, reclaimer);
    if (ring.memory_bytes() != 0) sizes.insert(ring.memory_bytes());
  }
  while (ring.count() > 1) {
    ring.remove_at(0, reclaimer);
    sizes.insert(ring.memory_bytes());
    EXPECT_GE(ring.memory_bytes(), 8 + ring.count() * sizeof(Slot));
  }
  EXPECT_GT(sizes.size(), 5u);
  for (std::size_t bytes : sizes) EXPECT_TRUE(std::has_single_bit(bytes)) << bytes;
}

}  // namespace
}  // namespace poolreg::policy
