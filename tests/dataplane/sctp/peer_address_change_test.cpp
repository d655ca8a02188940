// apply_peer_address_change(): the peer address list of an association after one RFC 5061
// change that usrsctp accepted (ADD-IP, DELETE-IP, SET-PRIMARY): order, bound, unusable addresses.
#include "dataplane/sctp/peer_address_change.hpp"

#include <gtest/gtest.h>

namespace poolreg::sctp {
namespace {

using R = PeerAddressChangeResult;
const IpAddress kA = IpAddress::v4({10, 0, 0, 1});
const IpAddress kB = IpAddress::v4({192, 0, 2, 2});
const IpAddress kC = IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3});

TEST(PeerAddressChange, AddedGoesLastOnceAndRemovedGoes) {
  std::vector<IpAddress> list{kA};
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kAdded, kB, 4), R::kChanged);
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kAdded, kB, 4), R::kUnchanged);
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kAdded, kC, 4), R::kChanged);
  EXPECT_EQ(list, (std::vector<IpAddress>{kA, kB, kC}));
  // The first address (the one the association started on) may go too.
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kRemoved, kA, 4), R::kChanged);
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kRemoved, kA, 4), R::kUnchanged);
  EXPECT_EQ(list, (std::vector<IpAddress>{kB, kC}));
}

TEST(PeerAddressChange, MadePrimaryMovesToTheFront) {
  std::vector<IpAddress> list{kA, kB, kC};
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kMadePrimary, kC, 4), R::kChanged);
  EXPECT_EQ(list, (std::vector<IpAddress>{kC, kA, kB}));
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kMadePrimary, kC, 4), R::kUnchanged);
  std::vector<IpAddress> one{kA};
  EXPECT_EQ(apply_peer_address_change(one, PeerAddressChange::kMadePrimary, kB, 4), R::kChanged);
  EXPECT_EQ(one, (std::vector<IpAddress>{kB, kA}));
}

TEST(PeerAddressChange, BoundedAndUnusableAddressesIgnored) {
  std::vector<IpAddress> list{kA, kB};
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kAdded, kC, 2), R::kOverLimit);
  EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kMadePrimary, kC, 2), R::kOverLimit);
  for (const IpAddress& bad : {IpAddress::v4({0, 0, 0, 0}), IpAddress::v4({255, 255, 255, 255}),
                               IpAddress::v4({224, 0, 0, 1})}) {
    EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kAdded, bad, 8), R::kUnusable);
    EXPECT_EQ(apply_peer_address_change(list, PeerAddressChange::kRemoved, bad, 8), R::kUnusable);
  }
  EXPECT_EQ(list, (std::vector<IpAddress>{kA, kB}));
}

}  // namespace
}  // namespace poolreg::sctp
