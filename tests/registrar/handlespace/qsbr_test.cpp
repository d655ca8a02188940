// QsbrDomain: retired memory is freed only after every online reader passed a quiescent state.
#include "registrar/handlespace/qsbr.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace poolreg::handlespace {
namespace {

struct Counter {
  int* destroyed;
};
void destroy_counter(void* p) {
  auto* c = static_cast<Counter*>(p);
  ++*c->destroyed;
  delete c;
}

TEST(Qsbr, NoReadersFreesImmediatelyOnReclaim) {
  QsbrDomain domain(4);
  int destroyed = 0;
  domain.retire(new Counter{&destroyed}, &destroy_counter);
  EXPECT_EQ(domain.pending(), 1u);
  EXPECT_EQ(domain.reclaim(), 1u);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(domain.pending(), 0u);
}

TEST(Qsbr, OnlineReaderBlocksUntilQuiescent) {
  QsbrDomain domain(4);
  QsbrReader reader(domain);
  reader.online();
  int destroyed = 0;
  domain.retire(new Counter{&destroyed}, &destroy_counter);
  EXPECT_EQ(domain.reclaim(), 0u);
  EXPECT_EQ(destroyed, 0);
  reader.quiescent();
  EXPECT_EQ(domain.reclaim(), 1u);
  EXPECT_EQ(destroyed, 1);
}

TEST(Qsbr, QuiescentBeforeRetireDoesNotCount) {
  QsbrDomain domain(4);
  QsbrReader reader(domain);
  reader.online();
  reader.quiescent();
  int destroyed = 0;
  domain.retire(new Counter{&destroyed}, &destroy_counter);
  EXPECT_EQ(domain.reclaim(), 0u);
  reader.quiescent();
  EXPECT_EQ(domain.reclaim(), 1u);
}

TEST(Qsbr, OfflineReaderDoesNotBlock) {
  QsbrDomain domain(4);
  QsbrReader a(domain), b(domain);
  a.online();
  b.online();
  int destroyed = 0;
  domain.retire(new Counter{&destroyed}, &destroy_counter);
  a.quiescent();
  EXPECT_EQ(domain.reclaim(), 0u);  // b still holds an old view
  b.offline();
  EXPECT_EQ(domain.reclaim(), 1u);
  EXPECT_FALSE(b.is_online());
}

TEST(Qsbr, ReaderSlotsAreLimitedAndReused) {
  QsbrDomain domain(2);
  auto s1 = domain.register_reader();
  auto s2 = domain.register_reader();
  ASSERT_TRUE(s1 && s2);
  EXPECT_FALSE(domain.register_reader().has_value());
  domain.unregister_reader(*s1);
  EXPECT_TRUE(domain.register_reader().has_value());
}

TEST(Qsbr, GracePeriodTokens) {
  QsbrDomain domain(2);
  QsbrReader reader(domain);
  reader.online();
  const auto token = domain.begin_grace_period();
  EXPECT_FALSE(domain.grace_period_elapsed(token));
  reader.quiescent();
  EXPECT_TRUE(domain.grace_period_elapsed(token));
}

TEST(Qsbr, DestructorFreesPending) {
  int destroyed = 0;
  {
    QsbrDomain domain(2);
    domain.retire(new Counter{&destroyed}, &destroy_counter);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(Qsbr, SynchronizeWaitsForAnotherThreadsQuiescentState) {
  QsbrDomain domain(4);
  std::atomic<bool> online{false}, stop{false};
  std::thread t([&] {
    QsbrReader reader(domain);
    reader.online();
    online = true;
    for (int i = 0; i < 100'000'000 && !stop.load(); ++i) reader.quiescent();
    reader.offline();
  });
  for (int i = 0; i < 1'000'000 && !online.load(); ++i) std::this_thread::yield();
  int destroyed = 0;
  domain.retire(new Counter{&destroyed}, &destroy_counter);
  domain.synchronize();
  EXPECT_EQ(destroyed, 1);
  stop = true;
  t.join();
}

}  // namespace
}  // namespace poolreg::handlespace
