#include "perf/dataplane/bench_eal.hpp"

#include <rte_eal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace poolreg::perf {

bool start_bench_eal(const char* argv0, const char* name, unsigned memory_mb) {
  std::vector<std::string> eal = {
      argv0,
      "--no-huge",
      "-m",
      std::to_string(memory_mb),
      "--no-pci",
      "--no-shconf",
      "--file-prefix=poolreg-" + std::string(name) + "-" + std::to_string(::getpid()),
      "-l",
      "0-1",
      "--no-telemetry",
      "--log-level=lib.eal:error"};
  std::vector<char*> argv;
  argv.reserve(eal.size());
  for (auto& s : eal) argv.push_back(s.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

void remove_eal_runtime_dir() {
  const std::string dir = rte_eal_get_runtime_dir();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace poolreg::perf
