#include "dataplane/capture/pcap_writer.hpp"

#include <cstring>
#include <utility>

#include "registrar/common/crc32c.hpp"

namespace poolreg::capture {
namespace {

constexpr std::uint32_t kPcapMagicNanoseconds = 0xa1b23c4du;
constexpr std::uint32_t kPcapSnapLength = 262144;
constexpr std::uint8_t kIpProtoTcp = 6;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint8_t kIpProtoSctp = 132;
constexpr std::size_t kMaxIpv4Payload = 65535 - 20;
constexpr std::size_t kMaxIpv6Payload = 65535;
constexpr std::uint8_t kTcpSyn = 0x02;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpAck = 0x10;

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_be16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void set_be16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}
void put_bytes(std::vector<std::uint8_t>& out, const std::uint8_t* p, std::size_t n) {
  out.insert(out.end(), p, p + n);
}

// One's-complement sum of 16-bit big-endian words, not yet folded or inverted.
std::uint32_t ones_sum(std::span<const std::uint8_t> data, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffffu);
}

// TCP/UDP checksum including the IPv4 or IPv6 pseudo header. `l4` has a zero checksum field.
std::uint16_t transport_checksum(const Endpoint& src, const Endpoint& dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> l4) {
  std::uint32_t sum = 0;
  sum = ones_sum({src.address.data(), src.address.size()}, sum);
  sum = ones_sum({dst.address.data(), dst.address.size()}, sum);
  sum += protocol;
  sum += static_cast<std::uint32_t>(l4.size() & 0xffffu);
  sum += static_cast<std::uint32_t>(l4.size() >> 16);
  return fold(ones_sum(l4, sum));
}

// FNV-1a over (family, address, port) of two endpoints: stable across runs and platforms.
std::uint32_t mix_endpoints(const Endpoint& a, const Endpoint& b, std::uint32_t salt) {
  std::uint32_t h = 2166136261u ^ salt;
  auto feed = [&h](std::uint8_t byte) { h = (h ^ byte) * 16777619u; };
  for (const Endpoint* e : {&a, &b}) {
    feed(static_cast<std::uint8_t>(e->address.family()));
    for (std::size_t i = 0; i < e->address.size(); ++i) feed(e->address.data()[i]);
    feed(static_cast<std::uint8_t>(e->port >> 8));
    feed(static_cast<std::uint8_t>(e->port));
  }
  return h;
}

// Initial TCP sequence number of the direction src -> dst.
std::uint32_t tcp_isn(const Endpoint& src, const Endpoint& dst) { return mix_endpoints(src, dst, 0x7c9u); }

// Locally administered MAC 02:00:<last four address bytes>.
void put_mac(std::vector<std::uint8_t>& out, const IpAddress& a) {
  out.push_back(0x02);
  out.push_back(0x00);
  put_bytes(out, a.data() + a.size() - 4, 4);
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) noexcept {
  return fold(ones_sum(data, 0));
}

std::uint32_t sctp_verification_tag(const Endpoint& src, const Endpoint& dst, bool over_udp) noexcept {
  // The tag belongs to the receiver: packets to `dst` carry dst's tag for this association.
  std::uint32_t tag = mix_endpoints(dst, src, over_udp ? 0x5c7du : 0x132u);
  return tag == 0 ? 1 : tag;
}

PcapWriter::PcapWriter(const std::string& path, PcapWriterOptions options) : options_(options) {
  file_.reset(std::fopen(path.c_str(), "wb"));
  if (!file_) {
    error_ = PcapWriteError::kOpenFailed;
    return;
  }
  std::vector<std::uint8_t> header;
  put_le32(header, kPcapMagicNanoseconds);
  header.push_back(2);  // version 2.4, little-endian like every other field here
  header.push_back(0);
  header.push_back(4);
  header.push_back(0);
  put_le32(header, 0);  // thiszone
  put_le32(header, 0);  // sigfigs
  put_le32(header, kPcapSnapLength);
  put_le32(header, static_cast<std::uint32_t>(options_.link_type));
  if (std::fwrite(header.data(), 1, header.size(), file_.get()) != header.size()) {
    error_ = PcapWriteError::kIoError;
  }
}

