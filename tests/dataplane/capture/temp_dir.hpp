// TempDir: a fresh directory under the system temp dir, removed with everything in it when the
// object goes away. For tests that write capture files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace poolreg::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<unsigned> counter{0};
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {  // bounded
      path_ = base / ("poolreg-" + tag + "-" + std::to_string(::getpid()) + "-" +
                      std::to_string(counter.fetch_add(1)));
      std::error_code ec;
      if (std::filesystem::create_directory(path_, ec) && !ec) return;
    }
    path_.clear();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace poolreg::testing
