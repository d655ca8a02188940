// ENRP message codec (PPID 12). Same contract as asap_codec.hpp: strict, total, no exceptions.
// decode_enrp allocates for messages owning vectors (Handle Update/Table Response PEs, List
// Response, Server Information addresses, error causes); the takeover/request messages do not.
// Encoders never allocate into a span sink.
#pragma once

#include <cstdint>
#include <span>

#include "registrar/wire/decode_error.hpp"
#include "registrar/wire/enrp_messages.hpp"
#include "registrar/wire/tlv_writer.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::wire {

// Decodes one ENRP message (up to 3 pad bytes beyond Length accepted). Unknown type → cause
// 0x2 with the whole message. Handle Update / Table Response PEs without ASAP transport or with
// Home PR ID 0 → cause 0x3 with the PE TLV.
DecodeResult<EnrpMessage> decode_enrp(std::span<const std::uint8_t> bytes, const WireOptions& options = {});

EncodeResult encode(const EnrpMessage& message, const WireOptions& options, ByteSink out);
EncodeResult encode(const Presence& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const HandleTableRequest& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const HandleTableResponse& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const HandleUpdate& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const ListRequest& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const ListResponse& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const InitTakeover& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const InitTakeoverAck& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const TakeoverServer& m, const WireOptions& options, ByteSink out);
EncodeResult encode(const EnrpError& m, const WireOptions& options, ByteSink out);

// ENRP Error (0x0a) with one cause and its information bytes: no allocation.
EncodeResult encode_enrp_error(RegistrarId sender, RegistrarId receiver, ErrorCause cause,
                               std::span<const std::uint8_t> info, const WireOptions& options, ByteSink out);

}  // namespace poolreg::wire
