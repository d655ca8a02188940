#include "registrar/common/counter_descriptor.hpp"

namespace poolreg {

std::string CounterSample::key() const {
  std::string k(descriptor->key);
  if (descriptor->label_value.empty() && !descriptor->label.empty()) k += "." + label_value;
  return k;
}

std::string counter_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(keep ? c : '_');
  }
  return out;
}

}  // namespace poolreg
