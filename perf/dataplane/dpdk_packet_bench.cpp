// poolreg-dpdk-packet-bench: packets/s of the DPDK packet path per poll lcore, against the kernel's
// UDP receive path (Google Benchmark).
//
// BM_DpdkPacketPath/lcores:N: N poll lcores (1 = the main lcore; 2 = main + one worker), each with
//   its own port made from rte_rings (net_ring, rte_eth_from_rings). Before each timed round the
//   RX ring of every port is filled with pre-built Ethernet/IPv4/UDP(9899)/SCTP frames carrying an
//   ASAP Handle Resolution in a DATA chunk, from 1024 different peers (source IP/port); the timed
//   part is what a poll lcore does per packet: rte_eth_rx_burst + PacketProcessor (Ethernet, IPv4
//   header checksum, UDP checksum, port, SCTP hand-over) into a counting sink. Not included:
//   usrsctp (these frames belong to no association) and ASAP decoding/answering.
// BM_DpdkPacketPathNative/lcores:N: the same SCTP packets from the same peers as native SCTP
//   (Ethernet/IPv4 protocol 132/SCTP, CRC32c set; interface sctp_native on): IPv4 header checksum,
//   the native framing checks and the CRC32c over the SCTP packet (native_sctp_packet.hpp), the
//   sink's native_port_ours, SCTP hand-over. The UDP frames' CRC32c is not checked on this path
//   (usrsctp checks it later, on both kinds), so the difference is the price of the CRC here.
// BM_KernelUdpReceive: the kernel-socket backend's ingress for the same datagrams: recvmmsg()
//   batches of 32 from a UDP socket on 127.0.0.1 whose buffer was filled before the timed part.
//   (On loopback the kernel's IP/UDP input work happens at send time, outside the timing, so this
//   baseline flatters the kernel.)
// The ratio to report: items_per_second of BM_DpdkPacketPath/lcores:1 over BM_KernelUdpReceive
// (perf/dataplane/dpdk_bench.sh prints it).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk/frame_builder.hpp"
#include "dataplane/dpdk/packet_processor.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "perf/dataplane/bench_eal.hpp"

namespace {

using namespace poolreg::dpdk;

constexpr unsigned kPacketsPerRound = 16384;
constexpr unsigned kFlows = 1024;
constexpr std::uint8_t kRegistrarIp[4] = {10, 0, 0, 1};

// SCTP common header + DATA chunk (PPID 11) holding an ASAP Handle Resolution for "BenchPool".
std::vector<std::uint8_t> sctp_handle_resolution(std::uint16_t src_port) {
  const char pool[] = "BenchPool";  // 9 bytes: the parameter pads to 12
  std::vector<std::uint8_t> asap = {0x05, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 13};
  asap.insert(asap.end(), pool, pool + 9);
  asap.resize(4 + 4 + 12, 0);
  asap[2] = 0;
  asap[3] = static_cast<std::uint8_t>(asap.size());
  // Sized once: growing a 12-byte vector by insert() trips GCC 12's -Warray-bounds false positive.
  std::vector<std::uint8_t> p;
  p.reserve(12 + 16 + asap.size());
  p.resize(12, 0);
  p[0] = static_cast<std::uint8_t>(src_port >> 8);
  p[1] = static_cast<std::uint8_t>(src_port);
  p[2] = 3863 >> 8;
  p[3] = 3863 & 0xff;
  p[4] = 0x12;  // verification tag
  const std::uint16_t chunk = static_cast<std::uint16_t>(16 + asap.size());
  const std::uint8_t data[16] = {0x00,
                                 0x03,
                                 static_cast<std::uint8_t>(chunk >> 8),
                                 static_cast<std::uint8_t>(chunk),
                                 0,
                                 0,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 11};
  p.insert(p.end(), data, data + 16);
  p.insert(p.end(), asap.begin(), asap.end());
  return p;
}

struct CountingSink final : poolreg::sctp::SctpPacketSink {
  void on_sctp_packet(const poolreg::sctp::SctpPacketFrom&, const std::uint8_t* packet, std::uint16_t length) override {
    ++packets;
    bytes += length + packet[0];
  }
  bool native_port_ours(std::uint16_t port) const noexcept override { return port == 3863; }
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

// One poll lcore's world: a ring port, its processor and the template frames.
struct Lane {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  std::uint16_t port = 0;
  InterfaceConfig config;
  LcoreCounters counters;
  CountingSink sink;
  std::unique_ptr<PacketProcessor> processor;
  rte_mempool* pool = nullptr;
  std::vector<std::vector<std::uint8_t>> frames;         // UDP-encapsulated
  std::vector<std::vector<std::uint8_t>> native_frames;  // the same SCTP packets, IP protocol 132

