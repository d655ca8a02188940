// Generator lanes (see generator_lanes.hpp).
#include "perf/poolgen/generator_lanes.hpp"

#include <csignal>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "perf/poolgen/lane_partition.hpp"
#include "perf/poolgen/load_driver.hpp"

namespace poolreg::poolgen {

namespace {

// What lanes share: each lane's latest stats snapshot and, while it runs, its loop and driver
// (for stop requests from lane 0). Guarded by `mutex`.
struct SharedLanes {
  std::mutex mutex;
  std::vector<RunStats> snapshots;
  std::vector<runtime::EventLoop*> loops;
  std::vector<LoadDriver*> drivers;
  std::string first_error;
  bool stop_requested = false;

  // Any thread: asks every running lane to end its load phase (again: skip the cleanup).
  void stop_all() {
    const std::lock_guard lock(mutex);
    stop_requested = true;
    for (std::size_t k = 0; k < loops.size(); ++k) {
      if (loops[k] == nullptr) continue;
      LoadDriver* d = drivers[k];
      loops[k]->post_from_any_thread([d] { d->request_stop(); });
    }
  }
  void fail(const std::string& error) {
    const std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = error;
  }
};

kernel::SctpStackConfig stack_config(const PoolgenConfig& config, bool private_copy) {
  kernel::SctpStackConfig sc;
  sc.udp_port = 0;
  sc.native = config.sctp_native;
  sc.heartbeat_interval_ms = 5000;
  sc.send_space = 8u << 20;
  sc.receive_space = 8u << 20;
  sc.private_usrsctp = private_copy;
  return sc;
}

// One lane, start to end, on the calling thread. Lane 0 also watches the signals (installed
// before the other lanes' threads exist) and shows progress.
void run_lane(const PoolgenConfig& lane_config, SharedLanes& shared, TimeseriesWriter* timeseries,
              const LaneProgress* progress, runtime::EventLoop& loop) {
  const std::uint32_t k = lane_config.lane;
  std::unique_ptr<kernel::SctpStack> stack;
  if (lane_config.transport == client::ClientTransport::kSctp) {
    std::string error;  // SctpStack::create (dataplane/kernel) still reports through a string
    stack = kernel::SctpStack::create(stack_config(lane_config, k > 0), &error);
    if (!stack) {
      shared.fail("cannot start SCTP (lane " + std::to_string(k) + "): " + error);
      shared.stop_all();
      return;
    }
  }
  {
    LoadDriver driver(loop, stack.get(), lane_config);
    if (k == 0) driver.set_timeseries(timeseries);
    driver.set_on_second([&shared, progress, k](const RunStats& s, double elapsed, bool final) {
      if (final) return;  // the caller shows the merged final figures
      const std::lock_guard lock(shared.mutex);
      shared.snapshots[k] = s;
      if (k != 0 || progress == nullptr || !*progress) return;
      RunStats merged;
      merged.lanes = 0;
      for (const RunStats& lane : shared.snapshots) merge_lane(merged, lane);
      (*progress)(merged, elapsed);
    });
    bool stop_now = false;
    {
      const std::lock_guard lock(shared.mutex);
      shared.loops[k] = &loop;
      shared.drivers[k] = &driver;
      stop_now = shared.stop_requested;
    }
    if (auto started = driver.start(); !started) {
      shared.fail(started.error());
      shared.stop_all();
    } else {
      if (stop_now) driver.request_stop();
      loop.run();
    }
    const std::lock_guard lock(shared.mutex);
    shared.loops[k] = nullptr;
    shared.drivers[k] = nullptr;
    shared.snapshots[k] = driver.stats();
  }
}

}  // namespace

Expected<RunStats, std::string> run_generator_lanes(const PoolgenConfig& config, TimeseriesWriter* timeseries,
                                                    const LaneProgress& progress) {
  const std::vector<PoolgenConfig> lanes = partition_lanes(config);
  SharedLanes shared;
  shared.snapshots.resize(lanes.size());
  shared.loops.assign(lanes.size(), nullptr);
  shared.drivers.assign(lanes.size(), nullptr);
  runtime::EventLoop loop0;
  // Blocks the signals in this thread before the other lanes' threads start: they inherit the
  // mask, so the signals reach lane 0's signalfd only.
  loop0.watch_signals({SIGINT, SIGTERM}, [&shared](int) { shared.stop_all(); });
  std::vector<std::thread> threads;
  threads.reserve(lanes.size() - 1);
  for (std::size_t k = 1; k < lanes.size(); ++k) {
    threads.emplace_back([&shared, &lane = lanes[k]] {
      runtime::EventLoop loop;
      run_lane(lane, shared, nullptr, nullptr, loop);
    });
  }
  run_lane(lanes[0], shared, timeseries, &progress, loop0);
  for (std::thread& t : threads) t.join();
  if (!shared.first_error.empty()) return unexpected(shared.first_error);
  RunStats merged;
  merged.lanes = 0;
  for (const RunStats& lane : shared.snapshots) merge_lane(merged, lane);
  return merged;
}

}  // namespace poolreg::poolgen
