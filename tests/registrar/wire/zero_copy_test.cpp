// Allocation contract of the hot paths (asap_codec.hpp): Registration/Handle Resolution decode
// and Handle Resolution Response encode into a caller buffer do not allocate.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "tests/registrar/wire/wire_test_util.hpp"

#if defined(__GNUC__) && !defined(__clang__)
// GCC cannot see that the replaced operator new below returns malloc() memory.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Test-binary-wide allocation counter (replaces the global operator new of this test only).
namespace {
std::atomic<std::size_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

const char* kRegistration =
    "01000040 0009000c 4563686f 506f6f6c 000a0030 12345678 00000000 00007530"
    "00040018 00070000 00010008 0a010101 00010008 0a020101 00080008 00000001";
const char* kHrr =
    "06000070 0009000c 4563686f 506f6f6c 00080008 00000001 000a0030 12345678"
    "00000000 00007530 00040018 00070000 00010008 0a010101 00010008 0a020101"
    "00080008 00000001 000a0028 9abcdef0 0a0b0c0d 00007530 00040010 00070000"
    "00010008 0a030101 00080008 00000001";

class AllocationCounter {
 public:
  AllocationCounter() : start_(g_allocations.load()) {}
  std::size_t count() const { return g_allocations.load() - start_; }

 private:
  std::size_t start_;
};

TEST(WireZeroCopy, RegistrationViewDoesNotAllocate) {
  const auto bytes = hex(kRegistration);
  std::size_t allocations = 0;
  bool ok = false;
  std::array<IpAddress, 4> seen{};
  std::size_t n = 0;
  {
    AllocationCounter c;
    const auto r = decode_registration_view(bytes);
    ok = r.has_value();
    if (ok) {
      for (const IpAddress& a : r->element.user_transport.addresses) {
        if (n < seen.size()) seen[n] = a;
        ++n;
      }
    }
    allocations = c.count();
  }
  EXPECT_EQ(allocations, 0u);
  ASSERT_TRUE(ok);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(seen[0], v4(0x0a010101));
  EXPECT_EQ(seen[1], v4(0x0a020101));
  const auto r = decode_registration_view(bytes);
  EXPECT_EQ(r->pool_handle, handle("EchoPool"));
  EXPECT_EQ(r->element.id, 0x12345678u);
  EXPECT_EQ(r->element.user_transport.addresses.size(), 2u);
  EXPECT_TRUE(r->to_message() == (Registration{handle("EchoPool"), pe1(), std::nullopt}));
}

TEST(WireZeroCopy, RegistrationViewSkipsUnknownTlvsBetweenAddresses) {
  // 0x8050 (skip) between the two addresses of the SCTP transport.
  const auto bytes = hex(
      "01000048 0009000c 4563686f 506f6f6c 000a0038 12345678 00000000 00007530"
      "00040020 00070000 00010008 0a010101 80500008 ffffffff 00010008 0a020101 00080008 00000001");
  const auto r = decode_registration_view(bytes);
  ASSERT_TRUE(r.has_value());
  std::vector<IpAddress> got(r->element.user_transport.addresses.begin(), r->element.user_transport.addresses.end());
  EXPECT_EQ(got, (std::vector<IpAddress>{v4(0x0a010101), v4(0x0a020101)}));
}

TEST(WireZeroCopy, RegistrationViewRejectsOtherTypes) {
  const auto r = decode_registration_view(hex("05000010 0009000c 4563686f 506f6f6c"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, DecodeErrorKind::kWrongMessageType);
}

TEST(WireZeroCopy, HandleResolutionDecodeDoesNotAllocate) {
  const auto bytes = hex("05000018 0009000c 4563686f 506f6f6c 803f0008 00000005");
  std::size_t a1 = 0, a2 = 0;
  bool ok1 = false, ok2 = false;
  {
    AllocationCounter c;
    const auto r = decode_handle_resolution(bytes);
    ok1 = r.has_value() && r->items == 5u;
    a1 = c.count();
  }
  {
    AllocationCounter c;
    const auto r = decode_asap(bytes);
    ok2 = r.has_value();
    a2 = c.count();
  }
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
  EXPECT_EQ(a1, 0u);
  EXPECT_EQ(a2, 0u);
}

TEST(WireZeroCopy, HandleResolutionResponseWriterIntoSpanDoesNotAllocate) {
  const PoolElement a = pe1();
  const PoolElement b = pe2();
  std::array<std::uint8_t, 512> buf{};
  EncodeResult r;
  std::size_t allocations = 0;
  {
    AllocationCounter c;
    HandleResolutionResponseWriter w(std::span<std::uint8_t>(buf), WireOptions{});
    w.begin(handle("EchoPool"), round_robin());
    w.add(a);
    w.add(b.id, b.home_registrar, b.registration_life_ms, b.user_transport.protocol, b.user_transport.port,
          b.user_transport.use, b.user_transport.addresses, b.policy);
    r = w.finish();
    allocations = c.count();
  }
  EXPECT_EQ(allocations, 0u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>(buf.begin(), buf.begin() + r.size)), to_hex(hex(kHrr)));
}

TEST(WireZeroCopy, HandleResolutionResponseWriterIntoReservedVectorDoesNotAllocate) {
  std::vector<std::uint8_t> buf;
  buf.reserve(1024);
  const PoolElement a = pe1();
  std::size_t allocations = 0;
  EncodeResult r;
  {
    AllocationCounter c;
    HandleResolutionResponseWriter w(buf, WireOptions{});
    w.begin(handle("EchoPool"), round_robin());
    for (int i = 0; i < 3; ++i) w.add(a);
    r = w.finish();
    allocations = c.count();
  }
  EXPECT_EQ(allocations, 0u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(buf.size(), 24u + 3 * 48u);
  EXPECT_TRUE(decode_asap(buf).has_value());
}

TEST(WireZeroCopy, HandleResolutionResponseWriterErrorForm) {
  std::array<std::uint8_t, 64> buf{};
  HandleResolutionResponseWriter w(std::span<std::uint8_t>(buf), WireOptions{});
  w.begin_error(handle("NoSuchPool"), ErrorCause::kUnknownPoolHandle);
  const auto r = w.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>(buf.begin(), buf.begin() + r.size)),
            to_hex(hex("0600001c 0009000e 4e6f5375 6368506f 6f6c0000 000c0008 00090004")));
}

