// EalTestEnvironment: starts DPDK's EAL once per test process on virtual devices only
// (--no-huge -m 256 --no-pci --no-shconf, one lcore) and creates an mbuf pool after EAL init.
// Tests that need EAL call EalTestEnvironment::require() in SetUp(); when EAL cannot start here the
// test is skipped with the reason, never failed silently.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace poolreg::dpdk::test {

class EalTestEnvironment {
 public:
  static EalTestEnvironment& instance() {
    static EalTestEnvironment env;
    return env;
  }
  // nullptr (with the reason in error()) when EAL did not start.
  rte_mempool* pool() const noexcept { return pool_; }
  const std::string& error() const noexcept { return error_; }

 private:
  EalTestEnvironment() {
    // --no-shconf rather than --in-memory: --in-memory refuses --no-huge (legacy memory) in 22.11.
    std::vector<std::string> args = {"poolreg-dpdk-test",
                                     "--no-huge",
                                     "-m",
                                     "256",
                                     "--no-pci",
                                     "--no-shconf",
                                     "--file-prefix=poolreg-test-" + std::to_string(::getpid()),
                                     "-l",
                                     "0",
                                     "--log-level=lib.eal:error",
                                     "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      error_ = std::string("rte_eal_init failed: ") + rte_strerror(rte_errno);
      return;
    }
    runtime_dir_ = rte_eal_get_runtime_dir();
    pool_ = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool_ == nullptr) error_ = std::string("rte_pktmbuf_pool_create failed: ") + rte_strerror(rte_errno);
  }
  ~EalTestEnvironment() {
    // EAL leaves its per-prefix runtime directory behind; ours carries our pid.
    if (!runtime_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(runtime_dir_, ec);
    }
  }
  rte_mempool* pool_ = nullptr;
  std::string error_;
  std::string runtime_dir_;
};

#define POOLREG_REQUIRE_EAL()                                                        \
  do {                                                                               \
    if (::poolreg::dpdk::test::EalTestEnvironment::instance().pool() == nullptr)     \
      GTEST_SKIP() << ::poolreg::dpdk::test::EalTestEnvironment::instance().error(); \
  } while (0)

}  // namespace poolreg::dpdk::test
