// Metrics: the histogram's buckets and quantiles, every counter at every level, latencies
// injected through a test clock, the global switch, and the registry of named signals and
// pools (names, merging, the name limit, concurrent register / unregister / collect).
#include <gtest/gtest.h>

#include <sigs/sigs.hpp>
#include <sigs/metrics.hpp>
#include <testing/fake_clock.hpp>
#include <testing/spin_gate.hpp>

#include <stdexcept>
#include <stop_token>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

// The test clock: listeners advance it by the latency they are to show.
using sigs::testing::fake_clock_scope;
using sigs::testing::fake_now;
using gate = sigs::testing::spin_gate;

const sigs::signal_metrics* find_signal(const sigs::metrics_snapshot&& s, const std::string& name) = delete;
const sigs::signal_metrics* find_signal(const sigs::metrics_snapshot& s, const std::string& name) {
  // A pointer into `s`: keep the snapshot alive while using it.
  for (const auto& m : s.by_signal)
    if (m.name == name) return &m;
  return nullptr;
}

const sigs::listener_metrics* find_listener(const sigs::signal_metrics& s, const std::string& key) {
  for (const auto& l : s.by_listener)
    if (l.key == key) return &l;
  return nullptr;
}

sigs::sync_options named(const std::string& name, sigs::metrics_level level, std::uint32_t every = 64) {
  sigs::sync_options o;
  o.metrics = level;
  o.sample_every = every;
  o.name = name;
  return o;
}

// ---- the histogram ---------------------------------------------------------------------

using hist = sigs::latency_histogram;

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
  EXPECT_EQ(hist::bucket_lower(0), 0u);
  for (std::size_t i = 0; i + 1 < hist::bucket_count; ++i) {
    ASSERT_LT(hist::bucket_lower(i), hist::bucket_upper(i)) << i;
    ASSERT_EQ(hist::bucket_upper(i), hist::bucket_lower(i + 1)) << i;
    ASSERT_EQ(hist::bucket_of(hist::bucket_lower(i)), i) << i;
    ASSERT_EQ(hist::bucket_of(hist::bucket_upper(i) - 1), i) << i;
  }
  EXPECT_EQ(hist::bucket_of(hist::top), hist::bucket_count - 1);
  EXPECT_EQ(hist::bucket_of(UINT64_MAX), hist::bucket_count - 1);
}

TEST(LatencyHistogram, EveryBucketIsAtMostAnEighthOfItsLowerBoundWide) {
  for (std::size_t i = hist::sub_count; i + 1 < hist::bucket_count; ++i) {
    const std::uint64_t lo = hist::bucket_lower(i);
    ASSERT_LE((hist::bucket_upper(i) - lo) * 8, lo) << i;
  }
}

hist from_values(const std::vector<std::uint64_t>& values) {
  hist h;
  for (std::uint64_t v : values) {
    h.buckets[hist::bucket_of(v)] += 1;
    h.sum_ns += v;
    h.min_ns = h.count == 0 ? v : std::min(h.min_ns, v);
    h.max_ns = std::max(h.max_ns, v);
    ++h.count;
  }
  return h;
}

TEST(LatencyHistogram, QuantilesAreWithinOneSixteenthOfTheExactValue) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 2.0);  // ns: from a few to millions
  std::vector<std::uint64_t> values(20'000);
  for (auto& v : values) v = static_cast<std::uint64_t>(dist(rng)) + 1;
  const hist h = from_values(values);
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    const double exact = static_cast<double>(values[std::max<std::size_t>(rank, 1) - 1]);
    const double got = static_cast<double>(h.quantile(q).count());
    EXPECT_LE(std::abs(got - exact), exact / 16 + 1) << "q=" << q << " exact=" << exact << " got=" << got;
  }
  EXPECT_EQ(h.quantile(0.0).count(), static_cast<std::int64_t>(values.front()));
  EXPECT_EQ(h.quantile(1.0).count(), static_cast<std::int64_t>(values.back()));  // clamped to max
}