PcapWriter::~PcapWriter() { close(); }

PcapWriter::PcapWriter(PcapWriter&& other) noexcept
    : file_(std::move(other.file_)),
      options_(other.options_),
      error_(other.error_),
      frames_(other.frames_),
      ip_id_(other.ip_id_),
      sctp_(std::move(other.sctp_)),
      tcp_(std::move(other.tcp_)) {}

PcapWriter& PcapWriter::operator=(PcapWriter&& other) noexcept {
  if (this != &other) {
    close();
    file_ = std::move(other.file_);
    options_ = other.options_;
    error_ = other.error_;
    frames_ = other.frames_;
    ip_id_ = other.ip_id_;
    sctp_ = std::move(other.sctp_);
    tcp_ = std::move(other.tcp_);
  }
  return *this;
}

bool PcapWriter::flush() {
  if (!file_) return false;
  if (std::fflush(file_.get()) != 0) error_ = PcapWriteError::kIoError;
  return ok();
}

void PcapWriter::close() {
  if (!file_) return;
  flush();
  file_.reset();
}

PcapWriter::FlowKey PcapWriter::flow_key(const Endpoint& src, const Endpoint& dst, bool flavour) {
  auto key = [](const Endpoint& e) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), e.address.data(), e.address.size());
    return EndpointKey{static_cast<std::uint8_t>(e.address.family()), bytes, e.port};
  };
  return FlowKey{key(src), key(dst), flavour};
}

bool PcapWriter::check_families(const Endpoint& src, const Endpoint& dst) {
  if (!file_) {
    if (error_ == PcapWriteError::kNone) error_ = PcapWriteError::kIoError;
    return false;
  }
  if (error_ == PcapWriteError::kOpenFailed || error_ == PcapWriteError::kIoError) return false;
  error_ = PcapWriteError::kNone;
  if (src.address.family() != dst.address.family()) {
    error_ = PcapWriteError::kFamilyMismatch;
    return false;
  }
  return true;
}

bool PcapWriter::write_frame(std::span<const std::uint8_t> frame, TimeNs ts) {
  std::vector<std::uint8_t> record;
  record.reserve(16);
  put_le32(record, static_cast<std::uint32_t>(ts / kNsPerSec));
  put_le32(record, static_cast<std::uint32_t>(ts % kNsPerSec));
  put_le32(record, static_cast<std::uint32_t>(frame.size()));
  put_le32(record, static_cast<std::uint32_t>(frame.size()));
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size() ||
      std::fwrite(frame.data(), 1, frame.size(), file_.get()) != frame.size()) {
    error_ = PcapWriteError::kIoError;
    return false;
  }
  ++frames_;
  return true;
}

