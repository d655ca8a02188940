// ASAP/ENRP over TLS on 127.0.0.1 (RFC 5355), driven through kernel::KernelTransport's
// listen_tls/connect_tls (TcpMessageSockets with TlsSession underneath), certificates made by the
// test (test_certificates.hpp): messages both ways after the handshake, close_notify on a
// graceful close, large messages through a full socket (partial TLS writes, WANT_WRITE), the
// server's certificate checked against the address, the identity allow-list, and TlsContext's
// errors for bad files.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/tcp/tls_context.hpp"
#include "tests/dataplane/runtime/recording_handler.hpp"
#include "tests/dataplane/tcp/test_certificates.hpp"

namespace poolreg::tcp {
namespace {

using poolreg::testing::TestCertificates;
using runtime::testing::make_message;
using runtime::testing::RecordingHandler;
using runtime::testing::run_for;
using runtime::testing::run_until;
using runtime::testing::seq_of;

const IpAddress kLoopback = IpAddress::v4({127, 0, 0, 1});

class TlsTransportTest : public ::testing::Test {
 protected:
  TlsTransportTest() : server(loop, server_handler, nullptr), client(loop, client_handler, nullptr) {}

  void SetUp() override { ASSERT_TRUE(pki.ok()) << "openssl CLI failed, see " << pki.dir(); }

  std::shared_ptr<const TlsContext> context(bool server_side, const std::string& who, bool require = false,
                                            std::vector<std::string> allowed = {}) {
    TlsSettings s;
    s.server = server_side;
    if (!who.empty()) {
      s.certificate = pki.cert(who);
      s.private_key = pki.key(who);
    }
    s.ca_file = pki.cert("ca");
    s.require_peer_certificate = require;
    s.allowed_identities = std::move(allowed);
    auto c = TlsContext::create(s);
    EXPECT_TRUE(c) << (c ? "" : c.error());
    return c ? std::move(c).value() : nullptr;
  }

  std::uint16_t listen(std::shared_ptr<const TlsContext> ctx) {
    const IpAddress addrs[] = {kLoopback};
    runtime::ListenResult r = server.listen_tls(WireProtocol::kAsap, addrs, 0, std::move(ctx));
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r.value_or(0);
  }

  bool client_connected(ConnectionId cid) const {
    return std::find(client_handler.connected.begin(), client_handler.connected.end(), cid) !=
           client_handler.connected.end();
  }

  TestCertificates pki;
  runtime::EventLoop loop;
  RecordingHandler server_handler;
  RecordingHandler client_handler;
  kernel::KernelTransport server;
  kernel::KernelTransport client;
};

TEST_F(TlsTransportTest, MessagesBothWaysAndGracefulCloseSendsCloseNotify) {
  const std::uint16_t port = listen(context(true, "pr-a", true));
  const ConnectionId cid = client.connect_tls(WireProtocol::kAsap, kLoopback, port, context(false, "client"), true);
  ASSERT_NE(cid, kNoConnectionId);
  // Sent before the handshake finished: queued, delivered after it.
  ASSERT_TRUE(runtime::send_ok(client.send(cid, WireProtocol::kAsap, make_message(0x05, 16, 1))));
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == 1 && client_connected(cid); }));
  const ConnectionId sid = server_handler.connected.back();
  EXPECT_EQ(seq_of(server_handler.messages[0].bytes), 1u);
  ASSERT_TRUE(runtime::send_ok(server.send(sid, WireProtocol::kAsap, make_message(0x06, 32, 2))));
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.messages.size() == 1; }));
  EXPECT_EQ(client_handler.messages[0].bytes, make_message(0x06, 32, 2));
  EXPECT_EQ(server.counters().tls_handshakes, 1u);
  EXPECT_EQ(client.counters().tls_handshakes, 1u);

  // close_notify makes the end an orderly one (a TCP FIN alone would be a truncation: kCommLost).
  client.close(cid);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.closed_count[sid] == 1; }));
  EXPECT_EQ(server_handler.closed.back().second, runtime::CloseReason::kPeerClosed);
}

