// Unit tests of poolregd's glue (dataplane/daemon): configuration mapping, the reload plan (live
// and restart-only keys), the log file reopen, TransportOutput (MessageOutput over the transport),
// ProtocolRouter (routing, WIRE-06) with a fake transport, and the start-up open-file limit check
// (DescriptorLimit).
// Lives next to the integration tests because its owner owns this folder; suite 'unit'.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "config/registrar_config.hpp"
#include "dataplane/daemon/config_mapping.hpp"
#include "dataplane/daemon/config_reload.hpp"
#include "dataplane/daemon/descriptor_limit.hpp"
#include "dataplane/daemon/logging.hpp"
#include "dataplane/daemon/protocol_router.hpp"
#include "dataplane/daemon/transport_output.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::daemon {
namespace {

const IpAddress kLoopback = IpAddress::v4(0x7f000001u);

// Records what the daemon asks of the transport.
class FakeTransport final : public runtime::MessageTransport {
 public:
  struct Connect {
    TransportProtocol kind;
    WireProtocol protocol;
    std::uint16_t port;
    std::uint16_t remote_udp_port;
    bool native = false;
  };
  runtime::ListenResult listen_sctp(WireProtocol, std::span<const IpAddress>, std::uint16_t port) override {
    return port;
  }
  runtime::ListenResult listen_tcp(WireProtocol, std::span<const IpAddress>, std::uint16_t port, bool) override {
    return port;
  }
  ConnectionId connect_sctp(WireProtocol p, std::span<const IpAddress>, std::uint16_t port,
                                    std::uint16_t udp) override {
    connects.push_back({TransportProtocol::kSctp, p, port, udp});
    return next_id++;
  }
  ConnectionId connect_sctp_native(WireProtocol p, std::span<const IpAddress>, std::uint16_t port) override {
    connects.push_back({TransportProtocol::kSctp, p, port, 0, true});
    return next_id++;
  }
  ConnectionId connect_tcp(WireProtocol p, const IpAddress&, std::uint16_t port, bool) override {
    connects.push_back({TransportProtocol::kTcp, p, port, 0});
    return next_id++;
  }
  runtime::SendResult send(ConnectionId id, WireProtocol p, std::span<const std::uint8_t> m) override {
    sent.push_back({id, p, std::vector<std::uint8_t>(m.begin(), m.end())});
    return runtime::SendResult::kSent;
  }
  void close(ConnectionId) override {}
  void abort(ConnectionId id) override { aborted.push_back(id); }
  const ConnectionPeer* peer_info(ConnectionId) const override { return nullptr; }
  runtime::TransportCounters counters() const override { return {}; }
  std::size_t connection_count() const override { return 0; }

