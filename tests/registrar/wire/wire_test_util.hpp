// Helpers shared by the wire codec tests: hex parsing and the sample values of testvectors.md.
#pragma once

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/common/ip_address.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/wire/enrp_messages.hpp"

namespace poolreg::wire::testing {

// "0100 0040 ..." → bytes; whitespace ignored.
inline std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> out;
  int nibble = -1;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (v < 0) return {};
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(nibble << 4 | v));
      nibble = -1;
    }
  }
  return out;
}

inline std::string to_hex(const std::vector<std::uint8_t>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0 && i % 4 == 0) s.push_back(' ');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0xf]);
  }
  return s;
}

inline PoolHandle handle(std::string_view text) { return *PoolHandle::from_string(text); }
inline IpAddress v4(std::uint32_t a) { return IpAddress::v4(a); }

inline TransportEndpoint sctp(std::uint16_t port, std::vector<IpAddress> addresses,
                              TransportUse use = TransportUse::kDataOnly) {
  TransportEndpoint t;
  t.protocol = TransportProtocol::kSctp;
  t.port = port;
  t.use = use;
  t.addresses = std::move(addresses);
  return t;
}

inline PolicyParams round_robin() { return PolicyParams{}; }

// PE 0x12345678: SCTP port 7, 10.1.1.1 + 10.2.1.1, RR, life 30000 ms, home 0.
inline PoolElement pe1() {
  PoolElement e;
  e.id = 0x12345678;
  e.home_registrar = 0;
  e.registration_life_ms = 30000;
  e.user_transport = sctp(7, {v4(0x0a010101), v4(0x0a020101)});
  e.policy = round_robin();
  return e;
}

// PE 0x9abcdef0, home 0x0a0b0c0d, SCTP port 7, 10.3.1.1.
inline PoolElement pe2() {
  PoolElement e;
  e.id = 0x9abcdef0;
  e.home_registrar = 0x0a0b0c0d;
  e.registration_life_ms = 30000;
  e.user_transport = sctp(7, {v4(0x0a030101)});
  e.policy = round_robin();
  return e;
}

// pe1 as ENRP carries it: home 0x0a0b0c0d, ASAP transport SCTP 50000 with the same addresses.
inline PoolElement pe1_enrp() {
  PoolElement e = pe1();
  e.home_registrar = 0x0a0b0c0d;
  e.asap_transport = sctp(50000, {v4(0x0a010101), v4(0x0a020101)});
  return e;
}

inline ServerInformation server_info(std::uint32_t id, std::uint32_t address) {
  return ServerInformation{id, sctp(9901, {v4(address)})};
}

}  // namespace poolreg::wire::testing
