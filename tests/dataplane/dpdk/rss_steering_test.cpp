// RssSteering (issue 15 item 3): the Toeplitz hash as ports compute it, the peer-only key, and
// that the lane it predicts is the queue a port with that key and table delivers to, for every
// destination address and port, while consecutive ports and many addresses spread evenly.
#include "dataplane/dpdk/rss_steering.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace poolreg::dpdk {
namespace {

// The Microsoft RSS verification key and suite (what NIC vendors test their Toeplitz against).
const std::vector<std::uint8_t> kMicrosoftKey = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                                 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                                 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                                 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// Toeplitz by its definition, bit by bit, independent of DPDK's rte_softrss.
std::uint32_t toeplitz_by_definition(const std::vector<std::uint8_t>& key,
                                     const std::vector<std::uint8_t>& input) {
  auto key_bit = [&](std::size_t b) { return (key[b / 8] >> (7 - b % 8)) & 1u; };
  std::uint32_t hash = 0;
  for (std::size_t i = 0; i < input.size() * 8; ++i) {
    if (((input[i / 8] >> (7 - i % 8)) & 1u) == 0) continue;
    std::uint32_t window = 0;
    for (std::size_t j = 0; j < 32; ++j) window = (window << 1) | key_bit(i + j);
    hash ^= window;
  }
  return hash;
}

struct Tuple {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> src{}, dst{};
  std::uint16_t sport = 0, dport = 0;
};

Tuple random_tuple(std::mt19937& rng, bool ipv6) {
  Tuple t;
  t.ipv6 = ipv6;
  for (auto& b : t.src) b = static_cast<std::uint8_t>(rng());
  for (auto& b : t.dst) b = static_cast<std::uint8_t>(rng());
  t.sport = static_cast<std::uint16_t>(rng());
  t.dport = static_cast<std::uint16_t>(rng());
  return t;
}

std::uint32_t nic_hash(const std::vector<std::uint8_t>& key, const Tuple& t) {
  return RssSteering::toeplitz(key, t.src.data(), t.dst.data(), t.ipv6, t.sport, t.dport);
}

// The queue a port programmed with `key` and a RETA of `reta_size` entries for `lanes` picks.
unsigned nic_queue(const std::vector<std::uint8_t>& key, const Tuple& t, std::size_t reta_size,
                   unsigned lanes) {
  return RssSteering::reta_entry(nic_hash(key, t) % reta_size, lanes);
}

TEST(RssToeplitz, MatchesTheMicrosoftVerificationSuite) {
  // Destination 161.142.100.80:1766, source 66.9.149.187:2794.
  const std::uint8_t src[4] = {66, 9, 149, 187}, dst[4] = {161, 142, 100, 80};
  EXPECT_EQ(RssSteering::toeplitz(kMicrosoftKey, src, dst, false, 2794, 1766), 0x51ccc178u);
  // IPv6: destination 3ffe:2501:200:3::1 port 1766, source 3ffe:2501:200:1fff::7 port 2794.
  const std::uint8_t src6[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 7};
  const std::uint8_t dst6[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(RssSteering::toeplitz(kMicrosoftKey, src6, dst6, true, 2794, 1766), 0x40207d3du);
}

TEST(RssToeplitz, AgreesWithTheDefinitionForThePeerOnlyKey) {
  const std::vector<std::uint8_t> key = RssSteering::peer_only_key(40);
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    const Tuple t = random_tuple(rng, i % 2 == 1);
    const unsigned a = t.ipv6 ? 16 : 4;
    std::vector<std::uint8_t> input(t.src.begin(), t.src.begin() + a);
    input.insert(input.end(), t.dst.begin(), t.dst.begin() + a);
    for (std::uint16_t p : {t.sport, t.dport}) {
      input.push_back(static_cast<std::uint8_t>(p >> 8));
      input.push_back(static_cast<std::uint8_t>(p));
    }
    ASSERT_EQ(nic_hash(key, t), toeplitz_by_definition(key, input)) << i;
  }
}

TEST(RssSteering, PredictsThePortsQueueForEveryDestination) {
  const std::vector<std::uint8_t> key = RssSteering::peer_only_key(40);
  std::mt19937 rng(11);
  for (unsigned lanes : {2u, 3u, 4u, 8u, 64u}) {
    const RssSteering rss(key, lanes, true, true);
    for (std::size_t reta : {64u, 128u, 512u, 2048u}) {
      for (int i = 0; i < 500; ++i) {
        const Tuple t = random_tuple(rng, i % 2 == 1);
        ASSERT_EQ(rss.lane(t.src.data(), t.ipv6, t.sport), nic_queue(key, t, reta, lanes))
            << "lanes " << lanes << " reta " << reta << " tuple " << i;
      }
    }
  }
}

TEST(RssSteering, AnOrdinaryKeyWouldNotPredictIt) {
  // The reason for peer_only_key(): with the drivers' usual key the destination moves the queue.
  const RssSteering rss(kMicrosoftKey, 2, true, true);
  std::mt19937 rng(3);
  int differ = 0;
  for (int i = 0; i < 400; ++i) {
    const Tuple t = random_tuple(rng, i % 2 == 1);
    if (rss.lane(t.src.data(), t.ipv6, t.sport) != nic_queue(kMicrosoftKey, t, 128, 2)) ++differ;
  }
  EXPECT_GT(differ, 100);  // about half
}

TEST(RssSteering, LongerKeysKeepTheSameFunction) {
  const std::vector<std::uint8_t> k40 = RssSteering::peer_only_key(40), k52 = RssSteering::peer_only_key(52);
  ASSERT_EQ(k52.size(), 52u);
  EXPECT_TRUE(std::equal(k40.begin(), k40.end(), k52.begin()));
  EXPECT_EQ(RssSteering::peer_only_key(8).size(), kRssKeyMinBytes);
}

// Consecutive source ports (one host, or many behind a NAT) and many addresses on one port
// spread over the lanes: no lane gets more than 10 % above or below its share.
TEST(RssSteering, SpreadsConsecutivePortsAndAddressesEvenly) {
  const RssSteering rss(RssSteering::peer_only_key(40), 4, true, true);
  for (unsigned lanes : {2u, 3u, 4u}) {
    const RssSteering r(rss.key(), lanes, true, true);
    std::array<std::uint8_t, 16> v4{10, 1, 0, 2}, v6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    std::vector<unsigned> ports4(lanes), ports6(lanes), addrs(lanes);
    constexpr unsigned kN = 3072;
    for (unsigned i = 0; i < kN; ++i) {
      ++ports4[r.lane(v4.data(), false, static_cast<std::uint16_t>(20000 + i))];
      ++ports6[r.lane(v6.data(), true, static_cast<std::uint16_t>(20000 + i))];
      std::array<std::uint8_t, 4> a{10, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i), 7};
      ++addrs[r.lane(a.data(), false, 9899)];
    }
    const double share = double(kN) / lanes;
    for (unsigned l = 0; l < lanes; ++l) {
      EXPECT_NEAR(ports4[l], share, share * 0.1) << "IPv4 ports, lanes " << lanes << " lane " << l;
      EXPECT_NEAR(ports6[l], share, share * 0.1) << "IPv6 ports, lanes " << lanes << " lane " << l;
      EXPECT_NEAR(addrs[l], share, share * 0.1) << "addresses, lanes " << lanes << " lane " << l;
    }
  }
}

TEST(RssSteering, ReportsWhichFamiliesItPredicts) {
  const RssSteering rss(RssSteering::peer_only_key(40), 2, true, false);
  EXPECT_TRUE(rss.predicts(false));
  EXPECT_FALSE(rss.predicts(true));
  EXPECT_EQ(rss.lanes(), 2u);
}

}  // namespace
}  // namespace poolreg::dpdk
