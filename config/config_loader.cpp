// TOML → RegistrarConfig: index the file and the --set overrides by section.key, pick the mode and
// profile defaults, read every schema key with type/range checks, then run validate_config().
#include "config/config_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "config/config_schema.hpp"
#include "config/config_text.hpp"

namespace poolreg::config {
namespace {

constexpr std::string_view kCommandLinePrefix = "command line ";

// Collects the names of all sections and keys the schema knows, and which keys hold strings.
class KeyCollector {
 public:
  std::map<std::string, std::set<std::string>, std::less<>> keys;
  std::set<std::string, std::less<>> string_keys;  // "section.key"

  void section(std::string_view name) {
    section_ = name;
    current_ = &keys[section_];
  }
  void add_string(std::string_view key) {
    add(key);
    string_keys.insert(section_ + "." + std::string(key));
  }
  template <typename... Rest>
  void add(std::string_view key, Rest&&...) {
    current_->insert(std::string(key));
  }

  template <typename F>
  void boolean(std::string_view k, F&) {
    add(k);
  }
  template <typename F, typename... R>
  void integer(std::string_view k, F&, R...) {
    add(k);
  }
  template <typename F, typename... R>
  void number(std::string_view k, F&, R...) {
    add(k);
  }
  template <typename F, typename S>
  void choice(std::string_view k, F&, S) {
    add_string(k);
  }
  template <typename F>
  void text(std::string_view k, F&) {
    add_string(k);
  }
  template <typename F>
  void addresses(std::string_view k, F&, std::size_t) {
    add(k);
  }
  template <typename F>
  void socket_address(std::string_view k, F&) {
    add(k);
  }
  template <typename F>
  void strings(std::string_view k, F&) {
    add(k);
  }
  template <typename F>
  void ports(std::string_view k, F&) {
    add(k);
  }
  template <typename F>
  void file_mode(std::string_view k, F&) {
    add(k);
  }
  template <typename F>
  void peers(std::string_view k, F&) {
    add(k);
  }
  template <typename F>
  void registrar_id(std::string_view k, F&) {
    add(k);
  }