bool PcapWriter::write_ip_packet(const Endpoint& src, const Endpoint& dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> l4, TimeNs ts) {
  const bool v4 = src.address.is_v4();
  if (l4.size() > (v4 ? kMaxIpv4Payload : kMaxIpv6Payload)) {
    error_ = PcapWriteError::kTooLarge;
    return false;
  }
  std::vector<std::uint8_t>& f = scratch_;
  f.clear();
  if (options_.link_type == LinkType::kEthernet) {
    put_mac(f, dst.address);
    put_mac(f, src.address);
    put_be16(f, v4 ? 0x0800 : 0x86dd);
  }
  if (v4) {
    const std::size_t ip_at = f.size();
    f.push_back(0x45);  // version 4, 5 words of header
    f.push_back(0);     // DSCP/ECN
    put_be16(f, static_cast<std::uint16_t>(20 + l4.size()));
    put_be16(f, ip_id_++);
    put_be16(f, 0x4000);  // don't fragment
    f.push_back(64);      // TTL
    f.push_back(protocol);
    put_be16(f, 0);  // checksum, filled below
    put_bytes(f, src.address.data(), 4);
    put_bytes(f, dst.address.data(), 4);
    set_be16(f, ip_at + 10, internet_checksum({f.data() + ip_at, 20}));
  } else {
    put_be32(f, 0x60000000u);
    put_be16(f, static_cast<std::uint16_t>(l4.size()));
    f.push_back(protocol);
    f.push_back(64);  // hop limit
    put_bytes(f, src.address.data(), 16);
    put_bytes(f, dst.address.data(), 16);
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return write_frame(f, ts);
}

bool PcapWriter::write_sctp_over_udp(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                                     std::span<const std::uint8_t> message, TimeNs ts) {
  const std::span<const std::uint8_t> one[] = {message};
  return write_sctp_bundle(src, dst, ppid, one, ts, true);
}

bool PcapWriter::write_sctp(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                            std::span<const std::uint8_t> message, TimeNs ts) {
  const std::span<const std::uint8_t> one[] = {message};
  return write_sctp_bundle(src, dst, ppid, one, ts, false);
}

bool PcapWriter::write_sctp_bundle(const Endpoint& src, const Endpoint& dst, std::uint32_t ppid,
                                   std::span<const std::span<const std::uint8_t>> messages, TimeNs ts,
                                   bool over_udp) {
  if (!check_families(src, dst)) return false;
  auto [it, inserted] = sctp_.try_emplace(flow_key(src, dst, over_udp));
  SctpDirection& dir = it->second;
  if (inserted) dir.next_tsn = sctp_verification_tag(dst, src, over_udp);  // initial TSN = own tag

  std::vector<std::uint8_t> sctp;
  put_be16(sctp, src.port);
  put_be16(sctp, dst.port);
  put_be32(sctp, sctp_verification_tag(src, dst, over_udp));
  put_be32(sctp, 0);  // CRC32c, filled below
  std::uint32_t tsn = dir.next_tsn;
  std::uint16_t ssn = dir.next_ssn;
  for (const auto& message : messages) {
    if (message.size() > 0xffff - 16) {
      error_ = PcapWriteError::kTooLarge;
      return false;
    }
    sctp.push_back(0);     // chunk type DATA
    sctp.push_back(0x03);  // B (beginning) + E (ending): an unfragmented message
    put_be16(sctp, static_cast<std::uint16_t>(16 + message.size()));
    put_be32(sctp, tsn++);
    put_be16(sctp, 0);  // stream 0
    put_be16(sctp, ssn++);
    put_be32(sctp, ppid);
    sctp.insert(sctp.end(), message.begin(), message.end());
    while (sctp.size() % 4 != 0) sctp.push_back(0);
  }
  // RFC 4960 appendix B: the CRC goes in least significant byte first.
  const std::uint32_t crc = crc32c(sctp);
  for (int i = 0; i < 4; ++i)
    sctp[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));

  bool written;
  if (over_udp) {
    std::vector<std::uint8_t> udp;
    udp.reserve(8 + sctp.size());
    put_be16(udp, options_.udp_encapsulation_src_port);
    put_be16(udp, options_.udp_encapsulation_dst_port);
    put_be16(udp, static_cast<std::uint16_t>(8 + sctp.size()));
    put_be16(udp, 0);
    udp.insert(udp.end(), sctp.begin(), sctp.end());
    if (udp.size() > 0xffff) {
      error_ = PcapWriteError::kTooLarge;
      return false;
    }
    std::uint16_t sum = transport_checksum(src, dst, kIpProtoUdp, udp);
    set_be16(udp, 6, sum == 0 ? 0xffff : sum);
    written = write_ip_packet(src, dst, kIpProtoUdp, udp, ts);
  } else {
    written = write_ip_packet(src, dst, kIpProtoSctp, sctp, ts);
  }
  if (written) {
    dir.next_tsn = tsn;
    dir.next_ssn = ssn;
  }
  return written;
}