  void fill(bool native = false) {
    const auto& templates = native ? native_frames : frames;
    rte_mbuf* batch[64];
    for (unsigned done = 0; done < kPacketsPerRound; done += 64) {
      if (rte_pktmbuf_alloc_bulk(pool, batch, 64) != 0) std::abort();
      for (unsigned i = 0; i < 64; ++i) {
        const auto& f = templates[(done + i) % templates.size()];
        std::memcpy(rte_pktmbuf_append(batch[i], static_cast<std::uint16_t>(f.size())), f.data(), f.size());
      }
      if (rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(batch), 64, nullptr) != 64) std::abort();
    }
  }
  // The timed poll loop: until the RX ring is empty.
  void drain() {
    rte_mbuf* pkts[32];
    for (;;) {
      const std::uint16_t n = rte_eth_rx_burst(port, 0, pkts, 32);
      if (n == 0) return;
      processor->process_burst(pkts, n);
    }
  }
};

std::vector<std::unique_ptr<Lane>> g_lanes;
rte_mempool* g_pool = nullptr;

bool setup_lanes() {
  g_pool = rte_pktmbuf_pool_create("bench_pool", 2 * kPacketsPerRound + 4096, 256, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (g_pool == nullptr) return false;
  for (int l = 0; l < 2; ++l) {
    auto lane = std::make_unique<Lane>();
    const std::string n = "bench" + std::to_string(l);
    lane->rx = rte_ring_create((n + "rx").c_str(), kPacketsPerRound * 2, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    lane->tx = rte_ring_create((n + "tx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    const int port = rte_eth_from_rings(n.c_str(), &lane->rx, 1, &lane->tx, 1, 0);
    if (lane->rx == nullptr || lane->tx == nullptr || port < 0) return false;
    const auto pid = static_cast<std::uint16_t>(port);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(pid, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(pid, 0, 1024, 0, nullptr, g_pool) != 0 ||
        rte_eth_tx_queue_setup(pid, 0, 1024, 0, nullptr) != 0 || rte_eth_dev_start(pid) != 0) {
      return false;
    }
    lane->port = static_cast<std::uint16_t>(port);
    lane->pool = g_pool;
    lane->config.mac = {0x02, 0, 0, 0, 0, 1};
    std::uint32_t ip;
    std::memcpy(&ip, kRegistrarIp, 4);
    lane->config.ipv4 = {ip};
    lane->config.sctp_native = true;
    for (unsigned f = 0; f < kFlows; ++f) {
      UdpRoute r;
      r.src_mac = {0x02, 0, 0, 0, 1, static_cast<std::uint8_t>(f)};
      r.dst_mac = lane->config.mac;
      r.src_ip[0] = 10;
      r.src_ip[1] = 1;
      r.src_ip[2] = static_cast<std::uint8_t>(f >> 8);
      r.src_ip[3] = static_cast<std::uint8_t>(f);
      std::memcpy(r.dst_ip, kRegistrarIp, 4);
      r.src_port = static_cast<std::uint16_t>(20000 + f);
      r.dst_port = 9899;
      auto sctp = sctp_handle_resolution(static_cast<std::uint16_t>(40000 + f));
      poolreg::sctp::set_sctp_crc(sctp);  // checked on the native path only
      for (const bool native : {false, true}) {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        const auto length = static_cast<std::uint16_t>(sctp.size());
        if (m == nullptr || !(native ? write_sctp_frame(m, r, sctp.data(), length)
                                     : write_udp_frame(m, r, sctp.data(), length)))
          return false;
        (native ? lane->native_frames : lane->frames)
            .emplace_back(rte_pktmbuf_mtod(m, std::uint8_t*),
                          rte_pktmbuf_mtod(m, std::uint8_t*) + m->data_len);
        rte_pktmbuf_free(m);
      }
    }
    lane->processor = std::make_unique<PacketProcessor>(lane->config, lane->counters, g_pool, &lane->sink);
    g_lanes.push_back(std::move(lane));
  }
  return true;
}

int worker_drain(void* arg) {
  static_cast<Lane*>(arg)->drain();
  return 0;
}

void run_packet_path(benchmark::State& state, bool native) {
  const int lcores = static_cast<int>(state.range(0));
  const unsigned worker = rte_get_next_lcore(-1, 1, 0);
  if (lcores == 2 && worker >= RTE_MAX_LCORE) {
    state.SkipWithError("needs two lcores (-l 0-1)");
    return;
  }
  std::uint64_t before = 0;
  for (int l = 0; l < lcores; ++l) before += g_lanes[static_cast<std::size_t>(l)]->sink.packets;
  for (auto _ : state) {
    state.PauseTiming();
    for (int l = 0; l < lcores; ++l) g_lanes[static_cast<std::size_t>(l)]->fill(native);
    state.ResumeTiming();
    if (lcores == 2) rte_eal_remote_launch(worker_drain, g_lanes[1].get(), worker);
    g_lanes[0]->drain();
    if (lcores == 2) rte_eal_wait_lcore(worker);
  }
  std::uint64_t after = 0;
  for (int l = 0; l < lcores; ++l) after += g_lanes[static_cast<std::size_t>(l)]->sink.packets;
  const auto expected = static_cast<std::uint64_t>(state.iterations()) * kPacketsPerRound * lcores;
  if (after - before != expected) state.SkipWithError("packets were dropped: the frames did not parse");
  state.SetItemsProcessed(static_cast<std::int64_t>(after - before));
  state.counters["per_lcore"] =
      benchmark::Counter(static_cast<double>(after - before) / lcores, benchmark::Counter::kIsRate);
  state.counters["lcores"] = lcores;
}

void BM_DpdkPacketPath(benchmark::State& state) { run_packet_path(state, false); }
BENCHMARK(BM_DpdkPacketPath)->ArgName("lcores")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_DpdkPacketPathNative(benchmark::State& state) { run_packet_path(state, true); }
BENCHMARK(BM_DpdkPacketPathNative)
    ->ArgName("lcores")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_KernelUdpReceive(benchmark::State& state) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM, 0), tx = ::socket(AF_INET, SOCK_DGRAM, 0);
  const int size = 64 << 20;
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
  const auto payload = sctp_handle_resolution(40000);
  constexpr unsigned kBatch = 32;
  std::array<std::array<std::uint8_t, 2048>, kBatch> buffers;
  std::array<iovec, kBatch> iov;
  std::array<mmsghdr, kBatch> msgs{};
  std::uint64_t received = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (unsigned i = 0; i < kPacketsPerRound; ++i)
      ::sendto(tx, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    state.ResumeTiming();
    unsigned got = 0;
    while (got < kPacketsPerRound) {
      for (unsigned i = 0; i < kBatch; ++i) {
        iov[i] = {buffers[i].data(), buffers[i].size()};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::recvmmsg(rx, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;  // fewer arrived than sent (buffer too small): counted below
      got += static_cast<unsigned>(n);
    }
    received += got;
  }
  ::close(rx);
  ::close(tx);
  state.SetItemsProcessed(static_cast<std::int64_t>(received));
}
BENCHMARK(BM_KernelUdpReceive)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (!poolreg::perf::start_bench_eal(argv[0], "bench", 512) || !setup_lanes()) {
    std::fprintf(stderr, "EAL / ring ports could not be set up\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& l : g_lanes) l->processor.reset();
  poolreg::perf::remove_eal_runtime_dir();
  return 0;
}
