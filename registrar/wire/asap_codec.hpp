// ASAP message codec (PPID 11). Decoding is strict and total: every input yields a message or a
// DecodeError value, never a crash or exception. Encoding writes through a ByteSink.
//
// Allocation summary:
//   decode_asap                    allocates only for messages owning vectors (PEs, addresses,
//                                  cookies, error causes); Handle Resolution and keep-alive-type
//                                  messages never allocate.
//   decode_handle_resolution       never allocates.
//   decode_registration_view       never allocates (views into the buffer).
//   encode(...)                    never allocates into a span sink; into a vector sink only when
//                                  its capacity runs out.
//   HandleResolutionResponseWriter never allocates into a span sink (append PEs one by one).
// All functions are reentrant (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/wire/asap_messages.hpp"
#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/tlv_writer.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::wire {

// Decodes one ASAP message. `bytes` must start at the message; up to 3 bytes beyond Length
// are accepted as padding, more → kTrailingBytes (cause 0x3). Unknown type → cause 0x2 with
// the whole message (WIRE-04). Unknown TLVs: see DecodeError::silent_drop and reports().
DecodeResult<AsapMessage> decode_asap(std::span<const std::uint8_t> bytes, const WireOptions& options = {});

// Hot-path decoders of one expected type; dispatch on peek_header() first. A message of another
// type yields kWrongMessageType (cause 0x3, offset 0). No allocation.
DecodeResult<HandleResolution> decode_handle_resolution(std::span<const std::uint8_t> bytes,
                                                        const WireOptions& options = {}) noexcept;
DecodeResult<RegistrationView> decode_registration_view(std::span<const std::uint8_t> bytes,
                                                        const WireOptions& options = {}) noexcept;

// Best-effort salvage of what a reply needs when decoding failed (asap.md section 6: answer a
// bad Registration with Registration Response R=1 when handle and PE ID can be read, else with
// an ASAP Error). Tolerant scan of the top-level TLVs up to the first structural error: the
// first Pool Handle (1..64 bytes, ignoring the configured limit) and the PE ID from the first
// PE Identifier (with a preceding 0x8043) or Pool Element parameter (with its 0x8042).
// Never allocates; use it only after decode_* failed.
struct AsapEcho {
  std::optional<PoolHandle> pool_handle;
  std::optional<PoolElementId> pe_id;
};
AsapEcho salvage_asap_echo(std::span<const std::uint8_t> bytes) noexcept;

// Encoders. RFC mode (options.next_gen false) produces the byte-exact RFC/RSPLIB layouts.
EncodeResult encode(const AsapMessage& message, const WireOptions& options, ByteSink out);
EncodeResult encode(const Registration& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const Deregistration& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const RegistrationResponse& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const DeregistrationResponse& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const HandleResolution& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const HandleResolutionResponse& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const EndpointKeepAlive& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const EndpointKeepAliveAck& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const EndpointUnreachable& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const ServerAnnounce& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const Cookie& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const CookieEcho& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const BusinessCard& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const AsapError& m, const WireOptions& options, ByteSink out);

// ASAP Error (0x0e) with one cause whose information is `info` (e.g. DecodeError::offending()):
// no allocation.
EncodeResult encode_asap_error(ErrorCause cause, std::span<const std::uint8_t> info, const WireOptions& options,
                               ByteSink out);

// Allocation-free Handle Resolution Response: begin_*, add() per selected PE, finish().
//   HandleResolutionResponseWriter w(span_or_vector, options);
//   w.begin(handle, pool_policy); for (pe : selected) w.add(pe); auto r = w.finish();
// After any failure the writer stays failed and finish() returns the first error.
class HandleResolutionResponseWriter {
 public:
  HandleResolutionResponseWriter(ByteSink out, const WireOptions& options) noexcept;

  // Success form: pool handle + policy TLV (the pool's policy; RSPLIB copies the first PE's).
  void begin(const PoolHandle& handle, const PolicyParams& pool_policy) noexcept;
  // Failure form: pool handle + Operation Error with one cause (e.g. kUnknownPoolHandle).
  void begin_error(const PoolHandle& handle, ErrorCause cause) noexcept;
  void add(const PoolElement& element) noexcept;  // its asap_transport is not written
  void add(PoolElementId id, RegistrarId home, std::uint32_t life_ms, TransportProtocol protocol,
           std::uint16_t port, TransportUse use, std::span<const IpAddress> addresses,
           const PolicyParams& policy, std::uint32_t dccp_service_code = 0,
           std::span<const AddressTypeEntry> types = {}) noexcept;  // types: next-gen mode only
  std::size_t elements() const noexcept { return count_; }
  EncodeResult finish() noexcept;

 private:
  TlvWriter w_;
  WireOptions options_;
  std::size_t start_ = 0;
  std::size_t count_ = 0;
  bool begun_ = false;
};

}  // namespace poolreg::wire
