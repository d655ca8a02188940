// TlsContext: one TLS configuration (an OpenSSL SSL_CTX) for ASAP or ENRP over TCP (RFC 5355):
// our certificate and key, the CA that signs the peers' certificates, whether the peer must show
// a certificate, and the allow-list of peer identities. TLS 1.2 and 1.3 only, no renegotiation.
// Built once at start-up (or by a client before connecting); immutable afterwards, shared by the
// listeners and connections that use it (shared_ptr). Loop thread only, like the sockets.
//
// Peer identity: the subject CN, every subjectAltName DNS name and every subjectAltName URI of the
// peer's (CA-verified) certificate. The allow-list matches when one of them equals one entry
// exactly (case-sensitive). An empty allow-list accepts every certificate the CA signed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "registrar/common/expected.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace poolreg::tcp {

struct TlsSettings {
  bool server = true;               // accept (listener) or connect side
  std::string certificate;          // PEM chain; may be empty on a client that shows none
  std::string private_key;          // PEM; required with certificate
  std::string ca_file;              // PEM bundle verifying the peer; empty = no verification (client only)
  bool require_peer_certificate = false;  // server: refuse clients without one (ENRP always)
  std::vector<std::string> allowed_identities;  // empty = any CA-signed identity
};

class TlsContext {
 public:
  // Loads and checks everything (files readable, key matches certificate, CA parses): the error
  // names the file and OpenSSL's reason.
  static Expected<std::shared_ptr<TlsContext>, std::string> create(const TlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool server() const noexcept { return settings_.server; }
  // A new session, not yet bound to a socket (TlsSession does that; nullptr on allocation
  // failure). verify_ip: client side, the address the server's certificate must name
  // (subjectAltName IP); empty = chain (and allow-list) check only.
  ssl_st* new_session(const std::string& verify_ip) const;
  // After a completed handshake: true when the peer's identity passes the allow-list (and a
  // certificate was shown where one is required). identity: what it presented, for the logs.
  bool identity_allowed(ssl_st* ssl, std::string* identity) const;

 private:
  explicit TlsContext(TlsSettings settings) : settings_(std::move(settings)) {}
  TlsSettings settings_;
  ssl_ctx_st* ctx_ = nullptr;
};

// The identities of the peer's certificate (CN, SAN DNS, SAN URI); empty without a certificate.
std::vector<std::string> peer_identities(ssl_st* ssl);

// OpenSSL's error queue as one line (and cleared), for log lines and error values.
std::string take_tls_errors();

}  // namespace poolreg::tcp