// Partial TLS writes: a reader that does not read fills the socket; what was accepted arrives
// complete and in order once the loop runs.
TEST_F(TlsTransportTest, LargeMessagesThroughAFullSocketArriveInOrder) {
  const std::uint16_t port = listen(context(true, "pr-a"));
  const ConnectionId cid = client.connect_tls(WireProtocol::kAsap, kLoopback, port, context(false, ""), true);
  ASSERT_TRUE(run_until(loop, [&] { return client_connected(cid) && server_handler.connected.size() == 1; }));
  std::vector<std::uint32_t> accepted;
  for (std::uint32_t i = 0; i < 200; ++i) {  // no loop run: the server does not read (200 x 64 KiB < the 16 MiB queue)
    const runtime::SendResult r = client.send(cid, WireProtocol::kAsap, make_message(0x05, 65532, i));
    ASSERT_TRUE(runtime::send_ok(r)) << to_string(r);
    accepted.push_back(i);
  }
  EXPECT_GT(client.queued_messages(cid), 0u) << "the socket never filled";
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == accepted.size(); },
                        std::chrono::seconds(30)));
  for (std::size_t i = 0; i < accepted.size(); ++i) ASSERT_EQ(server_handler.messages[i].bytes, make_message(0x05, 65532, accepted[i]));
  EXPECT_EQ(client.queued_messages(cid), 0u);
}

TEST_F(TlsTransportTest, ClientRefusesAServerCertificateThatDoesNotNameTheAddress) {
  const std::uint16_t port = listen(context(true, "client"));  // DNS client.test only, no IP entry
  const ConnectionId cid = client.connect_tls(WireProtocol::kAsap, kLoopback, port, context(false, ""), true);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.closed_count[cid] == 1; }));
  EXPECT_EQ(client_handler.closed.back().second, runtime::CloseReason::kConnectFailed);
  EXPECT_FALSE(client_connected(cid));
  EXPECT_EQ(client.counters().tls_handshake_failures, 1u);
  EXPECT_NE(client.last_tls_failure().find("IP address mismatch"), std::string::npos) << client.last_tls_failure();
  run_for(loop, std::chrono::milliseconds(50));
  EXPECT_TRUE(server_handler.connected.empty());  // never handed out on the server either
}

TEST_F(TlsTransportTest, IdentityNotOnTheAllowListIsRefusedWithoutCallbacks) {
  const std::uint16_t port = listen(context(true, "pr-a", true, {"pr-b.test"}));
  const ConnectionId stranger = client.connect_tls(WireProtocol::kEnrp, kLoopback, port, context(false, "client"), true);
  const ConnectionId peer = client.connect_tls(WireProtocol::kEnrp, kLoopback, port, context(false, "pr-b"), true);
  ASSERT_TRUE(run_until(loop, [&] { return server.counters().tls_identity_refused == 1 && server_handler.connected.size() == 1; }));
  // The stranger's TLS 1.3 handshake ended on its side; the server's close follows.
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.closed_count[stranger] == 1; }));
  EXPECT_EQ(client_handler.closed_count[peer], 0);
  EXPECT_EQ(server.counters().tls_handshakes, 1u);
  EXPECT_EQ(server.connection_count(), 1u);
}

TEST(TlsContextCreate, BadFilesGiveErrorsNamingThem) {
  TestCertificates pki;
  ASSERT_TRUE(pki.ok());
  TlsSettings s;
  s.certificate = pki.cert("pr-a");
  s.private_key = pki.dir() + "/missing.key";
  s.ca_file = pki.cert("ca");
  auto missing = TlsContext::create(s);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot read private key file " + s.private_key), std::string::npos) << missing.error();
  s.private_key = pki.key("pr-b");
  auto mismatch = TlsContext::create(s);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("does not match"), std::string::npos) << mismatch.error();
  s.private_key = pki.key("pr-a");
  s.ca_file = pki.key("ca");  // a key, not a certificate
  auto bad_ca = TlsContext::create(s);
  ASSERT_FALSE(bad_ca);
  EXPECT_NE(bad_ca.error().find("CA file"), std::string::npos) << bad_ca.error();
  s.ca_file = pki.cert("ca");
  EXPECT_TRUE(TlsContext::create(s));
  TlsSettings no_cert;
  EXPECT_FALSE(TlsContext::create(no_cert));  // a server needs a certificate
}

}  // namespace
}  // namespace poolreg::tcp
