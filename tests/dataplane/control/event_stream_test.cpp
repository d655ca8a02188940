// The pure parts of the live event stream: the per-subscriber bound (SubscriberQueue: overflow,
// drop count, the dropped record), the subscription filter and the event JSON shape.
#include <gtest/gtest.h>

#include "dataplane/control/event_filter.hpp"
#include "dataplane/control/event_json.hpp"
#include "dataplane/control/registrar_commands.hpp"
#include "dataplane/control/subscriber_queue.hpp"

namespace poolreg::control {
namespace {

using K = RegistrarEventKind;

TEST(SubscriberQueue, AppendsWhileItFitsThenDropsAndReportsWhenRoomReturns) {
  SubscriberQueue q(40);
  std::string out;
  EXPECT_TRUE(q.offer(out, out.size(), "0123456789"));  // 11 bytes
  EXPECT_TRUE(q.offer(out, out.size(), "0123456789"));  // 22
  EXPECT_TRUE(q.offer(out, out.size(), "0123456789"));  // 33
  EXPECT_FALSE(q.offer(out, out.size(), "0123456789")) << "44 > 40";
  EXPECT_FALSE(q.offer(out, out.size(), "x"));
  EXPECT_EQ(q.dropped_total(), 2u);
  EXPECT_EQ(q.dropped_pending(), 2u);
  EXPECT_EQ(q.queued_total(), 3u);
  EXPECT_EQ(out.size(), 33u) << "nothing of the dropped lines went in";

  // The peer read everything: the dropped record goes out first, then the next event.
  std::string sent = out;
  out.clear();
  EXPECT_TRUE(q.on_drained(out, 0));
  EXPECT_EQ(out, "{\"kind\":\"dropped\",\"count\":2}\n");
  EXPECT_EQ(q.dropped_pending(), 0u);
  EXPECT_FALSE(q.on_drained(out, out.size())) << "reported once";
  EXPECT_TRUE(q.offer(out, out.size(), "next"));
  EXPECT_EQ(out, "{\"kind\":\"dropped\",\"count\":2}\nnext\n");
  EXPECT_EQ(q.dropped_total(), 2u);
}

TEST(SubscriberQueue, DroppedRecordRidesWithTheNextEventThatFits) {
  SubscriberQueue q(64);
  std::string out(60, 'x');  // 60 unsent bytes
  EXPECT_FALSE(q.offer(out, out.size(), "abcdefghij"));
  EXPECT_FALSE(q.on_drained(out, out.size())) << "still no room for the record";
  out.clear();
  EXPECT_TRUE(q.offer(out, 0, "ev"));
  EXPECT_EQ(out, SubscriberQueue::dropped_record(1) + "\nev\n");
}

TEST(SubscriberQueue, LineLargerThanTheBoundIsDroppedNotQueued) {
  SubscriberQueue q(8);
  std::string out;
  EXPECT_FALSE(q.offer(out, 0, std::string(100, 'y')));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(q.dropped_total(), 1u);
}

RegistrarEvent pe_event(K kind, const char* pool) {
  RegistrarEvent e;
  e.kind = kind;
  e.handle = *PoolHandle::from_string(pool);
  PoolElement pe;
  pe.id = 0x100;
  pe.home_registrar = 0x10000001;
  pe.user_transport.port = 7000;
  pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  e.pe = pe;
  return e;
}

TEST(EventFilter, KindsFamiliesAndPools) {
  const EventFilter all = parse_event_filter(json::object());
  EXPECT_EQ(all.kinds, kAllEventKinds);
  EXPECT_TRUE(all.pools.empty());

  const EventFilter f = parse_event_filter(json{{"kinds", {"pe_removed", "pool"}}, {"pools", {"echo", "0x6162"}}});
  EXPECT_EQ(f.kinds, event_kind_bit(K::kPeRemoved) | event_kind_bit(K::kPoolCreated) | event_kind_bit(K::kPoolRemoved));
  ASSERT_EQ(f.pools.size(), 2u);
  EXPECT_EQ(f.pools[1], *PoolHandle::from_string("ab"));
  EXPECT_TRUE(f.matches(pe_event(K::kPeRemoved, "echo")));
  EXPECT_TRUE(f.matches(pe_event(K::kPoolCreated, "ab")));
  EXPECT_FALSE(f.matches(pe_event(K::kPeRegistered, "echo"))) << "kind not asked for";
  EXPECT_FALSE(f.matches(pe_event(K::kPeRemoved, "other"))) << "pool not asked for";
  RegistrarEvent peer;
  peer.kind = K::kPeerUp;
  EXPECT_FALSE(parse_event_filter(json{{"pools", {"echo"}}}).matches(peer)) << "no pool: left out by a pool filter";
  EXPECT_TRUE(all.matches(peer));
}

TEST(EventFilter, MalformedFiltersAreBadRequests) {
  for (const json& args : {json{{"kinds", {"pe_exploded"}}}, json{{"kinds", "pe"}}, json{{"kinds", {1}}},
                           json{{"pools", {""}}}, json{{"pools", "echo"}}, json{{"pools", {std::string(300, 'x')}}}}) {
    try {
      (void)parse_event_filter(args);
      ADD_FAILURE() << "accepted " << args.dump();
    } catch (const CommandError& e) {
      EXPECT_EQ(e.code(), error_code::kBadRequest) << args.dump();
    }
  }
  json many = json::array();
  for (int i = 0; i < 65; ++i) many.push_back("p" + std::to_string(i));
  EXPECT_THROW((void)parse_event_filter(json{{"pools", many}}), CommandError);
  try {
    (void)parse_event_filter(json{{"kinds", {"nope"}}});
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("pe_registered"), std::string::npos) << "lists the valid kinds";
  }
}

TEST(EventJson, PeRemovedCarriesPoolIdPeAndCause) {
  RegistrarEvent e = pe_event(K::kPeRemoved, "echo");
  e.seq = 42;
  e.wall_time_ns = 1'700'000'000'123'456'789;
  e.cause = PeRemovalCause::kDeregistration;
  const json j = event_json(e, 0x10000001);
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["kind"], "pe_removed");
  EXPECT_EQ(j["handle"], "echo");
  EXPECT_EQ(j["handle_hex"], "0x6563686f");
  EXPECT_EQ(j["id"], "0x00000100");
  EXPECT_EQ(j["cause"], "deregistration");
  EXPECT_EQ(j["pe"]["home"], "0x10000001");
  EXPECT_EQ(j["pe"]["owned"], true);
  EXPECT_FALSE(j.contains("peer"));
}

