// What registrar/wire's encoder produces, checked by tshark: every message of testvectors.md is
// built as a value, encoded (RFC mode and next-gen mode), carried in each encapsulation, and
// must decode as the right protocol and type with no malformed mark and no expert item
// >= warning. In RFC mode the key fields must also equal those of the matching golden vector
// (ASAP-*/ENRP-* conformance: the bytes poolreg sends are what tshark and RSPLIB expect).
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "dataplane/capture/pcap_writer.hpp"
#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "tests/dataplane/capture/rserpool_test_vectors.hpp"
#include "tests/dataplane/capture/temp_dir.hpp"
#include "tests/dataplane/capture/tshark_check.hpp"
#include "tests/dataplane/capture/tshark_fixture.hpp"
#include "tests/dataplane/capture/vector_capture.hpp"

namespace poolreg::testing {
namespace {

using capture::PcapWriter;

PoolHandle pool(std::string_view name) { return *PoolHandle::from_string(name); }

TransportEndpoint sctp_endpoint(std::uint16_t port, std::vector<IpAddress> addresses) {
  TransportEndpoint t;
  t.protocol = TransportProtocol::kSctp;
  t.port = port;
  t.use = TransportUse::kDataOnly;
  t.addresses = std::move(addresses);
  return t;
}

// The sample PEs of testvectors.md.
PoolElement element_one() {
  PoolElement e;
  e.id = 0x12345678;
  e.registration_life_ms = 30000;
  e.user_transport = sctp_endpoint(7, {IpAddress::v4(0x0a010101), IpAddress::v4(0x0a020101)});
  return e;  // policy: round robin (the default)
}
PoolElement element_two() {
  PoolElement e;
  e.id = 0x9abcdef0;
  e.home_registrar = 0x0a0b0c0d;
  e.registration_life_ms = 30000;
  e.user_transport = sctp_endpoint(7, {IpAddress::v4(0x0a030101)});
  return e;
}
PoolElement element_one_in_enrp() {
  PoolElement e = element_one();
  e.home_registrar = 0x0a0b0c0d;
  e.asap_transport = sctp_endpoint(50000, {IpAddress::v4(0x0a010101), IpAddress::v4(0x0a020101)});
  return e;
}
wire::ServerInformation server(RegistrarId id, std::uint32_t address) {
  return wire::ServerInformation{id, sctp_endpoint(capture::kEnrpPort, {IpAddress::v4(address)})};
}

struct EncodedCase {
  std::string vector_name;  // the positive vector this message reproduces
  std::function<wire::EncodeResult(const wire::WireOptions&, std::vector<std::uint8_t>&)> encode;
};

template <typename Message>
EncodedCase make_case(std::string name, Message m) {
  return {std::move(name), [m](const wire::WireOptions& o, std::vector<std::uint8_t>& out) {
            return wire::encode(m, o, wire::ByteSink(out));
          }};
}

std::vector<EncodedCase> encoded_cases() {
  using namespace wire;  // NOLINT: message type names
  const PoolHandle echo = pool("EchoPool");
  PolicyParams least_used;
  least_used.type = PolicyType::kLeastUsed;
  least_used.load = 0x40000000;
  const std::vector<std::uint8_t> lu_policy_tlv = {0x00, 0x08, 0x00, 0x0c, 0x40, 0x00,
                                                   0x00, 0x01, 0x40, 0x00, 0x00, 0x00};
  const std::vector<std::uint8_t> unknown_message = {0x7f, 0x00, 0x00, 0x04};
  const std::vector<std::uint8_t> checksum_tlv = {0x00, 0x0f, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00};

  ServerAnnounce announce_with_transport{0x0a0b0c0d, {sctp_endpoint(3863, {IpAddress::v4(0x0a000001)})}};
  Presence presence;
  presence.sender = 0x0a0b0c0d;
  presence.receiver = 0x11223344;
  presence.reply_required = true;
  presence.checksum = 0x29a5;
  presence.server_info = server(0x0a0b0c0d, 0x0a000001);
  HandleTableResponse table;
  table.sender = 0x0a0b0c0d;
  table.receiver = 0x11223344;
  table.more = true;
  table.pools.push_back({echo, {element_one_in_enrp()}});
  HandleTableResponse table_reject;
  table_reject.sender = 0x0a0b0c0d;
  table_reject.receiver = 0x11223344;
  table_reject.reject = true;
  HandleUpdate add{0x0a0b0c0d, 0x11223344, true, UpdateAction::kAddPe, echo, element_one_in_enrp()};
  HandleUpdate del{0x0a0b0c0d, 0x11223344, false, UpdateAction::kDeletePe, echo, element_one_in_enrp()};
  ListResponse list;
  list.sender = 0x0a0b0c0d;
  list.receiver = 0x11223344;
  list.servers.push_back(server(0x55667788, 0x0a000003));

  std::vector<EncodedCase> cases = {
      make_case("ASAP Registration", Registration{echo, element_one(), std::nullopt}),
      make_case("ASAP Registration Response ok",
                RegistrationResponse{false, echo, 0x12345678, std::nullopt, std::nullopt}),
      make_case(
          "ASAP Registration Response reject (policy inconsistent, LU offending)",
          RegistrationResponse{true, echo, 0x12345678,
                               OperationError::single(ErrorCause::kInconsistentPoolingPolicy, lu_policy_tlv),
                               std::nullopt}),
      make_case("ASAP Deregistration", Deregistration{echo, 0x12345678}),
      make_case("ASAP Deregistration Response", DeregistrationResponse{echo, 0x12345678, std::nullopt}),
      make_case("ASAP Handle Resolution", HandleResolution{echo, std::nullopt, std::nullopt}),
      make_case("ASAP Handle Resolution + HRO items=5", HandleResolution{echo, 5u, std::nullopt}),
      make_case("ASAP Handle Resolution Response",
                HandleResolutionResponse{echo, PolicyParams{}, {element_one(), element_two()}, std::nullopt}),
      make_case(
          "ASAP Handle Resolution Response unknown pool",
          HandleResolutionResponse{
              pool("NoSuchPool"), std::nullopt, {}, OperationError::single(ErrorCause::kUnknownPoolHandle)}),
      make_case("ASAP Endpoint Keep-Alive (H=1)",
                EndpointKeepAlive{true, 0x0a0b0c0d, echo, PoolElementId{0x12345678}}),
      make_case("ASAP Endpoint Keep-Alive Ack", EndpointKeepAliveAck{echo, 0x12345678}),
      make_case("ASAP Endpoint Unreachable", EndpointUnreachable{echo, 0x12345678}),
      make_case("ASAP Server Announce", ServerAnnounce{0x0a0b0c0d, {}}),
      make_case("ASAP Server Announce + SCTP transport", announce_with_transport),
      make_case("ASAP Error (unrecognized message)",
                AsapError{OperationError::single(ErrorCause::kUnrecognizedMessage, unknown_message)}),
      make_case("ENRP Presence (R=1)", presence),
      make_case("ENRP Handle Table Request (W=1)", HandleTableRequest{0x11223344, 0x0a0b0c0d, true}),
      make_case("ENRP Handle Table Response (M=1)", table),
      make_case("ENRP Handle Table Response reject", table_reject),
      make_case("ENRP Handle Update ADD (T=1)", add),
      make_case("ENRP Handle Update DEL", del),
      make_case("ENRP List Request", ListRequest{0x11223344, 0x0a0b0c0d}),
      make_case("ENRP List Response", list),
      make_case("ENRP Init Takeover", InitTakeover{0x0a0b0c0d, 0x11223344, 0x55667788}),
      make_case("ENRP Init Takeover Ack", InitTakeoverAck{0x11223344, 0x0a0b0c0d, 0x55667788}),
      make_case("ENRP Takeover Server", TakeoverServer{0x0a0b0c0d, 0x11223344, 0x55667788}),
      make_case("ENRP Error (invalid values)",
                EnrpError{0x0a0b0c0d, 0x11223344,
                          OperationError::single(ErrorCause::kInvalidValues, checksum_tlv)}),
  };
  // The allocation-free Handle Resolution Response writer must produce the same decode.
  cases.push_back(
      {"ASAP Handle Resolution Response", [echo](const WireOptions& o, std::vector<std::uint8_t>& out) {
         HandleResolutionResponseWriter w(ByteSink(out), o);
         w.begin(echo, PolicyParams{});
         w.add(element_one());
         w.add(element_two());
         return w.finish();
       }});
  return cases;
}

const RSerPoolVector* vector_named(const std::string& name) {
  for (const RSerPoolVector& v : positive_vectors()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

struct WireParam {
  Encapsulation encapsulation;
  bool next_gen;
};

void PrintTo(const WireParam& p, std::ostream* os) {
  *os << name_of(p.encapsulation) << (p.next_gen ? "/next-gen" : "/rfc");
}

std::string param_name(const ::testing::TestParamInfo<WireParam>& info) {
  return std::string(name_of(info.param.encapsulation)) + (info.param.next_gen ? "NextGen" : "Rfc");
}

class TsharkWireEncoder : public TsharkFixture<::testing::TestWithParam<WireParam>> {
 protected:
  TsharkWireEncoder() : TsharkFixture("tshark-wire") {}
};

class TsharkWireEncoderNextGen : public TsharkFixture<::testing::Test> {
 protected:
  TsharkWireEncoderNextGen() : TsharkFixture("tshark-ng") {}
};

TEST_P(TsharkWireEncoder, EncodedMessagesDecodeCleanly) {
  const WireParam param = GetParam();
  wire::WireOptions options;
  options.next_gen = param.next_gen;
  const std::string path = dir_.file("encoded.pcap");

  struct Written {
    const RSerPoolVector* vector;
    std::size_t frame;
    std::size_t size;
  };
  std::vector<Written> written;
  std::set<std::string> fields;
  {
    PcapWriter w(path);
    ASSERT_TRUE(w.ok());
    TimeNs ts = kNsPerSec;
    for (const EncodedCase& c : encoded_cases()) {
      const RSerPoolVector* v = vector_named(c.vector_name);
      ASSERT_NE(v, nullptr) << c.vector_name;
      if (!carries(param.encapsulation, v->protocol)) continue;
      std::vector<std::uint8_t> bytes;
      const wire::EncodeResult r = c.encode(options, bytes);
      ASSERT_TRUE(r.ok()) << c.vector_name << ": encode status " << static_cast<int>(r.status);
      ASSERT_EQ(r.size, bytes.size()) << c.vector_name;
      const std::size_t frame =
          write_message(w, param.encapsulation, v->protocol, v->from_registrar, bytes, ts);
      ASSERT_NE(frame, 0u) << c.vector_name;
      ts += kNsPerMs;
      written.push_back({v, frame, bytes.size()});
      for (const FieldExpectation& f : v->fields) fields.insert(f.field);
    }
    ASSERT_TRUE(w.flush());
  }
  ASSERT_GE(written.size(), 15u);

  TsharkOptions topt;
  topt.fields.assign(fields.begin(), fields.end());
  const TsharkReport report = run_tshark(*tshark_, path, topt);
  ASSERT_TRUE(report.ok) << report.error;
  for (const FrameReport* bad : report.problem_frames(ExpertSeverity::kWarn)) {
    ADD_FAILURE() << param_name({param, 0}) << ": " << bad->describe();
  }
  for (const Written& wr : written) {
    const RSerPoolVector& v = *wr.vector;
    SCOPED_TRACE(param_name({param, 0}) + ": " + v.name);
    const FrameReport* f = report.frame(static_cast<int>(wr.frame));
    ASSERT_NE(f, nullptr);
    const bool asap = v.protocol == VectorProtocol::kAsap;
    EXPECT_TRUE(ends_with(f->protocols, asap ? ":asap" : ":enrp")) << f->describe();
    ASSERT_FALSE(f->messages.empty()) << f->describe();
    const DecodedMessage& m = f->messages.front();
    EXPECT_EQ(m.protocol, asap ? RSerPoolProtocol::kAsap : RSerPoolProtocol::kEnrp) << f->describe();
    EXPECT_EQ(m.type, v.type) << f->describe();
    EXPECT_EQ(m.flags, v.flags) << f->describe();
    EXPECT_EQ(m.length, static_cast<int>(wr.size)) << f->describe();
    EXPECT_TRUE(f->malformed.empty()) << f->describe();
    if (param.next_gen) {
      // Extension TLVs may add values; the pool handle (when the message has one) must stay.
      const std::string handle_field = asap ? "asap.pool_handle_pool_handle" : "enrp.pool_handle_pool_handle";
      for (const FieldExpectation& fe : v.fields) {
        if (fe.field == handle_field) {
          EXPECT_EQ(joined(f->field(fe.field)), fe.value) << f->describe();
        }
      }
    } else {
      for (const FieldExpectation& fe : v.fields) {
        EXPECT_EQ(joined(f->field(fe.field)), fe.value) << fe.field << " in " << f->describe();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, TsharkWireEncoder,
                         ::testing::Values(WireParam{Encapsulation::kSctpOverUdp, false},
                                           WireParam{Encapsulation::kSctp, false},
                                           WireParam{Encapsulation::kTcp, false},
                                           WireParam{Encapsulation::kSctpOverUdp, true},
                                           WireParam{Encapsulation::kTcp, true}),
                         param_name);

// Next-gen messages with 64-bit IDs carry extension TLVs (0x8040 NG-Capabilities, 0x8041
// Extended-IDs, 0x8042 Extended-PE-ID, 0x8044 PE-Checksum-32; nextgen.md). tshark 4.0 knows none
// of them: it must show them as unknown parameters and flag nothing (skip bits 10 in the type).
TEST_F(TsharkWireEncoderNextGen, ExtensionTlvsAreSkippedWithoutErrors) {
  wire::WireOptions options;
  options.next_gen = true;
  PoolElement e = element_one_in_enrp();
  e.id = 0x0000123456789abcULL;
  e.home_registrar = 0x00000a0b0c0d0e0fULL;
  wire::Presence presence;
  presence.sender = 0x00000a0b0c0d0e0fULL;
  presence.receiver = 0x11223344;
  presence.checksum = 0x29a5;
  presence.checksum32 = 0x12345678;
  presence.ng_capabilities = 1;
  presence.server_info = server(0x0a0b0c0d, 0x0a000001);

  struct Case {
    const char* name;
    VectorProtocol protocol;
    int type;
    std::vector<std::uint8_t> bytes;
    const char* extension;  // a parameter type that must appear
  };
  std::vector<Case> cases;
  {
    std::vector<std::uint8_t> reg;
    PoolElement asap_e = e;
    asap_e.asap_transport.reset();
    ASSERT_TRUE(
        wire::encode(wire::Registration{pool("EchoPool"), asap_e, 0x1fu}, options, wire::ByteSink(reg)));
    cases.push_back({"Registration", VectorProtocol::kAsap, 1, reg, "0x8042"});
    std::vector<std::uint8_t> upd;
    ASSERT_TRUE(wire::encode(wire::HandleUpdate{presence.sender, 0x11223344, false,
                                                wire::UpdateAction::kAddPe, pool("EchoPool"), e},
                             options, wire::ByteSink(upd)));
    cases.push_back({"Handle Update", VectorProtocol::kEnrp, 4, upd, "0x8041"});
    std::vector<std::uint8_t> pres;
    ASSERT_TRUE(wire::encode(presence, options, wire::ByteSink(pres)));
    cases.push_back({"Presence", VectorProtocol::kEnrp, 1, pres, "0x8044"});
  }
  const std::string path = dir_.file("nextgen.pcap");
  std::vector<std::size_t> frames;
  {
    PcapWriter w(path);
    TimeNs ts = kNsPerSec;
    for (const Case& c : cases) {
      frames.push_back(write_message(w, Encapsulation::kSctpOverUdp, c.protocol,
                                     c.protocol == VectorProtocol::kEnrp, c.bytes, ts += kNsPerMs));
      ASSERT_NE(frames.back(), 0u) << c.name;
    }
    ASSERT_TRUE(w.flush());
  }
  TsharkOptions topt;
  topt.fields = {"asap.parameter_type", "enrp.parameter_type"};
  const TsharkReport report = run_tshark(*tshark_, path, topt);
  ASSERT_TRUE(report.ok) << report.error;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const FrameReport* f = report.frame(static_cast<int>(frames[i]));
    ASSERT_NE(f, nullptr);
    ASSERT_FALSE(f->messages.empty()) << f->describe();
    EXPECT_EQ(f->messages.front().type, cases[i].type) << f->describe();
    EXPECT_EQ(f->messages.front().length, static_cast<int>(cases[i].bytes.size())) << f->describe();
    EXPECT_TRUE(f->well_formed()) << f->describe();
    const bool asap = cases[i].protocol == VectorProtocol::kAsap;
    const std::string types = joined(f->field(asap ? "asap.parameter_type" : "enrp.parameter_type"));
    EXPECT_NE(types.find(cases[i].extension), std::string::npos) << types;
  }
}

}  // namespace
}  // namespace poolreg::testing
