// kernel_sctp_peer: a second process with its own usrsctp stack (own UDP encapsulation port), used
// by sctp_transport_test to check associations between stacks on different UDP ports.
//   kernel_sctp_peer listen          -> prints "READY <udp_port> <sctp_port>", echoes every
//                                       message back with the same protocol, exits when the
//                                       association closes
//   kernel_sctp_peer connect U P     -> prints "READY <udp_port> 0", connects to 127.0.0.1:P over
//                                       UDP port U, sends one ASAP message, waits for the echo,
//                                       closes, prints "ECHO OK", exits
//   kernel_sctp_peer ppids U P       -> a foreign peer: plain threaded usrsctp with UDP
//                                       encapsulation (not our stack), connects to 127.0.0.1:P over
//                                       UDP port U, sends one message with PPID 99 and one with the
//                                       legacy ASAP PPID, prints "SENT OK", waits for a line on
//                                       stdin (or 10 s), closes, exits
//   kernel_sctp_peer multihomed U[/L] P A1 A2...
//                                    -> a foreign multi-homed peer (its own UDP encapsulation port
//                                       L, or a free one): plain threaded usrsctp bound to
//                                       the IPv4 addresses A1, A2... (one SCTP port; its INIT lists
//                                       them all), connects to 127.0.0.1:P (or to D:P when P is
//                                       written "D:P") over UDP port U, prints "UP <sctp_port>" (or
//                                       "BIND FAILED <address>" and exits 3);
//                                       then each stdin line is a message in hex sent with the
//                                       ASAP PPID, each message received is printed as
//                                       "RECV <hex>"; an empty line, EOF or 10 s closes and exits.
//                                       An ASAP Endpoint Keep-Alive is not printed but answered
//                                       with a Keep-Alive Ack, as a PE does (noted on stderr).
//                                       Address changes on the live association (RFC 5061, sent
//                                       by usrsctp as ASCONF with AUTH): "ADD <ipv4>" binds one
//                                       more address (ADD-IP), "DEL <ipv4>" unbinds one
//                                       (DELETE-IP), "PRIM <ipv4>" asks the peer to make it the
//                                       primary (SET-PRIMARY); each prints "DONE <command>" or
//                                       "FAILED <command>". "RECONNECT D:P" aborts the association
//                                       and opens a new one to D:P from the same addresses and
//                                       port (a PE moving to another registrar without
//                                       re-registering): prints "UP <sctp_port>" or
//                                       "FAILED <command>"
// Always exits after 10 s at the latest.
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>
#include <usrsctp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "registrar/common/connection.hpp"
#include "registrar/wire/asap_codec.hpp"

using namespace poolreg;
using namespace poolreg::kernel;

namespace {

class Peer : public runtime::MessageHandler {
 public:
  explicit Peer(runtime::EventLoop& loop) : loop_(loop) {}
  void on_connected(ConnectionId, const ConnectionPeer&) override {}
  void on_message(ConnectionId id, const runtime::MessageInfo& info, std::span<const std::uint8_t> bytes) override {
    if (echo) {
      transport->send(id, info.protocol, bytes);
    } else {
      got_echo = true;
      transport->close(id);
    }
  }
  void on_closed(ConnectionId, runtime::CloseReason) override { loop_.stop(); }

  KernelTransport* transport = nullptr;
  bool echo = true;
  bool got_echo = false;

 private:
  runtime::EventLoop& loop_;
};

// A free UDP port for usrsctp's own encapsulation socket.
std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_ANY);
  ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in);
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  ::close(fd);
  return ntohs(in.sin_port);
}