TEST(WireZeroCopy, SpanTooSmallFailsCleanly) {
  for (std::size_t n = 0; n < 112; n += 7) {
    std::vector<std::uint8_t> storage(n + 8, 0xee);  // guard bytes after the span
    HandleResolutionResponseWriter w(std::span<std::uint8_t>(storage.data(), n), WireOptions{});
    w.begin(handle("EchoPool"), round_robin());
    w.add(pe1());
    w.add(pe2());
    const auto r = w.finish();
    EXPECT_EQ(r.status, EncodeStatus::kBufferTooSmall) << n;
    for (std::size_t i = n; i < storage.size(); ++i) ASSERT_EQ(storage[i], 0xee);
  }
}

TEST(WireZeroCopy, EncodeIntoSpanDoesNotAllocateAndVectorAppends) {
  const Registration reg{handle("EchoPool"), pe1(), std::nullopt};
  std::array<std::uint8_t, 128> buf{};
  std::size_t allocations = 0;
  EncodeResult r;
  {
    AllocationCounter c;
    r = encode(reg, WireOptions{}, std::span<std::uint8_t>(buf));
    allocations = c.count();
  }
  EXPECT_EQ(allocations, 0u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>(buf.begin(), buf.begin() + r.size)), to_hex(hex(kRegistration)));

  // Vector sink appends after existing content; a failed encode leaves it unchanged.
  std::vector<std::uint8_t> out = {0xaa, 0xbb};
  ASSERT_TRUE(encode(reg, WireOptions{}, out).ok());
  EXPECT_EQ(out.size(), 2u + 64u);
  Registration bad = reg;
  bad.element.policy.type = PolicyType::kPriorityLeastUsedDpf;  // no wire codec
  const auto f = encode(bad, WireOptions{}, out);
  EXPECT_EQ(f.status, EncodeStatus::kInvalidField);
  EXPECT_EQ(out.size(), 66u);
}

TEST(WireZeroCopy, EncoderRefusesHandlesOverTheLimitAndOversizedMessages) {
  std::vector<std::uint8_t> out;
  PoolHandle long_handle = *PoolHandle::from_string(std::string(33, 'x'));
  EXPECT_EQ(encode(HandleResolution{long_handle, std::nullopt, std::nullopt}, WireOptions{}, out).status,
            EncodeStatus::kInvalidField);
  EXPECT_TRUE(out.empty());
  WireOptions small;
  small.max_message = 12;
  EXPECT_EQ(encode(HandleResolution{handle("EchoPool"), std::nullopt, std::nullopt}, small, out).status,
            EncodeStatus::kMessageTooLong);
  EXPECT_EQ(encode(Cookie{{}}, WireOptions{}, out).status, EncodeStatus::kInvalidField);
  EXPECT_EQ(encode(AsapError{}, WireOptions{}, out).status, EncodeStatus::kInvalidField);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace poolreg::wire

namespace poolreg::wire {
namespace {

using namespace testing;  // NOLINT

TEST(WireZeroCopy, SmallAsapMessagesDecodeWithoutAllocation) {
  const char* inputs[] = {
      "02000018 0009000c 4563686f 506f6f6c 000e0008 12345678",           // Deregistration
      "0701001c 0a0b0c0d 0009000c 4563686f 506f6f6c 000e0008 12345678",  // Keep-Alive
      "08000018 0009000c 4563686f 506f6f6c 000e0008 12345678",           // Keep-Alive Ack
      "09000018 0009000c 4563686f 506f6f6c 000e0008 12345678",           // Endpoint Unreachable
  };
  for (const char* h : inputs) {
    const auto bytes = hex(h);
    std::size_t allocations = 0;
    bool ok = false;
    {
      AllocationCounter c;
      ok = decode_asap(bytes).has_value();
      allocations = c.count();
    }
    EXPECT_TRUE(ok) << h;
    EXPECT_EQ(allocations, 0u) << h;
  }
}

TEST(WireZeroCopy, ArrayConvertsToSpanSink) {
  std::array<std::uint8_t, 32> buf{};
  const auto r = encode(Deregistration{handle("EchoPool"), 0x12345678}, WireOptions{}, buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>(buf.begin(), buf.begin() + r.size)),
            to_hex(hex("02000018 0009000c 4563686f 506f6f6c 000e0008 12345678")));
}

}  // namespace
}  // namespace poolreg::wire
