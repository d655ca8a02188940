#include "cli/poolctl/text_table.hpp"

#include <algorithm>

namespace poolreg::poolctl {

std::string TextTable::render() const {
  auto clip = [this](const std::string& s) {
    return s.size() <= max_cell_ ? s : s.substr(0, max_cell_ > 3 ? max_cell_ - 3 : 0) + "...";
  };
  std::vector<std::size_t> widths(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = headers_[i].size();
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], clip(row[i]).size());
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < cells.size() ? clip(cells[i]) : std::string();
      l += cell;
      if (i + 1 < widths.size()) l += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace poolreg::poolctl