TEST(LatencyHistogram, TheLastBucketHoldsEverythingPastTheTop) {
  EXPECT_EQ(hist::bucket_upper(hist::bucket_count - 1), UINT64_MAX);
  const hist h = from_values({1, hist::top * 2, hist::top * 3});
  EXPECT_EQ(h.buckets[hist::bucket_count - 1], 2u);
  EXPECT_EQ(h.quantile(0.5).count(), static_cast<std::int64_t>(hist::top)) << "the last bucket answers its lower bound";
  EXPECT_EQ(h.max_ns, hist::top * 3);
}

TEST(LatencyHistogram, AReadingWhoseBucketsLagItsCountAnswersTheMax) {
  hist h;  // as a reading taken while values arrive may be: counted, not yet in a bucket
  h.count = 4;
  h.min_ns = 10;
  h.max_ns = 90;
  h.buckets[hist::bucket_of(10)] = 1;
  EXPECT_EQ(h.quantile(0.75).count(), 90);
}

TEST(LatencyHistogram, EmptyReadsZeroAndMergeAddsUp) {
  hist empty;
  EXPECT_EQ(empty.p50().count(), 0);
  EXPECT_EQ(empty.mean().count(), 0);
  hist a = from_values({10, 20, 30});
  const hist b = from_values({5, 1000});
  a.merge(b);
  a.merge(empty);
  EXPECT_EQ(a.count, 5u);
  EXPECT_EQ(a.sum_ns, 1065u);
  EXPECT_EQ(a.min_ns, 5u);
  EXPECT_EQ(a.max_ns, 1000u);
  EXPECT_EQ(a.mean().count(), 213);
  hist c;
  c.merge(b);
  EXPECT_EQ(c.min_ns, 5u);
}

// ---- counters and latencies of one signal -----------------------------------------------

TEST(SignalMetrics, OffCountsOnlyFailuresAndListsNothingUnnamed) {
  sigs::sync_signal<int> sig;
  EXPECT_EQ(sig.metrics().level, sigs::metrics_level::off);
  sig.add_listener([](const int&) {});
  sig.emit(1);
  EXPECT_EQ(sig.stats().emits, 0u);
  EXPECT_EQ(sig.stats().listener_calls, 0u);
  for (const auto& s : sigs::collect_metrics().by_signal) EXPECT_NE(s.name, "");
}

TEST(SignalMetrics, CountersPerSignalPerKeyedListenerAndTheUnkeyedFold) {
  sigs::sync_signal<int> sig(named("metrics_test.counters", sigs::metrics_level::counters));
  sig.add_listener([](const int&) {}, "a");
  sig.add_listener(
      [](const int& v) -> std::error_code {
        return v % 2 ? sigs::make_error_code(sigs::errc::canceled) : std::error_code{};
      },
      "b");
  sig.add_listener([](const int&) {});
  sig.add_listener([](const int& v) {
    if (v == 3) throw std::runtime_error("three");
  });
  for (int i = 0; i < 4; ++i) sig.emit(i);

  const auto snap = sigs::collect_metrics();
  const auto* s = find_signal(snap, "metrics_test.counters");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->is_async);
  EXPECT_EQ(s->level, sigs::metrics_level::counters);
  EXPECT_EQ(s->stats.emits, 4u);
  EXPECT_EQ(s->stats.listener_calls, 16u);
  EXPECT_EQ(s->listeners, 4u);
  ASSERT_EQ(s->by_listener.size(), 3u);
  EXPECT_TRUE(s->by_listener.back().key.empty()) << "the unkeyed fold comes last";
  const auto* a = find_listener(*s, "a");
  const auto* b = find_listener(*s, "b");
  const auto* fold = find_listener(*s, "");
  ASSERT_TRUE(a && b && fold);
  EXPECT_EQ(a->calls, 4u);
  EXPECT_EQ(b->calls, 4u);
  EXPECT_EQ(b->errors, 2u);
  EXPECT_EQ(b->exceptions, 0u);
  EXPECT_EQ(fold->calls, 8u);
  EXPECT_EQ(fold->errors, 0u);
  EXPECT_EQ(fold->exceptions, 1u);
  EXPECT_EQ(s->latency.count, 0u) << "counters time nothing";
  EXPECT_EQ(sig.metadata("a")->call_count, 4u);
}

