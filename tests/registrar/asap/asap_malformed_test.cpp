// AsapServer: malformed and unexpected input (WIRE-02..04, SEC-03, asap.md 4.6): answered as
// specified, never answered with an Error when it is an Error, handlespace unchanged.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapMalformedTest : public AsapServerTest {
 protected:
  void SetUp() override {
    connect_pe(1);
    register_ok(1, "EchoPool", make_pe(1));
    out_.clear();
    enrp_.added.clear();
  }
  // The state every test must leave untouched.
  void expect_unchanged() {
    EXPECT_EQ(pe_count(), 1u);
    auto pe = lookup("EchoPool", 1);
    ASSERT_TRUE(pe);
    EXPECT_EQ(pe->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
    EXPECT_TRUE(enrp_.added.empty());
    EXPECT_TRUE(enrp_.removed.empty());
  }
  wire::ErrorCauseEntry only_error_cause() {
    auto err = out_.last_as<wire::AsapError>();
    EXPECT_EQ(err.error.causes.size(), 1u);
    return err.error.causes.empty() ? wire::ErrorCauseEntry{} : err.error.causes[0];
  }
  static Bytes with_tlv(Bytes m, std::uint16_t type, Bytes value = {1, 2, 3, 4}) {
    put16(m, type);
    put16(m, static_cast<std::uint16_t>(4 + value.size()));
    m.insert(m.end(), value.begin(), value.end());
    while (m.size() % 4 != 0) m.push_back(0);
    fix_length(m);
    return m;
  }
  static Bytes tlv_bytes(std::uint16_t type, Bytes value = {1, 2, 3, 4}) {
    Bytes t;
    put16(t, type);
    put16(t, static_cast<std::uint16_t>(4 + value.size()));
    t.insert(t.end(), value.begin(), value.end());
    return t;
  }
};

TEST_F(AsapMalformedTest, TruncatedPoolElementTlv_WIRE_02) {
  Bytes m = registration("EchoPool", make_pe(1, {kPeAddr3}));
  // Header 4 + handle TLV 12: the PE TLV length sits at offset 18.
  m[18] = 0x01;
  m[19] = 0x00;
  deliver(1, m);
  auto cause = only_error_cause();
  EXPECT_EQ(cause.cause(), ErrorCause::kInvalidValues);
  expect_unchanged();
  EXPECT_EQ(server().counters().decode_errors_by_kind[static_cast<std::size_t>(wire::DecodeErrorKind::kTlvTruncated)],
            1u);
}

TEST_F(AsapMalformedTest, MessageLengthBeyondBuffer_WIRE_01) {
  Bytes m = registration("EchoPool", make_pe(1, {kPeAddr3}));
  m[3] = static_cast<std::uint8_t>(m[3] + 8);
  deliver(1, m);
  EXPECT_EQ(only_error_cause().cause(), ErrorCause::kInvalidValues);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, TlvLengthBelowFour_WIRE_02) {
  Bytes m = handle_resolution("EchoPool");
  m[7] = 2;  // pool handle TLV Length 2
  deliver(77, m);
  EXPECT_EQ(only_error_cause().cause(), ErrorCause::kInvalidValues);
  EXPECT_EQ(out_.count_type(AsapType::kHandleResolutionResponse), 0u);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, TooShortMessage_WIRE_01) {
  deliver(77, Bytes{0x05, 0x00});
  EXPECT_EQ(only_error_cause().cause(), ErrorCause::kInvalidValues);
  deliver(77, Bytes{});
  EXPECT_EQ(out_.sent.size(), 2u);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, UnknownMessageTypeAnsweredWithCause2_WIRE_04) {
  Bytes m{0x7f, 0x00, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef};
  deliver(77, m);
  auto cause = only_error_cause();
  EXPECT_EQ(cause.cause(), ErrorCause::kUnrecognizedMessage);
  EXPECT_EQ(cause.info, m);  // the whole message
  expect_unchanged();
}

TEST_F(AsapMalformedTest, ErrorIsNeverAnsweredWithError_WIRE_04) {
  // A valid Error: counted, not answered.
  Bytes err;
  ASSERT_TRUE(wire::encode_asap_error(ErrorCause::kInvalidValues, {}, wire::WireOptions{}, err).ok());
  deliver(77, err);
  EXPECT_TRUE(out_.sent.empty());
  EXPECT_EQ(server().counters().error_messages_received, 1u);
  // A malformed Error (TLV with 01 bits, bad length): still silence.
  deliver(77, with_tlv(err, 0x4050));
  Bytes bad = err;
  bad[3] = static_cast<std::uint8_t>(bad[3] + 12);
  deliver(77, bad);
  EXPECT_TRUE(out_.sent.empty());
  expect_unchanged();
}

TEST_F(AsapMalformedTest, UnknownTlvStopReport_0x4050_WIRE_03) {
  deliver(77, with_tlv(handle_resolution("EchoPool"), 0x4050));
  ASSERT_EQ(out_.sent.size(), 1u);
  auto cause = only_error_cause();
  EXPECT_EQ(cause.cause(), ErrorCause::kUnrecognizedParameter);
  EXPECT_EQ(cause.info, tlv_bytes(0x4050));
  expect_unchanged();
}

