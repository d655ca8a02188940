// Fixture of the ENRP cluster integration tests: three poolregd processes on 127.0.0.1 (random
// ports, static peers naming each other's UDP encapsulation port with enrp.peers udp_port, the
// fast ENRP profile shortened to the smallest allowed timers, test-only control commands on),
// the test process's usrsctp stack for clients, and helpers to resolve until a condition holds
// and to ask a daemon's control socket (peers, stats, pool, test-corrupt-view).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "dataplane/control/control_client.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {

using client::ClientStatus;
using client::ClientTransport;
using client::PoolElementClient;
using client::PoolUserClient;
using client::ResolutionResult;
using json = nlohmann::json;

inline const IpAddress kLoopback = IpAddress::v4(0x7f000001u);
inline constexpr std::array<RegistrarId, 3> kClusterIds = {0x10000001u, 0x10000002u, 0x10000003u};
// enrp.heartbeat_interval_ms of the cluster; one full Presence cycle is this + 12.5 % jitter.
inline constexpr auto kHeartbeat = std::chrono::milliseconds(1000);
inline constexpr auto kPresenceCycle = kHeartbeat + kHeartbeat / 8;

inline PoolHandle handle_of(const char* s) { return *PoolHandle::from_string(s); }

inline client::PeRegistration registration(const PoolHandle& h, PoolElementId id, TransportProtocol user,
                                           std::uint32_t life_ms = 30000) {
  client::PeRegistration r;
  r.handle = h;
  r.id = id;
  r.user_transport.protocol = user;
  r.user_transport.port = static_cast<std::uint16_t>(6000 + id % 50000);
  r.user_transport.addresses = {kLoopback};
  r.policy.type = PolicyType::kRoundRobin;
  r.registration_life_ms = life_ms;
  return r;
}

inline std::set<PoolElementId> ids_of(const ResolutionResult& r) {
  std::set<PoolElementId> s;
  if (r.ok())
    for (const auto& pe : r.elements) s.insert(pe.id);
  return s;
}

// The ENRP timer arguments of every cluster daemon (fast profile, smallest allowed values).
inline std::vector<std::string> fast_enrp_args() {
  return {"--set", "enrp.profile=fast",
          "--set", "enrp.heartbeat_interval_ms=" + std::to_string(kHeartbeat.count()),
          "--set", "enrp.max_time_last_heard_ms=2000",
          "--set", "enrp.max_time_no_response_ms=1000",
          "--set", "enrp.takeover_expiry_ms=1000",
          "--set", "enrp.mentor_discovery_ms=1000",
          "--set", "asap.address_check=false",
          "--set", "control.test_commands=true"};
}

// enrp.peers TOML value naming each peer's ENRP port and its UDP encapsulation port.
inline std::string peers_value(const std::vector<DaemonPorts>& peers) {
  std::string v = "[";
  for (const auto& p : peers) {
    v += std::string(v.size() > 1 ? ", " : "") + "{ address = \"127.0.0.1:" + std::to_string(p.enrp) +
         "\", udp_port = " + std::to_string(p.udp) + " }";
  }
  return v + "]";
}

// One control-socket request; the "result" object, or null with a test failure recorded.
inline json control_call(const Poolregd& d, const std::string& cmd, const json& args = json::object()) {
  control::ClientError error;
  auto c = control::ControlClient::connect(d.control_socket_path(), 3000, &error);
  if (!c) {
    ADD_FAILURE() << d.name() << ": control socket: " << error.message;
    return nullptr;
  }
  auto r = c->call(cmd, args, &error);
  if (!r) {
    ADD_FAILURE() << d.name() << ": " << cmd << ": " << error.message;
    return nullptr;
  }
  if (!r->value("ok", false)) return json{{"error", r->value("error", std::string("?"))}};
  return (*r)["result"];
}

// Every peer in the daemon's table is alive and announces the checksum we compute for it.
inline bool peers_alive_and_in_sync(const Poolregd& d, std::size_t expected_peers,
                                    std::string* why = nullptr) {
  json r = control_call(d, "peers");
  if (r.is_null() || !r.contains("peers")) return false;
  std::size_t alive = 0;
  for (const auto& p : r["peers"]) {
    if (p["state"] != "alive" || !p["in_sync"].get<bool>() || p["sync_running"].get<bool>()) {
      if (why != nullptr) *why = d.name() + ": " + p.dump();
      return false;
    }
    ++alive;
  }
  if (why != nullptr && alive != expected_peers) *why = d.name() + ": " + r.dump();
  return alive == expected_peers;
}

