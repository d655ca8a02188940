#include "dataplane/control/operator_arguments.hpp"

#include <cstdio>
#include <vector>

namespace poolreg::control {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::vector<std::uint8_t>> parse_hex_bytes(std::string_view digits) {
  if (digits.empty() || digits.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int hi = hex_value(digits[i]), lo = hex_value(digits[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return bytes;
}

}  // namespace

std::optional<PoolHandle> parse_pool_handle(std::string_view text) {
  if (text.starts_with("text:")) return PoolHandle::from_string(text.substr(5));
  if (text.size() > 2 && (text.starts_with("0x") || text.starts_with("0X"))) {
    if (auto bytes = parse_hex_bytes(text.substr(2))) return PoolHandle::from_bytes(*bytes);
  }
  return PoolHandle::from_string(text);
}

std::string handle_hex(const PoolHandle& handle) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (std::uint8_t b : handle.bytes()) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::optional<std::uint64_t> parse_id(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  if (text.size() > 2 && (text.starts_with("0x") || text.starts_with("0X"))) {
    text.remove_prefix(2);
    if (text.size() > 16) return std::nullopt;
    for (char c : text) {
      const int v = hex_value(c);
      if (v < 0) return std::nullopt;
      value = value * 16 + static_cast<std::uint64_t>(v);
    }
    return value;
  }
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string format_id(std::uint64_t id) {
  char buffer[24];
  if (id <= 0xffffffffu)
    std::snprintf(buffer, sizeof(buffer), "0x%08llx", static_cast<unsigned long long>(id));
  else
    std::snprintf(buffer, sizeof(buffer), "0x%016llx", static_cast<unsigned long long>(id));
  return buffer;
}

PoolHandle handle_arg(const json& args) {
  if (auto it = args.find("handle_hex"); it != args.end()) {
    if (!it->is_string()) throw CommandError(error_code::kBadRequest, "\"handle_hex\" must be a string");
    std::string_view digits = it->get_ref<const std::string&>();
    if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
    auto bytes = parse_hex_bytes(digits);
    std::optional<PoolHandle> h;
    if (bytes) h = PoolHandle::from_bytes(*bytes);
    if (!h) throw CommandError(error_code::kBadRequest, "bad pool handle hex '" + it->get<std::string>() + "'");
    return *h;
  }
  auto it = args.find("handle");
  if (it == args.end()) throw CommandError(error_code::kBadRequest, "missing argument \"handle\"");
  if (!it->is_string()) throw CommandError(error_code::kBadRequest, "\"handle\" must be a string");
  auto h = parse_pool_handle(it->get_ref<const std::string&>());
  if (!h)
    throw CommandError(error_code::kBadRequest, "bad pool handle '" + it->get<std::string>() + "' (1.." +
                                                    std::to_string(kPoolHandleCapacity) + " bytes)");
  return *h;
}

std::uint64_t id_arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end()) throw CommandError(error_code::kBadRequest, std::string("missing argument \"") + name + "\"");
  std::optional<std::uint64_t> id;
  if (it->is_string()) id = parse_id(it->get_ref<const std::string&>());
  else if (it->is_number_unsigned()) id = it->get<std::uint64_t>();
  else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) id = static_cast<std::uint64_t>(it->get<std::int64_t>());
  if (!id || *id == 0)
    throw CommandError(error_code::kBadRequest,
                       std::string("bad ") + name + " '" + (it->is_string() ? it->get<std::string>() : it->dump()) +
                           "' (non-zero, decimal or 0x hex)");
  return *id;
}

std::optional<std::uint64_t> uint_arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(it->get<std::int64_t>());
  if (it->is_string()) {
    if (auto v = parse_id(it->get_ref<const std::string&>())) return v;
  }
  throw CommandError(error_code::kBadRequest, std::string("\"") + name + "\" must be a non-negative integer");
}

}  // namespace poolreg::control
