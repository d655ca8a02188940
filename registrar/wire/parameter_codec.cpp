#include "registrar/wire/parameter_codec.hpp"

#include <algorithm>
#include <array>

namespace poolreg::wire {
namespace {

DecodeError invalid(DecodeErrorKind kind, const Tlv& t) noexcept {
  return DecodeError{ErrorCause::kInvalidValues, kind, false, t.offset, t.length};
}

bool is_transport_type(std::uint16_t pure) noexcept { return pure >= 0x0003 && pure <= 0x0007; }

std::size_t effective_handle_limit(const WireOptions& o) noexcept {
  return std::min(o.max_pool_handle, kPoolHandleCapacity);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers

bool is_known_parameter(std::uint16_t type) noexcept {
  const std::uint16_t pure = type & param::kPureTypeMask;
  return (pure >= 0x0001 && pure <= 0x000f) || pure == 0x003f || (pure >= 0x0040 && pure <= 0x0045);
}

std::optional<DecodeError> unhandled_parameter(const Tlv& tlv, UnrecognizedReports& reports) noexcept {
  switch (tlv.action()) {
    case param::kActionSkip:
      return std::nullopt;
    case param::kActionSkipReport:
      if (!is_known_parameter(tlv.type)) reports.add(tlv.location());
      return std::nullopt;
    default:
      break;
  }
  if (is_known_parameter(tlv.type)) return invalid(DecodeErrorKind::kUnexpectedParameter, tlv);
  const bool silent = tlv.action() == param::kActionStopSilent;
  return DecodeError{ErrorCause::kUnrecognizedParameter, DecodeErrorKind::kUnknownParameter, silent, tlv.offset,
                     tlv.length};
}

std::optional<std::size_t> policy_value_size(PolicyType type) noexcept {
  switch (type) {
    case PolicyType::kRoundRobin:
    case PolicyType::kRandom:
      return 0;
    case PolicyType::kWeightedRoundRobin:
    case PolicyType::kWeightedRandom:
    case PolicyType::kPriority:
    case PolicyType::kLeastUsed:
    case PolicyType::kRandomizedLeastUsed:
      return 4;
    case PolicyType::kLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      return 8;
    case PolicyType::kWeightedRandomDpf:
    case PolicyType::kLeastUsedDpf:
      return 12;
    case PolicyType::kLeastUsedDegradationDpf:
      return 16;
    case PolicyType::kPriorityLeastUsedDpf:
    case PolicyType::kPriorityLeastUsedDegradationDpf:
      return std::nullopt;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Encoding

void encode_u32_tlv(TlvWriter& w, std::uint16_t type, std::uint32_t value) noexcept {
  const auto t = w.begin_tlv(type);
  w.u32(value);
  w.end_tlv(t);
}

void encode_address(TlvWriter& w, const IpAddress& address) noexcept {
  const auto t = w.begin_tlv(address.is_v4() ? param::kIpv4Address : param::kIpv6Address);
  w.bytes({address.data(), address.size()});
  w.end_tlv(t);
}

void encode_transport(TlvWriter& w, TransportProtocol protocol, std::uint16_t port, TransportUse use,
                      std::uint32_t dccp_service_code, std::span<const IpAddress> addresses,
                      const WireOptions& /*options*/) noexcept {
  const auto t = w.begin_tlv(static_cast<std::uint16_t>(protocol));
  w.u16(port);
  switch (protocol) {
    case TransportProtocol::kSctp:
    case TransportProtocol::kTcp:
      w.u16(static_cast<std::uint16_t>(use));
      break;
    case TransportProtocol::kDccp:
      w.u16(0);
      w.u32(dccp_service_code);
      break;
    case TransportProtocol::kUdp:
    case TransportProtocol::kUdpLite:
      w.u16(0);
      break;
    default:
      w.fail(EncodeStatus::kInvalidField);
      return;
  }
  for (const auto& a : addresses) encode_address(w, a);
  w.end_tlv(t);
}

void encode_transport(TlvWriter& w, const TransportEndpoint& transport, const WireOptions& options) noexcept {
  encode_transport(w, transport.protocol, transport.port, transport.use, transport.dccp_service_code,
                   transport.addresses, options);
}

void encode_policy(TlvWriter& w, const PolicyParams& p) noexcept {
  const auto size = policy_value_size(p.type);
  if (!size) {
    w.fail(EncodeStatus::kInvalidField);
    return;
  }
  const auto t = w.begin_tlv(param::kPolicy);
  w.u32(static_cast<std::uint32_t>(p.type));
  switch (p.type) {
    case PolicyType::kWeightedRoundRobin:
    case PolicyType::kWeightedRandom:
      w.u32(p.weight);
      break;
    case PolicyType::kPriority:
      w.u32(p.priority);
      break;
    case PolicyType::kLeastUsed:
    case PolicyType::kRandomizedLeastUsed:
      w.u32(p.load);
      break;
    case PolicyType::kLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      w.u32(p.load);
      w.u32(p.load_degradation);
      break;
    case PolicyType::kWeightedRandomDpf:
      w.u32(p.weight);
      w.u32(p.weight_dpf);
      w.u32(p.distance_ms);
      break;
    case PolicyType::kLeastUsedDpf:
      w.u32(p.load);
      w.u32(p.load_dpf);
      w.u32(p.distance_ms);
      break;
    case PolicyType::kLeastUsedDegradationDpf:
      w.u32(p.load);
      w.u32(p.load_degradation);
      w.u32(p.load_dpf);
      w.u32(p.distance_ms);
      break;
    default:
      break;
  }
  w.end_tlv(t);
}

void encode_pool_handle(TlvWriter& w, const PoolHandle& handle, const WireOptions& options) noexcept {
  if (handle.empty() || handle.size() > effective_handle_limit(options)) {
    w.fail(EncodeStatus::kInvalidField);
    return;
  }
  const auto t = w.begin_tlv(param::kPoolHandle);
  w.bytes(handle.bytes());
  w.end_tlv(t);
}

namespace {

void encode_pool_element_common(TlvWriter& w, PoolElementId id, RegistrarId home, std::uint32_t life_ms,
                                TransportProtocol protocol, std::uint16_t port, TransportUse use,
                                std::uint32_t dccp_service_code, std::span<const IpAddress> addresses,
                                std::span<const AddressTypeEntry> types, const PolicyParams& policy,
                                const TransportEndpoint* asap_transport, const WireOptions& options) noexcept {
  const bool typed = !types.empty() && types.size() == addresses.size();
  // RFC mode: plain addresses, and no retiring ones (nothing at an RFC receiver would ever
  // drop them). The kept ones are copied to a stack list (no allocation on this path). When every
  // address is retiring, all stay: a transport without addresses is malformed (an RFC receiver
  // refuses the whole message), and the PE is still reached there until it replaces them
  // (found by fuzz_decode).
  std::array<IpAddress, 255> plain;
  if (typed && !options.next_gen) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < addresses.size() && n < plain.size(); ++i)
      if (!types[i].retiring) plain[n++] = addresses[i];
    if (n != 0) addresses = std::span<const IpAddress>(plain.data(), n);
  }
  const auto t = w.begin_tlv(param::kPoolElement);
  w.u32(short_id(id));
  w.u32(short_id(home));
  w.u32(life_ms);
  encode_transport(w, protocol, port, use, dccp_service_code, addresses, options);
  encode_policy(w, policy);
  if (asap_transport != nullptr) encode_transport(w, *asap_transport, options);
  if (options.next_gen) {
    // Extended-PE-ID sub-TLV, last inside the PE TLV (RSPLIB skips trailing bytes there).
    const auto x = w.begin_tlv(param::kExtendedPeId);
    w.u64(id);
    w.u64(home);
    w.end_tlv(x);
    if (typed) {
      // Address-Types after it: one entry per user address, in the transport's order.
      const auto a = w.begin_tlv(param::kAddressTypes);
      for (const AddressTypeEntry& e : types) {
        w.u8(static_cast<std::uint8_t>(e.type));
        w.u8(e.retiring ? param::kAddressTypeRetiring : 0);
        w.u16(0);
        w.u32(e.type == AddressType::kGracefulReplacement ? e.lifetime_ms : 0);
      }
      w.end_tlv(a);
    }
  }
  w.end_tlv(t);
}

}  // namespace

void encode_pool_element(TlvWriter& w, const PoolElement& e, bool with_asap_transport,
                         const WireOptions& options) noexcept {
  const TransportEndpoint* asap = nullptr;
  if (with_asap_transport) {
    if (!e.asap_transport) {
      w.fail(EncodeStatus::kInvalidField);  // mandatory in ENRP
      return;
    }
    asap = &*e.asap_transport;
  }
  encode_pool_element_common(w, e.id, e.home_registrar, e.registration_life_ms, e.user_transport.protocol,
                             e.user_transport.port, e.user_transport.use, e.user_transport.dccp_service_code,
                             e.user_transport.addresses, e.address_types, e.policy, asap, options);
}

void encode_pool_element(TlvWriter& w, PoolElementId id, RegistrarId home, std::uint32_t life_ms,
                         TransportProtocol protocol, std::uint16_t port, TransportUse use,
                         std::uint32_t dccp_service_code, std::span<const IpAddress> addresses,
                         const PolicyParams& policy, const WireOptions& options,
                         std::span<const AddressTypeEntry> types) noexcept {
  encode_pool_element_common(w, id, home, life_ms, protocol, port, use, dccp_service_code, addresses, types,
                             policy, nullptr, options);
}

void encode_pe_identifier(TlvWriter& w, PoolElementId id, const WireOptions& options) noexcept {
  if (options.next_gen) {
    const auto t = w.begin_tlv(param::kPeIdentifier64);
    w.u64(id);
    w.end_tlv(t);
  }
  encode_u32_tlv(w, param::kPeIdentifier, short_id(id));
}

void encode_operation_error(TlvWriter& w, const OperationError& error) noexcept {
  const auto t = w.begin_tlv(param::kOperationError);
  for (const auto& c : error.causes) {
    if (c.info.size() > 0xffff - 4) {
      w.fail(EncodeStatus::kInvalidField);
      return;
    }
    const auto ct = w.begin_tlv(c.code);  // cause header has the TLV shape: code, length
    w.bytes(c.info);
    w.end_tlv(ct);
  }
  w.end_tlv(t);
}

void encode_server_information(TlvWriter& w, const ServerInformation& info, const WireOptions& options) noexcept {
  const auto t = w.begin_tlv(param::kServerInformation);
  w.u32(short_id(info.registrar_id));
  encode_transport(w, info.transport, options);
  w.end_tlv(t);
}

// ---------------------------------------------------------------------------------------------
// Decoding

Expected<IpAddress, DecodeError> decode_address(const Tlv& tlv) noexcept {
  switch (tlv.pure_type()) {
    case param::kIpv4Address: {
      if (tlv.value.size() != 4) return unexpected(invalid(DecodeErrorKind::kBadValueLength, tlv));
      return IpAddress::v4({tlv.value[0], tlv.value[1], tlv.value[2], tlv.value[3]});
    }
    case param::kIpv6Address: {
      if (tlv.value.size() != 16) return unexpected(invalid(DecodeErrorKind::kBadValueLength, tlv));
      std::array<std::uint8_t, 16> b{};
      std::copy(tlv.value.begin(), tlv.value.end(), b.begin());
      return IpAddress::v6(b);
    }
    default:
      return unexpected(invalid(DecodeErrorKind::kUnexpectedParameter, tlv));
  }
}

Expected<TransportView, DecodeError> decode_transport(const Tlv& tlv, const WireOptions& options,
                                                      UnrecognizedReports& reports) noexcept {
  const std::uint16_t pure = tlv.pure_type();
  if (!is_transport_type(pure)) return unexpected(invalid(DecodeErrorKind::kUnexpectedParameter, tlv));
  TransportView v;
  v.protocol = static_cast<TransportProtocol>(pure);
  const std::size_t fixed = v.protocol == TransportProtocol::kDccp ? 8 : 4;
  if (tlv.value.size() < fixed) return unexpected(invalid(DecodeErrorKind::kBadValueLength, tlv));
  const std::uint8_t* p = tlv.value.data();
  v.port = load_u16(p);
  const std::uint16_t use = load_u16(p + 2);
  if (v.protocol == TransportProtocol::kSctp || v.protocol == TransportProtocol::kTcp) {
    if (use > 1) return unexpected(invalid(DecodeErrorKind::kBadTransportUse, tlv));
    v.use = static_cast<TransportUse>(use);
  }
  if (v.protocol == TransportProtocol::kDccp) v.dccp_service_code = load_u32(p + 4);
  if (v.port == 0) return unexpected(invalid(DecodeErrorKind::kZeroPort, tlv));

  const auto rest = tlv.value.subspan(fixed);
  TlvReader r(rest, tlv.offset + static_cast<std::uint32_t>(kTlvHeaderSize + fixed));
  std::size_t count = 0;
  while (auto a = r.next()) {
    const std::uint16_t at = a->pure_type();
    if (at == param::kIpv4Address || at == param::kIpv6Address) {
      auto addr = decode_address(*a);
      if (!addr) return unexpected(addr.error());
      ++count;
      continue;
    }
    if (auto e = unhandled_parameter(*a, reports)) return unexpected(*e);
  }
  if (r.failed()) return unexpected(r.error());
  if (count == 0 || count > options.max_addresses)
    return unexpected(invalid(DecodeErrorKind::kBadAddressCount, tlv));
  if (v.protocol != TransportProtocol::kSctp && count != 1)
    return unexpected(invalid(DecodeErrorKind::kBadAddressCount, tlv));
  v.addresses = AddressListView(rest, count);
  return v;
}

Expected<PolicyParams, DecodeError> decode_policy(const Tlv& tlv) noexcept {
  if (tlv.pure_type() != param::kPolicy)
    return unexpected(invalid(DecodeErrorKind::kUnexpectedParameter, tlv));
  if (tlv.value.size() < 4) return unexpected(invalid(DecodeErrorKind::kPolicyTooShort, tlv));
  const auto type = policy_type_from_wire(load_u32(tlv.value.data()));
  if (!type) return unexpected(invalid(DecodeErrorKind::kUnknownPolicy, tlv));
  const auto need = policy_value_size(*type);
  if (!need) return unexpected(invalid(DecodeErrorKind::kUnknownPolicy, tlv));
  if (tlv.value.size() - 4 < *need) return unexpected(invalid(DecodeErrorKind::kPolicyTooShort, tlv));
  const std::uint8_t* f = tlv.value.data() + 4;
  auto field = [f](std::size_t i) { return load_u32(f + 4 * i); };
  PolicyParams p;
  p.type = *type;
  switch (*type) {
    case PolicyType::kWeightedRoundRobin:
    case PolicyType::kWeightedRandom:
      p.weight = field(0);
      break;
    case PolicyType::kPriority:
      p.priority = field(0);
      break;
    case PolicyType::kLeastUsed:
    case PolicyType::kRandomizedLeastUsed:
      p.load = field(0);
      break;
    case PolicyType::kLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsed:
    case PolicyType::kRandomizedPriorityLeastUsed:
    case PolicyType::kRandomizedLeastUsedDegradation:
    case PolicyType::kPriorityLeastUsedDegradation:
    case PolicyType::kRandomizedPriorityLeastUsedDegradation:
      p.load = field(0);
      p.load_degradation = field(1);
      break;
    case PolicyType::kWeightedRandomDpf:
      p.weight = field(0);
      p.weight_dpf = field(1);
      p.distance_ms = field(2);
      break;
    case PolicyType::kLeastUsedDpf:
      p.load = field(0);
      p.load_dpf = field(1);
      p.distance_ms = field(2);
      break;
    case PolicyType::kLeastUsedDegradationDpf:
      p.load = field(0);
      p.load_degradation = field(1);
      p.load_dpf = field(2);
      p.distance_ms = field(3);
      break;
    default:
      break;
  }
  return p;
}

Expected<PoolHandle, DecodeError> decode_pool_handle(const Tlv& tlv, const WireOptions& options) noexcept {
  if (tlv.value.empty()) return unexpected(invalid(DecodeErrorKind::kEmptyValue, tlv));
  if (tlv.value.size() > effective_handle_limit(options))
    return unexpected(invalid(DecodeErrorKind::kPoolHandleTooLong, tlv));
  auto h = PoolHandle::from_bytes(tlv.value);
  if (!h) return unexpected(invalid(DecodeErrorKind::kPoolHandleTooLong, tlv));
  return *h;
}

Expected<PoolElementView, DecodeError> decode_pool_element(const Tlv& tlv, const WireOptions& options,
                                                           UnrecognizedReports& reports) noexcept {
  if (tlv.value.size() < 12) return unexpected(invalid(DecodeErrorKind::kBadValueLength, tlv));
  PoolElementView v;
  const std::uint8_t* p = tlv.value.data();
  const std::uint32_t id32 = load_u32(p);
  const std::uint32_t home32 = load_u32(p + 4);
  v.id = id32;
  v.home_registrar = home32;
  v.registration_life_ms = load_u32(p + 8);

  bool have_user = false, have_policy = false, have_asap = false, have_ext = false, have_types = false;
  TlvReader r(tlv.value.subspan(12), tlv.offset + static_cast<std::uint32_t>(kTlvHeaderSize + 12));
  while (auto s = r.next()) {
    const std::uint16_t pure = s->pure_type();
    if (is_transport_type(pure)) {
      // Order (WIRE-09): user transport, policy, [ASAP transport].
      if (have_user && !have_policy) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      if (have_asap) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      auto t = decode_transport(*s, options, reports);
      if (!t) return unexpected(t.error());
      if (!have_user) {
        v.user_transport = t.value();
        have_user = true;
      } else {
        v.asap_transport = t.value();
        have_asap = true;
      }
    } else if (pure == param::kPolicy) {
      if (have_policy) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      if (!have_user) return unexpected(invalid(DecodeErrorKind::kUnexpectedParameter, *s));
      auto pol = decode_policy(*s);
      if (!pol) return unexpected(pol.error());
      v.policy = pol.value();
      have_policy = true;
    } else if (pure == (param::kExtendedPeId & param::kPureTypeMask)) {
      if (have_ext) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      if (s->value.size() != 16) return unexpected(invalid(DecodeErrorKind::kBadValueLength, *s));
      const std::uint64_t id = load_u64(s->value.data());
      const std::uint64_t home = load_u64(s->value.data() + 8);
      if (short_id(id) != id32 || short_id(home) != home32)
        return unexpected(invalid(DecodeErrorKind::kIdMismatch, *s));
      v.id = id;
      v.home_registrar = home;
      have_ext = true;
    } else if (pure == (param::kAddressTypes & param::kPureTypeMask)) {
      if (have_types) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      if (s->value.empty() || s->value.size() % param::kAddressTypeEntrySize != 0)
        return unexpected(invalid(DecodeErrorKind::kBadValueLength, *s));
      if (!have_user || s->value.size() / param::kAddressTypeEntrySize != v.user_transport.addresses.size())
        return unexpected(invalid(DecodeErrorKind::kAddressTypeCount, *s));
      for (std::size_t i = 0; i < s->value.size(); i += param::kAddressTypeEntrySize) {
        const std::uint8_t type = s->value[i];
        const bool graceful = type == static_cast<std::uint8_t>(AddressType::kGracefulReplacement);
        const bool retiring = (s->value[i + 1] & param::kAddressTypeRetiring) != 0;
        if (type > kMaxAddressType || (!graceful && (retiring || load_u32(s->value.data() + i + 4) != 0)))
          return unexpected(invalid(DecodeErrorKind::kUnknownAddressType, *s));
      }
      v.address_types = s->value;
      have_types = true;
    } else if (auto e = unhandled_parameter(*s, reports)) {
      return unexpected(*e);
    }
  }
  if (r.failed()) return unexpected(r.error());
  if (!have_user || !have_policy) return unexpected(invalid(DecodeErrorKind::kMissingParameter, tlv));
  return v;
}

Expected<OperationError, DecodeError> decode_operation_error(const Tlv& tlv) {
  OperationError e;
  // Causes share the TLV shape (code u16, length u16 incl. header, info, pad to 4).
  TlvReader r(tlv.value, tlv.offset + static_cast<std::uint32_t>(kTlvHeaderSize));
  while (auto c = r.next()) {
    e.causes.push_back({c->type, {c->value.begin(), c->value.end()}});
  }
  if (r.failed()) return unexpected(r.error());
  if (e.causes.empty()) return unexpected(invalid(DecodeErrorKind::kEmptyValue, tlv));
  return e;
}

Expected<ServerInformation, DecodeError> decode_server_information(const Tlv& tlv, const WireOptions& options,
                                                                   UnrecognizedReports& reports) {
  if (tlv.value.size() < 4) return unexpected(invalid(DecodeErrorKind::kBadValueLength, tlv));
  ServerInformation info;
  info.registrar_id = load_u32(tlv.value.data());
  bool have_transport = false;
  TlvReader r(tlv.value.subspan(4), tlv.offset + static_cast<std::uint32_t>(kTlvHeaderSize + 4));
  while (auto s = r.next()) {
    if (is_transport_type(s->pure_type())) {
      if (have_transport) return unexpected(invalid(DecodeErrorKind::kDuplicateParameter, *s));
      auto t = decode_transport(*s, options, reports);
      if (!t) return unexpected(t.error());
      info.transport = t.value().to_endpoint();
      have_transport = true;
    } else if (auto e = unhandled_parameter(*s, reports)) {
      return unexpected(*e);
    }
  }
  if (r.failed()) return unexpected(r.error());
  if (!have_transport) return unexpected(invalid(DecodeErrorKind::kMissingParameter, tlv));
  return info;
}

}  // namespace poolreg::wire
