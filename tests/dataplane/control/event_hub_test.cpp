// EventHub on a real ControlServer (EventLoop on a background thread): two subscribers with
// different filters get their events in order, a bad filter is an error and the connection
// stays a normal one, a subscriber that disconnects is cleaned up (and the sink loses interest),
// a subscriber that does not read loses events, counted, and is told so with a dropped record.
#include "dataplane/control/event_hub.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/dataplane/control/control_test_support.hpp"

namespace poolreg::control {
namespace {

using testing::LoopThread;
using testing::RawClient;
using testing::TempDir;
using K = RegistrarEventKind;

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir.path().empty()); }
  void TearDown() override { loop.stop(); }

  bool start(std::size_t max_queued_bytes = 1u << 20) {
    loop.on_teardown([this] {
      server.reset();  // first: reports the streams closed to the hub
      hub.reset();
    });
    return loop.start([this, max_queued_bytes](runtime::EventLoop& l) {
      ControlServerConfig c;
      c.socket_path = dir.file("run/poolregd.sock");
      server = std::make_unique<ControlServer>(l, c);
      server->add_command("ping", [](const json&) { return json{{"pong", true}}; });
      EventHubConfig hc;
      hc.own_id = 0x10000001;
      hc.max_queued_bytes = max_queued_bytes;
      hub = std::make_unique<EventHub>(sink, hc);
      hub->attach(*server);
      return server->start().has_value();
    });
  }
  std::string path() const { return dir.file("run/poolregd.sock"); }

  // Publishes on the loop thread, as the registrar does.
  void publish(K kind, const std::string& pool, PoolElementId id, PeRemovalCause cause = PeRemovalCause::kNone) {
    loop.call([&] {
      RegistrarEvent e;
      e.kind = kind;
      e.handle = *PoolHandle::from_string(pool);
      if (id != 0) {
        PoolElement pe;
        pe.id = id;
        pe.home_registrar = 0x10000001;
        pe.user_transport.port = 7000;
        pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
        e.pe = pe;
      }
      e.cause = cause;
      sink.publish(e);
    });
  }
  std::uint32_t interest() {
    std::uint32_t v = 0;
    loop.call([&] { v = sink.interest(); });
    return v;
  }
  std::size_t subscribers() {
    std::size_t n = 0;
    loop.call([&] { n = hub->subscriber_count(); });
    return n;
  }
  EventStreamCounters counters() {
    EventStreamCounters c;
    loop.call([&] { c = hub->counters(); });
    return c;
  }
  // Subscribes; returns the parsed response.
  static json subscribe(RawClient& c, const json& args) {
    EXPECT_TRUE(c.send(json{{"cmd", "events"}, {"args", args}}.dump() + "\n"));
    auto line = c.line();
    if (!line) return json();
    return json::parse(*line, nullptr, false);
  }
  static json next(RawClient& c, int timeout_ms = 5000) {
    auto line = c.line(timeout_ms);
    return line ? json::parse(*line, nullptr, false) : json();
  }

  TempDir dir;
  LoopThread loop;
  RegistrarEventSink sink;
  std::unique_ptr<ControlServer> server;
  std::unique_ptr<EventHub> hub;
};

TEST_F(EventHubTest, TwoSubscribersWithFiltersGetTheirEventsInOrder) {
  ASSERT_TRUE(start());
  EXPECT_EQ(interest(), 0u) << "no subscriber: the registrar builds nothing";
  RawClient everything(path()), removals_of_echo(path());
  ASSERT_TRUE(everything.connected() && removals_of_echo.connected());
  json r1 = subscribe(everything, json::object());
  ASSERT_EQ(r1.value("ok", false), true) << r1.dump();
  EXPECT_EQ(r1["result"]["kinds"].size(), kRegistrarEventKinds);
  json r2 = subscribe(removals_of_echo, json{{"kinds", {"pe_removed", "pool_removed"}}, {"pools", {"echo"}}});
  ASSERT_EQ(r2.value("ok", false), true) << r2.dump();
  EXPECT_EQ(r2["result"]["pools"], json::array({"echo"}));
  EXPECT_EQ(subscribers(), 2u);
  EXPECT_EQ(interest(), kAllEventKinds);

  publish(K::kPoolCreated, "echo", 0);
  publish(K::kPeRegistered, "echo", 0x100);
  publish(K::kPeRegistered, "other", 0x200);
  publish(K::kPeRemoved, "other", 0x200, PeRemovalCause::kKeepaliveTimeout);
  publish(K::kPeRemoved, "echo", 0x100, PeRemovalCause::kDeregistration);
  publish(K::kPoolRemoved, "echo", 0, PeRemovalCause::kDeregistration);

  const std::vector<std::string> all_kinds = {"pool_created", "pe_registered", "pe_registered",
                                              "pe_removed",   "pe_removed",    "pool_removed"};
  std::uint64_t last_seq = 0;
  for (const std::string& kind : all_kinds) {
    json e = next(everything);
    ASSERT_TRUE(e.is_object()) << "missing " << kind;
    EXPECT_EQ(e["kind"], kind);
    EXPECT_GT(e["seq"].get<std::uint64_t>(), last_seq);
    last_seq = e["seq"].get<std::uint64_t>();
  }
  json a = next(removals_of_echo);
  EXPECT_EQ(a["kind"], "pe_removed");
  EXPECT_EQ(a["handle"], "echo");
  EXPECT_EQ(a["id"], "0x00000100");
  EXPECT_EQ(a["cause"], "deregistration");
  json b = next(removals_of_echo);
  EXPECT_EQ(b["kind"], "pool_removed");
  EXPECT_FALSE(removals_of_echo.line(200).has_value()) << "nothing else passes its filter";
  EXPECT_FALSE(everything.line(200).has_value());

  // The stream takes no more requests: a request line is ignored, events keep flowing.
  ASSERT_TRUE(everything.send("{\"cmd\":\"ping\"}\n"));
  publish(K::kPoolCreated, "x", 0);
  EXPECT_EQ(next(everything)["kind"], "pool_created");
}

