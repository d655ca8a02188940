#include "dataplane/tcp/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>

namespace poolreg::tcp {

namespace {

Unexpected<std::string> fail(const std::string& what) {
  std::string reason = take_tls_errors();
  return Unexpected(reason.empty() ? what : what + ": " + reason);
}

bool readable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  std::fclose(f);
  return true;
}

void add_name(std::vector<std::string>* out, const ASN1_STRING* s) {
  if (s == nullptr) return;
  const unsigned char* data = ASN1_STRING_get0_data(s);
  const int n = ASN1_STRING_length(s);
  if (data != nullptr && n > 0) out->emplace_back(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
}

}  // namespace

std::string take_tls_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

Expected<std::shared_ptr<TlsContext>, std::string> TlsContext::create(const TlsSettings& settings) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> self(new TlsContext(settings));
  self->ctx_ = SSL_CTX_new(settings.server ? TLS_server_method() : TLS_client_method());
  if (self->ctx_ == nullptr) return fail("SSL_CTX_new failed");
  SSL_CTX* ctx = self->ctx_;
  // RFC 5355 predates 1.3; 1.2 is the floor today. No renegotiation (a peer cannot make us redo
  // a handshake mid-stream), partial writes so a full socket behaves like plain TCP.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (settings.server) SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!settings.certificate.empty()) {
    if (!readable(settings.certificate)) return Unexpected("cannot read certificate file " + settings.certificate);
    if (settings.private_key.empty()) return Unexpected("certificate " + settings.certificate + " has no private key file");
    if (!readable(settings.private_key)) return Unexpected("cannot read private key file " + settings.private_key);
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.certificate.c_str()) != 1)
      return fail("certificate file " + settings.certificate + " is not a PEM certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, settings.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail("private key file " + settings.private_key + " is not a PEM key or does not match certificate " +
                  settings.certificate);
    if (SSL_CTX_check_private_key(ctx) != 1)
      return fail("private key " + settings.private_key + " does not match certificate " + settings.certificate);
  } else if (settings.server) {
    return Unexpected(std::string("a TLS listener needs a certificate"));
  }
  if (!settings.ca_file.empty()) {
    if (!readable(settings.ca_file)) return Unexpected("cannot read CA file " + settings.ca_file);
    if (SSL_CTX_load_verify_locations(ctx, settings.ca_file.c_str(), nullptr) != 1)
      return fail("CA file " + settings.ca_file + " holds no PEM certificate");
    int mode = SSL_VERIFY_PEER;
    if (settings.server && settings.require_peer_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    if (settings.server) {
      // Tell clients which CAs we accept (RFC 5246 certificate_authorities).
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.ca_file.c_str())) SSL_CTX_set_client_CA_list(ctx, names);
    }
  } else if (settings.server && (settings.require_peer_certificate || !settings.allowed_identities.empty())) {
    return Unexpected(std::string("peer certificates are required but no CA file verifies them"));
  }
  return self;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

ssl_st* TlsContext::new_session(const std::string& verify_ip) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  if (settings_.server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!verify_ip.empty()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_ip.c_str());
  }
  return ssl;
}

bool TlsContext::identity_allowed(ssl_st* ssl, std::string* identity) const {
  const std::vector<std::string> names = peer_identities(ssl);
  identity->clear();
  for (const auto& n : names) *identity += (identity->empty() ? "" : ",") + n;
  if (SSL_get0_peer_certificate(ssl) == nullptr) {
    // OpenSSL already refused a missing certificate where one is required; an allow-list needs one too.
    return settings_.allowed_identities.empty() && !(settings_.server && settings_.require_peer_certificate);
  }
  if (settings_.allowed_identities.empty()) return true;
  return std::any_of(names.begin(), names.end(), [this](const std::string& n) {
    return std::find(settings_.allowed_identities.begin(), settings_.allowed_identities.end(), n) !=
           settings_.allowed_identities.end();
  });
}

std::vector<std::string> peer_identities(ssl_st* ssl) {
  std::vector<std::string> out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return out;
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    add_name(&out, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_DNS) add_name(&out, g->d.dNSName);
      if (g->type == GEN_URI) add_name(&out, g->d.uniformResourceIdentifier);
    }
    GENERAL_NAMES_free(sans);
  }
  return out;
}

}  // namespace poolreg::tcp
