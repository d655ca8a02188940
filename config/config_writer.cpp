// dump_effective_config(): every schema key with its value, as TOML that loads back unchanged.
#include <string>

#include "config/config_diff.hpp"
#include "config/config_loader.hpp"
#include "config/config_schema.hpp"
#include "config/config_text.hpp"

namespace poolreg::config {
namespace {

std::string id_text(RegistrarId id) {
  // TOML integers are signed 64-bit: larger IDs travel as hex strings.
  if (id > 0x7fffffffffffffffULL) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "\"0x%016llx\"", static_cast<unsigned long long>(id));
    return buf;
  }
  return std::to_string(id);
}

class TomlWriter {
 public:
  std::string out;
  // The same keys as "section.key" with their TOML value text (config_values()).
  std::vector<ConfigValue> values;

  void section(std::string_view name) {
    if (!out.empty()) out += "\n";
    out += "[" + std::string(name) + "]\n";
    section_ = name;
  }
  void boolean(std::string_view key, const bool& v) { line(key, v ? "true" : "false"); }
  template <typename T>
  void integer(std::string_view key, const T& v, std::uint64_t, std::uint64_t) {
    line(key, std::to_string(v));
  }
  void number(std::string_view key, const double& v, double, double) { line(key, format_double(v)); }
  template <typename E>
  void choice(std::string_view key, const E& v, std::span<const schema::Choice<E>> options) {
    for (const auto& c : options) {
      if (c.value == v) return line(key, toml_quote(c.name));
    }
  }
  void text(std::string_view key, const std::string& v) { line(key, toml_quote(v)); }
  void addresses(std::string_view key, const std::vector<IpAddress>& v, std::size_t) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_quote(v[i].to_string());
    line(key, s + "]");
  }
  void socket_address(std::string_view key, const SocketAddress& v) { line(key, toml_quote(to_string(v))); }
  void strings(std::string_view key, const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_quote(v[i]);
    line(key, s + "]");
  }
  void ports(std::string_view key, const std::vector<std::uint16_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    line(key, s + "]");
  }
  void file_mode(std::string_view key, const std::uint32_t& v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0o%03o", v);
    line(key, buf);
  }
  void peers(std::string_view key, const std::vector<EnrpPeerConfig>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      s += (i ? ", " : "") + std::string("{ address = ") + toml_quote(to_string(v[i].address)) +
           ", id = " + id_text(v[i].id);
      if (v[i].udp_port != 0) s += ", udp_port = " + std::to_string(v[i].udp_port);
      if (v[i].sctp_native) s += ", sctp_native = true";
      s += " }";
    }
    line(key, s + "]");
  }
  void registrar_id(std::string_view key, const RegistrarId& v) { line(key, id_text(v)); }

 private:
  void line(std::string_view key, const std::string& value) {
    out += std::string(key) + " = " + value + "\n";
    values.push_back({std::string(section_) + "." + std::string(key), value});
  }
  std::string_view section_;
};

}  // namespace

std::string dump_effective_config(const RegistrarConfig& config) {
  TomlWriter writer;
  schema::visit_config(writer, config);
  return "# poolregd effective configuration (every key; registrar.id 0 = random at start)\n" + writer.out;
}

std::vector<ConfigValue> config_values(const RegistrarConfig& config) {
  TomlWriter writer;
  schema::visit_config(writer, config);
  return std::move(writer.values);
}

}  // namespace poolreg::config
