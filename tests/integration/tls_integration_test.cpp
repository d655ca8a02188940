// Integration: ASAP and ENRP over TLS (RFC 5355, issue 17 finding 5) with real poolregd processes
// on 127.0.0.1 and certificates made by the test (test_certificates.hpp):
// - a PE and a PU over ASAP/TLS with client certificates required; a PU without one is refused;
// - two next-gen registrars over ENRP/TLS (mutual certificates, identity allow-list) share a PE;
// - a registrar with another CA's certificate and one whose identity is not on the allow-list are
//   refused and counted, and never become peers;
// - a client that connects and sends nothing is closed after tls.handshake_timeout_ms and
//   counted; plain TCP bytes on the TLS port are refused without harm to the daemon;
// - a reload reads rotated certificate files again (new connections get the new certificate; a
//   key that does not match leaves the running one in place);
// - --check-config names a private key that does not match its certificate.
#include <poll.h>

#include <filesystem>

#include "tests/integration/cluster_integration_fixture.hpp"
#include "tests/dataplane/tcp/test_certificates.hpp"

namespace poolreg::integration {
namespace {

using poolreg::testing::TestCertificates;

struct TlsPorts {
  std::uint16_t asap = 0;
  std::uint16_t enrp = 0;
};

TlsPorts pick_tls_ports(const DaemonPorts& taken) {
  TlsPorts t;
  for (int i = 0; i < 20 && (t.asap == 0 || t.asap == taken.asap || t.asap == taken.enrp); ++i) t.asap = free_tcp_port();
  for (int i = 0; i < 20 && (t.enrp == 0 || t.enrp == t.asap || t.enrp == taken.asap || t.enrp == taken.enrp); ++i)
    t.enrp = free_tcp_port();
  return t;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// The [tls] keys of a registrar showing certificate `name`.
std::vector<std::string> tls_args(const TestCertificates& pki, const std::string& name, const TlsPorts& t) {
  return {"--set", "tls.certificate=" + quoted(pki.cert(name)), "--set", "tls.private_key=" + quoted(pki.key(name)),
          "--set", "tls.ca_file=" + quoted(pki.cert("ca")),     "--set", "tls.asap_port=" + std::to_string(t.asap),
          "--set", "tls.enrp_port=" + std::to_string(t.enrp),   "--set", "tls.handshake_timeout_ms=400"};
}

// A next-gen registrar with ENRP over TCP, hence over TLS, peering with `peer_tls_ports`.
std::unique_ptr<Poolregd> enrp_tls_daemon(const std::string& name, RegistrarId id, const DaemonPorts& ports,
                                          std::vector<std::string> tls, const std::vector<std::uint16_t>& peer_tls_ports,
                                          const std::string& allowed) {
  std::vector<std::string> args = {"--mode", "nextgen", "--id", std::to_string(id), "--set", "enrp.tcp=true",
                                   "--set", "enrp.tcp_port=" + std::to_string(ports.enrp)};
  for (auto& a : fast_enrp_args()) args.push_back(std::move(a));
  std::string peers = "[";
  for (std::uint16_t p : peer_tls_ports) peers += std::string(peers.size() > 1 ? ", " : "") + "\"127.0.0.1:" + std::to_string(p) + "\"";
  args.insert(args.end(), {"--set", "enrp.peers=" + peers + "]", "--set", "tls.enrp_allowed_identities=" + allowed});
  for (auto& a : tls) args.push_back(std::move(a));
  return std::make_unique<Poolregd>(name, ports, args);
}

client::ClientOptions tls_client(const Poolregd& d, const TlsPorts& t, const TestCertificates& pki, const std::string& who) {
  client::ClientOptions o = d.client_options(ClientTransport::kTcp);
  o.registrar.port = t.asap;
  o.registrar.tls.enabled = true;
  o.registrar.tls.ca_file = pki.cert("ca");
  if (!who.empty()) {
    o.registrar.tls.certificate = pki.cert(who);
    o.registrar.tls.private_key = pki.key(who);
  }
  return o;
}

std::uint64_t transport_counter(const Poolregd& d, const char* name) {
  json r = control_call(d, "stats");
  if (r.is_null() || !r.contains("transport") || r["transport"].is_null()) return 0;
  return r["transport"].value(name, std::uint64_t{0});
}

// A plain TCP connection to 127.0.0.1:port; -1 on failure.
int raw_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// Whether the peer closed fd (EOF or reset) within `limit`; reads and discards what comes first.
bool closed_by_peer(int fd, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < deadline; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

TEST(PoolregdTls, PeAndPuOverAsapTlsWithClientCertificates) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir();
  const DaemonPorts ports = pick_ports();
  const TlsPorts t = pick_tls_ports(ports);
  std::vector<std::string> args = tls_args(pki, "pr-a", t);
  args.insert(args.end(), {"--set", "tls.require_client_certificate_asap=true", "--set", "enrp.enabled=false"});
  Poolregd d("tls-asap", ports, args);
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  EXPECT_NE(d.log().find("ASAP TLS 127.0.0.1:" + std::to_string(t.asap) + " (client certificates required)"),
            std::string::npos)
      << d.log();

  runtime::EventLoop loop;
  PoolElementClient pe(loop, nullptr, tls_client(d, t, pki, "client"));
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk) << pe.connection().tls_error() << d.log();
  const PoolHandle pool = handle_of("tls-pool");
  ASSERT_TRUE(client::register_and_wait(pe, registration(pool, 0x7150, TransportProtocol::kTcp)).ok());
  PoolUserClient pu(loop, nullptr, tls_client(d, t, pki, "client"));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << pu.connection().tls_error();
  const ResolutionResult r = client::resolve_and_wait(pu, pool, 4);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status);
  EXPECT_EQ(ids_of(r), std::set<PoolElementId>{0x7150});
  EXPECT_GE(transport_counter(d, "tls_handshakes"), 2u);

