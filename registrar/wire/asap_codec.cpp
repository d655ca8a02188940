#include "registrar/wire/asap_codec.hpp"

#include <algorithm>
#include <array>

#include "registrar/wire/message_frame.hpp"
#include "registrar/wire/parameter_codec.hpp"

namespace poolreg::wire {

using detail::check_frame;
using detail::message_error;
using detail::MessageFrame;
using detail::PeIdSlot;
using detail::scan_body;
using detail::tlv_error;

AsapType asap_type_of(const AsapMessage& message) noexcept {
  return static_cast<AsapType>(message.index() + 1);  // variant order = type code order
}

Registration RegistrationView::to_message() const {
  return Registration{pool_handle, element.to_pool_element(), ng_capabilities};
}

namespace {

constexpr std::uint16_t kPure(std::uint16_t t) { return t & param::kPureTypeMask; }

bool is_known_asap_type(std::uint8_t t) noexcept { return t >= 0x01 && t <= 0x0e; }

// Checks frame + type; fills body bounds. fixed: bytes of fixed fields after the header.
Expected<MessageFrame, DecodeError> frame_for(std::span<const std::uint8_t> bytes,
                                              const WireOptions& o) noexcept {
  auto f = check_frame(bytes, o);
  if (!f) return f;
  const MessageFrame& fr = f.value();
  if (!is_known_asap_type(fr.type))
    return unexpected(
        message_error(ErrorCause::kUnrecognizedMessage, DecodeErrorKind::kUnknownMessageType, fr));
  const auto type = static_cast<AsapType>(fr.type);
  const std::size_t fixed = (type == AsapType::kEndpointKeepAlive || type == AsapType::kServerAnnounce) ? 4 : 0;
  if (fr.length < kMessageHeaderSize + fixed)
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kTruncatedHeader, fr));
  return f;
}

std::size_t fixed_size(AsapType type) noexcept {
  return (type == AsapType::kEndpointKeepAlive || type == AsapType::kServerAnnounce) ? 4 : 0;
}

// Generic single-slot helpers.
template <typename T, typename Decode>
std::optional<DecodeError> take_once(std::optional<T>& slot, const Tlv& t, Decode&& decode) {
  if (slot) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
  auto r = decode(t);
  if (!r) return r.error();
  slot = std::move(r.value());
  return std::nullopt;
}

DecodeResult<HandleResolution> decode_hr_body(std::span<const std::uint8_t> bytes, const MessageFrame& f,
                                              const WireOptions& o, UnrecognizedReports& reports) noexcept {
  HandleResolution m;
  bool have_handle = false;
  std::optional<std::uint32_t> items, caps;
  auto err = scan_body(bytes, kMessageHeaderSize, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
    switch (t.pure_type()) {
      case param::kPoolHandle: {
        if (have_handle) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
        auto h = decode_pool_handle(t, o);
        if (!h) return h.error();
        m.pool_handle = h.value();
        have_handle = true;
        return std::nullopt;
      }
      case kPure(param::kHandleResolutionOption):
        return take_once(items, t, [](const Tlv& x) { return decode_u32_value(x); });
      case kPure(param::kNgCapabilities):
        return take_once(caps, t, [](const Tlv& x) { return decode_u32_value(x); });
      default:
        return unhandled_parameter(t, reports);
    }
  });
  if (err) return unexpected(*err);
  if (!have_handle)
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kMissingParameter, f));
  m.items = items;
  m.ng_capabilities = caps;
  return m;
}