TEST_F(AsapMalformedTest, UnknownTlvStopSilent_0x0050_WIRE_03) {
  deliver(77, with_tlv(handle_resolution("EchoPool"), 0x0050));
  deliver(1, with_tlv(registration("EchoPool", make_pe(1, {kPeAddr3})), 0x0050));
  EXPECT_TRUE(out_.sent.empty());
  EXPECT_EQ(server().counters().silently_dropped, 2u);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, UnknownTlvSkipReport_0xc050_WIRE_03) {
  deliver(77, with_tlv(handle_resolution("EchoPool"), 0xc050));
  ASSERT_EQ(out_.sent.size(), 2u);
  EXPECT_EQ(out_.count_type(AsapType::kError), 1u);
  EXPECT_EQ(out_.count_type(AsapType::kHandleResolutionResponse), 1u);
  auto err = std::get<wire::AsapError>(out_.decoded(0));
  EXPECT_EQ(err.error.causes.at(0).cause(), ErrorCause::kUnrecognizedParameter);
  EXPECT_EQ(err.error.causes.at(0).info, tlv_bytes(0xc050));
  EXPECT_EQ(out_.last_as<wire::HandleResolutionResponse>().elements.size(), 1u);
  EXPECT_EQ(server().counters().unrecognized_parameter_reports, 1u);
}

TEST_F(AsapMalformedTest, UnknownTlvSkip_0x8050_WIRE_03) {
  deliver(77, with_tlv(handle_resolution("EchoPool"), 0x8050));
  ASSERT_EQ(out_.sent.size(), 1u);
  EXPECT_EQ(out_.last_as<wire::HandleResolutionResponse>().elements.size(), 1u);
}

TEST_F(AsapMalformedTest, RegistrationWithStopReportTlvRejected_WIRE_03) {
  deliver(1, with_tlv(registration("EchoPool", make_pe(1, {kPeAddr3})), 0x4050));
  auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_TRUE(resp.rejected);
  EXPECT_EQ(resp.pe_id, 1u);
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kUnrecognizedParameter);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, RegistrationWithSkipReportTlvProcessed_WIRE_03) {
  deliver(1, with_tlv(registration("EchoPool", make_pe(2, {kPeAddr2})), 0xc050));
  ASSERT_EQ(out_.sent.size(), 2u);
  EXPECT_EQ(std::get<wire::AsapError>(out_.decoded(0)).error.causes.at(0).cause(),
            ErrorCause::kUnrecognizedParameter);
  EXPECT_FALSE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(pe_count(), 2u);
}

TEST_F(AsapMalformedTest, DeregistrationWithBadTlvChangesNothing_SEC_03) {
  Bytes m = deregistration("EchoPool", 1);
  m[m.size() - 5] = 3;  // PE Identifier TLV Length 3 (< 4)
  deliver(1, m);
  EXPECT_EQ(only_error_cause().cause(), ErrorCause::kInvalidValues);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, PeToPuMessagesIgnored) {
  deliver(77, encode_message(wire::Cookie{{1, 2, 3}}));
  deliver(77, encode_message(wire::CookieEcho{{1, 2, 3}}));
  wire::BusinessCard card;
  card.pool_handle = handle("EchoPool");
  card.policy = PolicyParams{};
  deliver(77, encode_message(card));
  EXPECT_TRUE(out_.sent.empty());
  EXPECT_EQ(server().counters().pe_pu_messages_ignored, 3u);
  deliver(77, encode_message(wire::EndpointKeepAlive{false, 5, handle("EchoPool"), 1}));
  deliver(77, encode_message(wire::ServerAnnounce{5, {}}));
  EXPECT_TRUE(out_.sent.empty());
  EXPECT_EQ(server().counters().unexpected_messages, 1u);
  EXPECT_EQ(server().counters().server_announces_ignored, 1u);
  expect_unchanged();
}

TEST_F(AsapMalformedTest, MutatedMessagesNeverCrashAndRepliesDecode_SEC_03) {
  const Bytes seeds[] = {registration("EchoPool", make_pe(7, {kPeAddr1, kPeAddr2})), deregistration("EchoPool", 1),
                         handle_resolution("EchoPool", 4), keepalive_ack("EchoPool", 1),
                         unreachable("EchoPool", 9)};
  std::uint64_t rng = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  for (int i = 0; i < 4000; ++i) {
    Bytes m = seeds[next() % 5];
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int f = 0; f < flips; ++f) m[next() % m.size()] = static_cast<std::uint8_t>(next());
    if (next() % 8 == 0) m.resize(next() % m.size());
    out_.clear();
    deliver(1 + next() % 3, m);
    for (std::size_t s = 0; s < out_.sent.size(); ++s) {
      auto r = wire::decode_asap(out_.sent[s].bytes, wire::WireOptions{.max_pool_handle = kPoolHandleCapacity});
      ASSERT_TRUE(r.has_value()) << "iteration " << i;
      EXPECT_NE(m.empty() ? 0 : m[0], 0x0e) << "answered an Error";
    }
  }
  EXPECT_LE(pe_count(), 4000u);
}

}  // namespace
}  // namespace poolreg::asap::testing
