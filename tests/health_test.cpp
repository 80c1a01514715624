// healthy(): each reason a signal or a pool reports, seen by successive calls with the
// time injected through the metrics clock; and what clears it.
#include <gtest/gtest.h>

#include <sigs/sigs.hpp>
#include <testing/fake_clock.hpp>
#include <testing/spin_gate.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace {

using namespace std::chrono_literals;

using sigs::testing::advance;
using sigs::testing::fake_clock_scope;
using gate = sigs::testing::spin_gate;

bool has(const sigs::health_report& r, sigs::health_issue i) {
  for (const auto& p : r.problems)
    if (p.issue == i) return !p.what.empty();
  return false;
}

TEST(Health, ASignalThatFailsAboveTheErrorRateIsUnhealthyUntilTheWindowPasses) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters});
  sig.add_listener([](const int& v) {
    if (v % 10 == 0) throw std::runtime_error("one in ten");
  });
  EXPECT_TRUE(sig.healthy());
  for (int i = 0; i < 100; ++i) sig.emit(i);  // 10 % failures
  const auto bad = sig.healthy();
  EXPECT_FALSE(bad);
  EXPECT_TRUE(has(bad, sigs::health_issue::error_rate));
  EXPECT_TRUE(sig.healthy({.error_rate = 0.2})) << "under a looser threshold";
  advance(61s);  // past the default window: the old failures leave it
  for (int i = 1; i < 100; i += 10) sig.emit(i);
  EXPECT_TRUE(sig.healthy()) << sig.healthy().problems.size();
}

TEST(Health, TooFewCallsOrMetricsOffSayNothingOfTheErrorRate) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig;  // metrics off: no call count to divide by
  sig.add_listener([](const int&) { throw std::runtime_error("always"); });
  for (int i = 0; i < 50; ++i) sig.emit(i);
  EXPECT_TRUE(sig.healthy());
  sig.set_metrics(sigs::metrics_level::counters);
  sig.emit(1);
  EXPECT_TRUE(sig.healthy({.min_calls = 5})) << "one call in the window";
}

TEST(Health, AsyncDropsInTheWindowAndABacklogThatLasts) {
  fake_clock_scope clock;
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 64});
  sigs::async_options o;
  o.pool = &pool;
  o.queue_capacity = 4;
  o.overflow = sigs::overflow_policy::reject;
  sigs::async_signal<int> sig(o);
  gate g;
  sig.add_listener([&](const int&) { g.wait(); });
  EXPECT_TRUE(sig.healthy());
  for (int i = 0; i < 4; ++i) sig.emit(i);  // 4 of 4 in flight
  const auto first = sig.healthy();
  EXPECT_FALSE(has(first, sigs::health_issue::backlog)) << "not yet for long enough";
  advance(6s);
  const auto later = sig.healthy();
  EXPECT_TRUE(has(later, sigs::health_issue::backlog));
  EXPECT_FALSE(has(later, sigs::health_issue::drops));
  sig.emit(5);  // over queue_capacity: dropped
  EXPECT_TRUE(has(sig.healthy(), sigs::health_issue::drops));
  EXPECT_FALSE(has(sig.healthy({.drops_are_unhealthy = false}), sigs::health_issue::drops));
  g.release();
  ASSERT_FALSE(sig.drain());
  EXPECT_FALSE(has(sig.healthy(), sigs::health_issue::backlog)) << "the backlog is gone";
  advance(61s);
  EXPECT_TRUE(sig.healthy());
}

TEST(Health, APoolWorkerInOneTaskTooLongIsStuck) {
  fake_clock_scope clock;
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 2, .queue_capacity = 8});
  gate g;
  std::atomic<bool> started{false};
  sigs::task t([&] {
    started = true;
    g.wait();
  });
  ASSERT_FALSE(pool.submit(t));
  while (!started.load()) std::this_thread::yield();
  EXPECT_TRUE(pool.healthy());  // first seen in that task now
  advance(5s);
  EXPECT_TRUE(pool.healthy());
  advance(6s);
  const auto stuck = pool.healthy();
  EXPECT_TRUE(has(stuck, sigs::health_issue::worker_stuck));
  EXPECT_EQ(stuck.problems.size(), 1u);
  g.release();
  pool.shutdown();
  EXPECT_FALSE(has(pool.healthy(), sigs::health_issue::worker_stuck));
}

TEST(Health, AWorkerThatMovesOnToAnotherTaskIsNotStuck) {
  fake_clock_scope clock;
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8});
  gate first, second;
  std::atomic<int> started{0};
  sigs::task a([&] {
    started = 1;
    first.wait();
  });
  sigs::task b([&] {
    started = 2;
    second.wait();
  });
  ASSERT_FALSE(pool.submit(a));
  ASSERT_FALSE(pool.submit(b));
  while (started.load() != 1) std::this_thread::yield();
  EXPECT_TRUE(pool.healthy());
  advance(8s);
  first.release();
  while (started.load() != 2) std::this_thread::yield();
  advance(8s);  // 16 s busy, but in two tasks
  EXPECT_TRUE(pool.healthy());
  second.release();
  pool.shutdown();
}

TEST(Health, ManyChecksInATightLoopKeepABoundedHistory) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters});
  sig.add_listener([](const int&) {});
  for (int i = 0; i < 5000; ++i) {
    sig.emit(i);
    ASSERT_TRUE(sig.healthy());
  }
}

TEST(Health, APoolThatRejectsOrBacksUpIsUnhealthy) {
  fake_clock_scope clock;
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 4});
  gate g;
  std::atomic<bool> started{false};
  sigs::task hold([&] {
    started = true;
    g.wait();
  });
  ASSERT_FALSE(pool.submit(hold));
  while (!started.load()) std::this_thread::yield();
  for (int i = 0; i < 4; ++i) {
    sigs::task t([] {});
    ASSERT_FALSE(pool.try_submit(t));
  }
  sigs::task extra([] {});
  EXPECT_EQ(pool.try_submit(extra), sigs::errc::backpressure);
  (void)pool.healthy();
  advance(6s);
  const auto h = pool.healthy({.stuck_after = 60s});
  EXPECT_TRUE(has(h, sigs::health_issue::backlog));
  EXPECT_TRUE(has(h, sigs::health_issue::drops));
  g.release();
  pool.shutdown();
}

TEST(Health, ChecksFromSeveralThreadsAtOnce) {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters});
  sig.add_listener([](const int&) {});
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        sig.emit(i);
        EXPECT_TRUE(sig.healthy());
      }
    });
  for (auto& t : ts) t.join();
}

}  // namespace
