// The one-engine rule: no file outside dataplane/sctp/ calls a usrsctp_ function or includes
// usrsctp.h (registrar/, dataplane/, cli/, perf/, config/ are searched). A second usrsctp user is
// a second association layer to keep in step with the first; the engine is the only place usrsctp
// quirks are handled. Words in comments count too: name the engine, not usrsctp's functions.
//
// poolregd's lanes and the client side (kernel::SctpStack, the engine on one UDP socket driven by
// the client's EventLoop) both run on the engine. (Test helpers under tests/ are not searched: a
// foreign peer may be plain usrsctp.) One exception, kForeignPeers: poolgen's real-address mode
// simulates foreign PEs that bind real IPv4 addresses and move by ASCONF carrying them, which the
// engine's AF_CONN mode cannot do (usrsctp never sees an IP address there); it is a peer of the
// registrar, like the tests' helpers, not a second association layer of ours. Nothing else may
// join the list without such a reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr const char* kForeignPeers[] = {"perf/poolgen/real_address_fleet.cpp"};


bool is_source(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".cpp" || e == ".hpp" || e == ".h" || e == ".cc";
}

TEST(UsrsctpConfinement, OnlyTheEngineCallsUsrsctp) {
  const fs::path root = POOLREG_SOURCE_ROOT;
  ASSERT_TRUE(fs::exists(root / "dataplane" / "sctp" / "sctp_engine.cpp")) << root;
  // A call (usrsctp_xxx followed by '(' or used as a function pointer &::usrsctp_xxx) or the header.
  const std::regex use(R"(\busrsctp_[a-z_]+\s*\(|&::usrsctp_|#\s*include\s*[<"]usrsctp\.h[>"])");
  std::vector<std::string> offenders;
  std::size_t searched = 0;
  for (const char* top : {"registrar", "dataplane", "cli", "perf", "config"}) {
    if (!fs::exists(root / top)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file() || !is_source(entry.path())) continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      if (rel.rfind("dataplane/sctp/", 0) == 0) continue;
      if (std::find(std::begin(kForeignPeers), std::end(kForeignPeers), rel) != std::end(kForeignPeers)) continue;
      ++searched;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      if (!std::regex_search(text.str(), use)) continue;
      offenders.push_back(rel);
    }
  }
  EXPECT_GT(searched, 100u);
  EXPECT_TRUE(offenders.empty()) << "usrsctp used outside dataplane/sctp: " << ::testing::PrintToString(offenders);
}

// The check itself finds what it must (so it cannot pass by matching nothing).
TEST(UsrsctpConfinement, ThePatternSeesCallsAndTheInclude) {
  const std::regex use(R"(\busrsctp_[a-z_]+\s*\(|&::usrsctp_|#\s*include\s*[<"]usrsctp\.h[>"])");
  EXPECT_TRUE(std::regex_search(std::string("  usrsctp_sendv(so, p);"), use));
  EXPECT_TRUE(std::regex_search(std::string("#include <usrsctp.h>"), use));
  EXPECT_TRUE(std::regex_search(std::string("a.member = &::usrsctp_close;"), use));
  EXPECT_FALSE(std::regex_search(std::string("// the engine (usrsctp) runs here"), use));
}

}  // namespace
