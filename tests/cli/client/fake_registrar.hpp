// FakeRegistrar: a minimal ASAP registrar for client tests. A KernelTransport listener (SCTP over
// usrsctp/UDP or TCP, 127.0.0.1, free port) that decodes with registrar/wire, keeps PEs per pool,
// answers Registration / Deregistration / Handle Resolution, sends Keep-Alives on demand and
// records Keep-Alive Acks and Endpoint Unreachable reports. Knobs let tests reject, hold back or
// drop answers. Loop thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dataplane/kernel/kernel_transport.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::client::testing {

struct Received {
  ConnectionId from;
  wire::AsapMessage message;
};

class FakeRegistrar final : public runtime::MessageHandler {
 public:
  FakeRegistrar(runtime::EventLoop& loop, kernel::SctpStack* stack) : transport_(loop, *this, stack) {}

  // Listens on 127.0.0.1, any free port; returns the port (0 on failure).
  std::uint16_t listen(bool tcp) {
    const IpAddress addrs[] = {IpAddress::v4(0x7f000001u)};
    runtime::ListenResult r = tcp ? transport_.listen_tcp(WireProtocol::kAsap, addrs, 0)
                                 : transport_.listen_sctp(WireProtocol::kAsap, addrs, 0);
    return r.value_or(0);
  }

  // ---- knobs ----
  bool silent = false;                             // answer nothing
  bool hold_resolutions = false;                   // keep Handle Resolutions in held_ until release_held()
  std::map<std::string, ErrorCause> reject_pools;  // Registrations for these pools are refused
  std::optional<std::uint32_t> echo_capabilities;  // NG-Capabilities put into Registration Responses
  std::uint32_t default_items = 3;
  RegistrarId id = 0x1234;

  // ---- what happened ----
  std::vector<Received> received;
  std::vector<ConnectionId> connections;
  std::map<ConnectionId, runtime::CloseReason> closed;
  std::map<std::string, std::vector<PoolElement>> pools;  // by handle text

  template <typename M>
  std::vector<M> all() const {
    std::vector<M> out;
    for (const auto& r : received) {
      if (const M* m = std::get_if<M>(&r.message)) out.push_back(*m);
    }
    return out;
  }
  template <typename M>
  std::size_t count() const {
    return static_cast<std::size_t>(std::count_if(received.begin(), received.end(), [](const Received& r) {
      return std::holds_alternative<M>(r.message);
    }));
  }

  void send_keep_alive(ConnectionId to, const PoolHandle& handle, std::optional<PoolElementId> pe,
                       bool home = false, std::optional<RegistrarId> from = std::nullopt) {
    wire::EndpointKeepAlive m{home, from.value_or(id), handle, pe};
    send(to, m);
  }

  // Answers every held Handle Resolution in arrival order (each gets min(items or
  // default_items, pool size) PEs).
  void release_held() {
    auto held = std::move(held_);
    held_.clear();
    for (auto& [from, hr] : held) answer_resolution(from, hr);
  }
  std::size_t held() const { return held_.size(); }

  void abort(ConnectionId id) { transport_.abort(id); }
  void close_all() { transport_.close_all(); }
  kernel::KernelTransport& transport() { return transport_; }

  template <typename M>
  void send(ConnectionId to, const M& m) {
    std::vector<std::uint8_t> bytes;
    if (wire::encode(m, wire::WireOptions{}, bytes)) transport_.send(to, WireProtocol::kAsap, bytes);
  }

  // runtime::MessageHandler
  void on_connected(ConnectionId id, const ConnectionPeer&) override { connections.push_back(id); }
  void on_closed(ConnectionId id, runtime::CloseReason reason) override { closed[id] = reason; }
  void on_message(ConnectionId from, const runtime::MessageInfo&,
                  std::span<const std::uint8_t> bytes) override {
    auto decoded = wire::decode_asap(bytes);
    if (!decoded.has_value()) {
      ++decode_errors;
      return;
    }
    received.push_back(Received{from, decoded.value()});
    if (silent) return;
    wire::AsapMessage& msg = decoded.value();
    if (auto* reg = std::get_if<wire::Registration>(&msg)) {
      on_registration(from, *reg);
    } else if (auto* dereg = std::get_if<wire::Deregistration>(&msg)) {
      auto& pes = pools[dereg->pool_handle.to_display()];
      std::erase_if(pes, [&](const PoolElement& e) { return e.id == dereg->pe_id; });
      if (pes.empty()) pools.erase(dereg->pool_handle.to_display());
      send(from, wire::DeregistrationResponse{dereg->pool_handle, dereg->pe_id, std::nullopt});
    } else if (auto* hr = std::get_if<wire::HandleResolution>(&msg)) {
      if (hold_resolutions) {
        held_.emplace_back(from, *hr);
      } else {
        answer_resolution(from, *hr);
      }
    }
  }

  std::size_t decode_errors = 0;

 private:
  void on_registration(ConnectionId from, const wire::Registration& reg) {
    wire::RegistrationResponse resp;
    resp.pool_handle = reg.pool_handle;
    resp.pe_id = reg.element.id;
    resp.ng_capabilities = echo_capabilities;
    auto rej = reject_pools.find(reg.pool_handle.to_display());
    if (rej != reject_pools.end()) {
      resp.rejected = true;
      resp.error = wire::OperationError::single(rej->second);
    } else {
      auto& pes = pools[reg.pool_handle.to_display()];
      PoolElement pe = reg.element;
      pe.home_registrar = id;
      auto it = std::find_if(pes.begin(), pes.end(), [&](const PoolElement& e) { return e.id == pe.id; });
      if (it != pes.end())
        *it = pe;
      else
        pes.push_back(pe);
    }
    wire::WireOptions options;
    options.next_gen = echo_capabilities.has_value();
    std::vector<std::uint8_t> bytes;
    if (wire::encode(resp, options, bytes)) transport_.send(from, WireProtocol::kAsap, bytes);
  }

  void answer_resolution(ConnectionId from, const wire::HandleResolution& hr) {
    wire::HandleResolutionResponse resp;
    resp.pool_handle = hr.pool_handle;
    auto it = pools.find(hr.pool_handle.to_display());
    if (it == pools.end()) {
      resp.error = wire::OperationError::single(ErrorCause::kUnknownPoolHandle);
    } else {
      const std::uint32_t items = hr.items.value_or(0) != 0 ? *hr.items : default_items;
      resp.policy = it->second.front().policy;
      for (const PoolElement& pe : it->second) {
        if (resp.elements.size() >= items) break;
        resp.elements.push_back(pe);
      }
    }
    send(from, resp);
  }

  kernel::KernelTransport transport_;
  std::vector<std::pair<ConnectionId, wire::HandleResolution>> held_;
};

}  // namespace poolreg::client::testing
