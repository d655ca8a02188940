// libFuzzer target: ASAP and ENRP decoders in both modes on arbitrary bytes (SEC-03).
// Whatever decodes must re-encode, and decode(encode(x)) == x (next-gen encoding keeps every
// decoded field); the zero-copy decoders must agree with decode_asap; error offsets must lie
// inside the input. Any violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/enrp_codec.hpp"
#include "registrar/wire/message_header.hpp"

namespace {

using namespace poolreg::wire;  // NOLINT

void require(bool condition) {
  if (!condition) std::abort();
}

void check_error(const DecodeError& e, std::span<const std::uint8_t> bytes) {
  require(e.offset <= bytes.size());
  require(static_cast<std::size_t>(e.offset) + e.length <= bytes.size());
  require(!e.silent_drop || e.cause == poolreg::ErrorCause::kUnrecognizedParameter);
}

template <typename Message, typename Decode>
void check_round_trip(const Message& m, Decode&& decode) {
  std::vector<std::uint8_t> buf;
  WireOptions ng;
  ng.next_gen = true;
  ng.max_pool_handle = 64;
  const auto e = encode(m, ng, buf);
  if (!e.ok()) {
    // Next-gen extensions can push a maximal message over 65535 bytes; nothing else may fail.
    require(e.status == EncodeStatus::kMessageTooLong);
    return;
  }
  require(buf.size() == e.size && buf.size() % 4 == 0);
  const auto again = decode(std::span<const std::uint8_t>(buf), ng);
  require(again.has_value());
  require(again.value() == m);

  // RFC-mode encoding of the same value must be decodable too.
  std::vector<std::uint8_t> rfc;
  WireOptions plain;
  plain.max_pool_handle = 64;
  const auto r = encode(m, plain, rfc);
  if (r.ok()) require(decode(std::span<const std::uint8_t>(rfc), plain).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  for (const bool next_gen : {false, true}) {
    WireOptions o;
    o.next_gen = next_gen;

    const auto a = decode_asap(bytes, o);
    if (a.has_value()) {
      for (const auto& loc : a.reports()) require(static_cast<std::size_t>(loc.offset) + loc.length <= size);
      check_round_trip(a.value(), [](std::span<const std::uint8_t> b, const WireOptions& w) { return decode_asap(b, w); });
    } else {
      check_error(a.error(), bytes);
    }

    // Zero-copy decoders agree with the generic one.
    const auto hr = decode_handle_resolution(bytes, o);
    if (hr.has_value()) {
      require(a.has_value() && std::get_if<HandleResolution>(&a.value()) != nullptr);
      require(*std::get_if<HandleResolution>(&a.value()) == hr.value());
    } else {
      check_error(hr.error(), bytes);
      require(!a.has_value() || std::get_if<HandleResolution>(&a.value()) == nullptr);
    }
    const auto reg = decode_registration_view(bytes, o);
    if (reg.has_value()) {
      require(a.has_value() && std::get_if<Registration>(&a.value()) != nullptr);
      require(*std::get_if<Registration>(&a.value()) == reg.value().to_message());
    } else {
      check_error(reg.error(), bytes);
      require(!a.has_value() || std::get_if<Registration>(&a.value()) == nullptr);
    }

    const auto e = decode_enrp(bytes, o);
    if (e.has_value()) {
      check_round_trip(e.value(), [](std::span<const std::uint8_t> b, const WireOptions& w) { return decode_enrp(b, w); });
    } else {
      check_error(e.error(), bytes);
    }
  }
  (void)frame_message(bytes, 4, 65535);
  const auto echo = salvage_asap_echo(bytes);
  require(!echo.pool_handle || (echo.pool_handle->size() >= 1 && echo.pool_handle->size() <= 64));
  return 0;
}
