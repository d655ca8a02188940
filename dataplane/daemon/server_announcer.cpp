// ServerAnnouncer: jittered periodic ASAP Server Announce multicast.
#include "dataplane/daemon/server_announcer.hpp"

namespace poolreg::daemon {

Expected<std::unique_ptr<ServerAnnouncer>, std::string> ServerAnnouncer::create(
    runtime::EventLoop& loop, const ServerAnnounceSettings& settings, std::vector<std::uint8_t> message) {
  if (message.empty()) return unexpected(std::string("empty Server Announce message"));
  kernel::UdpMulticastConfig mc;
  mc.group = settings.group;
  mc.port = settings.port;
  mc.interface_address = settings.interface_address;
  mc.ttl = settings.ttl;
  mc.loopback = true;   // PEs/PUs on this host hear it too
  mc.receive = false;   // send only
  auto socket = kernel::UdpMulticastSocket::open(loop, mc, {});
  if (!socket) return unexpected(std::move(socket).error());
  return std::unique_ptr<ServerAnnouncer>(
      new ServerAnnouncer(loop, settings, std::move(socket).value(), std::move(message)));
}

ServerAnnouncer::ServerAnnouncer(runtime::EventLoop& loop, const ServerAnnounceSettings& settings,
                                 std::unique_ptr<kernel::UdpMulticastSocket> socket, std::vector<std::uint8_t> message)
    : loop_(loop),
      settings_(settings),
      socket_(std::move(socket)),
      message_(std::move(message)),
      random_(std::random_device{}()) {}

ServerAnnouncer::~ServerAnnouncer() {
  if (timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(timer_);
}

void ServerAnnouncer::start() {
  if (started()) return;
  announce();
}

void ServerAnnouncer::announce() {
  socket_->send(message_);
  // Uniform in [0.875, 1.125] x interval (RSPLIB), fresh for every cycle.
  std::uniform_real_distribution<double> jitter(0.875, 1.125);
  const auto next = static_cast<TimeNs>(static_cast<double>(settings_.interval) * jitter(random_));
  timer_ = loop_.schedule_after(next, [this] { announce(); });
}

}  // namespace poolreg::daemon
