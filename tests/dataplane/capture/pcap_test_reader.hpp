// A minimal reader of the classic pcap files PcapWriter produces (little-endian, nanosecond
// magic), for byte-level checks in tests. Not a general pcap parser.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace poolreg::testing {

struct PcapRecord {
  std::uint32_t ts_sec = 0;
  std::uint32_t ts_nsec = 0;
  std::uint32_t orig_len = 0;
  std::vector<std::uint8_t> data;
};

struct PcapFile {
  std::uint32_t magic = 0;
  std::uint16_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::uint32_t snaplen = 0;
  std::uint32_t link_type = 0;
  std::vector<PcapRecord> records;
};

inline std::uint32_t read_le32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
inline std::uint16_t read_be16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
inline std::uint32_t read_be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | static_cast<std::uint32_t>(b[at + 3]);
}

// nullopt when the file is missing, truncated or a record overruns the file.
inline std::optional<PcapFile> read_pcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 24) return std::nullopt;
  PcapFile f;
  f.magic = read_le32(b, 0);
  f.version_major = static_cast<std::uint16_t>(b[4] | b[5] << 8);
  f.version_minor = static_cast<std::uint16_t>(b[6] | b[7] << 8);
  f.snaplen = read_le32(b, 16);
  f.link_type = read_le32(b, 20);
  std::size_t at = 24;
  while (at < b.size()) {  // bounded: every round consumes at least 16 bytes
    if (b.size() - at < 16) return std::nullopt;
    PcapRecord r;
    r.ts_sec = read_le32(b, at);
    r.ts_nsec = read_le32(b, at + 4);
    const std::uint32_t incl = read_le32(b, at + 8);
    r.orig_len = read_le32(b, at + 12);
    at += 16;
    if (b.size() - at < incl) return std::nullopt;
    r.data.assign(b.begin() + static_cast<std::ptrdiff_t>(at),
                  b.begin() + static_cast<std::ptrdiff_t>(at + incl));
    at += incl;
    f.records.push_back(std::move(r));
  }
  return f;
}

}  // namespace poolreg::testing
