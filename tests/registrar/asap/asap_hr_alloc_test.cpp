// The Handle Resolution path of AsapServer (decode, rate limit, selection, encode, send into a
// non-allocating output) performs no heap allocation once warmed up (asap_server.hpp contract).
// Separate executable: it replaces the global operator new to count calls, so it is built only
// without sanitizers (meson.build).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// GCC pairs the inlined replacement new/delete and warns about malloc/free; they do match here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace poolreg::asap::testing {
namespace {

// Records only the size of what is sent, into preallocated storage.
class CountingOutput final : public MessageOutput {
 public:
  bool send(ConnectionId, WireProtocol, std::span<const std::uint8_t> message) override {
    ++sent;
    last_size = message.size();
    return true;
  }
  void abort(ConnectionId) override {}
  ConnectionId connect(WireProtocol, const TransportEndpoint&) override { return kNoConnectionId; }
  std::size_t sent = 0;
  std::size_t last_size = 0;
};

TEST(AsapHandleResolution, NoAllocationOnTheHotPath_ASAP_HR_01) {
  handlespace::QsbrDomain domain(4);
  handlespace::Handlespace hs(handlespace::HandlespaceConfig{}, domain);
  handlespace::ReaderContext reader(domain, 1);
  reader.online();
  ManualClock clock(kNsPerSec);
  CountingOutput out;
  AsapConfig config;
  config.registrar_id = kOwnId;
  config.hr_rate_limit = RateLimit{1e9, 1e9};  // enabled, never reached
  {
    AsapServer server(config, hs, reader, out, clock, nullptr);
    server.on_connection_up(1, sctp_peer({kPeAddr1, kPeAddr2}));
    for (PoolElementId id = 1; id <= 20; ++id)
      server.on_message(1, registration("EchoPool", make_pe(id, {kPeAddr1, kPeAddr2}, PolicyType::kLeastUsed)));
    const Bytes hr = handle_resolution("EchoPool", 10);
    const Bytes unknown = handle_resolution("Nowhere");
    server.on_message(2, hr);  // warm-up: creates the PU's association entry
    server.on_message(2, unknown);
    const std::size_t before = out.sent;
    g_counting = true;
    for (int i = 0; i < 1000; ++i) {
      server.on_message(2, hr);
      server.on_message(2, unknown);
    }
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0u);
    EXPECT_EQ(out.sent - before, 2000u);
    EXPECT_EQ(server.counters().resolution_pes_returned, 10u * 1001u);
  }
  reader.offline();
}

}  // namespace
}  // namespace poolreg::asap::testing
