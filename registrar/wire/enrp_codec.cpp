#include "registrar/wire/enrp_codec.hpp"

#include "registrar/wire/message_frame.hpp"
#include "registrar/wire/parameter_codec.hpp"

namespace poolreg::wire {

using detail::check_frame;
using detail::message_error;
using detail::MessageFrame;
using detail::scan_body;
using detail::tlv_error;

EnrpType enrp_type_of(const EnrpMessage& message) noexcept {
  return static_cast<EnrpType>(message.index() + 1);  // variant order = type code order
}

namespace {

constexpr std::uint16_t kPure(std::uint16_t t) { return t & param::kPureTypeMask; }

std::size_t fixed_size(EnrpType type) noexcept {
  switch (type) {
    case EnrpType::kHandleUpdate:  // action u16 + reserved u16
    case EnrpType::kInitTakeover:
    case EnrpType::kInitTakeoverAck:
    case EnrpType::kTakeoverServer:  // target ID
      return 12;
    default:
      return 8;
  }
}

template <typename T, typename Decode>
std::optional<DecodeError> take_once(std::optional<T>& slot, const Tlv& t, Decode&& decode) {
  if (slot) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
  auto r = decode(t);
  if (!r) return r.error();
  slot = std::move(r.value());
  return std::nullopt;
}

// Pool Element as carried by ENRP: ASAP transport and a non-zero home PR ID are mandatory.
Expected<PoolElement, DecodeError> decode_enrp_pool_element(const Tlv& t, const WireOptions& o,
                                                            UnrecognizedReports& reports) {
  auto pe = decode_pool_element(t, o, reports);
  if (!pe) return unexpected(pe.error());
  if (!pe.value().asap_transport) return unexpected(tlv_error(DecodeErrorKind::kMissingAsapTransport, t));
  if (short_id(pe.value().home_registrar) == 0)
    return unexpected(tlv_error(DecodeErrorKind::kZeroIdentifier, t));
  return pe.value().to_pool_element();
}

DecodeResult<EnrpMessage> decode_body(std::span<const std::uint8_t> bytes, const MessageFrame& f,
                                      const WireOptions& o, UnrecognizedReports& reports) {
  const auto type = static_cast<EnrpType>(f.type);
  const std::size_t body = kMessageHeaderSize + fixed_size(type);
  RegistrarId sender = load_u32(bytes.data() + 4);
  RegistrarId receiver = load_u32(bytes.data() + 8);
  RegistrarId target = 0;
  bool ext_seen = false;
  auto missing = [&] { return message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kMissingParameter, f); };
  // Common handling of Extended-IDs and anything else not consumed.
  auto common = [&](const Tlv& t, std::span<RegistrarId* const> ids) -> std::optional<DecodeError> {
    if (t.pure_type() == kPure(param::kExtendedIds)) return detail::take_extended_ids(t, ext_seen, ids);
    return unhandled_parameter(t, reports);
  };
  RegistrarId* const two[] = {&sender, &receiver};
  RegistrarId* const three[] = {&sender, &receiver, &target};