  // Client certificates are required here: a PU without one never gets an answer. (Under TLS 1.3
  // the client's handshake ends before the server has seen its empty certificate, so the
  // connect itself may look fine; the server's alert ends the connection right after.)
  const std::uint64_t failures = transport_counter(d, "tls_handshake_failures");
  PoolUserClient anonymous(loop, nullptr, tls_client(d, t, pki, ""));
  if (client::connect_and_wait(anonymous, 5s) == ClientStatus::kOk) {
    EXPECT_FALSE(client::resolve_and_wait(anonymous, pool, 4, 3s).ok());
  }
  EXPECT_TRUE(eventually([&] { return transport_counter(d, "tls_handshake_failures") > failures; }, 3s));
  EXPECT_EQ(pool_pe_count(d, pool), 1);

  client::close_and_wait(pu);
  client::close_and_wait(pe);
  EXPECT_TRUE(d.stops_cleanly());
}

TEST(PoolregdTls, TwoRegistrarsSyncOverEnrpTlsWithMutualCertificates) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir();
  const std::array<DaemonPorts, 2> ports = {pick_ports(), pick_ports()};
  const std::array<TlsPorts, 2> t = {pick_tls_ports(ports[0]), pick_tls_ports(ports[1])};
  const char* names[2] = {"pr-a", "pr-b"};
  std::array<std::unique_ptr<Poolregd>, 2> d;
  for (int i = 0; i < 2; ++i) {
    d[i] = enrp_tls_daemon(names[i], 0x30000001u + i, ports[i], tls_args(pki, names[i], t[i]), {t[1 - i].enrp},
                           "[\"pr-a.test\", \"pr-b.test\"]");
    ASSERT_TRUE(d[i]->start());
  }
  for (auto& x : d) ASSERT_TRUE(x->wait_for_log("listening:", 10s)) << x->log();
  EXPECT_NE(d[0]->log().find("ENRP TLS 127.0.0.1:" + std::to_string(t[0].enrp) + " (mutual)"), std::string::npos)
      << d[0]->log();
  std::string why;
  ASSERT_TRUE(eventually([&] { return peers_alive_and_in_sync(*d[0], 1, &why) && peers_alive_and_in_sync(*d[1], 1, &why); },
                         15s))
      << why << d[0]->log() << d[1]->log();