DecodeResult<RegistrationView> decode_registration_body(std::span<const std::uint8_t> bytes, const MessageFrame& f,
                                                        const WireOptions& o,
                                                        UnrecognizedReports& reports) noexcept {
  RegistrationView m;
  bool have_handle = false, have_pe = false, have_error = false;
  std::optional<std::uint32_t> caps;
  auto err = scan_body(bytes, kMessageHeaderSize, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
    switch (t.pure_type()) {
      case param::kPoolHandle: {
        if (have_handle) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
        auto h = decode_pool_handle(t, o);
        if (!h) return h.error();
        m.pool_handle = h.value();
        have_handle = true;
        return std::nullopt;
      }
      case param::kPoolElement: {
        if (have_pe) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
        auto pe = decode_pool_element(t, o, reports);
        if (!pe) return pe.error();
        if (short_id(pe.value().id) == 0) return tlv_error(DecodeErrorKind::kZeroIdentifier, t);
        m.element = pe.value();
        m.element.asap_transport.reset();  // a PE never sends it; ignored like RSPLIB does
        have_pe = true;
        return std::nullopt;
      }
      case param::kOperationError:
        // RSPLIB PEs may append one (internal error state); it carries nothing for us.
        if (have_error) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
        have_error = true;
        return std::nullopt;
      case kPure(param::kNgCapabilities):
        return take_once(caps, t, [](const Tlv& x) { return decode_u32_value(x); });
      default:
        return unhandled_parameter(t, reports);
    }
  });
  if (err) return unexpected(*err);
  if (!have_handle || !have_pe)
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kMissingParameter, f));
  m.ng_capabilities = caps;
  return m;
}

// Messages made of: [pool handle] [PE id] [operation error] [ng caps] (subsets).
struct HandleIdBody {
  std::optional<PoolHandle> handle;
  PeIdSlot pe;
  std::optional<OperationError> error;
  std::optional<std::uint32_t> caps;
};

Expected<HandleIdBody, DecodeError> decode_handle_id_body(std::span<const std::uint8_t> bytes,
                                                          const MessageFrame& f, std::size_t body_start,
                                                          const WireOptions& o, bool allow_error,
                                                          bool allow_caps, UnrecognizedReports& reports) {
  HandleIdBody b;
  auto err = scan_body(bytes, body_start, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
    std::optional<DecodeError> e;
    if (b.pe.take(t, e, reports)) return e;
    switch (t.pure_type()) {
      case param::kPoolHandle:
        return take_once(b.handle, t, [&](const Tlv& x) { return decode_pool_handle(x, o); });
      case param::kOperationError:
        if (!allow_error) break;
        return take_once(b.error, t, [](const Tlv& x) { return decode_operation_error(x); });
      case kPure(param::kNgCapabilities):
        if (!allow_caps) break;
        return take_once(b.caps, t, [](const Tlv& x) { return decode_u32_value(x); });
      default:
        break;
    }
    return unhandled_parameter(t, reports);
  });
  if (err) return unexpected(*err);
  return b;
}

// Handle Resolution Response and Business Card: handle, [policy], PEs, [error].
struct PoolListBody {
  std::optional<PoolHandle> handle;
  std::optional<PolicyParams> policy;
  std::vector<PoolElement> elements;
  std::optional<OperationError> error;
};

Expected<PoolListBody, DecodeError> decode_pool_list_body(std::span<const std::uint8_t> bytes,
                                                          const MessageFrame& f, const WireOptions& o,
                                                          bool allow_error, UnrecognizedReports& reports) {
  PoolListBody b;
  auto err = scan_body(bytes, kMessageHeaderSize, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
    switch (t.pure_type()) {
      case param::kPoolHandle:
        return take_once(b.handle, t, [&](const Tlv& x) { return decode_pool_handle(x, o); });
      case param::kPolicy:
        return take_once(b.policy, t, [](const Tlv& x) { return decode_policy(x); });
      case param::kPoolElement: {
        auto pe = decode_pool_element(t, o, reports);
        if (!pe) return pe.error();
        PoolElement e = pe.value().to_pool_element();
        e.asap_transport.reset();  // never part of ASAP
        b.elements.push_back(std::move(e));
        return std::nullopt;
      }
      case param::kOperationError:
        if (!allow_error) break;
        return take_once(b.error, t, [](const Tlv& x) { return decode_operation_error(x); });
      default:
        break;
    }
    return unhandled_parameter(t, reports);
  });
  if (err) return unexpected(*err);
  return b;
}

