// Tests of config/: RegistrarConfig defaults, the TOML loader, --set overrides, validation, dump.
#include "config/config_loader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config_diff.hpp"
#include "config/registrar_config.hpp"

namespace poolreg::config {
namespace {

std::string config_dir() {
  const char* dir = std::getenv("POOLREG_CONFIG_DIR");
  return dir != nullptr ? dir : "config";
}

LoadResult load(std::string_view text, const std::vector<ConfigOverride>& overrides = {}) {
  return load_config_text(text, "t.toml", overrides);
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(RegistrarConfigDefaults, StructDefaultsAreValid) {
  EXPECT_TRUE(validate_config(RegistrarConfig{}).empty());
  for (auto mode : {WireMode::kRfc, WireMode::kNextgen}) {
    for (auto profile : {EnrpProfile::kRfc, EnrpProfile::kFast}) {
      auto errors = validate_config(RegistrarConfig::defaults(mode, profile));
      EXPECT_TRUE(errors.empty()) << to_string(mode) << "/" << to_string(profile) << ": "
                                  << errors.front().to_string();
    }
  }
}

TEST(RegistrarConfigDefaults, RfcAndRsplibValues) {
  const RegistrarConfig c;
  EXPECT_EQ(c.asap.sctp_port, 3863);
  EXPECT_EQ(c.asap.udp_encapsulation_port, 9899);
  EXPECT_EQ(c.asap.keepalive_interval_ms, 5000u);
  EXPECT_EQ(c.asap.max_bad_pe_reports, 3u);
  EXPECT_EQ(c.asap.handle_resolution_items, 3u);
  EXPECT_EQ(c.asap.min_address_scope, AddressScope::kLoopback);
  EXPECT_EQ(to_string(c.asap.announce_address), "239.0.0.50:3863");
  EXPECT_EQ(c.enrp.sctp_port, 9901);
  EXPECT_EQ(c.enrp.heartbeat_interval_ms, 30000u);   // RFC 5353 PEER-HEARTBEAT-CYCLE
  EXPECT_EQ(c.enrp.max_time_last_heard_ms, 61000u);  // RFC 5353 MAX-TIME-LAST-HEARD
  EXPECT_EQ(c.enrp.max_handle_table_response_bytes, 1400u);
  ASSERT_EQ(c.asap.listen.size(), 1u);
  EXPECT_EQ(c.asap.listen[0].to_string(), "127.0.0.1");
}

TEST(RegistrarConfigDefaults, EmbeddedDefaultFileEqualsStructDefaults) {
  LoadResult r = load_embedded_default_config();
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config, RegistrarConfig{});
}

TEST(RegistrarConfigDefaults, EmbeddedTextIsConfigPoolregdToml) {
  std::ifstream in(config_dir() + "/poolregd.toml");
  ASSERT_TRUE(in) << "set POOLREG_CONFIG_DIR";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), embedded_default_config_text());
}

TEST(ConfigLoader, ExampleFilesLoad) {
  for (const char* name : {"poolregd.toml", "cluster-a.toml", "cluster-b.toml", "cluster-c.toml"}) {
    LoadResult r = load_config_file(config_dir() + "/" + name);
    EXPECT_TRUE(r.ok()) << name << ": " << all_errors(r);
  }
  LoadResult a = load_config_file(config_dir() + "/cluster-a.toml");
  EXPECT_EQ(a.config.registrar.id, 0x10000001u);
  ASSERT_EQ(a.config.enrp.peers.size(), 2u);
  EXPECT_EQ(a.config.enrp.peers[0].udp_port, 9898);  // B's UDP encapsulation port
  EXPECT_EQ(a.config.enrp.profile, EnrpProfile::kFast);
  EXPECT_EQ(a.config.enrp.heartbeat_interval_ms, 2444u);
}

TEST(ConfigLoader, PeerUdpPortIsChecked) {
  LoadResult good = load("[enrp]\npeers = [{ address = \"127.0.0.1:9902\", udp_port = 9898 }, \"127.0.0.1:9903\"]\n");
  ASSERT_TRUE(good.ok()) << all_errors(good);
  ASSERT_EQ(good.config.enrp.peers.size(), 2u);
  EXPECT_EQ(good.config.enrp.peers[0].udp_port, 9898);
  EXPECT_EQ(good.config.enrp.peers[1].udp_port, 0);  // not given: learned / command line / 9899
  for (const char* bad : {"0", "65536", "\"9898\""}) {
    LoadResult r = load(std::string("[enrp]\npeers = [{ address = \"127.0.0.1:9902\", udp_port = ") + bad + " }]\n");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(all_errors(r).find("udp_port must be an integer 1..65535"), std::string::npos) << all_errors(r);
  }
}