  struct Sent {
    ConnectionId id;
    WireProtocol protocol;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Connect> connects;
  std::vector<Sent> sent;
  std::vector<ConnectionId> aborted;
  ConnectionId next_id = 100;
};

TEST(DaemonConfigMapping, HandlespaceShardsAndLimits) {
  config::RegistrarConfig c;
  EXPECT_EQ(to_handlespace_config(c, 2).shard_count, 2u);  // 0 = one per CPU
  c.registrar.shards = 1000;
  EXPECT_EQ(to_handlespace_config(c, 2).shard_count, 64u);  // handlespace maximum
  c.limits.max_pools = 7;
  c.limits.max_pes_per_pool = 9;
  const auto h = to_handlespace_config(c, 1);
  EXPECT_EQ(h.limits.max_pools, 7u);
  EXPECT_EQ(h.limits.max_pes_per_pool, 9u);
  EXPECT_FALSE(h.limits.reject_short_id_collisions);
  c.registrar.mode = config::WireMode::kNextgen;
  EXPECT_TRUE(to_handlespace_config(c, 1).limits.reject_short_id_collisions);
}

TEST(DaemonConfigMapping, AsapOptions) {
  config::RegistrarConfig c;
  c.asap.keepalive_interval_ms = 300;
  c.asap.keepalive_timeout_ms = 150;
  c.asap.max_bad_pe_reports = 5;
  c.asap.min_address_scope = AddressScope::kSiteLocal;
  c.asap.max_hr_rate = 10.0;
  c.limits.max_pool_handle_bytes = 40;
  EXPECT_TRUE(to_asap_config(c, 0x1234).keepalive_on_lanes);  // the default
  c.asap.keepalive_on_lanes = false;
  const auto a = to_asap_config(c, 0x1234);
  EXPECT_FALSE(a.keepalive_on_lanes);
  EXPECT_EQ(a.registrar_id, 0x1234u);
  EXPECT_FALSE(a.next_gen);
  EXPECT_EQ(a.keepalive_interval, 300 * kNsPerMs);
  EXPECT_EQ(a.keepalive_timeout, 150 * kNsPerMs);
  EXPECT_EQ(a.max_bad_pe_reports, 5u);
  EXPECT_EQ(a.min_address_scope, AddressScope::kSiteLocal);
  EXPECT_TRUE(a.hr_rate_limit.enabled());
  EXPECT_FALSE(a.eu_rate_limit.enabled());
  EXPECT_EQ(a.max_pool_handle, 40u);
  config::RegistrarConfig d;
  EXPECT_EQ(to_asap_config(d, 1).min_address_scope, AddressScope::kLoopback);  // poolreg default
}

// Issue 17: the per-client quotas and the deregister hold reach AsapServer, on by default, and
// are live keys of a reload.
TEST(DaemonConfigMapping, ClientQuotasAndDeregisterHold) {
  config::RegistrarConfig d;
  const auto a = to_asap_config(d, 1);
  EXPECT_EQ(a.max_pes_per_association, 16384u);
  EXPECT_EQ(a.max_pes_per_address, 65536u);
  EXPECT_EQ(a.max_associations_per_address, 4096u);
  EXPECT_EQ(a.deregister_hold, 300 * kNsPerSec);
  config::RegistrarConfig c;
  c.limits.max_pes_per_association = 0;
  c.limits.max_associations_per_address = 7;
  c.asap.deregister_hold_ms = 1500;
  const auto b = to_asap_config(c, 1);
  EXPECT_EQ(b.max_pes_per_association, 0u);
  EXPECT_EQ(b.max_associations_per_address, 7u);
  EXPECT_EQ(b.deregister_hold, 1500 * kNsPerMs);
  for (const char* key : {"limits.max_pes_per_association", "limits.max_pes_per_address",
                          "limits.max_associations_per_address", "limits.partial_frame_budget_bytes",
                          "limits.first_message_timeout_ms", "asap.deregister_hold_ms"})
    EXPECT_TRUE(is_live_config_key(key, true)) << key;
}

// Issue 14 item 3: the handover hold reaches AsapServer (3 s by default, 0 = off) and is a
// live key of a reload.
TEST(DaemonConfigMapping, HandoverHold) {
  config::RegistrarConfig d;
  EXPECT_EQ(to_asap_config(d, 1).handover_hold, 3000 * kNsPerMs);
  config::RegistrarConfig c;
  c.asap.handover_hold_ms = 0;
  EXPECT_EQ(to_asap_config(c, 1).handover_hold, 0);
  c.asap.handover_hold_ms = 250;
  EXPECT_EQ(to_asap_config(c, 1).handover_hold, 250 * kNsPerMs);
  EXPECT_TRUE(is_live_config_key("asap.handover_hold_ms", true));
}

TEST(DaemonConfigMapping, EnrpOptionsAndPeers) {
  config::RegistrarConfig c = config::RegistrarConfig::defaults(config::WireMode::kRfc, config::EnrpProfile::kFast);
  c.asap.listen = {kLoopback, IpAddress::v4(0u)};
  c.enrp.peers = {{{kLoopback, 9902}, 0}, {{kLoopback, 9903}, 0x77}};
  const auto e = to_enrp_config(c, 0x10000001u, 19901, 0);
  EXPECT_EQ(e.own_id, 0x10000001u);
  EXPECT_EQ(e.own_endpoint.protocol, TransportProtocol::kSctp);
  EXPECT_EQ(e.own_endpoint.port, 19901);
  EXPECT_EQ(e.own_endpoint.addresses, std::vector<IpAddress>{kLoopback});  // wildcard left out
  EXPECT_EQ(e.heartbeat_interval, 2444 * kNsPerMs);
  EXPECT_EQ(e.max_time_last_heard, 5000 * kNsPerMs);
  ASSERT_EQ(e.static_peers.size(), 2u);
  EXPECT_EQ(e.static_peers[0].endpoint.port, 9902);
  EXPECT_EQ(e.static_peers[0].endpoint.protocol, TransportProtocol::kSctp);
  EXPECT_EQ(e.static_peers[1].id, 0x77u);
  EXPECT_FALSE(e.allow_dynamic_peers);
  c.enrp.allow_dynamic_peers = true;
  EXPECT_TRUE(to_enrp_config(c, 1, 19901, 0).allow_dynamic_peers);
  c.enrp.allow_dynamic_peers = false;
  c.enrp.multicast = true;  // multicast discovery implies it
  EXPECT_TRUE(to_enrp_config(c, 1, 19901, 0).allow_dynamic_peers);
  c.enrp.multicast = false;
  c.enrp.tcp = true;
  const auto t = to_enrp_config(c, 1, 19901, 19902);
  EXPECT_EQ(t.own_endpoint.protocol, TransportProtocol::kTcp);
  EXPECT_EQ(t.own_endpoint.port, 19902);
  EXPECT_EQ(t.static_peers[0].endpoint.protocol, TransportProtocol::kTcp);
}

TEST(DaemonConfigMapping, WildcardBindsEverything) {
  EXPECT_TRUE(bind_addresses({kLoopback, IpAddress::v4(0u)}).empty());
  EXPECT_EQ(bind_addresses({kLoopback}), std::vector<IpAddress>{kLoopback});
  EXPECT_TRUE(is_unspecified(*IpAddress::parse("::")));
  EXPECT_FALSE(is_unspecified(*IpAddress::parse("::1")));
}

// Issue 18 item 2: a reload applies the live keys and refuses the others, naming both.
TEST(DaemonConfigReload, LiveKeysAppliedOthersRefused) {
  const config::RegistrarConfig running = config::RegistrarConfig::defaults(config::WireMode::kRfc, config::EnrpProfile::kRfc);
  config::RegistrarConfig file = running;
  file.registrar.log_level = config::LogLevel::kDebug;
  file.limits.max_pools = 7;
  file.asap.keepalive_interval_ms = 1234;
  file.asap.sctp_port = 4000;              // restart-only: a listener
  file.asap.handle_resolution_items = 5;   // restart-only: the lanes' copy
  const ReloadPlan plan = plan_reload(running, file, /*resolutions_on_lanes=*/true);

  ASSERT_EQ(plan.applied.size(), 3u);
  EXPECT_EQ(plan.applied[0].key, "registrar.log_level");
  EXPECT_EQ(plan.applied[0].before, "\"info\"");
  EXPECT_EQ(plan.applied[0].after, "\"debug\"");
  EXPECT_EQ(plan.applied[1].key, "asap.keepalive_interval_ms");
  EXPECT_EQ(plan.applied[2].key, "limits.max_pools");
  EXPECT_EQ(plan.applied[2].after, "7");
  ASSERT_EQ(plan.refused.size(), 2u);
  EXPECT_EQ(plan.refused[0].key, "asap.sctp_port");
  EXPECT_EQ(plan.refused[1].key, "asap.handle_resolution_items");

  // The new running config: live keys from the file, restart-only ones as they were.
  EXPECT_EQ(plan.config.registrar.log_level, config::LogLevel::kDebug);
  EXPECT_EQ(plan.config.limits.max_pools, 7u);
  EXPECT_EQ(plan.config.asap.keepalive_interval_ms, 1234u);
  EXPECT_EQ(plan.config.asap.sctp_port, running.asap.sctp_port);
  EXPECT_EQ(plan.config.asap.handle_resolution_items, running.asap.handle_resolution_items);
  EXPECT_TRUE(plan_reload(plan.config, plan.config, true).applied.empty());
}

// Issue 16 item 2: the keep-alives-on-lanes switch is live (AsapServer takes the lanes' PEs back).
TEST(DaemonConfigReload, KeepAliveOnLanesSwitchIsLive) {
  const config::RegistrarConfig running =
      config::RegistrarConfig::defaults(config::WireMode::kRfc, config::EnrpProfile::kRfc);
  config::RegistrarConfig file = running;
  file.asap.keepalive_on_lanes = !running.asap.keepalive_on_lanes;
  const ReloadPlan plan = plan_reload(running, file, /*resolutions_on_lanes=*/true);
  ASSERT_EQ(plan.applied.size(), 1u);
  EXPECT_EQ(plan.applied[0].key, "asap.keepalive_on_lanes");
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_EQ(plan.config.asap.keepalive_on_lanes, file.asap.keepalive_on_lanes);
}

// The Handle Resolution rate limit is live only while the lanes do not answer resolutions with
// their own copy of it.
TEST(DaemonConfigReload, ResolutionRateLimitLiveOnlyWithoutLaneResolution) {
  const config::RegistrarConfig running = config::RegistrarConfig::defaults(config::WireMode::kRfc, config::EnrpProfile::kRfc);
  config::RegistrarConfig file = running;
  file.asap.max_hr_rate = 10.0;
  file.asap.max_eu_rate = 2.0;
  const ReloadPlan on_lanes = plan_reload(running, file, true);
  ASSERT_EQ(on_lanes.applied.size(), 1u);
  EXPECT_EQ(on_lanes.applied[0].key, "asap.max_eu_rate");
  ASSERT_EQ(on_lanes.refused.size(), 1u);
  EXPECT_EQ(on_lanes.refused[0].key, "asap.max_hr_rate");
  EXPECT_EQ(on_lanes.config.asap.max_hr_rate, 0.0);
  const ReloadPlan control_only = plan_reload(running, file, false);
  EXPECT_EQ(control_only.applied.size(), 2u);
  EXPECT_TRUE(control_only.refused.empty());
  EXPECT_EQ(control_only.config.asap.max_hr_rate, 10.0);
  EXPECT_TRUE(is_live_config_key("asap.max_hr_rate", false));
  EXPECT_FALSE(is_live_config_key("asap.max_hr_rate", true));
  EXPECT_FALSE(is_live_config_key("registrar.log_file", false));
}

// After a rotation (the file renamed away) the reopen writes to a new file at the path.
TEST(DaemonLogging, ReopenFollowsRotation) {
  char dir_template[] = "/tmp/poolreg-log-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template, path = dir + "/poolregd.log", rotated = path + ".1";
  config::RegistrarSection section;
  section.log_file = path;
  auto logger = make_daemon_logger(section);
  logger->info("before rotation");
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  const LogReopen r = reopen_log_file(*logger);
  EXPECT_TRUE(r.to_file);
  EXPECT_TRUE(r.ok) << r.error;
  logger->info("after rotation");
  auto text = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_NE(text(rotated).find("before rotation"), std::string::npos);
  EXPECT_EQ(text(rotated).find("after rotation"), std::string::npos);
  EXPECT_NE(text(path).find("after rotation"), std::string::npos);
  ::unlink(path.c_str());
  ::unlink(rotated.c_str());
  ::rmdir(dir.c_str());

  config::RegistrarSection to_stderr;
  auto stderr_logger = make_daemon_logger(to_stderr);
  EXPECT_FALSE(reopen_log_file(*stderr_logger).to_file);
}

TEST(DaemonTransportOutput, ConnectPicksTransportAndUdpPort) {
  FakeTransport t;
  std::vector<std::pair<ConnectionId, WireProtocol>> noted;
  TransportOutput out(t, false, [&](ConnectionId id, WireProtocol p) { noted.emplace_back(id, p); });
  TransportEndpoint sctp{TransportProtocol::kSctp, 9902, TransportUse::kDataPlusControl, 0, {kLoopback}};
  TransportEndpoint tcp{TransportProtocol::kTcp, 9903, TransportUse::kDataPlusControl, 0, {kLoopback}};

  EXPECT_EQ(out.connect(WireProtocol::kEnrp, sctp), 100u);
  EXPECT_EQ(out.connect(WireProtocol::kAsap, tcp), 101u);
  ASSERT_EQ(t.connects.size(), 2u);
  EXPECT_EQ(t.connects[0].kind, TransportProtocol::kSctp);
  EXPECT_EQ(t.connects[0].protocol, WireProtocol::kEnrp);
  EXPECT_EQ(t.connects[0].remote_udp_port, 0);  // transport default
  EXPECT_EQ(t.connects[1].kind, TransportProtocol::kTcp);
  EXPECT_EQ(t.connects[1].protocol, WireProtocol::kAsap);
  EXPECT_EQ(noted.size(), 2u);

  // Configured per SCTP port, per peer endpoint (enrp.peers udp_port, which wins over the
  // port-wide flag), then learned from an association (which wins over both).
  out.set_peer_udp_port(9902, 9898);
  EXPECT_EQ(out.remote_udp_port(kLoopback, 9902), 9898);
  out.set_endpoint_udp_port(kLoopback, 9902, 7777);
  EXPECT_EQ(out.remote_udp_port(kLoopback, 9902), 7777);
  EXPECT_EQ(out.remote_udp_port(IpAddress::v4(0x7f000002u), 9902), 9898);  // another host: port-wide
  EXPECT_EQ(out.remote_udp_port(kLoopback, 9903), 0);
  ConnectionPeer peer;
  peer.kind = TransportProtocol::kSctp;
  peer.addresses = {kLoopback};
  peer.port = 9902;
  peer.udp_encapsulation_port = 5555;
  out.note_peer(peer);
  EXPECT_EQ(out.remote_udp_port(kLoopback, 9902), 5555);
  out.connect(WireProtocol::kEnrp, sctp);
  EXPECT_EQ(t.connects.back().remote_udp_port, 5555);
  EXPECT_FALSE(t.connects.back().native);

  // Native SCTP (issue 15): configured per peer endpoint (enrp.peers sctp_native), learned from
  // a native association (UDP port 0), which wins as a UDP one does.
  out.set_endpoint_native(kLoopback, 9904);
  EXPECT_TRUE(out.sctp_route(kLoopback, 9904).native);
  TransportEndpoint native_peer{TransportProtocol::kSctp, 9904, TransportUse::kDataOnly, 0, {kLoopback}};
  out.connect(WireProtocol::kEnrp, native_peer);
  EXPECT_TRUE(t.connects.back().native);
  EXPECT_EQ(t.connects.back().port, 9904);
  peer.udp_encapsulation_port = 0;  // the peer's association to us was native
  out.note_peer(peer);
  EXPECT_EQ(out.sctp_route(kLoopback, 9902), (SctpRoute{true, 0}));
  out.connect(WireProtocol::kEnrp, sctp);
  EXPECT_TRUE(t.connects.back().native);
  peer.port = 9904;
  peer.udp_encapsulation_port = 6666;  // and a UDP association to a peer configured native
  out.note_peer(peer);
  out.connect(WireProtocol::kEnrp, native_peer);
  EXPECT_FALSE(t.connects.back().native);
  EXPECT_EQ(t.connects.back().remote_udp_port, 6666);

  // Nothing to connect to.
  TransportEndpoint empty{TransportProtocol::kSctp, 9902, TransportUse::kDataOnly, 0, {}};
  EXPECT_EQ(out.connect(WireProtocol::kEnrp, empty), kNoConnectionId);
  TransportEndpoint udp{TransportProtocol::kUdp, 9902, TransportUse::kDataOnly, 0, {kLoopback}};
  EXPECT_EQ(out.connect(WireProtocol::kEnrp, udp), kNoConnectionId);

  EXPECT_TRUE(out.send(7, WireProtocol::kEnrp, std::vector<std::uint8_t>{1, 0, 0, 4}));
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].protocol, WireProtocol::kEnrp);
}