DecodeResult<AsapMessage> decode_body(std::span<const std::uint8_t> bytes, const MessageFrame& f,
                                      const WireOptions& o, UnrecognizedReports& reports) {
  const auto type = static_cast<AsapType>(f.type);
  const std::size_t body = kMessageHeaderSize + fixed_size(type);
  auto missing = [&] { return message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kMissingParameter, f); };

  switch (type) {
    case AsapType::kRegistration: {
      auto v = decode_registration_body(bytes, f, o, reports);
      if (!v) return unexpected(v.error());
      return AsapMessage{v.value().to_message()};
    }
    case AsapType::kHandleResolution: {
      auto v = decode_hr_body(bytes, f, o, reports);
      if (!v) return unexpected(v.error());
      return AsapMessage{v.value()};
    }
    case AsapType::kDeregistration:
    case AsapType::kRegistrationResponse:
    case AsapType::kDeregistrationResponse:
    case AsapType::kEndpointKeepAliveAck:
    case AsapType::kEndpointUnreachable: {
      const bool with_error =
          type == AsapType::kRegistrationResponse || type == AsapType::kDeregistrationResponse;
      const bool with_caps = type == AsapType::kRegistrationResponse;
      auto b = decode_handle_id_body(bytes, f, body, o, with_error, with_caps, reports);
      if (!b) return unexpected(b.error());
      auto& v = b.value();
      if (!v.handle || !v.pe.have) return unexpected(missing());
      switch (type) {
        case AsapType::kDeregistration:
          return AsapMessage{Deregistration{*v.handle, v.pe.id}};
        case AsapType::kRegistrationResponse:
          return AsapMessage{RegistrationResponse{(f.flags & kFlagRegistrationRejected) != 0, *v.handle, v.pe.id,
                                                  std::move(v.error), v.caps}};
        case AsapType::kDeregistrationResponse:
          return AsapMessage{DeregistrationResponse{*v.handle, v.pe.id, std::move(v.error)}};
        case AsapType::kEndpointKeepAliveAck:
          return AsapMessage{EndpointKeepAliveAck{*v.handle, v.pe.id}};
        default:
          return AsapMessage{EndpointUnreachable{*v.handle, v.pe.id}};
      }
    }
    case AsapType::kEndpointKeepAlive: {
      EndpointKeepAlive m;
      m.home = (f.flags & kFlagKeepAliveHome) != 0;
      m.registrar_id = load_u32(bytes.data() + 4);
      PeIdSlot pe;
      std::optional<PoolHandle> handle;
      bool ext_seen = false;
      RegistrarId* const ids[] = {&m.registrar_id};
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        std::optional<DecodeError> e;
        if (pe.take(t, e, reports)) return e;
        if (t.pure_type() == param::kPoolHandle)
          return take_once(handle, t, [&](const Tlv& x) { return decode_pool_handle(x, o); });
        if (t.pure_type() == kPure(param::kExtendedIds)) return detail::take_extended_ids(t, ext_seen, ids);
        return unhandled_parameter(t, reports);
      });
      if (err) return unexpected(*err);
      if (!handle) return unexpected(missing());
      m.pool_handle = *handle;
      if (pe.have) m.pe_id = pe.id;
      return AsapMessage{m};
    }
    case AsapType::kHandleResolutionResponse:
    case AsapType::kBusinessCard: {
      const bool hrr = type == AsapType::kHandleResolutionResponse;
      auto b = decode_pool_list_body(bytes, f, o, hrr, reports);
      if (!b) return unexpected(b.error());
      auto& v = b.value();
      if (!v.handle) return unexpected(missing());
      if (hrr) {
        // RSPLIB PUs need either the policy or the error (asap.md section 2).
        if (!v.policy && !v.error) return unexpected(missing());
        return AsapMessage{
            HandleResolutionResponse{*v.handle, v.policy, std::move(v.elements), std::move(v.error)}};
      }
      return AsapMessage{BusinessCard{*v.handle, v.policy, std::move(v.elements)}};
    }
    case AsapType::kServerAnnounce: {
      ServerAnnounce m;
      m.registrar_id = load_u32(bytes.data() + 4);
      bool ext_seen = false;
      RegistrarId* const ids[] = {&m.registrar_id};
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        const std::uint16_t pure = t.pure_type();
        if (pure >= param::kDccpTransport && pure <= param::kUdpLiteTransport) {
          auto tr = decode_transport(t, o, reports);
          if (!tr) return tr.error();
          m.transports.push_back(tr.value().to_endpoint());
          return std::nullopt;
        }
        if (pure == kPure(param::kExtendedIds)) return detail::take_extended_ids(t, ext_seen, ids);
        return unhandled_parameter(t, reports);
      });
      if (err) return unexpected(*err);
      return AsapMessage{std::move(m)};
    }
    case AsapType::kCookie:
    case AsapType::kCookieEcho: {
      std::optional<std::vector<std::uint8_t>> cookie;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        if (t.pure_type() == param::kCookie) {
          if (cookie) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
          if (t.value.empty()) return tlv_error(DecodeErrorKind::kEmptyValue, t);
          cookie.emplace(t.value.begin(), t.value.end());
          return std::nullopt;
        }
        return unhandled_parameter(t, reports);
      });
      if (err) return unexpected(*err);
      if (!cookie) return unexpected(missing());
      if (type == AsapType::kCookie) return AsapMessage{Cookie{std::move(*cookie)}};
      return AsapMessage{CookieEcho{std::move(*cookie)}};
    }
    case AsapType::kError: {
      std::optional<OperationError> error;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        if (t.pure_type() == param::kOperationError)
          return take_once(error, t, [](const Tlv& x) { return decode_operation_error(x); });
        return unhandled_parameter(t, reports);
      });
      if (err) return unexpected(*err);
      if (!error) return unexpected(missing());
      return AsapMessage{AsapError{std::move(*error)}};
    }
  }
  return unexpected(message_error(ErrorCause::kUnrecognizedMessage, DecodeErrorKind::kUnknownMessageType, f));
}

