// WIRE-11: every positive vector of shared/spec/testvectors.md encodes byte-exactly (RFC mode)
// and decodes to the expected value. Fixture table: description, hex, expected message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

template <typename Message>
struct Vector {
  std::string name;
  std::string hex;
  Message expected;
};

std::vector<Vector<AsapMessage>> asap_vectors() {
  const PoolHandle echo = handle("EchoPool");
  PolicyParams lu;
  lu.type = PolicyType::kLeastUsed;
  lu.load = 0x40000000;
  return {
      {"ASAP Registration",
       "01000040 0009000c 4563686f 506f6f6c 000a0030 12345678 00000000 00007530"
       "00040018 00070000 00010008 0a010101 00010008 0a020101 00080008 00000001",
       Registration{echo, pe1(), std::nullopt}},
      {"ASAP Registration Response ok", "03000018 0009000c 4563686f 506f6f6c 000e0008 12345678",
       RegistrationResponse{false, echo, 0x12345678, std::nullopt, std::nullopt}},
      {"ASAP Registration Response reject (policy inconsistent, LU offending)",
       "0301002c 0009000c 4563686f 506f6f6c 000e0008 12345678 000c0014 00050010"
       "0008000c 40000001 40000000",
       RegistrationResponse{true, echo, 0x12345678,
                            OperationError::single(ErrorCause::kInconsistentPoolingPolicy,
                                                   hex("0008000c 40000001 40000000")),
                            std::nullopt}},
      {"ASAP Deregistration", "02000018 0009000c 4563686f 506f6f6c 000e0008 12345678",
       Deregistration{echo, 0x12345678}},
      {"ASAP Deregistration Response", "04000018 0009000c 4563686f 506f6f6c 000e0008 12345678",
       DeregistrationResponse{echo, 0x12345678, std::nullopt}},
      {"ASAP Handle Resolution", "05000010 0009000c 4563686f 506f6f6c",
       HandleResolution{echo, std::nullopt, std::nullopt}},
      {"ASAP Handle Resolution + HRO items=5", "05000018 0009000c 4563686f 506f6f6c 803f0008 00000005",
       HandleResolution{echo, 5u, std::nullopt}},
      {"ASAP Handle Resolution Response",
       "06000070 0009000c 4563686f 506f6f6c 00080008 00000001 000a0030 12345678"
       "00000000 00007530 00040018 00070000 00010008 0a010101 00010008 0a020101"
       "00080008 00000001 000a0028 9abcdef0 0a0b0c0d 00007530 00040010 00070000"
       "00010008 0a030101 00080008 00000001",
       HandleResolutionResponse{echo, round_robin(), {pe1(), pe2()}, std::nullopt}},
      {"ASAP Handle Resolution Response unknown pool",
       "0600001c 0009000e 4e6f5375 6368506f 6f6c0000 000c0008 00090004",
       HandleResolutionResponse{handle("NoSuchPool"), std::nullopt, {},
                                OperationError::single(ErrorCause::kUnknownPoolHandle)}},
      {"ASAP Endpoint Keep-Alive (H=1)", "0701001c 0a0b0c0d 0009000c 4563686f 506f6f6c 000e0008 12345678",
       EndpointKeepAlive{true, 0x0a0b0c0d, echo, PoolElementId{0x12345678}}},
      {"ASAP Endpoint Keep-Alive Ack", "08000018 0009000c 4563686f 506f6f6c 000e0008 12345678",
       EndpointKeepAliveAck{echo, 0x12345678}},
      {"ASAP Endpoint Unreachable", "09000018 0009000c 4563686f 506f6f6c 000e0008 12345678",
       EndpointUnreachable{echo, 0x12345678}},
      {"ASAP Server Announce", "0a000008 0a0b0c0d", ServerAnnounce{0x0a0b0c0d, {}}},
      {"ASAP Server Announce + SCTP transport", "0a000018 0a0b0c0d 00040010 0f170000 00010008 0a000001",
       ServerAnnounce{0x0a0b0c0d, {sctp(3863, {v4(0x0a000001)})}}},
      {"ASAP Error (unrecognized message)", "0e000010 000c000c 00020008 7f000004",
       AsapError{OperationError::single(ErrorCause::kUnrecognizedMessage, hex("7f000004"))}},
  };
}

