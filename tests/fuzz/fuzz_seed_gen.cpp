// Writes the seed corpus for fuzz_decode: every message type encoded in both modes plus the
// spec's golden and negative vectors. Usage: fuzz_seed_gen <directory>
#include <cstdio>
#include <string>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace {

using namespace poolreg;        // NOLINT
using namespace poolreg::wire;  // NOLINT
using namespace poolreg::wire::testing;  // NOLINT

bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

const char* const kHexSeeds[] = {
    // golden vectors (testvectors.md) not otherwise produced below
    "0301002c 0009000c 4563686f 506f6f6c 000e0008 12345678 000c0014 00050010 0008000c 40000001 40000000",
    "0600001c 0009000e 4e6f5375 6368506f 6f6c0000 000c0008 00090004",
    "0a000018 0a0b0c0d 00040010 0f170000 00010008 0a000001",
    "0e000010 000c000c 00020008 7f000004",
    "0a00001c 0a0b0c0d 11223344 000c0010 0003000c 000f0006 00000000",
    // negative / edge vectors
    "7f000010 0009000c 4563686f 506f6f6c",
    "0b00000c 0a0b0c0d 11223344",
    "05000020 80400008 0000001f 0009000c 4563686f 506f6f6c 803f0008 00000005",
    "05000018 80500006 abcd0000 0009000c 4563686f 506f6f6c",
    "05000018 40500008 00000000 0009000c 4563686f 506f6f6c",
    "05000018 00500008 00000000 0009000c 4563686f 506f6f6c",
    "05000018 c0500008 00000000 0009000c 4563686f 506f6f6c",
    "0500000c 0009000c 4563686f 506f6f6c",
    "01000014 0a0b0c0d 11223344 000f0008 29a5beef",
    "01000034 0a0b0c0d 11223344 80440008 57f8d1ac 000f0006 29a50000 000b0018 0a0b0c0d 00040010 26ad0000 00010008 0a000001",
    ("04000078 0a0b0c0d 11223344 00000000 0009000c 4563686f 506f6f6c 000a005c 12345678 0a0b0c0d 00007530 00040018"
     "00070000 00010008 0a010101 00010008 0a020101 00080008 00000001 00040018 c3500000 00010008 0a010101 00010008"
     "0a020101 80420014 fedcba98 12345678 00000001 0a0b0c0d"),
    ("01000040 0009000c 4563686f 506f6f6c 000a0030 12345678 00000000 00007530 00050018 00070000 00010008 0a010101"
     "00010008 0a020101 00080008 00000001"),
    // ENRP Handle Update whose PE ends with a malformed 0x8045 (3 entries for 2 addresses)
    ("04000094 0a0b0c0d 11223344 00000000 0009000c 4563686f 506f6f6c 000a0078 12345678 0a0b0c0d 00007530 00040018"
     "00070000 00010008 0a010101 00010008 0a020101 00080008 00000001 00040018 c3500000 00010008 0a010101 00010008"
     "0a020101 80420014 00000000 12345678 00000000 0a0b0c0d 8045001c 01000000 00000000 04010000 000005dc 05000000"
     "00000000"),
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int n = 0;
  bool ok = true;
  auto emit = [&](const std::vector<std::uint8_t>& bytes) {
    ok = write_file(dir + "/seed-" + std::to_string(n++), bytes) && ok;
  };
  for (const char* h : kHexSeeds) emit(hex(h));

  const PoolHandle echo = handle("EchoPool");
  PoolElement tcp = pe2();
  tcp.user_transport.protocol = TransportProtocol::kTcp;
  tcp.policy.type = PolicyType::kLeastUsedDegradationDpf;
  tcp.policy.load = 5;
  PoolElement udp6 = pe1();
  udp6.user_transport = TransportEndpoint{TransportProtocol::kDccp, 99, TransportUse::kDataOnly, 7,
                                          {IpAddress::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})}};
  // RFC 8653 types (0x8045): a next-gen registration and an ENRP PE with a retiring address.
  PoolElement typed = pe1();
  typed.address_types = {AddressTypeEntry{AddressType::kFixed, 0, false, 0},
                         AddressTypeEntry{AddressType::kGracefulReplacement, 30000, false, 0}};
  PoolElement typed_enrp = pe1_enrp();
  typed_enrp.address_types = {AddressTypeEntry{AddressType::kSessionLasting, 0, false, 0},
                              AddressTypeEntry{AddressType::kGracefulReplacement, 1500, true, 0}};
  std::vector<AsapMessage> asap = {
      Registration{echo, pe1(), 0x1fu},
      Registration{echo, typed, 0x1u},
      HandleResolutionResponse{echo, round_robin(), {typed}, std::nullopt},
      Registration{echo, udp6, std::nullopt},
      Deregistration{echo, 0x12345678},
      RegistrationResponse{false, echo, 0x12345678, std::nullopt, 0x3u},
      DeregistrationResponse{echo, 0x12345678, OperationError::single(ErrorCause::kUnknownPoolHandle)},
      HandleResolution{echo, 5u, 0x8u},
      HandleResolutionResponse{echo, round_robin(), {pe1(), pe2(), tcp}, std::nullopt},
      EndpointKeepAlive{true, 0x0a0b0c0d, echo, PoolElementId{0x12345678}},
      EndpointKeepAliveAck{echo, 0x12345678},
      EndpointUnreachable{echo, 0x12345678},
      ServerAnnounce{0x0a0b0c0d, {sctp(3863, {v4(0x0a000001)})}},
      Cookie{{1, 2, 3}},
      CookieEcho{{4, 5, 6, 7, 8}},
      BusinessCard{echo, round_robin(), {pe1()}},
      AsapError{OperationError::single(ErrorCause::kUnrecognizedParameter, hex("40500008 00000000"))},
  };
  std::vector<EnrpMessage> enrp = {
      Presence{0x0a0b0c0d, 0x11223344, true, std::uint16_t{0x29a5}, 0x57f8d1acu, server_info(0x0a0b0c0d, 0x0a000001),
               0x3fu},
      HandleTableRequest{0x11223344, 0x0a0b0c0d, true},
      HandleTableResponse{0x0a0b0c0d, 0x11223344, false, true,
                          {HandleTableEntry{echo, {pe1_enrp()}}, HandleTableEntry{handle("P2"), {pe1_enrp()}}}},
      HandleUpdate{0x0a0b0c0d, 0x11223344, true, UpdateAction::kAddPe, echo, pe1_enrp()},
      HandleUpdate{0x0a0b0c0d, 0x11223344, false, UpdateAction::kAddPe, echo, typed_enrp},
      ListRequest{0x11223344, 0x0a0b0c0d},
      ListResponse{0x0a0b0c0d, 0x11223344, false, {server_info(0x55667788, 0x0a000003)}},
      InitTakeover{0x0a0b0c0d, 0x11223344, 0x55667788},
      InitTakeoverAck{0x11223344, 0x0a0b0c0d, 0x55667788},
      TakeoverServer{0x0a0b0c0d, 0x11223344, 0x55667788},
      EnrpError{0x0a0b0c0d, 0x11223344, OperationError::single(ErrorCause::kInvalidValues, hex("000f0006 00000000"))},
  };
  for (const bool next_gen : {false, true}) {
    WireOptions o;
    o.next_gen = next_gen;
    for (const auto& m : asap) {
      std::vector<std::uint8_t> b;
      if (encode(m, o, b).ok()) emit(b);
      else ok = false;
    }
    for (const auto& m : enrp) {
      std::vector<std::uint8_t> b;
      if (encode(m, o, b).ok()) emit(b);
      else ok = false;
    }
  }
  std::printf("wrote %d seeds to %s\n", n, dir.c_str());
  return ok ? 0 : 1;
}