inline std::uint64_t enrp_counter(const Poolregd& d, const char* name) {
  json r = control_call(d, "stats");
  if (r.is_null() || !r.contains("enrp") || r["enrp"].is_null()) return 0;
  return r["enrp"].value(name, std::uint64_t{0});
}

// PEs of `pool` in the daemon's handlespace (control "pool"); -1 when the pool is unknown.
inline long pool_pe_count(const Poolregd& d, const PoolHandle& pool) {
  json r = control_call(d, "pool", json{{"handle", pool.to_display()}});
  if (r.is_null() || !r.contains("pe_count")) return -1;
  return r["pe_count"].get<long>();
}

// Polls pred every 50 ms until it holds or `limit` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return pred();
}

class PoolregdCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    for (auto& p : ports_) p = pick_ports();
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> args = {"--id", std::to_string(kClusterIds[i]), "--sctp-remote-udp-port",
                                       std::to_string(StackEnvironment::stack->udp_port())};
      for (auto& a : fast_enrp_args()) args.push_back(std::move(a));
      if (address_check_) args.insert(args.end(), {"--set", "asap.address_check=true"});  // the default
      // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
      if (std::getenv("POOLREG_IT_DEBUG") != nullptr) args.insert(args.end(), {"--log-level", "debug"});
      std::vector<DaemonPorts> peers;
      for (int j = 0; j < 3; ++j)
        if (j != i) peers.push_back(ports_[j]);
      args.push_back("--set");
      args.push_back("enrp.peers=" + peers_value(peers));
      daemons_[i] = std::make_unique<Poolregd>(std::string(1, static_cast<char>('a' + i)), ports_[i], args);
      if (i == 2 && late_c_) continue;
      ASSERT_TRUE(daemons_[i]->start()) << i;
    }
    for (auto& d : daemons_) {
      if (d->running()) {
        ASSERT_TRUE(d->wait_for_log("listening:", 10s)) << d->log();
      }
    }
  }
  void TearDown() override {
    for (auto& d : daemons_) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
      if (::testing::Test::HasFailure() || std::getenv("POOLREG_IT_VERBOSE") != nullptr)
        std::cerr << "---- poolregd " << d->name() << " (" << d->state() << ") log ----\n" << d->log();
      d->kill_now();
    }
  }

  std::unique_ptr<PoolUserClient> pu_at(int i, ClientTransport t = ClientTransport::kSctp) {
    auto c = std::make_unique<PoolUserClient>(loop_, StackEnvironment::stack.get(),
                                              daemons_[i]->client_options(t));
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  std::unique_ptr<PoolElementClient> pe_at(int i, ClientTransport t = ClientTransport::kSctp) {
    auto o = daemons_[i]->client_options(t);
    if (t == ClientTransport::kSctp) o.pe_listen_port = 0;  // reachable by a takeover registrar
    auto c = std::make_unique<PoolElementClient>(loop_, StackEnvironment::stack.get(), o);
    EXPECT_EQ(client::connect_and_wait(*c, 5s), ClientStatus::kOk);
    return c;
  }
  // Resolves (up to 16 items) every 100 ms until pred holds or `limit` passes.
  ResolutionResult resolve_until(PoolUserClient& pu, const PoolHandle& h,
                                 const std::function<bool(const ResolutionResult&)>& pred,
                                 std::chrono::milliseconds limit) {
    return client::resolve_until(pu, h, 16, pred, limit, 100ms, 4s);
  }
  static std::function<bool(const ResolutionResult&)> has_ids(const std::set<PoolElementId>& want) {
    return [want](const ResolutionResult& r) { return ids_of(r) == want; };
  }
  // Runs the client event loop (keep-alive acks of our PEs) while polling pred every 100 ms.
  bool eventually_serving(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (pred()) return true;
      client::run_until(
          loop_, [] { return false; }, 100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return pred();
  }
  // Every running daemon sees its peers alive with matching checksums.
  bool cluster_in_sync(std::string* why) {
    for (auto& d : daemons_)
      if (d->running() && !peers_alive_and_in_sync(*d, 2, why)) return false;
    return true;
  }

  runtime::EventLoop loop_;
  bool late_c_ = false;  // C is not started by SetUp
  // asap.address_check as configured by default (on) instead of off (fast_enrp_args).
  bool address_check_ = false;
  std::array<DaemonPorts, 3> ports_;
  std::array<std::unique_ptr<Poolregd>, 3> daemons_;
};

}  // namespace poolreg::integration