TEST(SignalMetrics, FullTimesEveryCallWithTheInjectedLatencies) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig(named("metrics_test.full", sigs::metrics_level::full));
  sig.add_listener([](const int& ns) { fake_now += static_cast<std::uint64_t>(ns); }, "slow");
  sig.add_listener([](const int&) { fake_now += 100; });
  for (int ns : {1000, 2000, 3000, 4000, 100'000}) sig.emit(ns);

  const auto snap = sigs::collect_metrics();
  const auto* s = find_signal(snap, "metrics_test.full");
  ASSERT_NE(s, nullptr);
  const auto* slow = find_listener(*s, "slow");
  const auto* fold = find_listener(*s, "");
  ASSERT_TRUE(slow && fold);
  EXPECT_EQ(slow->latency.count, 5u);
  EXPECT_EQ(slow->latency.sum_ns, 110'000u);
  EXPECT_EQ(slow->latency.min_ns, 1000u);
  EXPECT_EQ(slow->latency.max_ns, 100'000u);
  EXPECT_NEAR(static_cast<double>(slow->latency.p50().count()), 3000.0, 3000.0 / 16);
  EXPECT_EQ(slow->latency.p999().count(), 100'000);
  EXPECT_EQ(fold->latency.count, 5u);
  EXPECT_EQ(fold->latency.sum_ns, 500u);
  EXPECT_EQ(fold->latency.min_ns, 100u);
  EXPECT_EQ(fold->latency.max_ns, 100u);
  EXPECT_EQ(s->latency.count, 10u);
  EXPECT_EQ(s->latency.sum_ns, 110'500u);
}

TEST(SignalMetrics, SampledTimesOneCallInNPerThreadAndSetsLastCalledThen) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig(named("metrics_test.sampled", sigs::metrics_level::sampled, 4));
  sig.add_listener([](const int&) { fake_now += 50; }, "k");
  const auto before = std::chrono::system_clock::now();
  for (int i = 0; i < 100; ++i) sig.emit(i);
  const auto snap = sigs::collect_metrics();
  const auto* s = find_signal(snap, "metrics_test.sampled");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->by_listener.front().calls, 100u);
  EXPECT_EQ(s->by_listener.front().latency.count, 25u);
  EXPECT_EQ(s->by_listener.front().latency.sum_ns, 25u * 50);
  EXPECT_GE(sig.metadata("k")->last_called, before);
}

TEST(SignalMetrics, SwitchingLevelsAtRunTime) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig;
  sig.add_listener([](const int&) { fake_now += 10; }, "k");
  sig.add_listener([](const int&) {});
  sig.emit(0);
  sig.set_metrics(sigs::metrics_level::counters);
  sig.emit(0);
  sig.set_metrics(sigs::metrics_level::full);
  sig.emit(0);
  sig.set_metrics(false);
  sig.emit(0);
  sig.set_metrics(true);
  EXPECT_EQ(sig.metrics().level, sigs::metrics_on);
  EXPECT_EQ(sig.stats().emits, 2u);
  EXPECT_EQ(sig.stats().listener_calls, 4u);
  EXPECT_EQ(sig.metadata("k")->call_count, 2u);
}

TEST(SignalMetrics, TheGlobalSwitchStopsEverySignal) {
  sigs::sync_signal<int> sig(named("metrics_test.global", sigs::metrics_level::full));
  sig.add_listener([](const int&) {});
  sig.emit(0);
  sigs::set_metrics_enabled(false);
  EXPECT_FALSE(sigs::metrics_enabled());
  sig.emit(0);
  sigs::set_metrics_enabled(true);
  sig.emit(0);
  EXPECT_EQ(sig.stats().emits, 2u);
  EXPECT_EQ(sig.stats().listener_calls, 2u);
}

TEST(SignalMetrics, CountsAreExactWithMoreThreadsThanExclusiveSlots) {
  sigs::sync_signal<int> sig(named("metrics_test.threads", sigs::metrics_level::counters));
  sig.add_listener([](const int&) {}, "k");
  sig.add_listener([](const int&) {});
  constexpr int threads = 6;
  constexpr int per_thread = 20'000;
  // Two waves: the second wave's threads take the slots the first gave back at exit, and
  // continue their counts.
  for (int wave = 0; wave < 2; ++wave) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) sig.emit(i);
      });
    for (auto& t : ts) t.join();
  }
  const auto snap = sigs::collect_metrics();
  const auto* s = find_signal(snap, "metrics_test.threads");
  ASSERT_NE(s, nullptr);
  const std::uint64_t emits = 2 * std::uint64_t{threads} * per_thread;
  EXPECT_EQ(s->stats.emits, emits);
  EXPECT_EQ(s->stats.listener_calls, 2 * emits);
  EXPECT_EQ(find_listener(*s, "k")->calls, emits);
  EXPECT_EQ(find_listener(*s, "")->calls, emits);
}