TEST(ConfigLoader, PeerSctpNativeIsReadAndChecked) {
  LoadResult good =
      load("[enrp]\npeers = [{ address = \"127.0.0.1:9902\", sctp_native = true }, \"127.0.0.1:9903\"]\n");
  ASSERT_TRUE(good.ok()) << all_errors(good);
  ASSERT_EQ(good.config.enrp.peers.size(), 2u);
  EXPECT_TRUE(good.config.enrp.peers[0].sctp_native);
  EXPECT_FALSE(good.config.enrp.peers[1].sctp_native);  // default: UDP encapsulation, as before
  LoadResult not_bool = load("[enrp]\npeers = [{ address = \"127.0.0.1:9902\", sctp_native = 1 }]\n");
  ASSERT_FALSE(not_bool.ok());
  EXPECT_NE(all_errors(not_bool).find("sctp_native must be true or false"), std::string::npos)
      << all_errors(not_bool);
  // With udp_port it is a contradiction; without enrp.sctp_native there is no raw socket for it.
  LoadResult both =
      load("[enrp]\npeers = [{ address = \"127.0.0.1:9902\", sctp_native = true, udp_port = 9898 }]\n");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(all_errors(both).find("sctp_native and udp_port exclude each other"), std::string::npos)
      << all_errors(both);
  LoadResult off =
      load("[enrp]\nsctp_native = false\npeers = [{ address = \"127.0.0.1:9902\", sctp_native = true }]\n");
  ASSERT_FALSE(off.ok());
  EXPECT_NE(all_errors(off).find("sctp_native needs enrp.sctp_native = true"), std::string::npos)
      << all_errors(off);
}

