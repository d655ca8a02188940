#include "registrar/asap/server_announce.hpp"

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/asap_messages.hpp"

namespace poolreg::asap {

wire::EncodeResult encode_server_announce(RegistrarId registrar_id, std::span<const IpAddress> addresses,
                                          std::uint16_t sctp_port, wire::ByteSink out, std::uint16_t tcp_port) {
  wire::ServerAnnounce m;
  m.registrar_id = registrar_id;
  if (!addresses.empty()) {
    TransportEndpoint sctp;
    sctp.protocol = TransportProtocol::kSctp;
    sctp.port = sctp_port;
    sctp.use = TransportUse::kDataOnly;
    sctp.addresses.assign(addresses.begin(), addresses.end());
    m.transports.push_back(std::move(sctp));
    if (tcp_port != 0) {
      TransportEndpoint tcp;
      tcp.protocol = TransportProtocol::kTcp;
      tcp.port = tcp_port;
      tcp.use = TransportUse::kDataOnly;
      tcp.addresses = {addresses.front()};
      m.transports.push_back(std::move(tcp));
    }
  }
  wire::WireOptions rfc;  // next_gen false
  return wire::encode(m, rfc, out);
}

}  // namespace poolreg::asap
