// Writes the seed corpus for fuzz_sctp_address_params: SCTP packets (common header + one chunk)
// with INIT / INIT ACK chunks carrying IPv4, IPv6 and other parameters, a padded and an
// unpadded last parameter, and a few broken ones. Usage: fuzz_sctp_seed_gen <directory>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<std::uint8_t> hex(const char* text) {
  std::vector<std::uint8_t> out;
  std::string digits;
  for (const char* p = text; *p != '\0'; ++p)
    if (*p != ' ') digits.push_back(*p);
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// Common header: ports 1234 -> 3863, verification tag, checksum (not checked by the reader).
const char* const kSeeds[] = {
    // INIT: 127.0.0.1, 192.0.2.2, 2001:db8::2, Supported Address Types (padded)
    "04d20f17 00000000 00000000 0100003e 11223344 00010000 000a000a 01020304 00050008 7f000001 "
    "00050008 c0000202 00060014 20010db8 00000000 00000000 00000002 000c0006 00050000",
    // INIT ACK: 10.0.0.1, State Cookie of 5 bytes last (chunk length without its padding)
    "0f1704d2 11223344 00000000 02000025 55667788 00010000 000a000a 01020304 00050008 0a000001 "
    "00070009 aabbccdd ee000000",
    // INIT: wildcard, multicast, broadcast
    "04d20f17 00000000 00000000 0100002c 11223344 00010000 000a000a 01020304 00050008 00000000 "
    "00050008 e0000001 00050008 ffffffff",
    // broken: IPv4 parameter of length 12, a parameter past the chunk, chunk past the packet
    "04d20f17 00000000 00000000 01000020 11223344 00010000 000a000a 01020304 0005000c 0a000001 00000000",
    "04d20f17 00000000 00000000 0100001c 11223344 00010000 000a000a 01020304 00050040 0a000001",
    "04d20f17 00000000 00000000 01000080 11223344 00010000 000a000a 01020304",
    // not a handshake: a DATA chunk
    "04d20f17 11223344 00000000 00030014 00000001 00000000 0000000b 01020304",
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  bool ok = true;
  int n = 0;
  for (const char* s : kSeeds) ok = write_file(dir + "/seed-" + std::to_string(n++), hex(s)) && ok;
  return ok ? 0 : 1;
}