  switch (type) {
    case EnrpType::kPresence: {
      Presence m;
      m.reply_required = (f.flags & kFlagPresenceReplyRequired) != 0;
      std::optional<std::uint32_t> legacy32;  // PE Checksum with a 4-byte value (next-gen peers only)
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        switch (t.pure_type()) {
          case param::kPeChecksum: {
            if (m.checksum) return tlv_error(DecodeErrorKind::kDuplicateParameter, t);
            if (t.value.size() == 2) {
              m.checksum = load_u16(t.value.data());
            } else if (t.value.size() == 4 && o.next_gen) {
              m.checksum = load_u16(t.value.data());
              legacy32 = load_u32(t.value.data());
            } else {
              return tlv_error(DecodeErrorKind::kBadValueLength, t);
            }
            return std::nullopt;
          }
          case kPure(param::kPeChecksum32):
            return take_once(m.checksum32, t, [](const Tlv& x) { return decode_u32_value(x); });
          case param::kServerInformation:
            return take_once(m.server_info, t,
                             [&](const Tlv& x) { return decode_server_information(x, o, reports); });
          case kPure(param::kNgCapabilities):
            return take_once(m.ng_capabilities, t, [](const Tlv& x) { return decode_u32_value(x); });
          default:
            return common(t, two);
        }
      });
      if (err) return unexpected(*err);
      if (!m.checksum32 && legacy32) m.checksum32 = legacy32;
      m.sender = sender;
      m.receiver = receiver;
      return EnrpMessage{std::move(m)};
    }
    case EnrpType::kHandleTableRequest:
    case EnrpType::kListRequest: {
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) { return common(t, two); });
      if (err) return unexpected(*err);
      if (type == EnrpType::kListRequest) return EnrpMessage{ListRequest{sender, receiver}};
      return EnrpMessage{HandleTableRequest{sender, receiver, (f.flags & kFlagOwnChildrenOnly) != 0}};
    }
    case EnrpType::kHandleTableResponse: {
      HandleTableResponse m;
      m.reject = (f.flags & kFlagTableReject) != 0;
      m.more = (f.flags & kFlagTableMore) != 0;
      Tlv last_handle;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        switch (t.pure_type()) {
          case param::kPoolHandle: {
            if (!m.pools.empty() && m.pools.back().elements.empty())
              return tlv_error(DecodeErrorKind::kMissingParameter, last_handle);
            auto h = decode_pool_handle(t, o);
            if (!h) return h.error();
            m.pools.push_back(HandleTableEntry{h.value(), {}});
            last_handle = t;
            return std::nullopt;
          }
          case param::kPoolElement: {
            if (m.pools.empty()) return tlv_error(DecodeErrorKind::kUnexpectedParameter, t);
            auto pe = decode_enrp_pool_element(t, o, reports);
            if (!pe) return pe.error();
            m.pools.back().elements.push_back(std::move(pe.value()));
            return std::nullopt;
          }
          default:
            return common(t, two);
        }
      });
      if (err) return unexpected(*err);
      if (!m.pools.empty() && m.pools.back().elements.empty())
        return unexpected(tlv_error(DecodeErrorKind::kMissingParameter, last_handle));
      m.sender = sender;
      m.receiver = receiver;
      return EnrpMessage{std::move(m)};
    }
    case EnrpType::kHandleUpdate: {
      HandleUpdate m;
      m.takeover_suggested = (f.flags & kFlagTakeoverSuggested) != 0;
      const std::uint16_t action = load_u16(bytes.data() + 12);  // reserved u16 follows, ignored
      if (action > 1)
        return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kBadActionValue, f));
      m.action = static_cast<UpdateAction>(action);
      std::optional<PoolHandle> handle;
      std::optional<PoolElement> element;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        switch (t.pure_type()) {
          case param::kPoolHandle:
            return take_once(handle, t, [&](const Tlv& x) { return decode_pool_handle(x, o); });
          case param::kPoolElement:
            return take_once(element, t, [&](const Tlv& x) { return decode_enrp_pool_element(x, o, reports); });
          default:
            return common(t, two);
        }
      });
      if (err) return unexpected(*err);
      if (!handle || !element) return unexpected(missing());
      m.sender = sender;
      m.receiver = receiver;
      m.pool_handle = *handle;
      m.element = std::move(*element);
      return EnrpMessage{std::move(m)};
    }
    case EnrpType::kListResponse: {
      ListResponse m;
      m.reject = (f.flags & kFlagListReject) != 0;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        if (t.pure_type() == param::kServerInformation) {
          auto s = decode_server_information(t, o, reports);
          if (!s) return s.error();
          m.servers.push_back(std::move(s.value()));
          return std::nullopt;
        }
        return common(t, two);
      });
      if (err) return unexpected(*err);
      m.sender = sender;
      m.receiver = receiver;
      return EnrpMessage{std::move(m)};
    }
    case EnrpType::kInitTakeover:
    case EnrpType::kInitTakeoverAck:
    case EnrpType::kTakeoverServer: {
      target = load_u32(bytes.data() + 12);
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) { return common(t, three); });
      if (err) return unexpected(*err);
      if (type == EnrpType::kInitTakeover) return EnrpMessage{InitTakeover{sender, receiver, target}};
      if (type == EnrpType::kInitTakeoverAck) return EnrpMessage{InitTakeoverAck{sender, receiver, target}};
      return EnrpMessage{TakeoverServer{sender, receiver, target}};
    }
    case EnrpType::kError: {
      std::optional<OperationError> error;
      auto err = scan_body(bytes, body, f.length, [&](const Tlv& t) -> std::optional<DecodeError> {
        if (t.pure_type() == param::kOperationError)
          return take_once(error, t, [](const Tlv& x) { return decode_operation_error(x); });
        return common(t, two);
      });
      if (err) return unexpected(*err);
      if (!error) return unexpected(missing());
      return EnrpMessage{EnrpError{sender, receiver, std::move(*error)}};
    }
  }
  return unexpected(message_error(ErrorCause::kUnrecognizedMessage, DecodeErrorKind::kUnknownMessageType, f));
}

}  // namespace