  runtime::EventLoop loop;
  PoolElementClient pe(loop, nullptr, tls_client(*d[0], t[0], pki, ""));
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk) << pe.connection().tls_error();
  const PoolHandle pool = handle_of("tls-enrp");
  ASSERT_TRUE(client::register_and_wait(pe, registration(pool, 0x7151, TransportProtocol::kTcp)).ok());
  PoolUserClient pu(loop, nullptr, tls_client(*d[1], t[1], pki, ""));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << pu.connection().tls_error();
  const ResolutionResult r = client::resolve_until(
      pu, pool, 4, [](const ResolutionResult& x) { return x.ok() && !x.elements.empty(); }, 15s, 100ms, 4s);
  ASSERT_TRUE(r.ok()) << client::to_string(r.status) << d[0]->log() << d[1]->log();
  EXPECT_EQ(ids_of(r), std::set<PoolElementId>{0x7151});
  EXPECT_EQ(r.elements[0].home_registrar, 0x30000001u);
  for (auto& x : d) {
    EXPECT_GE(transport_counter(*x, "tls_handshakes"), 2u);  // ENRP both ways (+ the client)
    EXPECT_EQ(transport_counter(*x, "tls_identity_refused"), 0u);
  }
  client::close_and_wait(pu);
  client::close_and_wait(pe);
  for (auto& x : d) EXPECT_TRUE(x->stops_cleanly());
}

TEST(PoolregdTls, PeersWithWrongCertificatesAreRefusedAndCounted) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir();
  const std::array<DaemonPorts, 3> ports = {pick_ports(), pick_ports(), pick_ports()};
  const std::array<TlsPorts, 3> t = {pick_tls_ports(ports[0]), pick_tls_ports(ports[1]), pick_tls_ports(ports[2])};
  // A trusts only pr-b.test. "rogue" names pr-b.test but comes from another CA; "client" is signed
  // by the right CA but is not on the list. Both try to peer with A.
  auto a = enrp_tls_daemon("a", 0x30000011u, ports[0], tls_args(pki, "pr-a", t[0]), {}, "[\"pr-b.test\"]");
  auto rogue = enrp_tls_daemon("rogue", 0x30000012u, ports[1], tls_args(pki, "rogue", t[1]), {t[0].enrp}, "[]");
  auto stranger = enrp_tls_daemon("stranger", 0x30000013u, ports[2], tls_args(pki, "client", t[2]), {t[0].enrp}, "[]");
  for (auto* x : {a.get(), rogue.get(), stranger.get()}) ASSERT_TRUE(x->start());
  for (auto* x : {a.get(), rogue.get(), stranger.get()}) ASSERT_TRUE(x->wait_for_log("listening:", 10s)) << x->log();

  EXPECT_TRUE(eventually([&] { return transport_counter(*a, "tls_handshake_failures") >= 1; }, 10s)) << a->log();
  EXPECT_TRUE(eventually([&] { return transport_counter(*a, "tls_identity_refused") >= 1; }, 10s)) << a->log();
  // The operator hears of it (rate-limited), with the refused identity or OpenSSL's reason.
  EXPECT_TRUE(a->wait_for_log("[warning] TLS: since the last report", 12s)) << a->log();
  // Two more presence cycles: still nobody in A's peer table, and A is fine.
  std::this_thread::sleep_for(2 * kPresenceCycle);
  json peers = control_call(*a, "peers");
  ASSERT_TRUE(peers.contains("peers")) << peers.dump();
  EXPECT_TRUE(peers["peers"].empty()) << peers.dump();
  EXPECT_EQ(transport_counter(*a, "tls_handshakes"), 0u);
  EXPECT_TRUE(a->running()) << a->log();
  for (auto* x : {a.get(), rogue.get(), stranger.get()}) EXPECT_TRUE(x->stops_cleanly());
}

TEST(PoolregdTls, SilentClientTimesOutAndPlainTcpBytesAreRefused) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir();
  const DaemonPorts ports = pick_ports();
  const TlsPorts t = pick_tls_ports(ports);
  std::vector<std::string> args = tls_args(pki, "pr-a", t);
  args.insert(args.end(), {"--set", "enrp.enabled=false"});
  Poolregd d("tls-raw", ports, args);
  ASSERT_TRUE(d.start_and_wait()) << d.log();

  // Connects and says nothing: closed after the 400 ms handshake timeout, counted.
  const int silent = raw_connect(t.asap);
  ASSERT_GE(silent, 0);
  EXPECT_TRUE(closed_by_peer(silent, 5s));
  ::close(silent);
  EXPECT_EQ(transport_counter(d, "tls_handshake_timeouts"), 1u);

  // A plain ASAP Handle Resolution header on the TLS port: not a TLS record, refused at once.
  const int plain = raw_connect(t.asap);
  ASSERT_GE(plain, 0);
  const std::uint8_t asap_bytes[] = {0x05, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x04};
  ASSERT_EQ(::send(plain, asap_bytes, sizeof asap_bytes, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof asap_bytes));
  EXPECT_TRUE(closed_by_peer(plain, 5s));
  ::close(plain);
  EXPECT_TRUE(eventually([&] { return transport_counter(d, "tls_handshake_failures") >= 1; }, 3s));

  // The daemon still serves TLS clients.
  ASSERT_TRUE(d.running()) << d.log();
  runtime::EventLoop loop;
  PoolUserClient pu(loop, nullptr, tls_client(d, t, pki, ""));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << pu.connection().tls_error();
  EXPECT_EQ(client::resolve_and_wait(pu, handle_of("nobody-here"), 4).status, ClientStatus::kRejected);
  client::close_and_wait(pu);
  EXPECT_EQ(transport_counter(d, "tls_handshakes"), 1u);
  EXPECT_TRUE(d.stops_cleanly());
}

