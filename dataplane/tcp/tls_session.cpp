#include "dataplane/tcp/tls_session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
namespace poolreg::tcp {

namespace {

// The BIO's data: the owning TlsSession's socket descriptor (TlsSession::fd_).
int fd_of(BIO* b) { return *static_cast<const int*>(BIO_get_data(b)); }

bool retryable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

int bio_write(BIO* b, const char* data, int length) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(fd_of(b), data, static_cast<std::size_t>(length), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* buffer, int length) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(fd_of(b), buffer, static_cast<std::size_t>(length), 0);
  if (n < 0 && retryable(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long bio_ctrl(BIO* /*b*/, int command, long /*num*/, void* /*ptr*/) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

// One method table for the process, built on first use (thread-safe static), never freed.
const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "poolreg socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

// -1 with errno for what is not data; EAGAIN for "call again when the socket is ready".
ssize_t map_failure(SSL* ssl, int rc) {
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify: an orderly end, like a FIN
      return 0;
    default:  // protocol error, or the TCP stream ended without close_notify (truncation)
      ERR_clear_error();
      errno = ECONNRESET;
      return -1;
  }
}

}  // namespace

std::unique_ptr<TlsSession> TlsSession::open(std::shared_ptr<const TlsContext> context, int fd, const std::string& verify_ip) {
  const BIO_METHOD* method = socket_method();
  if (method == nullptr) return nullptr;
  SSL* ssl = context->new_session(verify_ip);
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(context), ssl, fd));
  BIO_set_data(bio, &session->fd_);  // stable: the session lives on the heap and outlives its SSL's BIO
  SSL_set_bio(ssl, bio, bio);        // the SSL owns the BIO
  return session;
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Step TlsSession::handshake(std::string* reason) {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return Step::kDone;
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  const long verify = SSL_get_verify_result(ssl_);
  *reason = take_tls_errors();
  if (verify != X509_V_OK) *reason += std::string(reason->empty() ? "" : "; ") + X509_verify_cert_error_string(verify);
  if (reason->empty()) *reason = error == SSL_ERROR_SYSCALL ? "connection ended during the handshake" : "handshake failed";
  return Step::kFailed;
}

bool TlsSession::identity_allowed(std::string* identity) const { return context_->identity_allowed(ssl_, identity); }

ssize_t TlsSession::read(std::uint8_t* buffer, std::size_t capacity) {
  ERR_clear_error();
  const int n = SSL_read(ssl_, buffer, static_cast<int>(capacity > INT_MAX ? INT_MAX : capacity));
  return n > 0 ? n : map_failure(ssl_, n);
}

ssize_t TlsSession::write(const std::uint8_t* data, std::size_t length) {
  ERR_clear_error();
  const int n = SSL_write(ssl_, data, static_cast<int>(length > INT_MAX ? INT_MAX : length));
  if (n > 0) return n;
  const ssize_t r = map_failure(ssl_, n);
  if (r == 0) errno = EPIPE;  // close_notify received: nothing more may be written
  return -1;
}

bool TlsSession::has_pending() const { return SSL_pending(ssl_) > 0; }

void TlsSession::send_close_notify() {
  if (SSL_is_init_finished(ssl_) != 1) return;  // no session to close
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace poolreg::tcp