// Every decoding entry point: frame the message, optionally insist on one type, decode the body
// and attach the reports of unrecognized parameters that the body decoder collected.
template <typename T, typename BodyDecoder>
DecodeResult<T> decode_framed(std::span<const std::uint8_t> bytes, const WireOptions& options,
                              std::optional<AsapType> expected, BodyDecoder decode) {
  auto f = frame_for(bytes, options);
  if (!f) return unexpected(f.error());
  if (expected && f.value().type != static_cast<std::uint8_t>(*expected))
    return unexpected(
        message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kWrongMessageType, f.value()));
  UnrecognizedReports reports;
  DecodeResult<T> r = decode(bytes, f.value(), options, reports);
  r.reports() = reports;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Decoding entry points

DecodeResult<AsapMessage> decode_asap(std::span<const std::uint8_t> bytes, const WireOptions& options) {
  return decode_framed<AsapMessage>(bytes, options, std::nullopt, decode_body);
}

DecodeResult<HandleResolution> decode_handle_resolution(std::span<const std::uint8_t> bytes,
                                                        const WireOptions& options) noexcept {
  return decode_framed<HandleResolution>(bytes, options, AsapType::kHandleResolution, decode_hr_body);
}

DecodeResult<RegistrationView> decode_registration_view(std::span<const std::uint8_t> bytes,
                                                        const WireOptions& options) noexcept {
  return decode_framed<RegistrationView>(bytes, options, AsapType::kRegistration, decode_registration_body);
}