class DaemonRouter : public ::testing::Test {
 protected:
  DaemonRouter()
      : hs_(handlespace::HandlespaceConfig{}, domain_),
        reader_(domain_, 1),
        out_(t_, false, [this](ConnectionId id, WireProtocol p) { router_.note_outgoing(id, p); }),
        asap_(make_config(), hs_, reader_, out_, clock_, nullptr) {
    reader_.online();
    router_.attach(t_, out_, asap_, nullptr);
  }
  ~DaemonRouter() override { reader_.offline(); }
  static asap::AsapConfig make_config() {
    asap::AsapConfig c;
    c.registrar_id = 0x1234;
    c.min_address_scope = AddressScope::kLoopback;
    return c;
  }
  ConnectionPeer peer(WireProtocol p) {
    ConnectionPeer i;
    i.kind = TransportProtocol::kSctp;
    i.protocol = p;
    i.addresses = {kLoopback};
    i.port = 5000;
    return i;
  }

  FakeTransport t_;
  ManualClock clock_{1};
  handlespace::QsbrDomain domain_{4};
  handlespace::Handlespace hs_;
  handlespace::ReaderContext reader_;
  ProtocolRouter router_;
  TransportOutput out_;
  asap::AsapServer asap_;
};

// A Handle Resolution for an unknown pool: routed to ASAP, answered on the same connection.
TEST_F(DaemonRouter, AsapMessageReachesAsapServer) {
  router_.on_connected(1, peer(WireProtocol::kAsap));
  const std::vector<std::uint8_t> hr = {0x05, 0x00, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x08, 'p', 'o', 'o', 'l'};
  router_.on_message(1, runtime::MessageInfo{WireProtocol::kAsap, 11, 0}, hr);
  EXPECT_EQ(router_.counters().asap_messages, 1u);
  EXPECT_EQ(asap_.counters().resolutions_unknown_pool, 1u);
  ASSERT_EQ(t_.sent.size(), 1u);
  EXPECT_EQ(t_.sent[0].id, 1u);
  EXPECT_EQ(t_.sent[0].bytes[0], 0x06);  // Handle Resolution Response
  EXPECT_TRUE(t_.aborted.empty());
}

