// The positive ASAP/ENRP test vectors of /work/shared/spec/testvectors.md (checked there with
// tshark 4.0.17 and RSPLIB 3.5.10), with the header values and the tshark fields each must
// decode to. Used by the tshark conformance tests; other tests may reuse the table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poolreg::testing {

enum class VectorProtocol : std::uint8_t { kAsap, kEnrp };

struct FieldExpectation {
  std::string field;  // tshark field name
  std::string value;  // every occurrence joined with ',' as tshark prints them
};

struct RSerPoolVector {
  std::string name;
  VectorProtocol protocol;
  int type;
  int flags;
  bool from_registrar;  // direction on the wire: registrar -> peer (else peer -> registrar)
  std::string hex;
  std::vector<FieldExpectation> fields;
};

// Hex text (no separators) to bytes; nullopt on odd length or a non-hex character.
inline std::optional<std::vector<std::uint8_t>> bytes_from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

inline constexpr std::string_view kEchoPoolHex = "4563686f506f6f6c";

// testvectors.md "Positive vectors", in the same order.
inline const std::vector<RSerPoolVector>& positive_vectors() {
  using P = VectorProtocol;
  static const std::vector<RSerPoolVector> kVectors = {
      {"ASAP Registration",
       P::kAsap,
       0x01,
       0x00,
       false,
       "010000400009000c4563686f506f6f6c000a00301234567800000000000075300004001800070000000100080a01"
       "0101000100080a0201010008000800000001",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.pool_element_pe_identifier", "0x12345678"},
        {"asap.pool_element_home_enrp_server_identifier", "0x00000000"},
        {"asap.pool_element_registration_life", "30000"},
        {"asap.sctp_transport_port", "7"},
        {"asap.transport_use", "0"},
        {"asap.ipv4_address", "10.1.1.1,10.2.1.1"},
        {"asap.pool_member_selection_policy_type", "0x00000001"}}},
      {"ASAP Registration Response ok",
       P::kAsap,
       0x03,
       0x00,
       true,
       "030000180009000c4563686f506f6f6c000e000812345678",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.pe_identifier", "0x12345678"},
        {"asap.r_bit", "0"}}},
      {"ASAP Registration Response reject (policy inconsistent, LU offending)",
       P::kAsap,
       0x03,
       0x01,
       true,
       "0301002c0009000c4563686f506f6f6c000e000812345678000c0014000500100008000c4000000140000000",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.pe_identifier", "0x12345678"},
        {"asap.r_bit", "1"},
        {"asap.cause_code", "0x0005"},
        {"asap.pool_member_selection_policy_type", "0x40000001"}}},
      {"ASAP Deregistration",
       P::kAsap,
       0x02,
       0x00,
       false,
       "020000180009000c4563686f506f6f6c000e000812345678",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"}, {"asap.pe_identifier", "0x12345678"}}},
      {"ASAP Deregistration Response",
       P::kAsap,
       0x04,
       0x00,
       true,
       "040000180009000c4563686f506f6f6c000e000812345678",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"}, {"asap.pe_identifier", "0x12345678"}}},
      {"ASAP Handle Resolution",
       P::kAsap,
       0x05,
       0x00,
       false,
       "050000100009000c4563686f506f6f6c",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"}}},
      {"ASAP Handle Resolution + HRO items=5",
       P::kAsap,
       0x05,
       0x00,
       false,
       "050000180009000c4563686f506f6f6c803f000800000005",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.parameter_type", "0x0009,0x803f"},
        {"asap.hropt_items", "5"}}},
      {"ASAP Handle Resolution Response",
       P::kAsap,
       0x06,
       0x00,
       true,
       "060000700009000c4563686f506f6f6c0008000800000001000a00301234567800000000000075300004001800070000"
       "000100080a010101000100080a0201010008000800000001000a00289abcdef00a0b0c0d000075300004001000070000"
       "000100080a0301010008000800000001",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.pool_element_pe_identifier", "0x12345678,0x9abcdef0"},
        {"asap.pool_element_home_enrp_server_identifier", "0x00000000,0x0a0b0c0d"},
        {"asap.pool_element_registration_life", "30000,30000"},
        {"asap.ipv4_address", "10.1.1.1,10.2.1.1,10.3.1.1"},
        {"asap.pool_member_selection_policy_type", "0x00000001,0x00000001,0x00000001"}}},
      {"ASAP Handle Resolution Response unknown pool",
       P::kAsap,
       0x06,
       0x00,
       true,
       "0600001c0009000e4e6f53756368506f6f6c0000000c000800090004",
       {{"asap.pool_handle_pool_handle", "4e6f53756368506f6f6c"},
        {"asap.parameter_length", "14,8"},
        {"asap.cause_code", "0x0009"}}},
      {"ASAP Endpoint Keep-Alive (H=1)",
       P::kAsap,
       0x07,
       0x01,
       true,
       "0701001c0a0b0c0d0009000c4563686f506f6f6c000e000812345678",
       {{"asap.server_identifier", "0x0a0b0c0d"},
        {"asap.h_bit", "1"},
        {"asap.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"asap.pe_identifier", "0x12345678"}}},
      {"ASAP Endpoint Keep-Alive Ack",
       P::kAsap,
       0x08,
       0x00,
       false,
       "080000180009000c4563686f506f6f6c000e000812345678",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"}, {"asap.pe_identifier", "0x12345678"}}},
      {"ASAP Endpoint Unreachable",
       P::kAsap,
       0x09,
       0x00,
       false,
       "090000180009000c4563686f506f6f6c000e000812345678",
       {{"asap.pool_handle_pool_handle", "4563686f506f6f6c"}, {"asap.pe_identifier", "0x12345678"}}},
      {"ASAP Server Announce",
       P::kAsap,
       0x0a,
       0x00,
       true,
       "0a0000080a0b0c0d",
       {{"asap.server_identifier", "0x0a0b0c0d"}}},
      {"ASAP Server Announce + SCTP transport",
       P::kAsap,
       0x0a,
       0x00,
       true,
       "0a0000180a0b0c0d000400100f170000000100080a000001",
       {{"asap.server_identifier", "0x0a0b0c0d"},
        {"asap.sctp_transport_port", "3863"},
        {"asap.ipv4_address", "10.0.0.1"}}},
      // tshark also decodes the unrecognized message inside the cause (a second type, 127).
      {"ASAP Error (unrecognized message)",
       P::kAsap,
       0x0e,
       0x00,
       true,
       "0e000010000c000c000200087f000004",
       {{"asap.cause_code", "0x0002"}, {"asap.message_type", "14,127"}}},
      {"ENRP Presence (R=1)",
       P::kEnrp,
       0x01,
       0x01,
       true,
       "0101002c0a0b0c0d11223344000f000629a50000000b00180a0b0c0d0004001026ad0000000100080a000001",
       {{"enrp.sender_servers_id", "0x0a0b0c0d"},
        {"enrp.receiver_servers_id", "0x11223344"},
        {"enrp.r_bit", "1"},
        {"enrp.pe_checksum", "0x29a5"},
        {"enrp.server_information_server_identifier", "0x0a0b0c0d"},
        {"enrp.sctp_transport_port", "9901"},
        {"enrp.ipv4_address", "10.0.0.1"}}},
      {"ENRP Handle Table Request (W=1)",
       P::kEnrp,
       0x02,
       0x01,
       false,
       "0201000c112233440a0b0c0d",
       {{"enrp.sender_servers_id", "0x11223344"},
        {"enrp.receiver_servers_id", "0x0a0b0c0d"},
        {"enrp.w_bit", "1"}}},
      {"ENRP Handle Table Response (M=1)",
       P::kEnrp,
       0x03,
       0x02,
       true,
       "030200600a0b0c0d112233440009000c4563686f506f6f6c000a0048123456780a0b0c0d000075300004001800070000"
       "000100080a010101000100080a020101000800080000000100040018c3500000000100080a010101000100080a020101",
       {{"enrp.m_bit", "1"},
        {"enrp.r_bit", "0"},
        {"enrp.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"enrp.pool_element_pe_identifier", "0x12345678"},
        {"enrp.pool_element_home_enrp_server_identifier", "0x0a0b0c0d"},
        {"enrp.pool_element_registration_life", "30000"},
        {"enrp.sctp_transport_port", "7,50000"},
        {"enrp.ipv4_address", "10.1.1.1,10.2.1.1,10.1.1.1,10.2.1.1"}}},
      {"ENRP Handle Table Response reject",
       P::kEnrp,
       0x03,
       0x01,
       true,
       "0301000c0a0b0c0d11223344",
       {{"enrp.r_bit", "1"}, {"enrp.m_bit", "0"}}},
      {"ENRP Handle Update ADD (T=1)",
       P::kEnrp,
       0x04,
       0x01,
       true,
       "040100640a0b0c0d11223344000000000009000c4563686f506f6f6c000a0048123456780a0b0c0d0000753000040018"
       "00070000000100080a010101000100080a020101000800080000000100040018c3500000000100080a010101000100080a"
       "020101",
       {{"enrp.update_action", "0"},
        {"enrp.t_bit", "1"},
        {"enrp.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"enrp.pool_element_pe_identifier", "0x12345678"},
        {"enrp.sctp_transport_port", "7,50000"}}},
      {"ENRP Handle Update DEL",
       P::kEnrp,
       0x04,
       0x00,
       true,
       "040000640a0b0c0d11223344000100000009000c4563686f506f6f6c000a0048123456780a0b0c0d0000753000040018"
       "00070000000100080a010101000100080a020101000800080000000100040018c3500000000100080a010101000100080a"
       "020101",
       {{"enrp.update_action", "1"},
        {"enrp.t_bit", "0"},
        {"enrp.pool_handle_pool_handle", "4563686f506f6f6c"},
        {"enrp.pool_element_pe_identifier", "0x12345678"}}},
      {"ENRP List Request",
       P::kEnrp,
       0x05,
       0x00,
       false,
       "0500000c112233440a0b0c0d",
       {{"enrp.sender_servers_id", "0x11223344"}, {"enrp.receiver_servers_id", "0x0a0b0c0d"}}},
      {"ENRP List Response",
       P::kEnrp,
       0x06,
       0x00,
       true,
       "060000240a0b0c0d11223344000b0018556677880004001026ad0000000100080a000003",
       {{"enrp.server_information_server_identifier", "0x55667788"},
        {"enrp.sctp_transport_port", "9901"},
        {"enrp.ipv4_address", "10.0.0.3"}}},
      {"ENRP Init Takeover",
       P::kEnrp,
       0x07,
       0x00,
       true,
       "070000100a0b0c0d1122334455667788",
       {{"enrp.target_servers_id", "0x55667788"}}},
      {"ENRP Init Takeover Ack",
       P::kEnrp,
       0x08,
       0x00,
       false,
       "08000010112233440a0b0c0d55667788",
       {{"enrp.sender_servers_id", "0x11223344"}, {"enrp.target_servers_id", "0x55667788"}}},
      {"ENRP Takeover Server",
       P::kEnrp,
       0x09,
       0x00,
       true,
       "090000100a0b0c0d1122334455667788",
       {{"enrp.target_servers_id", "0x55667788"}}},
      {"ENRP Error (invalid values)",
       P::kEnrp,
       0x0a,
       0x00,
       true,
       "0a00001c0a0b0c0d11223344000c00100003000c000f000600000000",
       {{"enrp.cause_code", "0x0003"}, {"enrp.parameter_type", "0x000c,0x000f"}}},
  };
  return kVectors;
}

}  // namespace poolreg::testing