TEST_F(EventHubTest, BadFilterIsAnErrorAndTheConnectionStaysUsable) {
  ASSERT_TRUE(start());
  RawClient c(path());
  json r = subscribe(c, json{{"kinds", {"pe_exploded"}}});
  EXPECT_EQ(r.value("ok", true), false);
  EXPECT_EQ(r.value("code", ""), "bad_request");
  EXPECT_NE(r.value("error", "").find("pe_exploded"), std::string::npos);
  EXPECT_EQ(subscribers(), 0u);
  EXPECT_EQ(interest(), 0u);
  ASSERT_TRUE(c.send("{\"cmd\":\"ping\"}\n"));
  auto pong = c.line();
  ASSERT_TRUE(pong.has_value());
  EXPECT_NE(pong->find("pong"), std::string::npos);
}

TEST_F(EventHubTest, DisconnectedSubscriberIsCleanedUp) {
  ASSERT_TRUE(start());
  RawClient stays(path());
  ASSERT_EQ(subscribe(stays, json{{"kinds", {"peer"}}}).value("ok", false), true);
  {
    RawClient goes(path());
    ASSERT_EQ(subscribe(goes, json{{"kinds", {"pe"}}}).value("ok", false), true);
    EXPECT_EQ(subscribers(), 2u);
  }
  // The close is noticed by the loop (EPOLLIN/HUP); bounded wait.
  for (int i = 0; i < 200 && subscribers() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(subscribers(), 1u);
  EXPECT_EQ(interest(), event_kinds_named("peer")) << "only the remaining subscriber's kinds";
  publish(K::kPeRegistered, "echo", 1);  // nobody wants it: not even built
  EXPECT_EQ(counters().events, 0u);
  loop.call([&] {
    RegistrarEvent e;
    e.kind = K::kPeerUp;
    e.peer = 0x10000002;
    sink.publish(e);
  });
  json e = next(stays);
  EXPECT_EQ(e["kind"], "peer_up");
  EXPECT_EQ(e["peer"], "0x10000002");
}

TEST_F(EventHubTest, SlowSubscriberLosesEventsCountedAndIsTold) {
  ASSERT_TRUE(start(/*max_queued_bytes=*/4096));
  RawClient slow(path());
  ASSERT_EQ(subscribe(slow, json::object()).value("ok", false), true);
  // Far more than 4 KiB queue + the socket buffers while the client reads nothing.
  constexpr int kEvents = 20000;
  loop.call([&] {
    for (int i = 0; i < kEvents; ++i) {
      RegistrarEvent e;
      e.kind = K::kPeRegistered;
      e.handle = *PoolHandle::from_string("bulk");
      PoolElement pe;
      pe.id = static_cast<PoolElementId>(i + 1);
      pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
      e.pe = pe;
      sink.publish(e);
    }
  });
  const EventStreamCounters during = counters();
  EXPECT_GT(during.dropped, 0u);
  EXPECT_EQ(during.dropped + during.lines_queued, static_cast<std::uint64_t>(kEvents));

  // Read everything: the events that went through, then a dropped record with the lost count.
  std::uint64_t events = 0, dropped = 0;
  bool saw_record = false;
  for (int i = 0; i < kEvents + 10; ++i) {
    auto line = slow.line(1000);
    if (!line) break;
    json e = json::parse(*line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << *line;
    if (e["kind"] == "dropped") {
      saw_record = true;
      dropped += e["count"].get<std::uint64_t>();
    } else {
      ++events;
    }
  }
  EXPECT_TRUE(saw_record);
  EXPECT_EQ(dropped, during.dropped);
  EXPECT_EQ(events, during.lines_queued);
  std::uint64_t server_drops = 0;
  loop.call([&] { server_drops = server->counters().stream_lines_dropped; });
  EXPECT_EQ(server_drops, during.dropped);
}

}  // namespace
}  // namespace poolreg::control
