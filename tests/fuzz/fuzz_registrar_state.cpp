// libFuzzer target: the registrar's protocol state under message sequences (issue 17 item 7).
// The input is a program: each step is one opcode byte and its operand bytes (missing bytes
// read as 0), run against RegistrarStateHarness (AsapServer + EnrpServer, fake transport,
// manual clock); RegistrarStateInvariants are checked after every step. Operands are drawn
// from small ranges (4 connections, 3 pools, 6 PE IDs, 4 addresses) so registrations collide,
// move between associations and change addresses. Well-formed messages are built with the
// wire encoder; two opcodes hand raw bytes to the decoders instead.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "registrar/wire/asap_messages.hpp"
#include "registrar/wire/enrp_messages.hpp"
#include "tests/fuzz/registrar_state_harness.hpp"
#include "tests/fuzz/registrar_state_invariants.hpp"
#include "tests/registrar/asap/asap_test_support.hpp"
#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace {

using namespace poolreg;  // NOLINT
using poolreg::fuzz::RegistrarStateHarness;

constexpr std::size_t kMaxSteps = 256;  // keeps one input's run short

class OperandReader {
 public:
  explicit OperandReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool done() const noexcept { return pos_ >= bytes_.size(); }
  std::uint8_t byte() { return done() ? 0 : bytes_[pos_++]; }
  // Up to `n` raw bytes (fewer at the end of the input).
  std::span<const std::uint8_t> take(std::size_t n) {
    const std::size_t k = std::min(n, bytes_.size() - std::min(pos_, bytes_.size()));
    auto out = bytes_.subspan(pos_, k);
    pos_ += k;
    return out;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

const IpAddress kAddresses[] = {IpAddress::v4(0x0a010101), IpAddress::v4(0x0a020101), IpAddress::v4(0x0a030101),
                                IpAddress::v4(0x7f000001)};

// A non-empty subset of kAddresses chosen by the low 4 bits of `bits`.
std::vector<IpAddress> addresses(std::uint8_t bits) {
  std::vector<IpAddress> out;
  for (std::size_t i = 0; i < 4; ++i)
    if ((bits & (1u << i)) != 0) out.push_back(kAddresses[i]);
  if (out.empty()) out.push_back(kAddresses[0]);
  return out;
}

ConnectionId connection(std::uint8_t b) { return 1 + b % fuzz::kAsapConnections; }
std::string pool(std::uint8_t b) { return "P" + std::to_string(b % 3); }
PoolElementId pe_id(std::uint8_t b) { return 1 + b % 6; }

PolicyType policy(std::uint8_t b) {
  constexpr PolicyType kPolicies[] = {PolicyType::kRoundRobin, PolicyType::kLeastUsed, PolicyType::kWeightedRandom,
                                      PolicyType::kPriority};
  return kPolicies[b % 4];
}

PoolElement pe_from(OperandReader& in) {
  const std::uint8_t id = in.byte();
  const std::uint8_t addr = in.byte();
  const std::uint8_t pol = in.byte();
  PoolElement pe = asap::testing::make_pe(pe_id(id), addresses(addr), policy(pol), 7 + (addr >> 6));
  pe.policy.load = static_cast<std::uint32_t>(pol) << 20;
  pe.policy.weight = pol;
  pe.policy.priority = pol >> 4;
  if ((addr & 0x10) != 0) pe.user_transport.protocol = TransportProtocol::kTcp;
  pe.registration_life_ms = 30'000u * (1 + (id >> 4));  // peers' PEs outlive a peer's death (~10 s)
  return pe;
}

// ENRP view of a PE: home PR and ASAP transport (Handle Updates and table entries carry both).
PoolElement peer_pe_from(OperandReader& in) {
  const std::uint8_t home = in.byte();
  PoolElement pe = pe_from(in);
  constexpr RegistrarId kHomes[] = {fuzz::kPeerId, fuzz::kPeerId, fuzz::kOwnId, 0x55667788};
  pe.home_registrar = kHomes[home % 4];
  TransportEndpoint asap;
  asap.protocol = TransportProtocol::kSctp;
  asap.port = 50000;
  asap.addresses = pe.user_transport.addresses;
  pe.asap_transport = asap;
  return pe;
}

// Deregistration, Endpoint Unreachable, Keep-Alive Ack: a pool and a PE ID operand.
using PeMessage = asap::testing::Bytes (*)(const std::string&, PoolElementId);
void send_pe_message(RegistrarStateHarness& h, ConnectionId c, OperandReader& in, PeMessage make) {
  const std::string p = pool(in.byte());  // operands in order: pool, then ID
  h.asap_message(c, make(p, pe_id(in.byte())));
}

void step(RegistrarStateHarness& h, OperandReader& in) {
  const std::uint8_t op = in.byte();
  switch (op % 16) {
    case 0: {
      const ConnectionId c = connection(in.byte());
      h.asap_up(c, addresses(in.byte()));
      break;
    }
    case 1: h.asap_close(connection(in.byte())); break;
    case 2:
    case 3: {  // registration and re-registration (same encoder; the state decides which)
      const ConnectionId c = connection(in.byte());
      const std::string p = pool(in.byte());
      const PoolElement pe = pe_from(in);
      h.asap_message(c, asap::testing::registration(p, pe));
      break;
    }
    case 4: send_pe_message(h, connection(in.byte()), in, asap::testing::deregistration); break;
    case 5: {
      const ConnectionId c = connection(in.byte());
      const std::uint8_t b = in.byte();
      h.asap_message(c, asap::testing::handle_resolution(pool(b), (b & 0x80) != 0 ? std::optional<std::uint32_t>(b >> 4)
                                                                                  : std::nullopt));
      break;
    }
    case 6: send_pe_message(h, connection(in.byte()), in, asap::testing::unreachable); break;
    case 7: {  // Keep-Alive Ack, on one of ours or on a takeover probe's connection
      const std::uint8_t b = in.byte();
      ConnectionId c = connection(b);
      if ((b & 0x80) != 0 && !h.probe_connections().empty()) c = *h.probe_connections().begin();
      send_pe_message(h, c, in, asap::testing::keepalive_ack);
      break;
    }
    case 8: {
      const ConnectionId c = connection(in.byte());
      h.asap_addresses_changed(c, addresses(in.byte()));
      break;
    }
    case 9:
    case 10: {  // ENRP Handle Update ADD / DEL from the peer
      wire::HandleUpdate m;
      m.sender = fuzz::kPeerId;
      m.receiver = fuzz::kOwnId;
      m.action = op % 16 == 9 ? wire::UpdateAction::kAddPe : wire::UpdateAction::kDeletePe;
      m.pool_handle = asap::testing::handle(pool(in.byte()));
      m.element = peer_pe_from(in);
      h.enrp_message(enrp::testing::encode_msg(m));
      break;
    }
    case 11: {  // ENRP Handle Table Response: 1..3 pools of 1..2 PEs
      wire::HandleTableResponse m;
      m.sender = fuzz::kPeerId;
      m.receiver = fuzz::kOwnId;
      const std::uint8_t shape = in.byte();
      m.more = (shape & 0x80) != 0;
      for (int i = 0; i <= shape % 3; ++i) {
        wire::HandleTableEntry e;
        e.pool_handle = asap::testing::handle(pool(in.byte()));
        for (int j = 0; j <= (shape >> 2) % 2; ++j) e.elements.push_back(peer_pe_from(in));
        m.pools.push_back(std::move(e));
      }
      h.enrp_message(enrp::testing::encode_msg(m));
      break;
    }
    case 12: {  // Presence; a wrong checksum starts a table sync, so responses get accepted
      wire::Presence m;
      m.sender = fuzz::kPeerId;
      m.receiver = fuzz::kOwnId;
      const std::uint8_t b = in.byte();
      m.reply_required = (b & 1) != 0;
      m.checksum = (b & 2) != 0 ? h.handlespace().checksum16(fuzz::kPeerId) : static_cast<std::uint16_t>(b);
      wire::ServerInformation si;
      si.registrar_id = fuzz::kPeerId;
      si.transport.protocol = TransportProtocol::kSctp;
      si.transport.port = fuzz::kPeerPort;
      si.transport.addresses = {fuzz::kPeerAddress};
      m.server_info = si;
      h.enrp_message(enrp::testing::encode_msg(m));
      break;
    }
    case 13: {  // time: 0..63 units of 100 ms, 1 s or 10 s (keep-alives, expiry, peer death)
      const std::uint8_t b = in.byte();
      constexpr TimeNs kUnits[] = {100 * kNsPerMs, kNsPerSec, 10 * kNsPerSec, kNsPerSec};
      h.advance(static_cast<TimeNs>(b & 0x3f) * kUnits[b >> 6]);
      break;
    }
    case 14: {  // raw bytes as one ASAP message
      const ConnectionId c = connection(in.byte());
      h.asap_message(c, in.take(in.byte()));
      break;
    }
    default: {  // raw bytes as one ENRP message, or the peer's association lost
      const std::uint8_t n = in.byte();
      if (n == 0) h.enrp_peer_lost();
      else h.enrp_message(in.take(n));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RegistrarStateHarness h;
  fuzz::RegistrarStateInvariants invariants;
  OperandReader in(std::span<const std::uint8_t>(data, size));
  for (std::size_t n = 0; n < kMaxSteps && !in.done(); ++n) {
    step(h, in);
    h.settle();
    invariants.check(h);
    if (!h.finish_teardowns()) __builtin_trap();
    h.settle();
    invariants.check(h);
  }
  return 0;
}