TEST(SignalMetrics, AsyncSignalsCountCallsAndListTheirDeliveries) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 2, .queue_capacity = 64, .name = "metrics_test.pool"});
  sigs::async_options o;
  o.pool = &pool;
  o.metrics = sigs::metrics_level::full;
  o.name = "metrics_test.async";
  sigs::async_signal<int> sig(o);
  sig.add_listener([](const int&) {}, "k");
  sig.add_listener([](const int&) {});
  for (int i = 0; i < 50; ++i) sig.emit(i);
  sig.drain();
  const auto snap = sigs::collect_metrics();
  const auto* s = find_signal(snap, "metrics_test.async");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->is_async);
  EXPECT_EQ(s->stats.emits, 50u);
  EXPECT_EQ(s->stats.delivered, 100u);
  EXPECT_EQ(find_listener(*s, "k")->calls, 50u);
  EXPECT_EQ(find_listener(*s, "")->calls, 50u);
  EXPECT_EQ(s->latency.count, 100u);
  auto p = std::find_if(snap.by_pool.begin(), snap.by_pool.end(),
                        [](const sigs::pool_metrics& m) { return m.name == "metrics_test.pool"; });
  ASSERT_NE(p, snap.by_pool.end());
  EXPECT_EQ(p->stats.threads, 2u);
  EXPECT_EQ(p->stats.queue_capacity, 64u);
  EXPECT_GE(p->stats.completed, 1u);
}

TEST(SignalMetrics, AsyncDropsAreCountedByReasonAndSumToDropped) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 2});
  sigs::async_options o;
  o.pool = &pool;
  o.overflow = sigs::overflow_policy::reject;
  sigs::async_signal<int> sig(o);
  gate g;
  sig.add_listener([&](const int&) { g.wait(); });
  sig.add_listener([](const int&) {});
  for (int i = 0; i < 10; ++i) sig.emit(i);  // the queue fills: the rest dropped for backpressure
  std::stop_source stop;
  stop.request_stop();
  sig.emit(sigs::context(stop.get_token()), 1);                                                       // canceled
  sig.emit(sigs::context().with_deadline(sigs::context::clock::now() - std::chrono::seconds(1)), 2);  // deadline
  g.release();
  ASSERT_FALSE(sig.drain());
  pool.shutdown();
  sig.emit(3);  // pool stopped
  const sigs::signal_metrics m = sig.metrics();
  const auto by = [&](sigs::drop_reason r) { return m.dropped_by[static_cast<std::size_t>(r)]; };
  EXPECT_GT(by(sigs::drop_reason::backpressure), 0u);
  EXPECT_EQ(by(sigs::drop_reason::backpressure) % 2, 0u) << "both listeners of each refused emission";
  EXPECT_EQ(by(sigs::drop_reason::canceled), 2u);
  EXPECT_EQ(by(sigs::drop_reason::deadline), 2u);
  EXPECT_EQ(by(sigs::drop_reason::pool_stopped), 2u);
  std::uint64_t sum = 0;
  for (std::uint64_t n : m.dropped_by) sum += n;
  EXPECT_EQ(sum, m.stats.dropped);
  EXPECT_TRUE(m.is_async);
}