AsapEcho salvage_asap_echo(std::span<const std::uint8_t> bytes) noexcept {
  AsapEcho echo;
  if (bytes.size() < kMessageHeaderSize) return echo;
  const std::size_t len = std::min<std::size_t>(load_u16(bytes.data() + 2), bytes.size());
  const std::size_t body = kMessageHeaderSize + ((bytes[0] == 0x07 || bytes[0] == 0x0a) ? 4 : 0);
  if (len < body) return echo;
  TlvReader r(bytes.subspan(body, len - body), static_cast<std::uint32_t>(body));
  std::optional<std::uint64_t> pending64;
  while (auto t = r.next()) {
    switch (t->pure_type()) {
      case param::kPoolHandle:
        if (!echo.pool_handle) echo.pool_handle = PoolHandle::from_bytes(t->value);
        break;
      case kPure(param::kPeIdentifier64):
        if (t->value.size() == 8) pending64 = load_u64(t->value.data());
        break;
      case param::kPeIdentifier:
        if (!echo.pe_id && t->value.size() == 4) {
          const std::uint32_t id = load_u32(t->value.data());
          echo.pe_id = (pending64 && short_id(*pending64) == id) ? *pending64 : PoolElementId{id};
        }
        break;
      case param::kPoolElement:
        if (!echo.pe_id && t->value.size() >= 4) {
          const std::uint32_t id = load_u32(t->value.data());
          echo.pe_id = id;
          if (t->value.size() >= 12) {
            TlvReader sub(t->value.subspan(12), 0);
            while (auto s = sub.next()) {
              if (s->pure_type() == kPure(param::kExtendedPeId) && s->value.size() == 16 &&
                  short_id(load_u64(s->value.data())) == id)
                echo.pe_id = load_u64(s->value.data());
            }
          }
        }
        break;
      default:
        break;
    }
  }
  return echo;
}

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {

std::uint8_t type_code(AsapType t) { return static_cast<std::uint8_t>(t); }

void put_caps(TlvWriter& w, const std::optional<std::uint32_t>& caps, const WireOptions& o) {
  if (o.next_gen && caps) encode_u32_tlv(w, param::kNgCapabilities, *caps);
}

void put_cookie(TlvWriter& w, const std::vector<std::uint8_t>& cookie) {
  if (cookie.empty()) {
    w.fail(EncodeStatus::kInvalidField);
    return;
  }
  const auto t = w.begin_tlv(param::kCookie);
  w.bytes(cookie);
  w.end_tlv(t);
}

void put_error(TlvWriter& w, const OperationError& e) {
  if (e.causes.empty()) {
    w.fail(EncodeStatus::kInvalidField);
    return;
  }
  encode_operation_error(w, e);
}

EncodeResult handle_id_message(AsapType type, std::uint8_t flags, const PoolHandle& handle, PoolElementId id,
                               const std::optional<OperationError>* error,
                               const std::optional<std::uint32_t>* caps, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(type), flags);
  if (caps != nullptr) put_caps(w, *caps, o);
  encode_pool_handle(w, handle, o);
  encode_pe_identifier(w, id, o);
  if (error != nullptr && *error) put_error(w, **error);
  return w.end_message(s, o.max_message);
}

}  // namespace

EncodeResult encode(const Registration& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kRegistration), 0);
  put_caps(w, m.ng_capabilities, o);
  encode_pool_handle(w, m.pool_handle, o);
  encode_pool_element(w, m.element, false, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const Deregistration& m, const WireOptions& o, ByteSink out) {
  return handle_id_message(AsapType::kDeregistration, 0, m.pool_handle, m.pe_id, nullptr, nullptr, o, out);
}

EncodeResult encode(const RegistrationResponse& m, const WireOptions& o, ByteSink out) {
  return handle_id_message(AsapType::kRegistrationResponse, m.rejected ? kFlagRegistrationRejected : 0,
                           m.pool_handle, m.pe_id, &m.error, &m.ng_capabilities, o, out);
}

EncodeResult encode(const DeregistrationResponse& m, const WireOptions& o, ByteSink out) {
  return handle_id_message(AsapType::kDeregistrationResponse, 0, m.pool_handle, m.pe_id, &m.error, nullptr, o, out);
}

EncodeResult encode(const HandleResolution& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kHandleResolution), 0);
  put_caps(w, m.ng_capabilities, o);
  encode_pool_handle(w, m.pool_handle, o);
  if (m.items) encode_u32_tlv(w, param::kHandleResolutionOption, *m.items);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const HandleResolutionResponse& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kHandleResolutionResponse), 0);
  encode_pool_handle(w, m.pool_handle, o);
  if (!m.policy && !m.error) w.fail(EncodeStatus::kInvalidField);
  if (m.policy) encode_policy(w, *m.policy);
  for (const auto& e : m.elements) encode_pool_element(w, e, false, o);
  if (m.error) put_error(w, *m.error);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const EndpointKeepAlive& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kEndpointKeepAlive), m.home ? kFlagKeepAliveHome : 0);
  w.u32(short_id(m.registrar_id));
  if (o.next_gen) detail::encode_extended_ids(w, {m.registrar_id});
  encode_pool_handle(w, m.pool_handle, o);
  if (m.pe_id) encode_pe_identifier(w, *m.pe_id, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const EndpointKeepAliveAck& m, const WireOptions& o, ByteSink out) {
  return handle_id_message(AsapType::kEndpointKeepAliveAck, 0, m.pool_handle, m.pe_id, nullptr, nullptr, o, out);
}