 private:
  std::set<std::string>* current_ = nullptr;
  std::string section_;
};

KeyCollector collect_known_keys() {
  KeyCollector collector;
  const RegistrarConfig c;
  schema::visit_config(collector, c);
  return collector;
}

ConfigError error_at(const toml::source_region& src, std::string_view fallback_source, std::string message) {
  ConfigError e;
  e.source = src.path ? *src.path : std::string(fallback_source);
  if (e.source.rfind(kCommandLinePrefix, 0) != 0) {
    e.line = src.begin.line;
    e.column = src.begin.column;
  }
  e.message = std::move(message);
  return e;
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

// section → key → node; nodes live in the parsed file table or in an override table.
struct KeyIndex {
  std::map<std::string, std::map<std::string, const toml::node*, std::less<>>, std::less<>> nodes;
  std::vector<std::unique_ptr<toml::table>> override_tables;

  const toml::node* find(std::string_view section, std::string_view key) const {
    auto s = nodes.find(section);
    if (s == nodes.end()) return nullptr;
    auto k = s->second.find(key);
    return k == s->second.end() ? nullptr : k->second;
  }
};

class Loader {
 public:
  Loader(std::string_view source_name, std::vector<ConfigError>& errors)
      : source_(source_name), errors_(errors), known_(collect_known_keys()) {}

  void index_file(const toml::table& root) {
    const auto& known = known_.keys;
    for (auto&& [section_key, section_node] : root) {
      std::string section(section_key.str());
      const toml::table* table = section_node.as_table();
      if (known.find(section) == known.end()) {
        add(error_at(section_key.source(), source_, section + ": unknown " + (table ? "section" : "key")));
        continue;
      }
      if (table == nullptr) {
        add(error_at(section_node.source(), source_,
                     section + ": expected a table [" + section + "], got " + type_name(section_node)));
        continue;
      }
      const auto& section_keys = known.find(section)->second;
      for (auto&& [key, node] : *table) {
        std::string name(key.str());
        if (section_keys.count(name) == 0) {
          add(error_at(key.source(), source_, section + "." + name + ": unknown key"));
          continue;
        }
        index_.nodes[section][name] = &node;
      }
    }
  }

  void index_override(const ConfigOverride& o) {
    std::string origin = std::string(kCommandLinePrefix) + "--set " + o.key + "=" + o.value;
    auto dot = o.key.find('.');
    std::string section = o.key.substr(0, dot);
    std::string name = dot == std::string::npos ? std::string() : o.key.substr(dot + 1);
    const auto& known = known_.keys;
    auto s = known.find(section);
    if (dot == std::string::npos || s == known.end() || s->second.count(name) == 0) {
      errors_.push_back(ConfigError{origin, 0, 0, o.key + ": unknown key"});
      return;
    }
    auto table = std::make_unique<toml::table>();
    try {
      *table = toml::parse("v = " + o.value, origin);
    } catch (const toml::parse_error&) {
      table->clear();
    }
    // Bare text is a string; so is any unquoted value given to a string key (dpdk.lcores=1).
    const toml::node* parsed = table->get("v");
    if (parsed == nullptr || (!parsed->is_string() && known_.string_keys.count(o.key) != 0)) {
      try {
        *table = toml::parse("v = " + toml_quote(o.value), origin);
      } catch (const toml::parse_error& e) {  // e.g. invalid UTF-8
        errors_.push_back(ConfigError{origin, 0, 0, o.key + ": " + std::string(e.description())});
        return;
      }
    }
    if (const toml::node* node = table->get("v")) {
      index_.nodes[section][name] = node;
      index_.override_tables.push_back(std::move(table));
    }
  }

  WireMode preliminary_mode() const {
    return lenient_choice("registrar", "mode", schema::kWireModes, WireMode::kRfc);
  }
  EnrpProfile preliminary_profile() const {
    return lenient_choice("enrp", "profile", schema::kProfiles, EnrpProfile::kRfc);
  }

  // ---- visitor interface (schema::visit_config) ----
  void section(std::string_view name) { section_ = name; }

  void boolean(std::string_view key, bool& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (auto v = n->value<bool>(); v && n->is_boolean()) {
      field = *v;
    } else {
      type_error(*n, key, "a boolean (true/false)");
    }
  }

  template <typename T>
  void integer(std::string_view key, T& field, std::uint64_t min, std::uint64_t max) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (!n->is_integer()) return type_error(*n, key, "an integer");
    std::int64_t v = *n->value<std::int64_t>();
    if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
      return fail(*n, key,
                  std::to_string(v) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    field = static_cast<T>(v);
  }

  void number(std::string_view key, double& field, double min, double max) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (!n->is_number()) return type_error(*n, key, "a number");
    double v = *n->value<double>();
    if (!(v >= min && v <= max)) {
      return fail(*n, key,
                  format_double(v) + " is out of range " + format_double(min) + ".." + format_double(max));
    }
    field = v;
  }

  template <typename E>
  void choice(std::string_view key, E& field, std::span<const schema::Choice<E>> options) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (!n->is_string()) return type_error(*n, key, "a string (" + names(options) + ")");
    std::string v = *n->value<std::string>();
    for (const auto& c : options) {
      if (c.name == v) {
        field = c.value;
        return;
      }
    }
    fail(*n, key, "\"" + v + "\" is not one of " + names(options));
  }

  void text(std::string_view key, std::string& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (!n->is_string()) return type_error(*n, key, "a string");
    field = *n->value<std::string>();
  }