TEST(SignalMetrics, AsyncQueueWaitRunsFromTheEmitToTheListenersStart) {
  fake_clock_scope clock;
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8});
  gate g;
  std::atomic<bool> blocked{false};
  sigs::task hold([&] {
    blocked = true;
    g.wait();
  });
  ASSERT_FALSE(pool.submit(hold));
  while (!blocked.load()) std::this_thread::yield();
  sigs::async_options o;
  o.pool = &pool;
  o.metrics = sigs::metrics_level::full;
  sigs::async_signal<int> sig(o);
  sig.add_listener([](const int&) { fake_now += 300; });
  sig.add_listener([](const int&) {});
  sig.emit(1);       // stamped at t
  fake_now += 5000;  // waits in the queue
  g.release();
  ASSERT_FALSE(sig.drain());
  const sigs::signal_metrics m = sig.metrics();
  ASSERT_EQ(m.queue_wait.count, 2u) << "one per listener start";
  EXPECT_EQ(m.queue_wait.min_ns, 5000u);
  EXPECT_EQ(m.queue_wait.max_ns, 5300u) << "the second listener also waited for the first";
  EXPECT_EQ(m.latency.count, 2u);
  EXPECT_EQ(m.latency.max_ns, 300u);
}

TEST(SignalMetrics, AReadingWithMetricsNeverOnListsTheKeyedListenersAtZero) {
  sigs::sync_signal<int> sig;
  sig.add_listener([](const int&) {}, "k");
  sig.add_listener([](const int&) {});
  sig.add_once([](const int&) {});
  sig.emit(1);  // the once-listener fired: dead, still in the snapshot until the next write
  const sigs::signal_metrics m = sig.metrics();
  EXPECT_EQ(m.level, sigs::metrics_level::off);
  EXPECT_EQ(m.listeners, 2u);
  ASSERT_EQ(m.by_listener.size(), 2u);
  EXPECT_EQ(m.by_listener[0].key, "k");
  EXPECT_EQ(m.by_listener[0].calls, 0u);
  EXPECT_EQ(m.by_listener[1].calls, 0u);
}

std::uint64_t zero_clock() noexcept { return 0; }

TEST(SignalMetrics, AsyncEmissionsAreStampedOnlyWhenTimed) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 64});
  sigs::async_options o;
  o.pool = &pool;
  o.metrics = sigs::metrics_level::counters;
  sigs::async_signal<int> sig(o);
  sig.add_listener([](const int&) {});
  sig.emit(1);
  ASSERT_FALSE(sig.drain());
  EXPECT_EQ(sig.metrics().queue_wait.count, 0u) << "counters time nothing";
  sig.set_metrics(sigs::metrics_level::sampled);  // sample_every 64: the first of each 64
  for (int i = 0; i < 128; ++i) sig.emit(i);
  ASSERT_FALSE(sig.drain());
  EXPECT_GE(sig.metrics().queue_wait.count, 1u);
  EXPECT_LE(sig.metrics().queue_wait.count, 4u);
  // A clock that reads 0 still stamps: 0 means "not timed".
  sigs::set_metrics_clock(&zero_clock);
  sig.set_metrics(sigs::metrics_level::full);
  const std::uint64_t before = sig.metrics().queue_wait.count;
  sig.emit(2);
  ASSERT_FALSE(sig.drain());
  sigs::set_metrics_clock(nullptr);
  EXPECT_EQ(sig.metrics().queue_wait.count, before + 1);
}

TEST(SignalMetrics, AnEmissionStampedBeforeMetricsWentOffRecordsNoWait) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8});
  gate g;
  std::atomic<bool> blocked{false};
  sigs::task hold([&] {
    blocked = true;
    g.wait();
  });
  ASSERT_FALSE(pool.submit(hold));
  while (!blocked.load()) std::this_thread::yield();
  sigs::async_options o;
  o.pool = &pool;
  o.metrics = sigs::metrics_level::full;
  sigs::async_signal<int> sig(o);
  sig.add_listener([](const int&) {});
  sig.emit(1);  // stamped
  sig.set_metrics(sigs::metrics_level::off);
  g.release();
  ASSERT_FALSE(sig.drain());
  EXPECT_EQ(sig.metrics().queue_wait.count, 0u);
  EXPECT_EQ(sig.stats().delivered, 1u);
}

