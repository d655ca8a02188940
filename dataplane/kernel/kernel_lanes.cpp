#include "dataplane/kernel/kernel_lanes.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "dataplane/runtime/combined_transport.hpp"
#include "dataplane/kernel/reuseport_steering.hpp"
#include "dataplane/runtime/errno_text.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::kernel {
namespace {

constexpr std::size_t kRingSize = 65536;
constexpr std::size_t kInboxSize = 8192;  // packets other lanes steer to one lane

}  // namespace

unsigned automatic_lane_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = 0;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  const int lanes = cpus - 1;  // one CPU for the control thread
  if (lanes < 1) return 1;
  return lanes > static_cast<int>(KernelLanes::kMaxLanes) ? KernelLanes::kMaxLanes : static_cast<unsigned>(lanes);
}

Expected<std::unique_ptr<KernelLanes>, std::string> KernelLanes::create(const KernelLanesConfig& config,
                                                                        runtime::EventLoop& loop,
                                                                        runtime::MessageHandler& handler) {
  if (config.lanes == 0 || config.lanes > kMaxLanes)
    return unexpected("registrar.lanes = " + std::to_string(config.lanes) + ": 1.." + std::to_string(kMaxLanes) +
                      " (one usrsctp copy per lane; " + sctp::kLaneCeilingHint + ")");
  std::unique_ptr<KernelLanes> b(new KernelLanes());
  b->config_ = config;
  b->ids_.store(runtime::kLaneConnectionIdBase);
  b->udp_port_ = config.udp_port;
  if (auto free = UdpPacketSource::check_port_free(config.bind_address, config.udp_port); !free)
    return unexpected(free.error());
  b->native_ = !config.native_ports.empty();
  b->listen_filter_ = NativeListenFilter(config.native_listeners);
  b->control_wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->control_wake_fd_ < 0) return unexpected(std::string("eventfd: ") + runtime::errno_text(errno));
  // Lane i's socket is the i-th bound of the group: its index there, which the steering program
  // returns.
  if (config.lanes > 1) b->aliases_ = std::make_unique<runtime::AliasOwnerTable>();
  for (unsigned i = 0; i < config.lanes; ++i)
    if (auto added = b->add_lane(i); !added) return unexpected(added.error());
  b->attach_kernel_steering();
  // Every lane knows every inbox (and how to wake its owner).
  std::vector<LaneInbox> inboxes;
  for (const auto& lane : b->lanes_) inboxes.push_back(LaneInbox{lane->inbox.get(), lane->wake_fd});
  std::vector<runtime::LaneTransport::Lane> transport_lanes;
  for (unsigned i = 0; i < b->lanes_.size(); ++i) {
    Lane& lane = *b->lanes_[i];
    lane.loop =
        std::make_unique<KernelLane>(KernelLaneConfig{i, config.lanes, 1000, b->aliases_.get()}, *lane.source,
                                     *lane.engine, *lane.event_sink, *lane.commands, inboxes, *lane.counters);
    if (!lane.loop->ok()) return unexpected("lane " + std::to_string(i) + ": epoll: " + runtime::errno_text(errno));
    if (i == 0 && !lane.loop->set_native_source(lane.native.get(), &b->listen_filter_))
      return unexpected("lane 0: epoll on the raw SCTP socket: " + runtime::errno_text(errno));
    transport_lanes.push_back(runtime::LaneTransport::Lane{lane.rings, lane.engine.get()});
  }
  b->transport_ = std::make_unique<runtime::LaneTransport>(loop, handler, std::move(transport_lanes), b->ids_,
                                                           config.engine.max_message_size);
  return b;
}

