// The capture command's argument reader and result form (dataplane/control/capture_command.hpp)
// and poolctl's rendering of it (cli/poolctl/capture_view.hpp).
#include <gtest/gtest.h>

#include "cli/poolctl/capture_view.hpp"
#include "dataplane/control/capture_command.hpp"

namespace poolreg::control {
namespace {

std::string refusal(const json& args) {
  try {
    parse_capture_request(args);
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), error_code::kBadRequest);
    return e.what();
  }
  return "";
}

TEST(CaptureCommand, StartReadsEveryArgument) {
  const CaptureRequest r = parse_capture_request(json::parse(
      R"({"action":"start","file":"/tmp/c.pcapng","ports":[0,2],"lanes":[1],"snaplen":128,"count":50,"duration_ms":700})"));
  EXPECT_EQ(r.action, CaptureRequest::Action::kStart);
  EXPECT_EQ(r.file, "/tmp/c.pcapng");
  EXPECT_EQ(r.ports, (std::vector<std::uint16_t>{0, 2}));
  EXPECT_EQ(r.lanes, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(r.snaplen, 128u);
  EXPECT_EQ(r.count, 50u);
  EXPECT_EQ(r.duration_ms, 700u);
}

TEST(CaptureCommand, DefaultsAndOtherActions) {
  const CaptureRequest start = parse_capture_request(json::parse(R"({"action":"start","file":"/x"})"));
  EXPECT_TRUE(start.ports.empty());
  EXPECT_TRUE(start.lanes.empty());
  EXPECT_EQ(start.snaplen, 2048u);
  EXPECT_EQ(start.count, 0u);
  EXPECT_EQ(start.duration_ms, 10'000u);
  EXPECT_EQ(parse_capture_request(json::parse(R"({"action":"stop"})")).action, CaptureRequest::Action::kStop);
  EXPECT_EQ(parse_capture_request(json::object()).action, CaptureRequest::Action::kStatus);
}

TEST(CaptureCommand, RefusesBadArguments) {
  EXPECT_NE(refusal(json::parse(R"({"action":"begin"})")).find("start, stop or status"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start"})")).find("needs \"file\""), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"rel.pcapng"})")).find("absolute"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"/x","ports":[70000]})")).find("\"ports\""),
            std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"/x","lanes":"1"})")).find("array"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"/x","snaplen":0})")).find("snaplen"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"/x","duration_ms":0})")).find("duration_ms"),
            std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"action":"start","file":"/x","count":-3})")).find("count"), std::string::npos);
}

TEST(CaptureCommand, StateAsJsonAndText) {
  CaptureState s{false, "/tmp/c.pcapng", 8, 1488, 2, 1204, "count"};
  const json j = capture_state_json(s);
  EXPECT_EQ(j["frames"], 8);
  EXPECT_EQ(j["ended"], "count");
  EXPECT_EQ(poolctl::render_capture(j), "capture /tmp/c.pcapng: 8 frames, 1488 bytes, 2 dropped, 1.204 s, ended: count\n");
  s.active = true;
  s.ended.clear();
  EXPECT_NE(poolctl::render_capture(capture_state_json(s)).find(", running\n"), std::string::npos);
  EXPECT_EQ(poolctl::render_capture(capture_state_json(CaptureState{})), "no capture yet\n");
}

}  // namespace
}  // namespace poolreg::control