// WIRE-06: ENRP PPID on an ASAP association aborts it; nothing reaches the ASAP server.
TEST_F(DaemonRouter, WrongPpidAbortsAssociation) {
  router_.on_connected(1, peer(WireProtocol::kAsap));
  const std::vector<std::uint8_t> presence = {0x01, 0x00, 0x00, 0x04};
  router_.on_message(1, runtime::MessageInfo{WireProtocol::kEnrp, 12, 0}, presence);
  EXPECT_EQ(router_.counters().wrong_protocol_aborts, 1u);
  EXPECT_EQ(t_.aborted, std::vector<ConnectionId>{1});
  EXPECT_EQ(asap_.counters().messages_received, 0u);
}

// Without an ENRP server, ENRP associations are refused.
TEST_F(DaemonRouter, EnrpWithoutServerIsAborted) {
  router_.on_connected(2, peer(WireProtocol::kEnrp));
  EXPECT_EQ(t_.aborted, std::vector<ConnectionId>{2});
  EXPECT_EQ(router_.counters().enrp_without_server, 1u);
}

// Closing reaches the server of the connection's protocol, also for an outgoing id that never
// came up; unknown ids are ignored.
TEST_F(DaemonRouter, ClosedIsRoutedOnceByProtocol) {
  router_.on_connected(3, peer(WireProtocol::kAsap));
  EXPECT_EQ(asap_.associations(), 1u);
  router_.on_closed(3, runtime::CloseReason::kPeerClosed);
  EXPECT_EQ(asap_.associations(), 0u);
  EXPECT_EQ(router_.tracked_connections(), 0u);
  router_.on_closed(3, runtime::CloseReason::kPeerClosed);  // ignored
  TransportEndpoint pe{TransportProtocol::kSctp, 7000, TransportUse::kDataOnly, 0, {kLoopback}};
  const ConnectionId id = out_.connect(WireProtocol::kAsap, pe);
  EXPECT_EQ(router_.tracked_connections(), 1u);
  router_.on_closed(id, runtime::CloseReason::kConnectFailed);
  EXPECT_EQ(router_.tracked_connections(), 0u);
}

