// TlsSession: one connection's TLS state (an OpenSSL SSL over the connection's non-blocking
// socket) and the few calls TcpMessageSockets makes on it, with OpenSSL's results mapped onto
// what plain sockets return (bytes, 0 = orderly end, -1 + errno; EAGAIN for WANT_READ/WANT_WRITE),
// so the read and write paths stay one. The socket is written with send(MSG_NOSIGNAL) through a
// BIO of ours: a peer that vanished must not raise SIGPIPE in a client that did not ignore it.
// Internal to dataplane/tcp. Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/tcp/tls_context.hpp"

namespace poolreg::tcp {

class TlsSession {
 public:
  enum class Step : std::uint8_t { kDone, kWantRead, kWantWrite, kFailed };

  // nullptr when OpenSSL cannot allocate a session.
  static std::unique_ptr<TlsSession> open(std::shared_ptr<const TlsContext> context, int fd, const std::string& verify_ip);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // One handshake step. kFailed: *reason holds OpenSSL's reason (certificate verification included).
  Step handshake(std::string* reason);
  // After the handshake: the allow-list check (TlsContext::identity_allowed).
  bool identity_allowed(std::string* identity) const;
  ssize_t read(std::uint8_t* buffer, std::size_t capacity);
  ssize_t write(const std::uint8_t* data, std::size_t length);
  // Decrypted bytes OpenSSL holds that the socket will not announce again.
  bool has_pending() const;
  // Graceful end: one close_notify, best effort (the socket is closed right after).
  void send_close_notify();

 private:
  TlsSession(std::shared_ptr<const TlsContext> context, ssl_st* ssl, int fd)
      : context_(std::move(context)), ssl_(ssl), fd_(fd) {}
  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_;
  int fd_;  // the connection's socket (not owned), read by our BIO
};

}  // namespace poolreg::tcp