DecodeResult<EnrpMessage> decode_enrp(std::span<const std::uint8_t> bytes, const WireOptions& options) {
  auto fr = check_frame(bytes, options);
  if (!fr) return unexpected(fr.error());
  const MessageFrame& f = fr.value();
  if (f.type < 0x01 || f.type > 0x0a)
    return unexpected(
        message_error(ErrorCause::kUnrecognizedMessage, DecodeErrorKind::kUnknownMessageType, f));
  if (f.length < kMessageHeaderSize + fixed_size(static_cast<EnrpType>(f.type)))
    return unexpected(message_error(ErrorCause::kInvalidValues, DecodeErrorKind::kTruncatedHeader, f));
  UnrecognizedReports reports;
  auto r = decode_body(bytes, f, options, reports);
  r.reports() = reports;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {

std::size_t begin(TlvWriter& w, EnrpType type, std::uint8_t flags, RegistrarId sender, RegistrarId receiver) {
  const auto s = w.begin_message(static_cast<std::uint8_t>(type), flags);
  w.u32(short_id(sender));
  w.u32(short_id(receiver));
  return s;
}

void put_error(TlvWriter& w, const OperationError& e) {
  if (e.causes.empty()) {
    w.fail(EncodeStatus::kInvalidField);
    return;
  }
  encode_operation_error(w, e);
}

template <typename M>
EncodeResult takeover_message(EnrpType type, const M& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, type, 0, m.sender, m.receiver);
  w.u32(short_id(m.target));
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver, m.target});
  return w.end_message(s, o.max_message);
}

}  // namespace

EncodeResult encode(const Presence& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kPresence, m.reply_required ? kFlagPresenceReplyRequired : 0, m.sender,
                       m.receiver);
  if (o.next_gen) {
    if (m.ng_capabilities) encode_u32_tlv(w, param::kNgCapabilities, *m.ng_capabilities);
    detail::encode_extended_ids(w, {m.sender, m.receiver});
    if (m.checksum32) encode_u32_tlv(w, param::kPeChecksum32, *m.checksum32);
  }
  if (m.checksum) {
    const auto t = w.begin_tlv(param::kPeChecksum);
    w.u16(*m.checksum);
    w.end_tlv(t);
  }
  if (m.server_info) encode_server_information(w, *m.server_info, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const HandleTableRequest& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kHandleTableRequest, m.own_children_only ? kFlagOwnChildrenOnly : 0, m.sender,
                       m.receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const HandleTableResponse& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const std::uint8_t flags = static_cast<std::uint8_t>((m.reject ? kFlagTableReject : 0) | (m.more ? kFlagTableMore : 0));
  const auto s = begin(w, EnrpType::kHandleTableResponse, flags, m.sender, m.receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  for (const auto& pool : m.pools) {
    if (pool.elements.empty()) w.fail(EncodeStatus::kInvalidField);  // ≥1 PE per handle
    encode_pool_handle(w, pool.pool_handle, o);
    for (const auto& e : pool.elements) encode_pool_element(w, e, true, o);
  }
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const HandleUpdate& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kHandleUpdate, m.takeover_suggested ? kFlagTakeoverSuggested : 0, m.sender,
                       m.receiver);
  w.u16(static_cast<std::uint16_t>(m.action));
  w.u16(0);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  encode_pool_handle(w, m.pool_handle, o);
  encode_pool_element(w, m.element, true, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const ListRequest& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kListRequest, 0, m.sender, m.receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const ListResponse& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kListResponse, m.reject ? kFlagListReject : 0, m.sender, m.receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  for (const auto& si : m.servers) encode_server_information(w, si, o);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const InitTakeover& m, const WireOptions& o, ByteSink out) {
  return takeover_message(EnrpType::kInitTakeover, m, o, out);
}
EncodeResult encode(const InitTakeoverAck& m, const WireOptions& o, ByteSink out) {
  return takeover_message(EnrpType::kInitTakeoverAck, m, o, out);
}
EncodeResult encode(const TakeoverServer& m, const WireOptions& o, ByteSink out) {
  return takeover_message(EnrpType::kTakeoverServer, m, o, out);
}

EncodeResult encode(const EnrpError& m, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kError, 0, m.sender, m.receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {m.sender, m.receiver});
  put_error(w, m.error);
  return w.end_message(s, o.max_message);
}

EncodeResult encode(const EnrpMessage& message, const WireOptions& o, ByteSink out) {
  return std::visit([&](const auto& m) { return encode(m, o, out); }, message);
}

EncodeResult encode_enrp_error(RegistrarId sender, RegistrarId receiver, ErrorCause cause,
                               std::span<const std::uint8_t> info, const WireOptions& o, ByteSink out) {
  TlvWriter w(out);
  const auto s = begin(w, EnrpType::kError, 0, sender, receiver);
  if (o.next_gen) detail::encode_extended_ids(w, {sender, receiver});
  const auto t = w.begin_tlv(param::kOperationError);
  const auto c = w.begin_tlv(static_cast<std::uint16_t>(cause));
  w.bytes(info);
  w.end_tlv(c);
  w.end_tlv(t);
  return w.end_message(s, o.max_message);
}

}  // namespace poolreg::wire