Expected<void, std::string> KernelLanes::add_lane(unsigned index) {
  auto lane = std::make_unique<Lane>();
  Lane& l = *lane;
  lanes_.push_back(std::move(lane));  // from here on the destructor frees what was made
  l.counters = std::make_unique<KernelLaneCounters>();
  l.commands = std::make_unique<runtime::LaneRing>(kRingSize);
  l.events = std::make_unique<runtime::LaneRing>(kRingSize);
  l.inbox = std::make_unique<runtime::LaneRing>(kInboxSize);
  l.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (l.wake_fd < 0) return unexpected(std::string("eventfd: ") + runtime::errno_text(errno));
  l.order = std::make_unique<runtime::LaneOrder>();
  l.rings = runtime::LaneRings{l.commands.get(), l.events.get(), control_wake_fd_, l.wake_fd, l.order.get()};
  sctp::UsrsctpStack* stack = &sctp::UsrsctpStack::linked();
  if (index > 0) {
    auto loaded = sctp::UsrsctpStack::load_private();
    if (!loaded)
      return unexpected("lane " + std::to_string(index) + " of " + std::to_string(config_.lanes) +
                        " needs its own usrsctp copy, which cannot be loaded: " + loaded.error() + ". " +
                        sctp::kLaneCeilingHint + " (registrar.lanes / --lanes)");
    l.private_stack = std::move(*loaded);
    stack = l.private_stack.get();
  }
  auto engine = sctp::SctpEngine::create(config_.engine, ids_, stack);
  if (!engine) return unexpected("lane " + std::to_string(index) + ": " + engine.error());
  l.engine = std::move(*engine);
  auto source = UdpPacketSource::open(config_.bind_address, udp_port_, *l.counters);
  if (!source) return unexpected("lane " + std::to_string(index) + ": " + source.error());
  l.source = std::move(*source);
  udp_port_ = l.source->port();  // port 0: the rest of the group joins the port the first one got
  l.event_sink = std::make_unique<runtime::LaneEventSink>(l.rings);
  if (native_) {
    auto raw = RawSctpSource::open(1, index == 0, *l.counters);
    if (raw) {
      l.native = std::move(*raw);
      for (std::uint16_t port : config_.native_ports) l.engine->accept_native(port);
    } else if (index == 0) {  // no CAP_NET_RAW: the lanes carry SCTP over UDP only
      native_ = false;
      native_warning_ = raw.error() + "; native SCTP off, SCTP over UDP only";
    } else {
      return unexpected("lane " + std::to_string(index) + ": " + raw.error());
    }
  }
  l.engine->attach({l.source.get(), l.native.get()}, l.event_sink.get(), l.counters.get());
  if (aliases_ != nullptr) {
    const unsigned lanes = config_.lanes;
    l.engine->set_alias_publishing(sctp::AliasPublishing{
        aliases_.get(), index, [lanes](const IpAddress& ip, std::uint16_t port, bool /*native*/) {
          return runtime::steer_lane(ip.data(), !ip.is_v4(), port, lanes);
        }});
  }
  return {};
}

void KernelLanes::attach_kernel_steering() {
  if (lanes_.size() <= 1) return;
  const int first = lanes_.front()->source->fd();
  if (auto attached = attach_reuseport_steering(first, static_cast<unsigned>(lanes_.size())); !attached) {
    steering_warning_ = attached.error() + "; lanes steer each other's packets in software";
    return;
  }
  std::vector<int> fds;
  for (const auto& lane : lanes_) fds.push_back(lane->source->fd());
  const IpAddress to = config_.bind_address ? *config_.bind_address : IpAddress::v4({127, 0, 0, 1});
  if (auto verified = verify_reuseport_steering(fds, to, udp_port_); !verified) {
    detach_reuseport_steering(first);
    steering_warning_ = "kernel steering (SO_ATTACH_REUSEPORT_CBPF) failed its probe: " + verified.error() +
                        "; detached, lanes steer each other's packets in software";
    return;
  }
  kernel_steering_ = true;
}

