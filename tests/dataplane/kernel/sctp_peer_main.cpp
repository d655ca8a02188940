// kernel_sctp_peer: a second process with its own usrsctp stack (own UDP encapsulation port), used
// by sctp_transport_test to check associations between stacks on different UDP ports.
//   kernel_sctp_peer listen          -> prints "READY <udp_port> <sctp_port>", echoes every
//                                       message back with the same protocol, exits when the
//                                       association closes
//   kernel_sctp_peer connect U P     -> prints "READY <udp_port> 0", connects to 127.0.0.1:P over
//                                       UDP port U, sends one ASAP message, waits for the echo,
//                                       closes, prints "ECHO OK", exits
// Always exits after 10 s at the latest.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/sctp_stack.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argv[1];
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