EncodeResult encode(const EndpointUnreachable& m, const WireOptions& o, ByteSink out) {
  return handle_id_message(AsapType::kEndpointUnreachable, 0, m.pool_handle, m.pe_id, nullptr, nullptr, o, out);
}

EncodeResult encode(const ServerAnnounce& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kServerAnnounce), 0);
  w.u32(short_id(m.registrar_id));
  if (o.next_gen) detail::encode_extended_ids(w, {m.registrar_id});
  for (const auto& t : m.transports) encode_transport(w, t, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const Cookie& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kCookie), 0);
  put_cookie(w, m.cookie);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const CookieEcho& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kCookieEcho), 0);
  put_cookie(w, m.cookie);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const BusinessCard& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kBusinessCard), 0);
  encode_pool_handle(w, m.pool_handle, o);
  if (m.policy) encode_policy(w, *m.policy);
  for (const auto& e : m.elements) encode_pool_element(w, e, false, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const AsapError& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kError), 0);
  put_error(w, m.error);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const AsapMessage& message, const WireOptions& o, ByteSink out) {
  return std::visit([&](const auto& m) { return encode(m, o, out); }, message);
}

EncodeResult encode_asap_error(ErrorCause cause, std::span<const std::uint8_t> info, const WireOptions& o,
                               ByteSink out) {
  TlvWriter w(out);
  const auto s = w.begin_message(type_code(AsapType::kError), 0);
  const auto t = w.begin_tlv(param::kOperationError);
  const auto c = w.begin_tlv(static_cast<std::uint16_t>(cause));
  w.bytes(info);
  w.end_tlv(c);
  w.end_tlv(t);
  return w.end_message(s, o.max_message);
}

// ---------------------------------------------------------------------------------------------
// HandleResolutionResponseWriter

HandleResolutionResponseWriter::HandleResolutionResponseWriter(ByteSink out, const WireOptions& options) noexcept
    : w_(out), options_(options) {}

void HandleResolutionResponseWriter::begin(const PoolHandle& handle, const PolicyParams& pool_policy) noexcept {
  if (begun_) {
    w_.fail(EncodeStatus::kInvalidField);
    return;
  }
  begun_ = true;
  start_ = w_.begin_message(type_code(AsapType::kHandleResolutionResponse), 0);
  encode_pool_handle(w_, handle, options_);
  encode_policy(w_, pool_policy);
}

void HandleResolutionResponseWriter::begin_error(const PoolHandle& handle, ErrorCause cause) noexcept {
  if (begun_) {
    w_.fail(EncodeStatus::kInvalidField);
    return;
  }
  begun_ = true;
  start_ = w_.begin_message(type_code(AsapType::kHandleResolutionResponse), 0);
  encode_pool_handle(w_, handle, options_);
  const auto t = w_.begin_tlv(param::kOperationError);
  const auto c = w_.begin_tlv(static_cast<std::uint16_t>(cause));
  w_.end_tlv(c);
  w_.end_tlv(t);
}

void HandleResolutionResponseWriter::add(const PoolElement& e) noexcept {
  if (!begun_) w_.fail(EncodeStatus::kInvalidField);
  encode_pool_element(w_, e, false, options_);
  if (w_.ok()) ++count_;
}

void HandleResolutionResponseWriter::add(PoolElementId id, RegistrarId home, std::uint32_t life_ms,
                                         TransportProtocol protocol, std::uint16_t port, TransportUse use,
                                         std::span<const IpAddress> addresses, const PolicyParams& policy,
                                         std::uint32_t dccp_service_code,
                                         std::span<const AddressTypeEntry> types) noexcept {
  if (!begun_) w_.fail(EncodeStatus::kInvalidField);
  encode_pool_element(w_, id, home, life_ms, protocol, port, use, dccp_service_code, addresses, policy, options_,
                      types);
  if (w_.ok()) ++count_;
}

EncodeResult HandleResolutionResponseWriter::finish() noexcept {
  if (!begun_) w_.fail(EncodeStatus::kInvalidField);
  return w_.end_message(start_, options_.max_message);
}

}  // namespace poolreg::wire