TEST(SignalMetrics, AnAsyncReadingWithMetricsNeverOnAndAFiredOnceListener) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8});
  sigs::async_options o;
  o.pool = &pool;
  sigs::async_signal<int> sig(o);
  sig.add_listener([](const int&) {}, "k");
  sig.add_once([](const int&) {});
  sig.emit(1);
  ASSERT_FALSE(sig.drain());
  const sigs::signal_metrics m = sig.metrics();
  EXPECT_TRUE(m.name.empty());
  ASSERT_EQ(m.by_listener.size(), 2u);
  EXPECT_EQ(m.by_listener[0].key, "k");
  EXPECT_EQ(m.by_listener[0].calls, 0u) << "metrics off: no calls counted";
  EXPECT_EQ(m.stats.delivered, 2u);
}

TEST(SignalMetrics, ANamedSignalReadsItsNameAndAZeroPeriodSamplesEveryCall) {
  fake_clock_scope clock;
  sigs::sync_signal<int> sig(named("metrics_test.zero_period", sigs::metrics_level::sampled, 0));
  sig.add_listener([](const int&) { fake_now += 7; }, "k");
  for (int i = 0; i < 10; ++i) sig.emit(i);
  const sigs::signal_metrics m = sig.metrics();
  EXPECT_EQ(m.name, "metrics_test.zero_period");
  EXPECT_EQ(m.by_listener.front().latency.count, 10u);
  EXPECT_EQ(m.by_listener.front().latency.min_ns, 7u);
}

TEST(SignalMetrics, EveryKindOfEmitIsCountedAndTimedWithMetricsOn) {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::full});
  sig.add_listener(
      [](const int& v) -> std::error_code {
        return v == 1 ? sigs::make_error_code(sigs::errc::listener_error) : std::error_code{};
      },
      "e");
  sig.add_listener([](const int& v) {
    if (v == 2) throw std::runtime_error("two");
  });
  std::stop_source stopped;
  stopped.request_stop();
  std::stop_source live;
  EXPECT_FALSE(sig.try_emit(0).error);                                                         // 2 calls
  EXPECT_EQ(sig.try_emit(1).error, sigs::errc::listener_error);                                // 1: stops at "e"
  EXPECT_EQ(sig.try_emit(2).error, sigs::errc::listener_exception);                            // 2
  EXPECT_EQ(sig.try_emit(sigs::context(stopped.get_token()), 0).error, sigs::errc::canceled);  // 0
  sig.emit(sigs::context(stopped.get_token()), 0);                                             // 0
  sig.emit(1);                                                                                 // 2
  sig.emit(2);                                                                                 // 2
  sig.emit(sigs::context(live.get_token()), 0);                                                // 2
  EXPECT_FALSE(sig.try_emit(sigs::context(live.get_token()), 0).error);                        // 2
  const sigs::signal_metrics m = sig.metrics();
  EXPECT_EQ(m.stats.emits, 9u);
  EXPECT_EQ(m.stats.listener_calls, 13u);
  EXPECT_EQ(m.stats.canceled, 2u);
  EXPECT_EQ(m.stats.errors, 2u);
  EXPECT_EQ(m.stats.exceptions, 2u);
  const auto* e = find_listener(m, "e");
  const auto* fold = find_listener(m, "");
  ASSERT_TRUE(e && fold);
  EXPECT_EQ(e->calls, 7u);
  EXPECT_EQ(e->errors, 2u);
  EXPECT_EQ(fold->calls, 6u);
  EXPECT_EQ(fold->exceptions, 2u);
  EXPECT_EQ(m.latency.count, 13u) << "every call timed, failed or not";
}

TEST(SignalMetrics, AnUnnamedSignalIsReadableFromCpp) {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters});
  sig.add_listener([](const int&) {}, "k");
  sig.emit(1);
  const sigs::signal_metrics m = sig.metrics();
  EXPECT_TRUE(m.name.empty());
  EXPECT_EQ(m.stats.emits, 1u);
  EXPECT_EQ(m.by_listener.front().calls, 1u);
}

