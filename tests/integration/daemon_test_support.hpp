// Helpers of the tests that start poolregd as a process and talk to it: environment lookup, a
// bounded wait, one request on the daemon's control socket (poolctl's JSON-lines protocol), a
// lane counter summed over lanes, and whether native SCTP (raw sockets) can be used here.
// Used by tests/integration and tests/dataplane/dpdk's daemon tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace poolreg::test {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Waits (bounded) until pred() or the deadline, polling every 50 ms.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// One request line on the daemon's control socket (with `args` when not null); the response,
// parsed (null when none).
inline nlohmann::json control_request(const std::string& socket_path, const std::string& cmd,
                                      const nlohmann::json& args = nullptr) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  std::string response;
  nlohmann::json line = {{"cmd", cmd}};
  if (!args.is_null()) line["args"] = args;
  const std::string request = line.dump() + "\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (int i = 0; i < 100000 && response.find('\n') == std::string::npos; ++i) {  // bounded
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return nlohmann::json::parse(response.substr(0, response.find('\n')), nullptr, false);
}

// One lane counter summed over the lanes of a `stats` reply: control_request's whole response or
// its "result" (0 when there are no lanes or no such counter).
inline std::uint64_t lane_sum(const nlohmann::json& stats, const std::string& key) {
  if (!stats.is_object()) return 0;
  const nlohmann::json& result = stats.contains("result") ? stats["result"] : stats;
  if (!result.is_object() || !result.contains("lanes")) return 0;
  std::uint64_t sum = 0;
  for (const auto& lane : result["lanes"]) sum += lane.value(key, std::uint64_t{0});
  return sum;
}

// Whether this process may open raw IPv4 sockets of protocol 132 (native SCTP; root only).
inline bool raw_sctp_available() {
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_SCTP);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace poolreg::test