Expected<void, std::string> KernelLanes::enable_lane_resolution(const handlespace::Handlespace& hs,
                                                                handlespace::QsbrDomain& domain,
                                                                const asap::AsapConfig& asap) {
  if (started_ || resolving_) return unexpected(std::string("lane resolution must be enabled once, before start()"));
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = *lanes_[i];
    try {
      lane.resolver = std::make_unique<runtime::LaneResolver>(hs, domain, asap, *lane.counters, clock_,
                                                              (asap.registrar_id ^ 0x9e3779b97f4a7c15ull) + i);
    } catch (const std::exception& e) {
      return unexpected("resolution on lane " + std::to_string(i) + ": " + e.what());
    }
    lane.engine->set_local_answerer(lane.resolver.get());
    lane.engine->set_lane_order(lane.order.get());  // a resolution waits for its association's writes
    lane.loop->set_resolver(lane.resolver.get());
  }
  resolving_ = true;
  return {};
}

Expected<void, std::string> KernelLanes::enable_lane_keepalives(const handlespace::Handlespace& hs,
                                                                handlespace::QsbrDomain& domain,
                                                                const asap::AsapConfig& asap) {
  if (started_ || (!lanes_.empty() && lanes_.front()->keepalives))
    return unexpected(std::string("lane keep-alives must be enabled once, before start()"));
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = *lanes_[i];
    try {
      lane.keepalives = runtime::LaneKeepAlives::for_engine(hs, domain, asap, *lane.counters,
                                                            *lane.event_sink, clock_, *lane.engine);
    } catch (const std::exception& e) {
      return unexpected("keep-alives on lane " + std::to_string(i) + ": " + e.what());
    }
    lane.loop->set_keepalives(lane.keepalives.get());
  }
  transport_->set_keepalives_on_lanes(true);
  return {};
}

Expected<void, std::string> KernelLanes::start() {
  if (started_) return {};
  transport_->mark_started();
  started_ = true;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = *lanes_[i];
    try {
      lane.thread = std::thread([loop = lane.loop.get()] { loop->run(); });
    } catch (const std::system_error& e) {
      stop();
      return unexpected("cannot start lane " + std::to_string(i) + ": " + e.what());
    }
    // The name the perf scripts and `top -H` show (at most 15 characters).
    const std::string name = "lane" + std::to_string(i);
    ::pthread_setname_np(lane.thread.native_handle(), name.c_str());
  }
  return {};
}

void KernelLanes::stop() {
  if (!started_) return;
  for (auto& lane : lanes_) lane->loop->request_stop();
  for (auto& lane : lanes_)
    if (lane->thread.joinable()) lane->thread.join();
  started_ = false;
  if (transport_) transport_->drain_events();  // last closes (on_closed(kShutdown)) reach the handler
}

KernelLanes::~KernelLanes() {
  stop();
  transport_.reset();
  // Per lane: loop, engine (usrsctp_finish on this thread: the lanes have stopped), then the
  // resolver (the engine forgets associations into it; reader offline), sink, socket.
  for (auto& lane : lanes_) {
    lane->loop.reset();
    lane->engine.reset();
    lane->resolver.reset();
    lane->keepalives.reset();
    lane->event_sink.reset();
    lane->source.reset();
    lane->native.reset();
    runtime::drain_and_free(lane->rings);
    if (lane->inbox)
      while (void* p = lane->inbox->pop()) std::free(p);
    if (lane->wake_fd >= 0) ::close(lane->wake_fd);
  }
  lanes_.clear();  // private usrsctp copies are closed last
  if (control_wake_fd_ >= 0) ::close(control_wake_fd_);
}

std::string KernelLanes::describe() const {
  return std::to_string(lanes_.size()) + " kernel lane" + (lanes_.size() == 1 ? "" : "s") + " on UDP " +
         std::to_string(udp_port_) + " (SO_REUSEPORT" +
         (kernel_steering_ ? ", steered by cBPF" : lanes_.size() > 1 ? ", steered in software" : "") +
         ")" + (native_ ? ", native SCTP on raw IP sockets" : "") + ", Handle Resolutions on the " +
         (resolving_ ? "lanes" : "control thread");
}

}  // namespace poolreg::kernel
