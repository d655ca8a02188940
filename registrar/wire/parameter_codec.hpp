// Parameter-level codec (RFC 5354 TLVs): the building blocks of asap_codec / enrp_codec.
// Most callers want the message codecs; these are public for tests and for code that builds
// cause information or single parameters. Decode functions never allocate unless they return
// an owning type (TransportEndpoint, PoolElement, OperationError, ServerInformation).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "registrar/common/ip_address.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/enrp_messages.hpp"
#include "registrar/wire/operation_error.hpp"
#include "registrar/wire/pool_element_view.hpp"
#include "registrar/wire/tlv_reader.hpp"
#include "registrar/wire/tlv_writer.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::wire {

// ---- encoding (append one complete TLV to the writer; failures are sticky in the writer) ----
void encode_address(TlvWriter& w, const IpAddress& address) noexcept;
void encode_transport(TlvWriter& w, const TransportEndpoint& transport, const WireOptions& options) noexcept;
void encode_transport(TlvWriter& w, TransportProtocol protocol, std::uint16_t port, TransportUse use,
                      std::uint32_t dccp_service_code, std::span<const IpAddress> addresses,
                      const WireOptions& options) noexcept;
void encode_policy(TlvWriter& w, const PolicyParams& policy) noexcept;
void encode_pool_handle(TlvWriter& w, const PoolHandle& handle, const WireOptions& options) noexcept;
// with_asap_transport: ENRP (true) or ASAP (false). Next-gen mode appends 0x8042, then 0x8045
// when the PE has address types; RFC mode leaves retiring addresses out (README "Address types").
void encode_pool_element(TlvWriter& w, const PoolElement& element, bool with_asap_transport,
                         const WireOptions& options) noexcept;
// Same without a PoolElement object (allocation-free Handle Resolution Response).
void encode_pool_element(TlvWriter& w, PoolElementId id, RegistrarId home, std::uint32_t life_ms,
                         TransportProtocol protocol, std::uint16_t port, TransportUse use,
                         std::uint32_t dccp_service_code, std::span<const IpAddress> addresses,
                         const PolicyParams& policy, const WireOptions& options,
                         std::span<const AddressTypeEntry> types = {}) noexcept;
// Next-gen mode: 0x8043 (u64) first, then 0x000e with the short form.
void encode_pe_identifier(TlvWriter& w, PoolElementId id, const WireOptions& options) noexcept;
void encode_operation_error(TlvWriter& w, const OperationError& error) noexcept;
void encode_server_information(TlvWriter& w, const ServerInformation& info, const WireOptions& options) noexcept;
void encode_u32_tlv(TlvWriter& w, std::uint16_t type, std::uint32_t value) noexcept;

// ---- decoding (tlv = a TLV already framed by TlvReader; offsets are message-relative) ----
// Decoders taking `reports` add skipped unknown TLVs with action bits 11 to it.
Expected<IpAddress, DecodeError> decode_address(const Tlv& tlv) noexcept;
// Validates WIRE-08 (address count, transport use, port) and max_addresses.
Expected<TransportView, DecodeError> decode_transport(const Tlv& tlv, const WireOptions& options,
                                                      UnrecognizedReports& reports) noexcept;
// Unknown policy type → kUnknownPolicy, shorter value → kPolicyTooShort (both cause 0x3);
// longer value: tail ignored.
Expected<PolicyParams, DecodeError> decode_policy(const Tlv& tlv) noexcept;
// Empty → kEmptyValue, longer than options.max_pool_handle → kPoolHandleTooLong (cause 0x3).
Expected<PoolHandle, DecodeError> decode_pool_handle(const Tlv& tlv, const WireOptions& options) noexcept;
// Pool Element TLV: IDs/life, user transport, policy, [ASAP transport], [0x8042].
Expected<PoolElementView, DecodeError> decode_pool_element(const Tlv& tlv, const WireOptions& options,
                                                           UnrecognizedReports& reports) noexcept;
Expected<OperationError, DecodeError> decode_operation_error(const Tlv& tlv);  // allocates
Expected<ServerInformation, DecodeError> decode_server_information(
    const Tlv& tlv, const WireOptions& options,
    UnrecognizedReports& reports);  // allocates

// A TLV the current context does not consume (WIRE-03/05): unknown type with action bits
// 00 → cause 0x1 + silent_drop, 01 → cause 0x1; a known type with those bits in the wrong place
// → kUnexpectedParameter (cause 0x3); bits 10 → skip (nullopt), 11 → skip and add to reports.
std::optional<DecodeError> unhandled_parameter(const Tlv& tlv, UnrecognizedReports& reports) noexcept;
// True when the low 14 bits name a parameter this codec knows (RFC 5354, 0x3f, 0x40..0x44).
bool is_known_parameter(std::uint16_t type) noexcept;
// Fixed-size integer values (Length exactly 8 / 12) → kBadValueLength otherwise.
// Inline on purpose: a small Expected (16 bytes) returned from an out-of-line call is assembled
// into registers through the stack (GCC), a store-forwarding stall that made the Handle
// Resolution decode ~25% slower; inlined, it never leaves registers.
inline Expected<std::uint32_t, DecodeError> decode_u32_value(const Tlv& tlv) noexcept {
  if (tlv.value.size() != 4)
    return unexpected(DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kBadValueLength, false,
                                  tlv.offset, tlv.length});
  return load_u32(tlv.value.data());
}
inline Expected<std::uint64_t, DecodeError> decode_u64_value(const Tlv& tlv) noexcept {
  if (tlv.value.size() != 8)
    return unexpected(DecodeError{ErrorCause::kInvalidValues, DecodeErrorKind::kBadValueLength, false,
                                  tlv.offset, tlv.length});
  return load_u64(tlv.value.data());
}

// Policy value length needed by a type (bytes after the type field), nullopt without codec.
std::optional<std::size_t> policy_value_size(PolicyType type) noexcept;

}  // namespace poolreg::wire