// Threaded usrsctp over UDP, as another SCTP implementation would speak to us: PPIDs our
// transport never sends.
int send_foreign_ppids(std::uint16_t udp_port, std::uint16_t sctp_port) {
  usrsctp_init(free_udp_port(), nullptr, nullptr);
  struct socket* raw = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (raw == nullptr) return 1;
  sctp_udpencaps encaps{};
  encaps.sue_address.ss_family = AF_INET;
  encaps.sue_port = htons(udp_port);
  if (usrsctp_setsockopt(raw, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps) != 0) return 1;
  runtime::SocketAddress to = runtime::SocketAddress::from(IpAddress::v4({127, 0, 0, 1}), sctp_port);
  if (usrsctp_connect(raw, to.get(), to.length) != 0) return 1;  // blocking; usrsctp's threads do the handshake
  auto send_ppid = [&](std::uint32_t ppid) {
    const std::uint8_t m[8] = {0x01, 0, 0, 8, 0, 0, 0, 0};
    sctp_sndinfo info{};
    info.snd_ppid = htonl(ppid);
    return usrsctp_sendv(raw, m, sizeof m, nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0);
  };
  if (send_ppid(99) != 8 || send_ppid(kAsapLegacyPpid) != 8) return 1;
  std::printf("SENT OK\n");
  std::fflush(stdout);
  pollfd p{0, POLLIN, 0};
  ::poll(&p, 1, 10000);
  usrsctp_close(raw);
  for (int i = 0; i < 100 && usrsctp_finish() != 0; ++i) ::usleep(10000);
  return 0;
}

void print_received(const std::uint8_t* data, std::size_t n) {
  std::string line = "RECV ";
  static const char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    line.push_back(kHex[data[i] >> 4]);
    line.push_back(kHex[data[i] & 15]);
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// An ASAP Endpoint Keep-Alive in `bytes` is answered on `so` with its Ack (a PE that does not
// answer is removed or, on a probe, loses its binding): true when it was one.
bool answer_keep_alive(struct socket* so, std::span<const std::uint8_t> bytes) {
  auto decoded = wire::decode_asap(bytes);
  const auto* keep_alive = decoded ? std::get_if<wire::EndpointKeepAlive>(&decoded.value()) : nullptr;
  if (keep_alive == nullptr) return false;
  wire::EndpointKeepAliveAck ack;
  ack.pool_handle = keep_alive->pool_handle;
  ack.pe_id = keep_alive->pe_id.value_or(0);
  std::vector<std::uint8_t> m;
  sctp_sndinfo info{};
  info.snd_ppid = htonl(kAsapPpid);
  const bool sent = wire::encode(ack, wire::WireOptions{}, m).ok() &&
                    usrsctp_sendv(so, m.data(), m.size(), nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0) ==
                        static_cast<ssize_t>(m.size());
  std::fprintf(stderr, "kernel_sctp_peer: keep-alive (H=%d) %s\n", keep_alive->home ? 1 : 0,
               sent ? "answered" : "NOT answered");
  return true;
}

// usrsctp's receive thread: every whole message is printed, keep-alives answered.
int print_message(struct socket* so, union sctp_sockstore, void* data, std::size_t length, struct sctp_rcvinfo,
                  int flags, void*) {
  if (data == nullptr) return 1;
  const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(data), length);
  if ((flags & MSG_NOTIFICATION) == 0 && !answer_keep_alive(so, bytes)) print_received(bytes.data(), bytes.size());
  std::free(data);
  return 1;
}

// "ADD a", "DEL a", "PRIM a" (see the file comment): true when it was one of them (done or not).
bool address_command(struct socket* so, std::uint16_t local_port, const std::string& line) {
  const std::size_t space = line.find(' ');
  if (space == std::string::npos) return false;
  const std::string verb = line.substr(0, space);
  if (verb != "ADD" && verb != "DEL" && verb != "PRIM") return false;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(local_port);
  int rc = -1;
  if (::inet_pton(AF_INET, line.c_str() + space + 1, &in.sin_addr) == 1) {
    if (verb == "PRIM") {
      sctp_setpeerprim prim{};
      std::memcpy(&prim.sspp_addr, &in, sizeof in);
      rc = usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_SET_PEER_PRIMARY_ADDR, &prim, sizeof prim);
    } else {
      rc = usrsctp_bindx(so, reinterpret_cast<sockaddr*>(&in), 1,
                         verb == "ADD" ? SCTP_BINDX_ADD_ADDR : SCTP_BINDX_REM_ADDR);
    }
  }
  std::printf("%s %s\n", rc == 0 ? "DONE" : "FAILED", line.c_str());
  std::fflush(stdout);
  return true;
}