// Issue 17 finding 4: the soft RLIMIT_NOFILE is raised toward the hard limit for
// limits.max_associations, and what stays short is reported. Changes this process's soft limit
// and restores it.
class DaemonDescriptorLimit : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &original_); }
  rlimit original_{};
};

TEST_F(DaemonDescriptorLimit, NeededIsTheAssociationsPlusTheMargin) {
  config::RegistrarConfig c;
  c.limits.max_associations = 1000;
  EXPECT_EQ(descriptors_needed(c), 1000u + kDescriptorMargin);
}

TEST_F(DaemonDescriptorLimit, LowSoftLimitIsRaisedUpToTheHardLimit) {
  if (original_.rlim_max != RLIM_INFINITY && original_.rlim_max < 256) GTEST_SKIP() << "hard limit below 256";
  rlimit low = original_;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  const DescriptorLimit ok = ensure_descriptor_limit(200);
  EXPECT_EQ(ok.error, 0);
  EXPECT_EQ(ok.soft_before, 64u);
  EXPECT_EQ(ok.soft, 200u);
  EXPECT_TRUE(ok.raised());
  EXPECT_TRUE(ok.enough());
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, 200u);

  const DescriptorLimit same = ensure_descriptor_limit(100);  // enough already: untouched
  EXPECT_FALSE(same.raised());
  EXPECT_EQ(same.soft, 200u);
}

TEST_F(DaemonDescriptorLimit, BeyondTheHardLimitIsReportedShort) {
  if (original_.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit";
  const DescriptorLimit short_limit = ensure_descriptor_limit(std::uint64_t{original_.rlim_max} + 1);
  EXPECT_EQ(short_limit.error, 0);
  EXPECT_EQ(short_limit.soft, original_.rlim_max);
  EXPECT_EQ(short_limit.hard, original_.rlim_max);
  EXPECT_FALSE(short_limit.enough());
}

}  // namespace
}  // namespace poolreg::daemon
