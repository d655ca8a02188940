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
// Always exits after 10 s at the latest.
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>
#include <usrsctp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "registrar/common/connection.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argv[1];
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
