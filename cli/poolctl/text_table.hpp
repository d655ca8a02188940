// TextTable: left-aligned columns separated by two spaces, a header row in capitals, for
// poolctl's human-readable output. Cells wider than max_cell are cut with "...".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace poolreg::poolctl {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers, std::size_t max_cell = 60)
      : headers_(std::move(headers)), max_cell_(max_cell) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const noexcept { return rows_.size(); }
  // Every line ends with '\n'; trailing spaces are trimmed.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::size_t max_cell_;
};

}  // namespace poolreg::poolctl