std::vector<Vector<EnrpMessage>> enrp_vectors() {
  const PoolHandle echo = handle("EchoPool");
  return {
      {"ENRP Presence (R=1)",
       "0101002c 0a0b0c0d 11223344 000f0006 29a50000 000b0018 0a0b0c0d 00040010"
       "26ad0000 00010008 0a000001",
       Presence{0x0a0b0c0d, 0x11223344, true, std::uint16_t{0x29a5}, std::nullopt,
                server_info(0x0a0b0c0d, 0x0a000001), std::nullopt}},
      {"ENRP Handle Table Request (W=1)", "0201000c 11223344 0a0b0c0d",
       HandleTableRequest{0x11223344, 0x0a0b0c0d, true}},
      {"ENRP Handle Table Response (M=1)",
       "03020060 0a0b0c0d 11223344 0009000c 4563686f 506f6f6c 000a0048 12345678"
       "0a0b0c0d 00007530 00040018 00070000 00010008 0a010101 00010008 0a020101"
       "00080008 00000001 00040018 c3500000 00010008 0a010101 00010008 0a020101",
       HandleTableResponse{0x0a0b0c0d, 0x11223344, false, true, {HandleTableEntry{echo, {pe1_enrp()}}}}},
      {"ENRP Handle Table Response reject", "0301000c 0a0b0c0d 11223344",
       HandleTableResponse{0x0a0b0c0d, 0x11223344, true, false, {}}},
      {"ENRP Handle Update ADD (T=1)",
       "04010064 0a0b0c0d 11223344 00000000 0009000c 4563686f 506f6f6c 000a0048"
       "12345678 0a0b0c0d 00007530 00040018 00070000 00010008 0a010101 00010008"
       "0a020101 00080008 00000001 00040018 c3500000 00010008 0a010101 00010008"
       "0a020101",
       HandleUpdate{0x0a0b0c0d, 0x11223344, true, UpdateAction::kAddPe, echo, pe1_enrp()}},
      {"ENRP Handle Update DEL",
       "04000064 0a0b0c0d 11223344 00010000 0009000c 4563686f 506f6f6c 000a0048"
       "12345678 0a0b0c0d 00007530 00040018 00070000 00010008 0a010101 00010008"
       "0a020101 00080008 00000001 00040018 c3500000 00010008 0a010101 00010008"
       "0a020101",
       HandleUpdate{0x0a0b0c0d, 0x11223344, false, UpdateAction::kDeletePe, echo, pe1_enrp()}},
      {"ENRP List Request", "0500000c 11223344 0a0b0c0d", ListRequest{0x11223344, 0x0a0b0c0d}},
      {"ENRP List Response",
       "06000024 0a0b0c0d 11223344 000b0018 55667788 00040010 26ad0000 00010008 0a000003",
       ListResponse{0x0a0b0c0d, 0x11223344, false, {server_info(0x55667788, 0x0a000003)}}},
      {"ENRP Init Takeover", "07000010 0a0b0c0d 11223344 55667788",
       InitTakeover{0x0a0b0c0d, 0x11223344, 0x55667788}},
      {"ENRP Init Takeover Ack", "08000010 11223344 0a0b0c0d 55667788",
       InitTakeoverAck{0x11223344, 0x0a0b0c0d, 0x55667788}},
      {"ENRP Takeover Server", "09000010 0a0b0c0d 11223344 55667788",
       TakeoverServer{0x0a0b0c0d, 0x11223344, 0x55667788}},
      {"ENRP Error (invalid values)", "0a00001c 0a0b0c0d 11223344 000c0010 0003000c 000f0006 00000000",
       EnrpError{0x0a0b0c0d, 0x11223344,
                 OperationError::single(ErrorCause::kInvalidValues, hex("000f0006 00000000"))}},
  };
}