std::vector<std::uint8_t> from_hex(const std::string& text) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16)));
  return out;
}

// Reads one line from stdin within `ms`; false on EOF or timeout.
bool read_stdin_line(std::string& line, int ms) {
  line.clear();
  for (;;) {
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char c = 0;
    if (::read(0, &c, 1) != 1) return false;
    if (c == '\n') return true;
    line.push_back(c);
  }
}

// "D:P" or "P" (D = 127.0.0.1) as an IPv4 socket address; false when it is not one.
bool parse_destination(const std::string& text, sockaddr_in& to) {
  to = sockaddr_in{};
  to.sin_family = AF_INET;
  const std::size_t colon = text.rfind(':');
  const std::string host = colon == std::string::npos ? "127.0.0.1" : text.substr(0, colon);
  const long port = std::strtol(text.c_str() + (colon == std::string::npos ? 0 : colon + 1), nullptr, 10);
  if (port <= 0 || port > 65535 || ::inet_pton(AF_INET, host.c_str(), &to.sin_addr) != 1) return false;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  return true;
}

// A socket bound to `addresses` (port `local_port`, 0 = any: then set to the one chosen) and
// connected to `to` over UDP port `udp_port`; nullptr when that failed (after printing
// "BIND FAILED <address>" and setting bind_failed when binding did).
struct socket* open_association(std::uint16_t udp_port, const sockaddr_in& to, const std::vector<std::string>& addresses,
                                std::uint16_t& local_port, bool& bind_failed) {
  struct socket* so = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, print_message, nullptr, 0, nullptr);
  if (so == nullptr) return nullptr;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(local_port);
    const bool parsed = ::inet_pton(AF_INET, addresses[i].c_str(), &in.sin_addr) == 1;
    // The first address picks the port, the others join it (sctp_bindx needs one port for all).
    const int rc = !parsed   ? -1
                   : i == 0 ? usrsctp_bind(so, reinterpret_cast<sockaddr*>(&in), sizeof in)
                            : usrsctp_bindx(so, reinterpret_cast<sockaddr*>(&in), 1, SCTP_BINDX_ADD_ADDR);
    if (rc != 0) {
      std::printf("BIND FAILED %s\n", addresses[i].c_str());
      std::fflush(stdout);
      usrsctp_close(so);
      bind_failed = true;
      return nullptr;
    }
    if (i == 0 && local_port == 0) {
      sockaddr_in bound{};
      sockaddr* list = nullptr;
      const int n = usrsctp_getladdrs(so, 0, &list);
      if (n > 0 && list != nullptr) {
        std::memcpy(&bound, list, sizeof bound);
        usrsctp_freeladdrs(list);
      }
      local_port = ntohs(bound.sin_port);
    }
  }
  sctp_udpencaps encaps{};
  encaps.sue_address.ss_family = AF_INET;
  encaps.sue_port = htons(udp_port);
  sockaddr_in peer = to;
  // usrsctp_connect blocks; usrsctp's threads do the handshake.
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps) != 0 ||
      usrsctp_connect(so, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    usrsctp_close(so);
    return nullptr;
  }
  return so;
}

// Ends the association at once (ABORT, no graceful shutdown), so its port is free again.
void abort_association(struct socket* so) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  usrsctp_close(so);
}