// Certificate rotation: the files at the configured paths are replaced and `poolctl reload` (as
// SIGHUP) reads them again; new connections get the new certificate, the running one stays when
// the new files do not load. The registrar starts with "rogue" (another CA's certificate, which a
// client trusting "ca" refuses), then gets pr-a's.
TEST(PoolregdTls, ReloadReadsRotatedCertificateFilesAgain) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir();
  const std::string live_cert = pki.dir() + "/live.pem";
  const std::string live_key = pki.dir() + "/live.key";
  const auto install = [&](const std::string& cert_of, const std::string& key_of) {
    namespace fs = std::filesystem;
    fs::copy_file(pki.cert(cert_of), live_cert, fs::copy_options::overwrite_existing);
    fs::copy_file(pki.key(key_of), live_key, fs::copy_options::overwrite_existing);
  };
  install("rogue", "rogue");
  const DaemonPorts ports = pick_ports();
  const TlsPorts t = pick_tls_ports(ports);
  Poolregd d("tls-rotate", ports,
             {"--set", "tls.certificate=" + quoted(live_cert), "--set", "tls.private_key=" + quoted(live_key), "--set",
              "tls.ca_file=" + quoted(pki.cert("ca")), "--set", "tls.asap_port=" + std::to_string(t.asap), "--set",
              "tls.enrp_port=0", "--set", "enrp.enabled=false"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  runtime::EventLoop loop;
  {
    PoolUserClient pu(loop, nullptr, tls_client(d, t, pki, ""));
    EXPECT_NE(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << "another CA's certificate was trusted";
  }

  install("pr-a", "pr-a");
  json r = control_call(d, "reload");
  EXPECT_EQ(r.value("tls_reloaded", json()), json(true)) << r.dump() << d.log();
  PoolUserClient pu(loop, nullptr, tls_client(d, t, pki, ""));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << pu.connection().tls_error() << d.log();
  EXPECT_EQ(client::resolve_and_wait(pu, handle_of("nobody-here"), 4).status, ClientStatus::kRejected);

  // A key that does not match the certificate: refused, the running certificate stays.
  install("pr-a", "pr-b");
  r = control_call(d, "reload");
  EXPECT_EQ(r.value("tls_reloaded", json()), json(false)) << r.dump();
  EXPECT_FALSE(r.value("tls_error", json()).is_null()) << r.dump();
  EXPECT_TRUE(d.wait_for_log("TLS files not reloaded", 2s)) << d.log();
  PoolUserClient again(loop, nullptr, tls_client(d, t, pki, ""));
  EXPECT_EQ(client::connect_and_wait(again, 5s), ClientStatus::kOk) << again.connection().tls_error();
  // The association made before the failed reload still works.
  EXPECT_EQ(client::resolve_and_wait(pu, handle_of("nobody-here"), 4).status, ClientStatus::kRejected);
  client::close_and_wait(again);
  client::close_and_wait(pu);
  EXPECT_TRUE(d.stops_cleanly());
}

TEST(PoolregdTls, CheckConfigNamesAKeyThatDoesNotMatchItsCertificate) {
  ASSERT_FALSE(poolregd_path().empty());
  TestCertificates pki;
  ASSERT_TRUE(pki.ok());
  const std::string log = pki.dir() + "/check.log";
  const pid_t pid = spawn_with_parent_death(
      {poolregd_path(), "--check-config", "--set", "tls.certificate=" + quoted(pki.cert("pr-a")), "--set",
       "tls.private_key=" + quoted(pki.key("pr-b")), "--set", "tls.ca_file=" + quoted(pki.cert("ca"))},
      log);
  ASSERT_GT(pid, 0);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("does not match certificate"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace poolreg::integration