  void addresses(std::string_view key, std::vector<IpAddress>& field, std::size_t min_count) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) return type_error(*n, key, "an array of IP address strings");
    std::vector<IpAddress> out;
    bool good = true;
    for (const toml::node& item : *a) {
      std::optional<IpAddress> ip;
      if (item.is_string()) ip = IpAddress::parse(*item.value<std::string>());
      if (!ip) {
        good = false;
        fail(item, key,
             item.is_string() ? "\"" + *item.value<std::string>() + "\" is not an IPv4/IPv6 address"
                              : std::string("expected an IP address string, got ") + type_name(item));
        continue;
      }
      out.push_back(*ip);
    }
    if (good && out.size() < min_count)
      return fail(*n, key, "needs at least " + std::to_string(min_count) + " address");
    if (good) field = std::move(out);
  }

  void socket_address(std::string_view key, SocketAddress& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (!n->is_string()) return type_error(*n, key, "an \"address:port\" string");
    std::string reason;
    if (auto sa = parse_socket_address(*n->value<std::string>(), &reason)) {
      field = *sa;
    } else {
      fail(*n, key, reason);
    }
  }

  void strings(std::string_view key, std::vector<std::string>& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) return type_error(*n, key, "an array of strings");
    std::vector<std::string> out;
    bool good = true;
    for (const toml::node& item : *a) {
      if (!item.is_string()) {
        good = false;
        type_error(item, key, "a string");
        continue;
      }
      out.push_back(*item.value<std::string>());
    }
    if (good) field = std::move(out);
  }

  void ports(std::string_view key, std::vector<std::uint16_t>& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) return type_error(*n, key, "an array of port ids");
    std::vector<std::uint16_t> out;
    bool good = true;
    for (const toml::node& item : *a) {
      std::optional<std::int64_t> v = item.is_integer() ? item.value<std::int64_t>() : std::nullopt;
      if (!v || *v < 0 || *v > 65535) {
        good = false;
        fail(item, key, "port ids are integers 0..65535");
        continue;
      }
      out.push_back(static_cast<std::uint16_t>(*v));
    }
    if (good) field = std::move(out);
  }

  void file_mode(std::string_view key, std::uint32_t& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    std::optional<std::uint64_t> mode;
    if (n->is_integer()) {
      std::int64_t v = *n->value<std::int64_t>();
      if (v >= 0) mode = static_cast<std::uint64_t>(v);
    } else if (n->is_string()) {
      std::string s = *n->value<std::string>();
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
      if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) mode = v;
    } else {
      return type_error(*n, key, "an octal mode (0o660 or \"0660\")");
    }
    if (!mode || *mode > 0777)
      return fail(*n, key, "expected a permission mode 0..0777 (write 0o660 or \"0660\")");
    field = static_cast<std::uint32_t>(*mode);
  }

  void registrar_id(std::string_view key, RegistrarId& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    if (auto id = read_id(*n, key)) field = *id;
  }

  void peers(std::string_view key, std::vector<EnrpPeerConfig>& field) {
    const toml::node* n = lookup(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr)
      return type_error(
          *n, key,
          "an array of peers ({ address = \"a:port\", id = N, udp_port = N, sctp_native = B } or "
          "\"a:port\")");
    std::vector<EnrpPeerConfig> out;
    bool good = true;
    for (const toml::node& item : *a) {
      EnrpPeerConfig peer;
      const toml::node* address = &item;
      if (const toml::table* t = item.as_table()) {
        address = t->get("address");
        for (auto&& [k, v] : *t) {
          if (k.str() == "address") continue;
          if (k.str() == "id") {
            if (auto id = read_id(v, key)) {
              peer.id = *id;
            } else {
              good = false;
            }
            continue;
          }
          if (k.str() == "udp_port") {
            const auto port = v.value<std::int64_t>();
            if (!v.is_integer() || !port || *port < 1 || *port > 65535) {
              good = false;
              fail(v, key, "udp_port must be an integer 1..65535");
            } else {
              peer.udp_port = static_cast<std::uint16_t>(*port);
            }
            continue;
          }
          if (k.str() == "sctp_native") {
            if (const auto native = v.value<bool>(); v.is_boolean() && native) {
              peer.sctp_native = *native;
            } else {
              good = false;
              fail(v, key, "sctp_native must be true or false");
            }
            continue;
          }
          good = false;
          add(error_at(k.source(), source_,
                       path(key) + ": unknown peer key \"" + std::string(k.str()) +
                           "\" (allowed: address, id, udp_port, sctp_native)"));
        }
        if (address == nullptr) {
          good = false;
          fail(item, key, "peer needs address = \"ip:port\"");
          continue;
        }
      }
      if (!address->is_string()) {
        good = false;
        type_error(*address, key, "an \"address:port\" string");
        continue;
      }
      std::string reason;
      auto sa = parse_socket_address(*address->value<std::string>(), &reason);
      if (!sa) {
        good = false;
        fail(*address, key, reason);
        continue;
      }
      peer.address = *sa;
      out.push_back(peer);
    }
    if (good) field = std::move(out);
  }

  // Where each key came from, for cross-field errors.
  std::optional<ConfigError> position_of(std::string_view key_path) const {
    auto dot = key_path.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const toml::node* n = index_.find(key_path.substr(0, dot), key_path.substr(dot + 1));
    if (n == nullptr) return std::nullopt;
    return error_at(n->source(), source_, {});
  }

 private:
  const toml::node* lookup(std::string_view key) const { return index_.find(section_, key); }

  std::string path(std::string_view key) const { return section_ + "." + std::string(key); }

  void add(ConfigError e) { errors_.push_back(std::move(e)); }

  void fail(const toml::node& n, std::string_view key, const std::string& reason) {
    add(error_at(n.source(), source_, path(key) + ": " + reason));
  }

  void type_error(const toml::node& n, std::string_view key, const std::string& expected) {
    fail(n, key, std::string("expected ") + expected + ", got " + type_name(n));
  }

  std::optional<RegistrarId> read_id(const toml::node& n, std::string_view key) {
    if (n.is_integer()) {
      std::int64_t v = *n.value<std::int64_t>();
      if (v >= 0) return static_cast<RegistrarId>(v);
      fail(n, key, "IDs are unsigned (use a \"0x...\" string above 2^63)");
      return std::nullopt;
    }
    if (n.is_string()) {
      std::string s = *n.value<std::string>();
      if (auto v = parse_u64(s)) return *v;
      fail(n, key, "\"" + s + "\" is not an unsigned 64-bit ID (decimal or 0x hex)");
      return std::nullopt;
    }
    type_error(n, key, "an integer ID");
    return std::nullopt;
  }

  template <typename E, std::size_t N>
  E lenient_choice(std::string_view section, std::string_view key,
                   const std::array<schema::Choice<E>, N>& options, E fallback) const {
    const toml::node* n = index_.find(section, key);
    if (n == nullptr || !n->is_string()) return fallback;
    std::string v = *n->value<std::string>();
    for (const auto& c : options) {
      if (c.name == v) return c.value;
    }
    return fallback;
  }

  template <typename E>
  static std::string names(std::span<const schema::Choice<E>> options) {
    std::string out;
    for (const auto& c : options) {
      if (!out.empty()) out += ", ";
      out += "\"" + std::string(c.name) + "\"";
    }
    return out;
  }

  std::string source_;
  std::vector<ConfigError>& errors_;
  KeyCollector known_;
  KeyIndex index_;
  std::string section_;
};

