// ENRP messages (RFC 5353, shared/spec/enrp.md section 2) as owning value types.
// Every message carries sender and receiver IDs (receiver 0 = unknown/multicast). IDs are
// 64-bit: in next-gen mode the Extended-IDs TLV (0x8041) carries the full values, otherwise the
// 32-bit fields are zero-extended. Flags not modelled are sent 0 and ignored on receipt.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "registrar/common/ids.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/wire/operation_error.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

// Server Information parameter (0x000b). The ID travels only as 32 bits (no extension defined
// for it in nextgen.md): decoded IDs are short ones, map them through the peer table.
struct ServerInformation {
  RegistrarId registrar_id = 0;
  TransportEndpoint transport;  // SCTP for ENRP
  friend bool operator==(const ServerInformation&, const ServerInformation&) = default;
};

// 0x01 registrar ↔ registrar.
struct Presence {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  bool reply_required = false;  // flag R
  // PE Checksum (0x000f) as the 16-bit big-endian reading of its two wire bytes: wire bytes
  // 29 a5 → 0x29a5 (the RSPLIB host-order value 0xa529 byte-swapped; see checksum.md).
  // Always sent by poolreg; optional on receipt.
  std::optional<std::uint16_t> checksum;
  std::optional<std::uint32_t> checksum32;       // 0x8044 PE-Checksum-32 (next-gen mode only)
  std::optional<ServerInformation> server_info;  // always sent by poolreg
  std::optional<std::uint32_t> ng_capabilities;  // 0x8040 (next-gen mode only)
  friend bool operator==(const Presence&, const Presence&) = default;
};

// 0x02.
struct HandleTableRequest {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  bool own_children_only = false;  // flag W
  friend bool operator==(const HandleTableRequest&, const HandleTableRequest&) = default;
};

// One pool in a Handle Table Response: its handle followed by ≥1 PE (with ASAP transport).
struct HandleTableEntry {
  PoolHandle pool_handle;
  std::vector<PoolElement> elements;
  friend bool operator==(const HandleTableEntry&, const HandleTableEntry&) = default;
};

// 0x03.
struct HandleTableResponse {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  bool reject = false;  // flag R
  bool more = false;    // flag M
  std::vector<HandleTableEntry> pools;
  friend bool operator==(const HandleTableResponse&, const HandleTableResponse&) = default;
};

enum class UpdateAction : std::uint16_t { kAddPe = 0, kDeletePe = 1 };

// 0x04. The PE must carry its ASAP transport and a non-zero Home PR ID.
struct HandleUpdate {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  bool takeover_suggested = false;  // flag T
  UpdateAction action = UpdateAction::kAddPe;
  PoolHandle pool_handle;
  PoolElement element;
  friend bool operator==(const HandleUpdate&, const HandleUpdate&) = default;
};

// 0x05.
struct ListRequest {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  friend bool operator==(const ListRequest&, const ListRequest&) = default;
};

// 0x06.
struct ListResponse {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  bool reject = false;  // flag R
  std::vector<ServerInformation> servers;
  friend bool operator==(const ListResponse&, const ListResponse&) = default;
};

// 0x07.
struct InitTakeover {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  RegistrarId target = 0;
  friend bool operator==(const InitTakeover&, const InitTakeover&) = default;
};

// 0x08.
struct InitTakeoverAck {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  RegistrarId target = 0;
  friend bool operator==(const InitTakeoverAck&, const InitTakeoverAck&) = default;
};

// 0x09.
struct TakeoverServer {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  RegistrarId target = 0;
  friend bool operator==(const TakeoverServer&, const TakeoverServer&) = default;
};

// 0x0a.
struct EnrpError {
  RegistrarId sender = 0;
  RegistrarId receiver = 0;
  OperationError error;
  friend bool operator==(const EnrpError&, const EnrpError&) = default;
};

using EnrpMessage = std::variant<Presence, HandleTableRequest, HandleTableResponse, HandleUpdate, ListRequest,
                                  ListResponse, InitTakeover, InitTakeoverAck, TakeoverServer, EnrpError>;

EnrpType enrp_type_of(const EnrpMessage& message) noexcept;

}  // namespace poolreg::wire
