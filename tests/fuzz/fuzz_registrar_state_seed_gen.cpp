// Writes the seed corpus for fuzz_registrar_state: short step programs (opcode + operands, as
// fuzz_registrar_state.cpp decodes them) that register, collide, resolve, age, sync and take
// over, so the fuzzer starts from valid protocol. Usage: fuzz_registrar_state_seed_gen <dir>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// Opcodes of fuzz_registrar_state.cpp (operands follow each).
enum Op : std::uint8_t {
  kUp = 0, kClose = 1, kRegister = 2, kDeregister = 4, kResolve = 5, kUnreachable = 6, kAck = 7,
  kAddresses = 8, kUpdateAdd = 9, kUpdateDel = 10, kTableResponse = 11, kPresence = 12, kTime = 13,
  kRawAsap = 14, kRawEnrp = 15,
};

const std::vector<std::vector<std::uint8_t>> kPrograms = {
    // registrations over two associations, a colliding ID, resolution, deregistration, loss
    {kUp, 0, 0x7, kUp, 1, 0x3, kRegister, 0, 0, 0, 0x7, 0, kRegister, 0, 0, 1, 0x3, 0,
     kRegister, 1, 0, 0, 0x3, 0, kResolve, 2, 0x80, kResolve, 0, 0, kDeregister, 0, 0, 1,
     kClose, 0, kResolve, 1, 0, kTime, 0x45},
    // the ENRP peer: Presence, updates, a table sync, its death and our takeover of its PEs
    {kPresence, 0x03, kUpdateAdd, 1, 0, 2, 0x3, 1, kUpdateAdd, 1, 2, 3, 0x1, 1, kUpdateAdd, 2, 3, 4, 0x1, 0,
     kUpdateDel, 1, 0, 2, 0x3, 1, kPresence, 0x01, kTableResponse, 0x00, 0, 0, 4, 0x3, 1,
     kTime, 0x46, kTime, 0x46, kTime, 0x46, kTime, 0x46, kAck, 0x80, 1, 2, kAck, 0x80, 1, 3, kTime, 0x4a},
    // keep-alives, an answered and an unanswered one, unreachable reports from three sources
    {kUp, 0, 0x1, kUp, 1, 0x2, kUp, 2, 0x4, kRegister, 0, 2, 3, 0x1, 1, kRegister, 0, 2, 4, 0x1, 1,
     kTime, 0x45, kAck, 0, 2, 3, kTime, 0x4a, kUnreachable, 1, 2, 3, kUnreachable, 2, 2, 3,
     kUnreachable, 3, 2, 3, kTime, 0x4a, kResolve, 1, 2},
    // mobility: address changes, re-registration with other addresses, a move to another association
    {kUp, 0, 0x3, kRegister, 0, 1, 5, 0x3, 2, kAddresses, 0, 0x1, kRegister, 0, 1, 5, 0x2, 2,
     kAddresses, 0, 0x7, kRegister, 0, 1, 5, 0x6, 2, kUp, 3, 0x1, kRegister, 3, 1, 5, 0x1, 2, kClose, 0,
     kRegister, 3, 1, 5, 0x1, 2, kTime, 0x02},
    // raw bytes: an ASAP Registration header with a short body, an ENRP Presence header, peer lost
    {kUp, 1, 0x1, kRawAsap, 1, 8, 0x01, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x04, kRawEnrp, 12, 0x01, 0x00,
     0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 0x0a, 0x0b, 0x0c, 0x0d, kRawEnrp, 0, kTime, 0x45},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  for (std::size_t i = 0; i < kPrograms.size(); ++i) {
    const std::string path = std::string(argv[1]) + "/program" + std::to_string(i);
    if (!write_file(path, kPrograms[i])) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
