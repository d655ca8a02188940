// ASAP messages (RFC 5352, shared/spec/asap.md section 2) as owning value types.
// IDs are 64-bit: decoded from the short 32-bit fields, or from the next-gen extension TLVs
// when present. In RFC mode the encoder sends only the low 32 bits (short_id()).
// Flags not modelled here are sent as 0 and ignored on receipt.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "registrar/common/ids.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/wire/operation_error.hpp"
#include "registrar/wire/pool_element_view.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

// 0x01 PE → PR. The PE's ASAP transport is never sent in ASAP; a received one is ignored.
struct Registration {
  PoolHandle pool_handle;
  PoolElement element;
  std::optional<std::uint32_t> ng_capabilities;  // 0x8040, next-gen mode only
  friend bool operator==(const Registration&, const Registration&) = default;
};

// 0x02 PE → PR.
struct Deregistration {
  PoolHandle pool_handle;
  PoolElementId pe_id = 0;
  friend bool operator==(const Deregistration&, const Deregistration&) = default;
};

// 0x03 PR → PE. rejected = flag R; error normally present when rejected.
struct RegistrationResponse {
  bool rejected = false;
  PoolHandle pool_handle;
  PoolElementId pe_id = 0;
  std::optional<OperationError> error;
  std::optional<std::uint32_t> ng_capabilities;  // PR echoes its flags (next-gen mode only)
  friend bool operator==(const RegistrationResponse&, const RegistrationResponse&) = default;
};

// 0x04 PR → PE.
struct DeregistrationResponse {
  PoolHandle pool_handle;
  PoolElementId pe_id = 0;
  std::optional<OperationError> error;
  friend bool operator==(const DeregistrationResponse&, const DeregistrationResponse&) = default;
};

// 0x05 PU → PR. Holds no heap memory: decoding it never allocates.
struct HandleResolution {
  PoolHandle pool_handle;
  // Handle Resolution Option 0x803f items (0 = PR default, kHroItemsMax = as many as allowed).
  // Sent in both modes when set (RSPLIB understands it).
  std::optional<std::uint32_t> items;
  std::optional<std::uint32_t> ng_capabilities;  // 0x8040, next-gen mode only
  friend bool operator==(const HandleResolution&, const HandleResolution&) = default;
};

// 0x06 PR → PU: pool handle, then either policy + PEs, or an Operation Error (unknown pool).
// For allocation-free encoding use HandleResolutionResponseWriter (asap_codec.hpp).
struct HandleResolutionResponse {
  PoolHandle pool_handle;
  std::optional<PolicyParams> policy;
  std::vector<PoolElement> elements;  // ASAP transport never sent
  std::optional<OperationError> error;
  friend bool operator==(const HandleResolutionResponse&, const HandleResolutionResponse&) = default;
};

// 0x07 PR → PE.
struct EndpointKeepAlive {
  bool home = false;  // flag H: "I want to be your home PR"
  RegistrarId registrar_id = 0;
  PoolHandle pool_handle;
  std::optional<PoolElementId> pe_id;  // always sent by poolreg
  friend bool operator==(const EndpointKeepAlive&, const EndpointKeepAlive&) = default;
};

// 0x08 PE → PR.
struct EndpointKeepAliveAck {
  PoolHandle pool_handle;
  PoolElementId pe_id = 0;
  friend bool operator==(const EndpointKeepAliveAck&, const EndpointKeepAliveAck&) = default;
};

// 0x09 PU → PR.
struct EndpointUnreachable {
  PoolHandle pool_handle;
  PoolElementId pe_id = 0;
  friend bool operator==(const EndpointUnreachable&, const EndpointUnreachable&) = default;
};

// 0x0a PR → multicast. transports: the PR's ASAP endpoints (RSPLIB sends none).
struct ServerAnnounce {
  RegistrarId registrar_id = 0;
  std::vector<TransportEndpoint> transports;
  friend bool operator==(const ServerAnnounce&, const ServerAnnounce&) = default;
};

// 0x0b PE → PU.
struct Cookie {
  std::vector<std::uint8_t> cookie;  // 1..n bytes
  friend bool operator==(const Cookie&, const Cookie&) = default;
};

// 0x0c PU → PE.
struct CookieEcho {
  std::vector<std::uint8_t> cookie;
  friend bool operator==(const CookieEcho&, const CookieEcho&) = default;
};

// 0x0d PE ↔ PU.
struct BusinessCard {
  PoolHandle pool_handle;
  std::optional<PolicyParams> policy;
  std::vector<PoolElement> elements;
  friend bool operator==(const BusinessCard&, const BusinessCard&) = default;
};

// 0x0e any → any.
struct AsapError {
  OperationError error;
  friend bool operator==(const AsapError&, const AsapError&) = default;
};

using AsapMessage =
    std::variant<Registration, Deregistration, RegistrationResponse, DeregistrationResponse, HandleResolution,
                 HandleResolutionResponse, EndpointKeepAlive, EndpointKeepAliveAck, EndpointUnreachable,
                 ServerAnnounce, Cookie, CookieEcho, BusinessCard, AsapError>;

AsapType asap_type_of(const AsapMessage& message) noexcept;

// Zero-copy Registration (decode_registration_view): valid while the decoded buffer lives.
struct RegistrationView {
  PoolHandle pool_handle;  // inline copy, no allocation
  PoolElementView element;
  std::optional<std::uint32_t> ng_capabilities;

  Registration to_message() const;  // allocates (address vector)
};

}  // namespace poolreg::wire