TEST(ConfigLoader, UnknownKeyReportsFileLineColumn) {
  LoadResult r = load("[asap]\nsctp = true\n  sctp_prot = 3863\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].column, 3u);
  EXPECT_EQ(r.errors[0].to_string(), "t.toml:3:3: asap.sctp_prot: unknown key");
}

TEST(ConfigLoader, UnknownSectionAndTopLevelKey) {
  LoadResult r = load("verbose = true\n[asapp]\nx = 1\n");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.toml:1:1: verbose: unknown key");
  EXPECT_EQ(r.errors[1].to_string(), "t.toml:2:2: asapp: unknown section");
}

TEST(ConfigLoader, WrongType) {
  LoadResult r = load("[asap]\nsctp_port = \"3863\"\nsctp = 1\n[registrar]\nmode = 2\n");
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.toml:2:13: asap.sctp_port: expected an integer, got string");
  EXPECT_EQ(r.errors[1].to_string(), "t.toml:3:8: asap.sctp: expected a boolean (true/false), got integer");
  EXPECT_NE(r.errors[2].message.find("registrar.mode: expected a string"), std::string::npos);
}

TEST(ConfigLoader, OutOfRange) {
  LoadResult r = load(
      "[asap]\nsctp_port = 70000\nkeepalive_interval_ms = 299\nannounce_ttl = -1\n"
      "handle_resolution_max_items = 1601\nmax_hr_rate = -0.5\n");
  ASSERT_EQ(r.errors.size(), 5u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.toml:2:13: asap.sctp_port: 70000 is out of range 1..65535");
  EXPECT_EQ(r.errors[1].message, "asap.keepalive_interval_ms: 299 is out of range 300..300000");
  EXPECT_EQ(r.errors[2].message, "asap.announce_ttl: -1 is out of range 1..255");
  EXPECT_EQ(r.errors[3].message,
            "asap.handle_resolution_max_items: 1601 is out of range 1..1600");  // wire limit
  EXPECT_EQ(r.errors[4].line, 6u);
}

TEST(ConfigLoader, BadAddresses) {
  LoadResult r = load(
      "[asap]\nlisten = [\"127.0.0.1\", \"1.2.3\", 5]\n[enrp]\npeers = [\"127.0.0.1\", "
      "{ address = \"[::1]:0\" }, { address = \"127.0.0.1:9902\", port = 1 }]\n"
      "[metrics]\nlisten = \"::1:9464\"\n");
  ASSERT_EQ(r.errors.size(), 6u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.toml:2:24: asap.listen: \"1.2.3\" is not an IPv4/IPv6 address");
  EXPECT_EQ(r.errors[1].message, "asap.listen: expected an IP address string, got integer");
  EXPECT_EQ(r.errors[2].message, "enrp.peers: \"127.0.0.1\" is not \"ipv4:port\" or \"[ipv6]:port\"");
  EXPECT_EQ(r.errors[3].message, "enrp.peers: port \"0\" in \"[::1]:0\" is not 1..65535");
  EXPECT_NE(r.errors[4].message.find("unknown peer key \"port\""), std::string::npos);
  EXPECT_EQ(r.errors[5].line, 6u);
}

TEST(ConfigLoader, MulticastAndUnicastAddressRules) {
  LoadResult r = load("[asap]\nlisten = [\"239.1.1.1\"]\nannounce_address = \"10.0.0.1:3863\"\n");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_NE(r.errors[0].message.find("multicast"), std::string::npos);
  EXPECT_EQ(r.errors[1].to_string(),
            "t.toml:3:20: asap.announce_address: 10.0.0.1:3863 is not a multicast address");
}

TEST(ConfigLoader, MultipleErrorsCollectedInFileOrder) {
  LoadResult r =
      load("[registrar]\nshards = 5000\nlog_level = \"loud\"\n[limits]\nmax_pools = 0\nnope = 1\n");
  ASSERT_EQ(r.errors.size(), 4u) << all_errors(r);
  const std::uint32_t lines[] = {2, 3, 5, 6};
  for (std::size_t i = 0; i < r.errors.size(); ++i) EXPECT_EQ(r.errors[i].line, lines[i]);
  EXPECT_NE(r.errors[1].message.find("\"loud\" is not one of \"trace\""), std::string::npos);
}

TEST(ConfigLoader, TomlSyntaxErrorHasPosition) {
  LoadResult r = load("[asap]\nsctp_port = = 1\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].source, "t.toml");
}

TEST(ConfigLoader, MissingFile) {
  LoadResult r = load_config_file("/nonexistent/poolregd.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("/nonexistent/poolregd.toml: cannot open"), std::string::npos);
}

TEST(ConfigLoader, CrossFieldRulesPointAtTheKey) {
  LoadResult r =
      load("[asap]\nhandle_resolution_items = 200\n[enrp]\nheartbeat_interval_ms = 61000\ntcp = true\n");
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "t.toml:2:27: asap.handle_resolution_items: 200 exceeds asap.handle_resolution_max_items (128)");
  EXPECT_EQ(r.errors[1].line, 4u);
  EXPECT_NE(r.errors[1].message.find("below enrp.max_time_last_heard_ms"), std::string::npos);
  EXPECT_EQ(r.errors[2].line, 5u);
  EXPECT_NE(r.errors[2].message.find("nextgen"), std::string::npos);
}

TEST(ConfigValidation, CrossFieldRules) {
  auto messages = [](const RegistrarConfig& c) {
    std::string out;
    for (const auto& e : validate_config(c)) out += e.message + "\n";
    return out;
  };
  RegistrarConfig c;
  c.registrar.id = 0x100000000ULL;  // 33 bits in RFC mode
  EXPECT_NE(messages(c).find("registrar.id: RFC mode IDs are 32-bit"), std::string::npos);
  c.registrar.mode = WireMode::kNextgen;  // low 32 bits zero
  EXPECT_NE(messages(c).find("registrar.id: next-gen IDs need non-zero low 32 bits"), std::string::npos);
  c.registrar.id = 0x100000001ULL;
  EXPECT_EQ(messages(c), "");

  c = RegistrarConfig{};
  c.asap.sctp = false;
  c.asap.tcp = false;
  c.asap.mptcp = true;
  EXPECT_NE(messages(c).find("asap.sctp: at least one ASAP transport"), std::string::npos);
  EXPECT_NE(messages(c).find("asap.mptcp: needs asap.tcp"), std::string::npos);

  c = RegistrarConfig{};
  c.enrp.sctp_port = 3863;
  EXPECT_NE(messages(c).find("enrp.sctp_port: ENRP and ASAP cannot share SCTP port 3863"), std::string::npos);
  c.enrp.enabled = false;
  EXPECT_EQ(messages(c), "");

  c = RegistrarConfig{};
  c.asap.min_address_scope = AddressScope::kSiteLocal;  // rejects every PE that can reach 127.0.0.1
  EXPECT_NE(messages(c).find("asap.min_address_scope"), std::string::npos);
  c.asap.listen = {*IpAddress::parse("0.0.0.0")};
  EXPECT_EQ(messages(c), "");

  c = RegistrarConfig{};
  c.limits.max_pes_per_pool = c.limits.max_pes_total + 1;
  c.enrp.max_handle_table_response_bytes = 2000;
  c.asap.max_message_bytes = 1500;
  c.control.socket_path = "relative.sock";
  std::string m = messages(c);
  EXPECT_NE(m.find("limits.max_pes_per_pool"), std::string::npos);
  EXPECT_NE(m.find("enrp.max_handle_table_response_bytes: exceeds asap.max_message_bytes"),
            std::string::npos);
  EXPECT_NE(m.find("control.socket_path: must be an absolute path"), std::string::npos);

  c = RegistrarConfig{};
  c.asap.keepalive_timeout_ms = 0;  // ranges apply to hand-built configs too
  EXPECT_NE(messages(c).find("asap.keepalive_timeout_ms: 0 is out of range 100..60000"), std::string::npos);
}

// [tls] (issue 17 finding 5): the files must be readable, each named in its own error; a key or
// CA without a certificate is refused rather than silently leaving TLS off.
TEST(ConfigValidation, TlsFilesAndPorts) {
  auto messages = [](const RegistrarConfig& c) {
    std::string out;
    for (const auto& e : validate_config(c)) out += e.message + "\n";
    return out;
  };
  const std::string dir = ::testing::TempDir();
  const std::string cert = dir + "/tls-cert.pem";
  std::ofstream(cert) << "not checked here: poolregd parses it at start and with --check-config\n";
  RegistrarConfig c;
  c.tls.certificate = cert;
  c.tls.private_key = dir + "/no-such.key";
  std::string m = messages(c);
  EXPECT_NE(m.find("tls.private_key: cannot read " + dir + "/no-such.key"), std::string::npos) << m;
  EXPECT_NE(m.find("tls.ca_file: required with tls.certificate"), std::string::npos) << m;
  c.tls.private_key = cert;
  c.tls.ca_file = cert;
  EXPECT_EQ(messages(c), "");
  c.tls.asap_port = c.asap.tcp_port;
  EXPECT_NE(messages(c).find("tls.asap_port: ASAP over TLS cannot share TCP port 3863"), std::string::npos);
  c.tls.asap_port = 0;  // and no ENRP over TCP: nothing to listen on
  EXPECT_NE(messages(c).find("tls.asap_port: TLS is configured but opens no listener"), std::string::npos);

  c = RegistrarConfig{};
  c.tls.private_key = cert;
  EXPECT_NE(messages(c).find("tls.certificate: tls.private_key / tls.ca_file are set but tls.certificate is empty"),
            std::string::npos);
  LoadResult r = load("[tls]\ncertificate = \"/nonexistent/cert.pem\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all_errors(r).find("tls.certificate: cannot read /nonexistent/cert.pem"), std::string::npos) << all_errors(r);
}

TEST(ConfigLoader, SetOverridesWinOverFile) {
  std::vector<ConfigOverride> o;
  for (const char* s :
       {"asap.sctp_port=4000", "registrar.mode=nextgen", "asap.listen=[\"::1\", \"127.0.0.1\"]",
        "enrp.peers=[{address=\"127.0.0.1:9902\", id=7}]", "asap.sctp_port = 4001"}) {
    auto parsed = parse_override(s);
    ASSERT_TRUE(parsed) << parsed.error();
    o.push_back(*parsed);
  }
  LoadResult r = load("[asap]\nsctp_port = 3000\n", o);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.asap.sctp_port, 4001);  // later --set wins
  EXPECT_EQ(r.config.registrar.mode, WireMode::kNextgen);
  EXPECT_EQ(r.config.enrp.max_handle_table_response_bytes, 16384u);  // next-gen default via --set mode
  ASSERT_EQ(r.config.asap.listen.size(), 2u);
  EXPECT_EQ(r.config.asap.listen[0].to_string(), "::1");
  ASSERT_EQ(r.config.enrp.peers.size(), 1u);
  EXPECT_EQ(r.config.enrp.peers[0].id, 7u);

  // Unquoted values for string keys stay strings even when they look like TOML numbers.
  LoadResult s = load("", {{"dpdk.lcores", "1"}, {"registrar.log_file", "/var/log/x.log"}});
  ASSERT_TRUE(s.ok()) << all_errors(s);
  EXPECT_EQ(s.config.dpdk.lcores, "1");
  EXPECT_EQ(s.config.registrar.log_file, "/var/log/x.log");
}

TEST(ConfigLoader, SetOverrideErrors) {
  auto no_value = parse_override("asap.sctp_port");
  ASSERT_FALSE(no_value);
  EXPECT_NE(no_value.error().find("section.key=value"), std::string::npos);
  EXPECT_FALSE(parse_override("sctp_port=1"));

  LoadResult r = load("", {{"asap.sctp_port", "big"}, {"asap.nothing", "1"}, {"nosection", "1"}});
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  const std::string text = all_errors(r);
  EXPECT_NE(
      text.find("command line --set asap.sctp_port=big: asap.sctp_port: expected an integer, got string\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("command line --set asap.nothing=1: asap.nothing: unknown key\n"), std::string::npos);
  EXPECT_NE(text.find("command line --set nosection=1: nosection: unknown key\n"), std::string::npos);
  for (const auto& e : r.errors) EXPECT_EQ(e.line, 0u);

  LoadResult utf8 = load("", {{"registrar.log_file", "\xff\xfe"}});  // never throws
  EXPECT_EQ(utf8.errors.size(), 1u) << all_errors(utf8);
}

TEST(ConfigLoader, ProfileAndModeSwitchWorkOnTheEmbeddedDefault) {
  LoadResult r = load_embedded_default_config({{"enrp.profile", "fast"}, {"registrar.mode", "nextgen"}});
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config, RegistrarConfig::defaults(WireMode::kNextgen, EnrpProfile::kFast));
  EXPECT_EQ(r.config.enrp.heartbeat_interval_ms, 2444u);
  EXPECT_EQ(r.config.enrp.max_handle_table_response_bytes, 16384u);
}

TEST(ConfigLoader, ProfileSwitchSetsFastTimers) {
  LoadResult fast = load("[enrp]\nprofile = \"fast\"\n");
  ASSERT_TRUE(fast.ok()) << all_errors(fast);
  EXPECT_EQ(fast.config.enrp.heartbeat_interval_ms, 2444u);
  EXPECT_EQ(fast.config.enrp.max_time_last_heard_ms, 5000u);
  EXPECT_EQ(fast.config.enrp.max_time_no_response_ms, 5000u);
  EXPECT_EQ(fast.config.enrp.takeover_expiry_ms, 5000u);

  // An explicit key wins over the profile, wherever it stands in the file.
  LoadResult mixed = load("[enrp]\nheartbeat_interval_ms = 3000\nprofile = \"fast\"\n");
  ASSERT_TRUE(mixed.ok()) << all_errors(mixed);
  EXPECT_EQ(mixed.config.enrp.heartbeat_interval_ms, 3000u);
  EXPECT_EQ(mixed.config.enrp.max_time_last_heard_ms, 5000u);

  LoadResult by_flag = load("", {{"enrp.profile", "fast"}});
  ASSERT_TRUE(by_flag.ok()) << all_errors(by_flag);
  EXPECT_EQ(by_flag.config.enrp.max_time_last_heard_ms, 5000u);

  LoadResult rfc = load("[enrp]\nprofile = \"rfc\"\n");
  EXPECT_EQ(rfc.config.enrp.heartbeat_interval_ms, 30000u);
  EXPECT_EQ(rfc.config.enrp.max_time_last_heard_ms, 61000u);
}

TEST(ConfigLoader, FileModeAndIds) {
  LoadResult r = load(
      "[registrar]\nmode = \"nextgen\"\nid = \"0xfedcba9876543210\"\n[control]\nsocket_mode = \"0640\"\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.registrar.id, 0xfedcba9876543210ULL);
  EXPECT_EQ(r.config.control.socket_mode, 0640u);
  LoadResult bad = load("[control]\nsocket_mode = 0o1000\n[registrar]\nid = -1\n");
  EXPECT_EQ(bad.errors.size(), 2u) << all_errors(bad);
}

RegistrarConfig every_field_changed() {
  RegistrarConfig c = RegistrarConfig::defaults(WireMode::kNextgen, EnrpProfile::kFast);
  c.registrar.id = 0xfedcba9876543210ULL;
  c.registrar.shards = 8;
  c.registrar.lanes = 3;
  c.registrar.resolve_on_lanes = false;
  c.registrar.log_level = LogLevel::kDebug;
  c.registrar.log_format = LogFormat::kJson;
  c.registrar.log_file = "/var/log/poolreg \"x\".log";
  c.asap.listen = {*IpAddress::parse("::1"), *IpAddress::parse("10.1.2.3")};
  c.asap.sctp_port = 1;
  c.asap.udp_encapsulation_port = 0;
  c.asap.tcp_port = 2;
  c.asap.mptcp = true;
  c.asap.max_message_bytes = 30000;
  c.asap.keepalive_interval_ms = 301;
  c.asap.keepalive_timeout_ms = 101;
  c.asap.sctp_heartbeat_interval_ms = 0;
  c.asap.association_idle_timeout_ms = 0;
  c.asap.max_bad_pe_reports = 9;
  c.asap.handle_resolution_items = 10;
  c.asap.handle_resolution_max_items = 1600;
  c.asap.max_increment = 4;
  c.asap.min_address_scope = AddressScope::kSiteLocal;
  c.asap.address_check = false;
  c.asap.max_hr_rate = 12.5;
  c.asap.max_hr_burst = 20;
  c.asap.max_eu_rate = 0.1;
  c.asap.max_eu_burst = 2;
  c.asap.server_announce = true;
  c.asap.announce_address = {*IpAddress::parse("ff02::1"), 3863};
  c.asap.announce_interval_ms = 500;
  c.asap.announce_ttl = 1;
  c.asap.distance_step_ms = 10;
  c.limits = {1, 2, 3, 4, 5, 6};
  c.enrp.enabled = false;
  c.enrp.listen = {*IpAddress::parse("127.0.0.2")};
  c.enrp.sctp_port = 9911;
  c.enrp.tcp = true;
  c.enrp.tcp_port = 9912;
  c.enrp.peers = {{{*IpAddress::parse("127.0.0.1"), 9902}, 0, 9898},
                  {{*IpAddress::parse("::1"), 9903}, 0x8000000000000001ULL}};
  c.enrp.allow_dynamic_peers = true;
  c.enrp.multicast = true;
  c.enrp.multicast_address = {*IpAddress::parse("239.9.9.9"), 1};
  c.enrp.multicast_ttl = 2;
  c.enrp.heartbeat_interval_ms = 1111;
  c.enrp.max_time_last_heard_ms = 2222;
  c.enrp.max_time_no_response_ms = 3333;
  c.enrp.takeover_expiry_ms = 4444;
  c.enrp.mentor_discovery_ms = 5555;
  c.enrp.max_elements_per_handle_table_response = 66;
  c.enrp.max_handle_table_response_bytes = 777;
  c.enrp.takeover_suggestion = true;
  c.control = {false, "/tmp/x.sock", 0600, true};
  c.metrics = {true, {*IpAddress::parse("::1"), 9999}};
  c.dpdk.enabled = true;
  c.dpdk.eal_args = {"--no-huge", "-m", "256", "--vdev=net_null0"};
  c.dpdk.lcores = "0-1";
  c.dpdk.ports = {0, 3};
  c.dpdk.burst_size = 64;
  c.dpdk.mempool_size = 4095;
  c.dpdk.resolve_on_poll_lcore = false;
  return c;
}

TEST(ConfigDump, ReloadGivesTheSameConfig) {
  for (const RegistrarConfig& original : {RegistrarConfig{}, every_field_changed()}) {
    ASSERT_TRUE(validate_config(original).empty()) << validate_config(original).front().to_string();
    std::string text = dump_effective_config(original);
    LoadResult r = load(text);
    ASSERT_TRUE(r.ok()) << all_errors(r) << text;
    EXPECT_EQ(r.config, original) << text;
  }
}

TEST(ConfigDump, ProfileDoesNotOverrideDumpedTimers) {
  // A dump names profile = "fast" and every timer; the explicit timers must win on reload.
  RegistrarConfig c = RegistrarConfig::defaults(WireMode::kRfc, EnrpProfile::kFast);
  c.enrp.heartbeat_interval_ms = 30000;
  c.enrp.max_time_last_heard_ms = 61000;
  LoadResult r = load(dump_effective_config(c));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config, c);
}

TEST(ConfigDocs, ReadmeAndDefaultFileNameEveryKey) {
  std::ifstream readme_in(config_dir() + "/README.md");
  ASSERT_TRUE(readme_in);
  std::stringstream readme;
  readme << readme_in.rdbuf();
  std::istringstream dump(dump_effective_config(RegistrarConfig{}));
  std::string line;
  std::string section;
  std::string default_text(embedded_default_config_text());
  int keys = 0;
  while (std::getline(dump, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.size() - 2);
      EXPECT_NE(default_text.find(line), std::string::npos) << line;
      continue;
    }
    std::string key = line.substr(0, line.find(' '));
    ++keys;
    EXPECT_NE(readme.str().find("`" + section + "." + key + "`"), std::string::npos) << section << "." << key;
    // Present, or shown commented out when its default depends on the profile or mode.
    EXPECT_TRUE(default_text.find("\n" + key + " = ") != std::string::npos ||
                default_text.find("\n# " + key + " = ") != std::string::npos)
        << section << "." << key;
  }
  EXPECT_GT(keys, 60);
}

TEST(RegistrarId, ChooseRegistrarId) {
  RegistrarSection s;
  std::uint64_t draws[] = {0, 0xffffffff00000000ULL, 0x123456789abcdef0ULL};
  std::size_t next = 0;
  auto fake = [&] { return draws[next++ % 3]; };
  EXPECT_EQ(choose_registrar_id(s, fake), 0x9abcdef0u);  // RFC: 32 bits, zero draws skipped
  s.mode = WireMode::kNextgen;
  next = 0;
  EXPECT_EQ(choose_registrar_id(s, fake), 0x123456789abcdef0ULL);  // low 32 bits must be non-zero
  s.id = 42;
  EXPECT_EQ(choose_registrar_id(s, fake), 42u);
  s.id = 0;
  EXPECT_EQ(choose_registrar_id(s, [] { return 0u; }), 1u);  // bounded fallback
}

TEST(ControlSocket, DefaultPath) {
  EXPECT_EQ(default_control_socket_path(0, "/run/user/1000"), "/run/poolreg/poolregd.sock");
  EXPECT_EQ(default_control_socket_path(1000, "/run/user/1000"), "/run/user/1000/poolreg/poolregd.sock");
  EXPECT_EQ(default_control_socket_path(1000, ""), "/tmp/poolreg-1000/poolregd.sock");
  EXPECT_EQ(default_control_socket_path(1000, nullptr), "/tmp/poolreg-1000/poolregd.sock");
  ControlSection c;
  c.socket_path = "/x/y.sock";
  EXPECT_EQ(effective_control_socket_path(c), "/x/y.sock");
}

// A reload compares the running configuration with the file key by key, as the file spells them.
TEST(ConfigDiff, NamesEachChangedKeyWithItsValues) {
  const RegistrarConfig a = RegistrarConfig::defaults(WireMode::kRfc, EnrpProfile::kRfc);
  EXPECT_TRUE(diff_configs(a, a).empty());
  RegistrarConfig b = a;
  b.asap.max_hr_rate = 2.5;
  EnrpPeerConfig peer;
  peer.address = SocketAddress{IpAddress::v4(0x7f000001u), 9902};
  peer.id = 0x1234;
  b.enrp.peers.push_back(peer);
  b.dpdk.eal_args = {"--no-pci"};
  const auto changes = diff_configs(a, b);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].key, "asap.max_hr_rate");
  EXPECT_EQ(changes[0].after, "2.5");
  EXPECT_EQ(changes[1].key, "enrp.peers");
  EXPECT_EQ(changes[1].before, "[]");
  EXPECT_NE(changes[1].after.find("127.0.0.1:9902"), std::string::npos) << changes[1].after;
  EXPECT_EQ(changes[2].key, "dpdk.eal_args");
  // Every schema key is listed once.
  const auto values = config_values(a);
  EXPECT_GT(values.size(), 60u);
  EXPECT_EQ(values.front().key, "registrar.id");
}

}  // namespace
}  // namespace poolreg::config