// A multi-homed foreign peer: threaded usrsctp bound to several addresses, so that its INIT
// carries them as IPv4 Address parameters (RFC 9260 §3.3.2).
int multihomed(std::uint16_t udp_port, std::uint16_t own_udp_port, const std::string& destination,
               std::vector<std::string> addresses) {
  sockaddr_in to{};
  if (!parse_destination(destination, to)) return 2;
  // A given port of its own: a test that must know how the registrar steers this peer (by its
  // address and UDP port) chooses it.
  usrsctp_init(own_udp_port != 0 ? own_udp_port : free_udp_port(), nullptr, nullptr);
  std::uint16_t local_port = 0;
  bool bind_failed = false;
  struct socket* so = open_association(udp_port, to, addresses, local_port, bind_failed);
  if (so == nullptr) {
    usrsctp_finish();
    return bind_failed ? 3 : 1;
  }
  std::printf("UP %u\n", local_port);
  std::fflush(stdout);
  std::string line;
  int rc = 0;
  while (read_stdin_line(line, 10000) && !line.empty()) {
    if (line.rfind("RECONNECT ", 0) == 0) {
      sockaddr_in next{};
      abort_association(so);
      so = parse_destination(line.substr(10), next) ? open_association(udp_port, next, addresses, local_port, bind_failed)
                                                    : nullptr;
      if (so == nullptr) {
        std::printf("FAILED %s\n", line.c_str());
        std::fflush(stdout);
        rc = 1;
        break;
      }
      std::printf("UP %u\n", local_port);
      std::fflush(stdout);
      continue;
    }
    if (address_command(so, local_port, line)) {
      // The bound set follows (a RECONNECT binds what is bound now).
      const std::string address = line.substr(line.find(' ') + 1);
      if (line.rfind("ADD ", 0) == 0) addresses.push_back(address);
      if (line.rfind("DEL ", 0) == 0) std::erase(addresses, address);
      continue;
    }
    const std::vector<std::uint8_t> m = from_hex(line);
    sctp_sndinfo info{};
    info.snd_ppid = htonl(kAsapPpid);
    if (m.empty() || usrsctp_sendv(so, m.data(), m.size(), nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO,
                                   0) != static_cast<ssize_t>(m.size())) {
      rc = 1;
      break;
    }
  }
  if (so != nullptr) usrsctp_close(so);
  for (int i = 0; i < 100 && usrsctp_finish() != 0; ++i) ::usleep(10000);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argv[1];
  if (mode == "multihomed") {
    if (argc < 5) return 2;
    const char* own = std::strchr(argv[2], '/');  // "U/L": L is the helper's own UDP port
    return multihomed(static_cast<std::uint16_t>(std::atoi(argv[2])),
                      own != nullptr ? static_cast<std::uint16_t>(std::atoi(own + 1)) : std::uint16_t{0}, argv[3],
                      std::vector<std::string>(argv + 4, argv + argc));
  }
  if (mode == "ppids") {
    if (argc != 4) return 2;
    return send_foreign_ppids(static_cast<std::uint16_t>(std::atoi(argv[2])),
                              static_cast<std::uint16_t>(std::atoi(argv[3])));
  }
  SctpStackConfig config;
  config.udp_port = 0;
  std::string error;
  auto stack = SctpStack::create(config, &error);
  if (!stack) {
    std::fprintf(stderr, "stack: %s\n", error.c_str());
    return 1;
  }
  runtime::EventLoop loop;
  Peer peer(loop);
  int rc = 0;
  {
    KernelTransport transport(loop, peer, stack.get());
    peer.transport = &transport;
    const IpAddress lo[] = {IpAddress::v4({127, 0, 0, 1})};
    loop.schedule_after(10 * kNsPerSec, [&] { loop.stop(); });
    if (mode == "listen") {
      runtime::ListenResult r = transport.listen_sctp(WireProtocol::kAsap, lo, 0);
      if (!r) return 1;
      std::printf("READY %u %u\n", stack->udp_port(), *r);
      std::fflush(stdout);
      loop.run();
    } else if (mode == "connect" && argc == 4) {
      peer.echo = false;
      std::printf("READY %u 0\n", stack->udp_port());
      std::fflush(stdout);
      ConnectionId id = transport.connect_sctp(WireProtocol::kAsap, lo, static_cast<std::uint16_t>(std::atoi(argv[3])),
                                               static_cast<std::uint16_t>(std::atoi(argv[2])));
      const std::uint8_t msg[8] = {0x01, 0, 0, 8, 1, 2, 3, 4};
      if (id == kNoConnectionId || !runtime::send_ok(transport.send(id, WireProtocol::kAsap, msg))) return 1;
      loop.run();
      if (peer.got_echo) {
        std::printf("ECHO OK\n");
      } else {
        rc = 1;
      }
    } else {
      return 2;
    }
    transport.close_all();
    for (int i = 0; i < 10; ++i) loop.run_once(10);
  }
  std::fflush(stdout);
  return rc;
}
