// TsharkFixture<Base>: the common set-up of the tshark tests: skip (not fail) when tshark is not
// installed, and a fresh temporary directory for the capture files of each test.
// Base is ::testing::Test or ::testing::TestWithParam<P>.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/dataplane/capture/temp_dir.hpp"
#include "tests/dataplane/capture/tshark_check.hpp"

namespace poolreg::testing {

template <class Base>
class TsharkFixture : public Base {
 protected:
  explicit TsharkFixture(const std::string& dir_tag) : dir_(dir_tag) {}

  void SetUp() override {
    tshark_ = find_tshark();
    if (!tshark_) GTEST_SKIP() << "tshark not found on PATH (.ci/setup.sh installs it)";
    ASSERT_TRUE(dir_.ok());
  }

  std::optional<std::string> tshark_;
  TempDir dir_;
};

}  // namespace poolreg::testing
