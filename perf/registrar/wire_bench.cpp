// Google Benchmark: ASAP codec hot paths (ns/op). Arg 0 = RFC mode, 1 = next-gen mode.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "registrar/wire/asap_codec.hpp"

namespace {

using namespace poolreg;        // NOLINT
using namespace poolreg::wire;  // NOLINT

PoolHandle echo() { return *PoolHandle::from_string("EchoPool"); }

PoolElement make_pe(std::uint32_t id, std::uint32_t first_address, std::size_t addresses) {
  PoolElement e;
  e.id = id;
  e.home_registrar = 0x0a0b0c0d;
  e.registration_life_ms = 30000;
  e.user_transport.protocol = TransportProtocol::kSctp;
  e.user_transport.port = 7;
  for (std::size_t i = 0; i < addresses; ++i)
    e.user_transport.addresses.push_back(IpAddress::v4(first_address + static_cast<std::uint32_t>(i)));
  e.policy.type = PolicyType::kLeastUsed;
  e.policy.load = 0x1000;
  return e;
}

WireOptions mode(const benchmark::State& state) {
  WireOptions o;
  o.next_gen = state.range(0) != 0;
  return o;
}

void BM_EncodeRegistration(benchmark::State& state) {
  const WireOptions o = mode(state);
  const Registration reg{echo(), make_pe(0x12345678, 0x0a010101, 2), std::nullopt};
  std::array<std::uint8_t, 256> buf{};
  for (auto _ : state) {
    auto r = encode(reg, o, std::span<std::uint8_t>(buf));
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(buf.data());
  }
}
BENCHMARK(BM_EncodeRegistration)->Arg(0)->Arg(1);

void BM_DecodeRegistrationView(benchmark::State& state) {
  const WireOptions o = mode(state);
  std::vector<std::uint8_t> bytes;
  encode(Registration{echo(), make_pe(0x12345678, 0x0a010101, 2), std::nullopt}, o, bytes);
  for (auto _ : state) {
    auto r = decode_registration_view(bytes, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeRegistrationView)->Arg(0)->Arg(1);

void BM_DecodeRegistrationOwning(benchmark::State& state) {
  const WireOptions o = mode(state);
  std::vector<std::uint8_t> bytes;
  encode(Registration{echo(), make_pe(0x12345678, 0x0a010101, 2), std::nullopt}, o, bytes);
  for (auto _ : state) {
    auto r = decode_asap(bytes, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeRegistrationOwning)->Arg(0)->Arg(1);

void BM_DecodeHandleResolution(benchmark::State& state) {
  const WireOptions o = mode(state);
  std::vector<std::uint8_t> bytes;
  encode(HandleResolution{echo(), 3u, std::nullopt}, o, bytes);
  for (auto _ : state) {
    auto r = decode_handle_resolution(bytes, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeHandleResolution)->Arg(0)->Arg(1);

// Handle Resolution Response with 3 PEs through the allocation-free writer.
void BM_EncodeHandleResolutionResponse3Writer(benchmark::State& state) {
  const WireOptions o = mode(state);
  const std::array<PoolElement, 3> pes{make_pe(1, 0x0a000001, 1), make_pe(2, 0x0a000002, 2),
                                       make_pe(3, 0x0a000003, 1)};
  std::array<std::uint8_t, 512> buf{};
  for (auto _ : state) {
    HandleResolutionResponseWriter w(std::span<std::uint8_t>(buf), o);
    w.begin(echo(), pes[0].policy);
    for (const auto& pe : pes) w.add(pe);
    auto r = w.finish();
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(buf.data());
  }
}
BENCHMARK(BM_EncodeHandleResolutionResponse3Writer)->Arg(0)->Arg(1);

// Same message from the owning struct into a reused vector.
void BM_EncodeHandleResolutionResponse3Struct(benchmark::State& state) {
  const WireOptions o = mode(state);
  const HandleResolutionResponse m{echo(), make_pe(1, 0x0a000001, 1).policy,
                                   {make_pe(1, 0x0a000001, 1), make_pe(2, 0x0a000002, 2), make_pe(3, 0x0a000003, 1)},
                                   std::nullopt};
  std::vector<std::uint8_t> buf;
  buf.reserve(512);
  for (auto _ : state) {
    buf.clear();
    auto r = encode(m, o, buf);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(buf.data());
  }
}
BENCHMARK(BM_EncodeHandleResolutionResponse3Struct)->Arg(0)->Arg(1);

void BM_DecodeHandleResolutionResponse3(benchmark::State& state) {
  const WireOptions o = mode(state);
  const HandleResolutionResponse m{echo(), make_pe(1, 0x0a000001, 1).policy,
                                   {make_pe(1, 0x0a000001, 1), make_pe(2, 0x0a000002, 2), make_pe(3, 0x0a000003, 1)},
                                   std::nullopt};
  std::vector<std::uint8_t> bytes;
  encode(m, o, bytes);
  for (auto _ : state) {
    auto r = decode_asap(bytes, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeHandleResolutionResponse3)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
