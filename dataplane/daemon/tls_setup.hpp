// TlsContexts: the registrar's TLS configurations built from [tls] (RFC 5355): the ASAP/TLS
// listener's (client certificates optional or required, ASAP allow-list), the ENRP/TLS listener's
// and the outgoing ENRP connections' (both always mutual, ENRP allow-list). Built at start-up and
// by `poolregd --check-config`, so a key that does not match its certificate or a file that is not
// PEM stops both with the file's name. Control thread only (immutable once built).
#pragma once

#include <memory>
#include <string>

#include "config/registrar_config.hpp"
#include "dataplane/tcp/tls_context.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::daemon {

struct TlsContexts {
  std::shared_ptr<const tcp::TlsContext> asap_server;
  std::shared_ptr<const tcp::TlsContext> enrp_server;
  std::shared_ptr<const tcp::TlsContext> enrp_client;
};

// Empty contexts when TLS is off (tls.certificate empty); else all three, or the first error.
Expected<TlsContexts, std::string> make_tls_contexts(const config::TlsSection& tls);

// ENRP runs over TLS: TLS configured, ENRP over TCP on, an ENRP/TLS port.
bool enrp_over_tls(const config::RegistrarConfig& c) noexcept;

}  // namespace poolreg::daemon