LoadResult load_parsed(const toml::table* root, std::string_view source_name,
                       const std::vector<ConfigOverride>& overrides, std::vector<ConfigError> errors) {
  LoadResult result;
  result.errors = std::move(errors);
  Loader loader(source_name, result.errors);
  if (root != nullptr) loader.index_file(*root);
  for (const auto& o : overrides) loader.index_override(o);
  result.config = RegistrarConfig::defaults(loader.preliminary_mode(), loader.preliminary_profile());
  schema::visit_config(loader, result.config);
  if (result.errors.empty()) {
    // Cross-field checks only on a config whose single values all made it in: otherwise a
    // rejected value would leave a default behind and produce a misleading second error.
    for (ConfigError& e : validate_config(result.config)) {
      std::string key = e.message.substr(0, e.message.find(':'));
      if (auto pos = loader.position_of(key)) {
        pos->message = std::move(e.message);
        result.errors.push_back(std::move(*pos));
      } else {
        e.source = std::string(source_name);
        result.errors.push_back(std::move(e));
      }
    }
  }
  // File order first (by position), then command-line errors in the order given.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     if ((a.line == 0) != (b.line == 0)) return a.line != 0;
                     return a.line < b.line || (a.line == b.line && a.column < b.column);
                   });
  return result;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = source;
  if (line != 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  return out + message;
}

Expected<ConfigOverride, std::string> parse_override(std::string_view text) {
  auto eq = text.find('=');
  std::string_view key = text.substr(0, eq);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (eq == std::string_view::npos || key.find('.') == std::string_view::npos || key.front() == '.' ||
      key.back() == '.') {
    return unexpected("expected section.key=value, got \"" + std::string(text) + "\"");
  }
  std::string_view value = text.substr(eq + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return ConfigOverride{std::string(key), std::string(value)};
}

LoadResult load_config_text(std::string_view text, std::string_view source_name,
                            const std::vector<ConfigOverride>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::vector<ConfigError> errors;
    errors.push_back(error_at(e.source(), source_name, std::string(e.description())));
    return load_parsed(nullptr, source_name, overrides, std::move(errors));
  }
  return load_parsed(&root, source_name, overrides, {});
}

LoadResult load_config_file(const std::string& path, const std::vector<ConfigOverride>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back(ConfigError{path, 0, 0, std::string("cannot open: ") + std::strerror(errno)});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), path, overrides);
}

LoadResult load_embedded_default_config(const std::vector<ConfigOverride>& overrides) {
  return load_config_text(embedded_default_config_text(), kEmbeddedConfigSourceName, overrides);
}

}  // namespace poolreg::config