// ---- the registry -----------------------------------------------------------------------

TEST(MetricsRegistry, ASignalIsListedWhileItLivesAndSameNamesMerge) {
  {
    sigs::sync_signal<int> one(named("metrics_test.twin", sigs::metrics_level::counters));
    sigs::sync_signal<int> two(named("metrics_test.twin", sigs::metrics_level::counters));
    one.add_listener([](const int&) {}, "k");
    two.add_listener([](const int&) {}, "k");
    two.add_listener([](const int&) {}, "only_two");
    one.emit(1);
    two.emit(1);
    two.emit(2);
    const auto snap = sigs::collect_metrics();
    const auto* s = find_signal(snap, "metrics_test.twin");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->instances, 2u);
    EXPECT_EQ(s->stats.emits, 3u);
    EXPECT_EQ(s->listeners, 3u);
    EXPECT_EQ(find_listener(*s, "k")->calls, 3u);
    EXPECT_EQ(find_listener(*s, "only_two")->calls, 2u);
    EXPECT_TRUE(s->by_listener.back().key.empty());
    EXPECT_EQ(std::count_if(snap.by_signal.begin(), snap.by_signal.end(),
                            [](const auto& m) { return m.name == "metrics_test.twin"; }),
              1);
  }
  const auto after = sigs::collect_metrics();
  EXPECT_EQ(find_signal(after, "metrics_test.twin"), nullptr);
}

TEST(MetricsRegistry, ASyncAndAnAsyncSignalOfOneNameFormOneAsyncSeries) {
  sigs::sync_signal<int> s(named("metrics_test.mixed", sigs::metrics_level::counters));
  sigs::async_options o;
  o.name = "metrics_test.mixed";
  sigs::async_signal<int> a(o);
  sigs::sync_signal<int> t(named("metrics_test.mixed", sigs::metrics_level::counters));
  const auto snap = sigs::collect_metrics();
  const auto* m = find_signal(snap, "metrics_test.mixed");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->is_async);
  EXPECT_EQ(m->instances, 3u);
  EXPECT_EQ(m->level, sigs::metrics_level::counters);
}

TEST(MetricsRegistry, PoolsOfOneNameFormOneSeries) {
  sigs::worker_pool a(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8, .name = "metrics_test.pools"});
  sigs::worker_pool b(sigs::worker_pool_options{.threads = 2, .queue_capacity = 16, .name = "metrics_test.pools"});
  std::atomic<int> ran{0};
  for (sigs::worker_pool* p : {&a, &b}) {
    sigs::task t([&] { ++ran; });
    ASSERT_FALSE(p->submit(t));
  }
  while (ran.load() < 2) std::this_thread::yield();
  a.shutdown();
  b.shutdown();
  const auto snap = sigs::collect_metrics();
  auto p = std::find_if(snap.by_pool.begin(), snap.by_pool.end(),
                        [](const sigs::pool_metrics& m) { return m.name == "metrics_test.pools"; });
  ASSERT_NE(p, snap.by_pool.end());
  EXPECT_EQ(p->instances, 2u);
  EXPECT_EQ(p->stats.threads, 3u);
  EXPECT_EQ(p->stats.queue_capacity, 24u);
  EXPECT_EQ(p->stats.submitted, 2u);
  EXPECT_EQ(p->stats.completed, 2u);
  EXPECT_EQ(p->stats.busy_time, a.stats().busy_time + b.stats().busy_time);
}

struct name_limit_scope {
  explicit name_limit_scope(std::size_t n) { sigs::set_metrics_name_limit(n); }
  ~name_limit_scope() { sigs::set_metrics_name_limit(sigs::default_name_limit); }
  name_limit_scope(const name_limit_scope&) = delete;
  name_limit_scope& operator=(const name_limit_scope&) = delete;
};