bool PcapWriter::write_udp(const Endpoint& src, const Endpoint& dst, std::span<const std::uint8_t> payload,
                           TimeNs ts) {
  if (!check_families(src, dst)) return false;
  if (payload.size() > 0xffff - 8) {
    error_ = PcapWriteError::kTooLarge;
    return false;
  }
  std::vector<std::uint8_t> udp;
  put_be16(udp, src.port);
  put_be16(udp, dst.port);
  put_be16(udp, static_cast<std::uint16_t>(8 + payload.size()));
  put_be16(udp, 0);
  udp.insert(udp.end(), payload.begin(), payload.end());
  std::uint16_t sum = transport_checksum(src, dst, kIpProtoUdp, udp);
  set_be16(udp, 6, sum == 0 ? 0xffff : sum);
  return write_ip_packet(src, dst, kIpProtoUdp, udp, ts);
}

bool PcapWriter::write_tcp_segment(const Endpoint& src, const Endpoint& dst, std::uint32_t seq,
                                   std::uint32_t ack, std::uint8_t flags,
                                   std::span<const std::uint8_t> payload, TimeNs ts) {
  std::vector<std::uint8_t> tcp;
  tcp.reserve(20 + payload.size());
  put_be16(tcp, src.port);
  put_be16(tcp, dst.port);
  put_be32(tcp, seq);
  put_be32(tcp, (flags & kTcpAck) ? ack : 0);
  tcp.push_back(0x50);  // 5 words of header, no options
  tcp.push_back(flags);
  put_be16(tcp, 65535);  // window
  put_be16(tcp, 0);      // checksum, filled below
  put_be16(tcp, 0);      // urgent pointer
  tcp.insert(tcp.end(), payload.begin(), payload.end());
  set_be16(tcp, 16, transport_checksum(src, dst, kIpProtoTcp, tcp));
  return write_ip_packet(src, dst, kIpProtoTcp, tcp, ts);
}

bool PcapWriter::write_tcp(const Endpoint& src, const Endpoint& dst, std::span<const std::uint8_t> payload,
                           TimeNs ts) {
  if (!check_families(src, dst)) return false;
  if (payload.size() > kMaxIpv4Payload - 20) {
    error_ = PcapWriteError::kTooLarge;
    return false;
  }
  const FlowKey forward = flow_key(src, dst, false);
  const FlowKey backward = flow_key(dst, src, false);
  if (tcp_.find(forward) == tcp_.end()) {
    // First segment of this connection: `src` is the side that connects.
    const std::uint32_t isn_src = tcp_isn(src, dst);
    const std::uint32_t isn_dst = tcp_isn(dst, src);
    if (options_.tcp_handshake) {
      if (!write_tcp_segment(src, dst, isn_src, 0, kTcpSyn, {}, ts) ||
          !write_tcp_segment(dst, src, isn_dst, isn_src + 1, kTcpSyn | kTcpAck, {}, ts) ||
          !write_tcp_segment(src, dst, isn_src + 1, isn_dst + 1, kTcpAck, {}, ts)) {
        return false;
      }
    }
    tcp_[forward].next_seq = isn_src + 1;
    tcp_[backward].next_seq = isn_dst + 1;
  }
  TcpDirection& out = tcp_[forward];
  TcpDirection& in = tcp_[backward];
  if (!write_tcp_segment(src, dst, out.next_seq, in.next_seq, kTcpPsh | kTcpAck, payload, ts)) {
    return false;
  }
  out.next_seq += static_cast<std::uint32_t>(payload.size());
  if (options_.tcp_ack_each_segment) {
    return write_tcp_segment(dst, src, in.next_seq, out.next_seq, kTcpAck, {}, ts);
  }
  return true;
}

}  // namespace poolreg::capture