TEST(EventJson, PeerAndTakeoverEvents) {
  RegistrarEvent e;
  e.kind = K::kTakeoverWon;
  e.peer = 0x10000002;
  e.taker = 0x10000001;
  e.count = 5;
  const json j = event_json(e, 0x10000001);
  EXPECT_EQ(j["kind"], "takeover_won");
  EXPECT_EQ(j["peer"], "0x10000002");
  EXPECT_EQ(j["taker"], "0x10000001");
  EXPECT_EQ(j["pes"], 5);
  EXPECT_TRUE(j["peer_endpoint"].is_null());
  EXPECT_FALSE(j.contains("handle"));
  EXPECT_FALSE(j.contains("cause"));
}

TEST(EventStreamCounters, InStatsAndMetrics) {
  StatsSources s;
  EXPECT_TRUE(stats_result(s)["events"].is_null()) << "no event stream: null";
  EXPECT_EQ(registrar_metrics_text(StatusInfo{}, 0, s).find("poolreg_events_"), std::string::npos);
  s.events = EventStreamCounters{2, 5, 100, 90, 10};
  const json st = stats_result(s);
  EXPECT_EQ(st["events"]["subscribers"], 2);
  EXPECT_EQ(st["events"]["subscriptions"], 5);
  EXPECT_EQ(st["events"]["published"], 100);
  EXPECT_EQ(st["events"]["queued"], 90);
  EXPECT_EQ(st["events"]["dropped"], 10);
  const std::string text = registrar_metrics_text(StatusInfo{}, 0, s);
  EXPECT_NE(text.find("# TYPE poolreg_events_dropped_total counter\npoolreg_events_dropped_total 10\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("poolreg_events_published_total 100\n"), std::string::npos);
  EXPECT_NE(text.find("poolreg_events_queued_total 90\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE poolreg_event_subscribers gauge\npoolreg_event_subscribers 2\n"), std::string::npos);
}

}  // namespace
}  // namespace poolreg::control