TEST(MetricsRegistry, NamesPastTheLimitFoldIntoOneOverflowSeries) {
  const std::uint64_t folded_before = sigs::collect_metrics().folded;
  const std::size_t listed_now = sigs::collect_metrics().by_signal.size() + sigs::collect_metrics().by_pool.size();
  name_limit_scope limit(listed_now + 2);
  sigs::sync_signal<int> a(named("metrics_test.limit.a", sigs::metrics_level::counters));
  sigs::sync_signal<int> b(named("metrics_test.limit.b", sigs::metrics_level::counters));
  sigs::sync_signal<int> again(named("metrics_test.limit.a", sigs::metrics_level::counters));  // a listed name
  sigs::sync_signal<int> c(named("metrics_test.limit.c", sigs::metrics_level::counters));
  sigs::sync_signal<int> d(named("metrics_test.limit.d", sigs::metrics_level::counters));
  c.emit(1);
  d.emit(1);
  d.emit(2);
  const auto snap = sigs::collect_metrics();
  EXPECT_EQ(snap.name_limit, listed_now + 2);
  EXPECT_EQ(snap.folded - folded_before, 2u);
  EXPECT_NE(find_signal(snap, "metrics_test.limit.a"), nullptr);
  EXPECT_EQ(find_signal(snap, "metrics_test.limit.a")->instances, 2u);
  EXPECT_NE(find_signal(snap, "metrics_test.limit.b"), nullptr);
  EXPECT_EQ(find_signal(snap, "metrics_test.limit.c"), nullptr);
  const auto* over = find_signal(snap, sigs::overflow_name);
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->instances, 2u);
  EXPECT_EQ(over->stats.emits, 3u);
}

struct counting_collector : sigs::metrics_collector {
  std::size_t calls = 0;
  std::size_t seen = 0;
  void collect(const sigs::metrics_snapshot& s) override {
    ++calls;
    seen = s.by_signal.size();
    // No registry lock is held: a collector may create and destroy named signals.
    sigs::sync_signal<int> inside(named("metrics_test.inside_collector", sigs::metrics_level::off));
  }
};

TEST(MetricsRegistry, ACollectorGetsTheSnapshotWithNoLockHeld) {
  sigs::sync_signal<int> sig(named("metrics_test.collector", sigs::metrics_level::counters));
  counting_collector c;
  sigs::collect_metrics(c);
  EXPECT_EQ(c.calls, 1u);
  EXPECT_GE(c.seen, 1u);
}

TEST(MetricsRegistry, RegisterUnregisterEmitAndCollectAtOnce) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> collections{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([&, t] {
      int round = 0;
      while (!stop.load()) {
        sigs::sync_signal<int> sig(named("metrics_test.churn." + std::to_string(t) + "." + std::to_string(round++ % 3),
                                         sigs::metrics_level::full));
        sig.add_listener([](const int&) {}, "k");
        sig.add_listener([](const int&) {});
        for (int i = 0; i < 10; ++i) sig.emit(i);
      }
    });
  ts.emplace_back([&] {
    while (!stop.load()) {
      for (const auto& s : sigs::collect_metrics().by_signal) {
        if (s.name.rfind("metrics_test.churn.", 0) != 0) continue;
        // Listed from construction, so it may be read before its listeners are added.
        EXPECT_LE(s.listeners, 2u * s.instances);
        EXPECT_LE(s.stats.listener_calls, 2 * s.stats.emits);
      }
      ++collections;
    }
  });
  while (collections.load() < 200) std::this_thread::yield();
  stop = true;
  for (auto& t : ts) t.join();
  for (const auto& s : sigs::collect_metrics().by_signal) EXPECT_NE(s.name.rfind("metrics_test.churn.", 0), 0u);
}

TEST(PoolMetrics, BusyAndIdleTimeCoverTheWorkersLifetimes) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1, .queue_capacity = 8});
  std::atomic<bool> done{false};
  sigs::task t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    done = true;
  });
  ASSERT_FALSE(pool.submit(t));
  while (!done.load()) std::this_thread::yield();
  pool.shutdown();
  const auto s = pool.stats();
  EXPECT_GE(s.busy_time, std::chrono::milliseconds(5));
  const auto after = pool.stats();
  EXPECT_EQ(after.busy_time, s.busy_time) << "a stopped pool's times are final";
  EXPECT_EQ(after.idle_time, s.idle_time);
}

}  // namespace
