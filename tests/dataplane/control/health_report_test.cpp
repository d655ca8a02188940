// evaluate_health(): which daemon states are healthy, and that every failed check names why.
#include "dataplane/control/health_report.hpp"

#include <gtest/gtest.h>

namespace poolreg::control {
namespace {

enrp::PeerSnapshot peer(RegistrarId id, enrp::PeerState state, bool in_sync = true, bool sync_running = false) {
  enrp::PeerSnapshot p;
  p.id = id;
  p.state = state;
  p.in_sync = in_sync;
  p.sync_running = sync_running;
  return p;
}

HealthInputs ready() {
  HealthInputs in;
  in.listeners = {"ASAP SCTP 127.0.0.1:3863"};
  in.enrp_startup_complete = true;
  in.peers = {peer(0x10000002, enrp::PeerState::kAlive)};
  return in;
}

bool mentions(const HealthReport& r, const std::string& needle) {
  for (const std::string& reason : r.reasons())
    if (reason.find(needle) != std::string::npos) return true;
  return false;
}

TEST(HealthReport, ListeningStartedAndPeersInSyncIsHealthy) {
  const HealthReport r = evaluate_health(ready());
  EXPECT_TRUE(r.healthy());
  EXPECT_TRUE(r.reasons().empty());
  ASSERT_EQ(r.checks.size(), 3u);
  EXPECT_EQ(r.checks[2].detail, "1 live peer(s) in sync");
}

TEST(HealthReport, EnrpOffAndNoPeersIsHealthy) {
  HealthInputs in = ready();
  in.enrp_startup_complete.reset();
  in.peers.clear();
  const HealthReport r = evaluate_health(in);
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.checks[1].detail, "ENRP off");
  EXPECT_EQ(r.checks[2].detail, "no ENRP peers");
}

TEST(HealthReport, NoListenerIsUnhealthy) {
  HealthInputs in = ready();
  in.listeners.clear();
  const HealthReport r = evaluate_health(in);
  EXPECT_FALSE(r.healthy());
  EXPECT_TRUE(mentions(r, "listening: no listener"));
}

TEST(HealthReport, StartUpInProgressIsUnhealthy) {
  HealthInputs in = ready();
  in.enrp_startup_complete = false;
  const HealthReport r = evaluate_health(in);
  EXPECT_FALSE(r.healthy());
  EXPECT_TRUE(mentions(r, "enrp_startup: waiting for the mentor"));
}

TEST(HealthReport, LivePeerOutOfSyncOrSyncingIsUnhealthy) {
  HealthInputs in = ready();
  in.peers.push_back(peer(0x10000003, enrp::PeerState::kProbing, false));
  HealthReport r = evaluate_health(in);
  EXPECT_FALSE(r.healthy());
  EXPECT_TRUE(mentions(r, "checksum differs from peer(s) 0x10000003"));
  in.peers.back().in_sync = true;
  in.peers.back().sync_running = true;
  r = evaluate_health(in);
  EXPECT_FALSE(r.healthy());
  EXPECT_TRUE(mentions(r, "handle table sync running with 0x10000003"));
}

TEST(HealthReport, UnheardAndDeadPeersAreListedButDoNotFail) {
  HealthInputs in = ready();
  in.peers.push_back(peer(0, enrp::PeerState::kUnknown, false));
  in.peers.back().last_id = 0;
  in.peers.push_back(peer(0, enrp::PeerState::kDead, false));
  in.peers.back().last_id = 0x10000004;
  const HealthReport r = evaluate_health(in);
  EXPECT_TRUE(r.healthy());
  EXPECT_NE(r.checks[2].detail.find("never heard from: 0x00000000"), std::string::npos) << r.checks[2].detail;
  EXPECT_NE(r.checks[2].detail.find("presumed dead: 0x10000004"), std::string::npos) << r.checks[2].detail;
}

TEST(HealthReport, JsonCarriesChecksAndReasons) {
  HealthInputs in = ready();
  in.listeners.clear();
  const json j = health_json(evaluate_health(in));
  EXPECT_EQ(j["healthy"], false);
  ASSERT_EQ(j["checks"].size(), 3u);
  EXPECT_EQ(j["checks"][0]["name"], "listening");
  EXPECT_EQ(j["checks"][0]["ok"], false);
  ASSERT_EQ(j["reasons"].size(), 1u);
  EXPECT_EQ(j["reasons"][0], "listening: no listener is open");
}

}  // namespace
}  // namespace poolreg::control
