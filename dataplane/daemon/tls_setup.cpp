#include "dataplane/daemon/tls_setup.hpp"

namespace poolreg::daemon {

bool enrp_over_tls(const config::RegistrarConfig& c) noexcept {
  return c.tls.enabled() && c.enrp.enabled && c.enrp.tcp && c.tls.enrp_port != 0;
}

Expected<TlsContexts, std::string> make_tls_contexts(const config::TlsSection& tls) {
  TlsContexts out;
  if (!tls.enabled()) return out;
  tcp::TlsSettings s;
  s.certificate = tls.certificate;
  s.private_key = tls.private_key;
  s.ca_file = tls.ca_file;
  // ASAP: PEs and PUs may or must show a certificate; the allow-list needs one.
  s.server = true;
  s.require_peer_certificate = tls.require_client_certificate_asap || !tls.asap_allowed_identities.empty();
  s.allowed_identities = tls.asap_allowed_identities;
  auto asap = tcp::TlsContext::create(s);
  if (!asap) return Unexpected("tls (ASAP): " + asap.error());
  out.asap_server = std::move(asap).value();
  // ENRP: registrars always authenticate each other, in both directions.
  s.require_peer_certificate = true;
  s.allowed_identities = tls.enrp_allowed_identities;
  auto enrp = tcp::TlsContext::create(s);
  if (!enrp) return Unexpected("tls (ENRP): " + enrp.error());
  out.enrp_server = std::move(enrp).value();
  s.server = false;
  auto client = tcp::TlsContext::create(s);
  if (!client) return Unexpected("tls (ENRP client): " + client.error());
  out.enrp_client = std::move(client).value();
  return out;
}

}  // namespace poolreg::daemon