TEST(WireGoldenVectors, Wire11AsapEncodeByteExact) {
  for (const auto& v : asap_vectors()) {
    SCOPED_TRACE(v.name);
    const auto want = hex(v.hex);
    ASSERT_FALSE(want.empty());
    std::vector<std::uint8_t> got;
    const auto r = encode(v.expected, WireOptions{}, got);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.size, want.size());
    EXPECT_EQ(to_hex(got), to_hex(want));
    // Also into a fixed buffer of exactly the right size (span sink).
    std::vector<std::uint8_t> fixed(want.size());
    const auto r2 = encode(v.expected, WireOptions{}, std::span<std::uint8_t>(fixed));
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(fixed, want);
  }
}

TEST(WireGoldenVectors, Wire11AsapDecodeExpectedValues) {
  for (const auto& v : asap_vectors()) {
    SCOPED_TRACE(v.name);
    const auto bytes = hex(v.hex);
    const auto r = decode_asap(bytes);
    ASSERT_TRUE(r.has_value()) << decode_error_kind_name(r.error().kind) << " at " << r.error().offset;
    EXPECT_TRUE(r.reports().empty());
    EXPECT_EQ(r.value().index(), v.expected.index());
    EXPECT_TRUE(r.value() == v.expected);
    EXPECT_EQ(asap_type_of(r.value()), static_cast<AsapType>(bytes[0]));
  }
}

TEST(WireGoldenVectors, Wire11EnrpEncodeByteExact) {
  for (const auto& v : enrp_vectors()) {
    SCOPED_TRACE(v.name);
    const auto want = hex(v.hex);
    ASSERT_FALSE(want.empty());
    std::vector<std::uint8_t> got;
    const auto r = encode(v.expected, WireOptions{}, got);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(to_hex(got), to_hex(want));
  }
}

TEST(WireGoldenVectors, Wire11EnrpDecodeExpectedValues) {
  for (const auto& v : enrp_vectors()) {
    SCOPED_TRACE(v.name);
    const auto bytes = hex(v.hex);
    const auto r = decode_enrp(bytes);
    ASSERT_TRUE(r.has_value()) << decode_error_kind_name(r.error().kind) << " at " << r.error().offset;
    EXPECT_TRUE(r.value() == v.expected);
    EXPECT_EQ(enrp_type_of(r.value()), static_cast<EnrpType>(bytes[0]));
  }
}

// checksum.md: the Presence vector carries wire bytes 29 a5 (RSPLIB host value 0xa529).
TEST(WireGoldenVectors, PresenceChecksumBytesAreRawWireOrder) {
  Presence p{0x0a0b0c0d, 0x11223344, false, std::uint16_t{0x29a5}, std::nullopt, std::nullopt, std::nullopt};
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(encode(p, WireOptions{}, out).ok());
  ASSERT_EQ(out.size(), 20u);
  EXPECT_EQ(out[16], 0x29);
  EXPECT_EQ(out[17], 0xa5);
  EXPECT_EQ(out[18], 0x00);  // 2 pad bytes after Length 6
  EXPECT_EQ(out[19], 0x00);
  EXPECT_EQ(out[14], 0x00);
  EXPECT_EQ(out[15], 0x06);
}

// Every golden vector's encoded Length is a multiple of 4 and equals the size (WIRE-01).
TEST(WireGoldenVectors, Wire01LengthCoversEverything) {
  for (const auto& v : asap_vectors()) {
    const auto b = hex(v.hex);
    EXPECT_EQ((b[2] << 8 | b[3]), static_cast<int>(b.size())) << v.name;
    EXPECT_EQ(b.size() % 4, 0u) << v.name;
  }
  for (const auto& v : enrp_vectors()) {
    const auto b = hex(v.hex);
    EXPECT_EQ((b[2] << 8 | b[3]), static_cast<int>(b.size())) << v.name;
  }
}

}  // namespace
}  // namespace poolreg::wire
