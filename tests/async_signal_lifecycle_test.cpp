// Tests of sigs::async_signal at the edges of its lifetime and of its capacity: a
// destructor that runs on a worker of its own pool, a discarding shutdown called from a
// task, queue_capacity under caller_runs and block, and the block policy's wait for room.
//
// Every wait that a regression could turn into a hang runs under a watchdog
// (testing/watchdog.hpp), which aborts the test instead of hanging the lane. No assertion
// measures time.
#include <sigs/sigs.hpp>

#include <testing/pool_options.hpp>
#include <testing/thread_state.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <latch>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
using sigs::async_signal;
using sigs::errc;
using sigs::overflow_policy;
using sigs::shutdown_mode;
using sigs::testing::on;
using sigs::testing::watchdog;
using task = sigs::worker_pool::task;

constexpr auto hang_limit = 10s;

/// Parks whoever calls block() until open().
struct hold {
  std::atomic<int> entered{0};
  std::latch released{1};
  void block() {
    entered.fetch_add(1);
    released.wait();
  }
  void wait_entered(int n) const {
    while (entered.load() < n) std::this_thread::yield();
  }
  void open() { released.count_down(); }
};

/// An int payload takes the solo path, a long string the envelope path: each test runs both.
template <class T>
T make(int v) {
  if constexpr (std::is_same_v<T, int>) {
    return v;
  } else {
    return std::string(32, 'p') + std::to_string(v);  // beyond the small-string buffer
  }
}

template <class T>
class AsyncLifecycle : public ::testing::Test {};
template <class T>
class AsyncCapacity : public ::testing::Test {};

using Payloads = ::testing::Types<int, std::string>;
TYPED_TEST_SUITE(AsyncLifecycle, Payloads);
TYPED_TEST_SUITE(AsyncCapacity, Payloads);

void expect_balanced(const sigs::worker_pool_stats& s) {
  EXPECT_EQ(s.submitted, s.completed + s.dropped);
  EXPECT_EQ(s.queue_depth, 0u);
}

// ------------------------------------------------------------- destruction on a worker

// A task on a one-thread pool destroys a signal whose emissions are
// queued behind that task. Waiting as drain() does would wait for ever (the only worker is
// the one waiting); the destructor runs them here instead.
TYPED_TEST(AsyncLifecycle, DestructorOnItsPoolsOnlyWorkerRunsTheEmissionsQueuedBehindIt) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  auto sig = std::make_unique<async_signal<T>>(on(pool));
  std::atomic<int> calls{0};
  sig->add_listener([&](const T&) { calls++; });
  sig->add_listener([&](const T&) { calls++; });

  hold parked;
  task park = [&] { parked.block(); };
  ASSERT_FALSE(pool.try_submit(park));
  parked.wait_entered(1);
  std::latch destroyed(1);
  int calls_when_destroyed = -1;
  task destroy = [&] {
    sig.reset();  // emissions 0..4 are queued behind this very task
    calls_when_destroyed = calls.load();
    destroyed.count_down();
  };
  ASSERT_FALSE(pool.try_submit(destroy));
  for (int i = 0; i < 5; ++i) sig->emit(make<T>(i));
  parked.open();
  {
    watchdog dog(hang_limit, "~async_signal on the pool's only worker, emissions queued behind it");
    destroyed.wait();
  }
  EXPECT_EQ(calls_when_destroyed, 10);  // every listener call happened before it returned
  EXPECT_FALSE(pool.shutdown());
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 7u);  // park, destroy, and the five emissions it ran
  EXPECT_EQ(s.dropped, 0u);
  expect_balanced(s);
}

// The pool starts discarding while the destructor is helping: the joiner waits for this
// worker, this worker waits for the queued emissions. The destructor discards what it takes
// from then on (counted dropped, as the pool would), and ends.
TYPED_TEST(AsyncLifecycle, DestructorOnAWorkerEndsWhenThePoolDiscardsMeanwhile) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  auto sig = std::make_unique<async_signal<T>>(on(pool));
  std::atomic<int> calls{0};
  std::latch helping(1);
  std::latch discard_began(1);
  sig->add_listener([&](const T& v) {
    if (v == make<T>(0)) {  // run by the helping destructor
      helping.count_down();
      discard_began.wait();
    }
    calls++;
  });

  hold parked;
  task park = [&] { parked.block(); };
  ASSERT_FALSE(pool.try_submit(park));
  parked.wait_entered(1);
  task destroy = [&] { sig.reset(); };
  ASSERT_FALSE(pool.try_submit(destroy));
  for (int i = 0; i < 5; ++i) sig->emit(make<T>(i));
  parked.open();
  watchdog dog(hang_limit, "~async_signal on a worker while another thread discards and joins");
  helping.wait();  // the destructor runs emission 0; 1..4 are still queued
  std::thread stopper([&] { EXPECT_FALSE(pool.shutdown(shutdown_mode::discard)); });
  while (!pool.stopped()) std::this_thread::yield();
  discard_began.count_down();
  stopper.join();
  EXPECT_EQ(sig, nullptr);
  EXPECT_EQ(calls.load(), 1);  // emission 0 ran; 1..4 were discarded by the destructor
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 3u);  // park, destroy, emission 0
  EXPECT_EQ(s.dropped, 4u);
  expect_balanced(s);
}

// --------------------------------------------------- a discarding shutdown from a task

// shutdown(discard) from a task used to leave the queued emissions in the queue until the
// pool was joined, so a signal destroyed before that join, here from the main thread, waited
// for ever. The discard now happens before shutdown() returns.
TYPED_TEST(AsyncLifecycle, SignalDestroyedAfterADiscardFromATaskDoesNotWaitForTheJoin) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  auto sig = std::make_unique<async_signal<T>>(on(pool));
  std::atomic<int> calls{0};
  sig->add_listener([&](const T&) { calls++; });
  sig->add_listener([&](const T&) { calls++; });

  std::latch queued(1);
  std::latch stopped(1);
  std::error_code from_task;
  task stop = [&] {
    queued.wait();
    from_task = pool.shutdown(shutdown_mode::discard);
    stopped.count_down();
  };
  ASSERT_FALSE(pool.try_submit(stop));
  for (int i = 0; i < 5; ++i) sig->emit(make<T>(i));
  queued.count_down();
  stopped.wait();
  EXPECT_EQ(from_task, errc::would_deadlock);
  EXPECT_EQ(pool.stats().dropped, 5u);  // before anyone joined the pool
  {
    watchdog dog(hang_limit, "~async_signal after shutdown(discard) from a task, pool not joined");
    const auto st = sig->stats();
    EXPECT_EQ(st.dropped, 10u);
    EXPECT_EQ(st.in_flight, 0u);
    sig.reset();
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_FALSE(pool.shutdown());
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 1u);
  EXPECT_EQ(s.dropped, 5u);
  expect_balanced(s);
}

// The same, with the signal destroyed by the task that discarded.
TYPED_TEST(AsyncLifecycle, SignalDestroyedByTheTaskThatDiscardedEnds) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  auto sig = std::make_unique<async_signal<T>>(on(pool));
  std::atomic<int> calls{0};
  sig->add_listener([&](const T&) { calls++; });

  std::latch queued(1);
  std::latch done(1);
  task stop = [&] {
    queued.wait();
    EXPECT_EQ(pool.shutdown(shutdown_mode::discard), errc::would_deadlock);
    sig.reset();
    done.count_down();
  };
  ASSERT_FALSE(pool.try_submit(stop));
  for (int i = 0; i < 3; ++i) sig->emit(make<T>(i));
  queued.count_down();
  {
    watchdog dog(hang_limit, "~async_signal in the task that called shutdown(discard)");
    done.wait();
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_FALSE(pool.shutdown());
  const auto s = pool.stats();
  EXPECT_EQ(s.dropped, 3u);
  expect_balanced(s);
}

// ----------------------------------------------------------------- queue_capacity

// The documented bound (async_options::queue_capacity, docs/decisions.md): at most
// queue_capacity emissions of the signal are queued on or running on the pool. With more
// workers than the capacity and several emitters, the listeners running on workers at once
// never exceed it, while caller_runs runs the overflow on the emitters.
TYPED_TEST(AsyncCapacity, CallerRunsKeepsThePoolsShareWithinTheCapacityUnderConcurrentEmitters) {
  using T = TypeParam;
  constexpr std::size_t capacity = 2;
  constexpr int emitters = 4;
  constexpr int per_emitter = 300;
  sigs::worker_pool pool({.threads = 4, .queue_capacity = 256});
  async_signal<T> sig(on(pool, overflow_policy::caller_runs, capacity));
  std::atomic<int> on_pool{0};
  std::atomic<int> most_on_pool{0};
  std::atomic<int> ran_on_pool{0};
  std::atomic<int> ran_on_caller{0};
  sig.add_listener([&](const T&) {
    if (!pool.on_worker_thread()) {
      ran_on_caller++;
      return;
    }
    const int now = ++on_pool;
    int most = most_on_pool.load();
    while (now > most && !most_on_pool.compare_exchange_weak(most, now)) {}
    for (int i = 0; i < 20; ++i) std::this_thread::yield();  // long enough to overlap
    --on_pool;
    ran_on_pool++;
  });
  {
    watchdog dog(hang_limit, "concurrent caller_runs emitters and drain()");
    std::vector<std::thread> threads;
    for (int e = 0; e < emitters; ++e) {
      threads.emplace_back([&] {
        for (int i = 0; i < per_emitter; ++i) sig.emit(make<T>(i));
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_FALSE(sig.drain());
  }
  EXPECT_LE(most_on_pool.load(), static_cast<int>(capacity));
  EXPECT_GT(ran_on_pool.load(), 0);
  EXPECT_GT(ran_on_caller.load(), 0);
  const auto s = sig.stats();
  EXPECT_EQ(s.delivered, static_cast<std::uint64_t>(emitters * per_emitter));
  EXPECT_EQ(ran_on_pool.load() + ran_on_caller.load(), emitters * per_emitter);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

// An emission that caller_runs runs on its emitter is in flight (stats, drain) but holds no
// place of the capacity: while it runs, a place the pool frees goes to the next emission,
// which is queued, not run on its emitter too.
TYPED_TEST(AsyncCapacity, AnEmissionRunOnItsEmitterHoldsNoPlaceOfTheCapacity) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::caller_runs, 1));
  hold on_worker;
  hold on_emitter;
  std::atomic<bool> two_on_pool{false};
  sig.add_listener([&](const T& v) {
    if (v == make<T>(0)) on_worker.block();
    if (v == make<T>(1)) on_emitter.block();
    if (v == make<T>(2)) two_on_pool = pool.on_worker_thread();
  });
  watchdog dog(hang_limit, "emissions parked on a worker and on an emitter");
  sig.emit(make<T>(0));  // takes the one place, parks a worker
  on_worker.wait_entered(1);
  std::thread emitter([&] { sig.emit(make<T>(1)); });  // capacity reached: runs there
  on_emitter.wait_entered(1);
  EXPECT_EQ(sig.stats().in_flight, 2u);  // both in flight; only one on the pool
  on_worker.open();
  while (sig.stats().in_flight != 1) std::this_thread::yield();  // emission 0 is done
  sig.emit(make<T>(2));  // the pool's place is free again, although emission 1 still runs
  on_emitter.open();
  emitter.join();
  EXPECT_FALSE(sig.drain());
  EXPECT_TRUE(two_on_pool.load());
  const auto s = sig.stats();
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.in_flight, 0u);
}

// block on one of the pool's own workers with the capacity reached cannot wait (it could
// wait for itself); it used to queue the emission anyway, beyond the capacity. It runs it
// on the calling worker now, before emit() returns, as caller_runs would.
TYPED_TEST(AsyncCapacity, BlockOnAWorkerAtTheCapacityRunsInlineInsteadOfQueueingBeyondIt) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  std::atomic<int> ones{0};
  bool inline_run = false;  // the pool's one worker only; read after drain()
  sig.add_listener([&](const T& v) {
    if (v == make<T>(1)) {
      ones++;
      return;
    }
    sig.emit(make<T>(1));  // emission 0 holds the only place
    inline_run = ones.load() == 1;
  });
  sig.emit(make<T>(0));
  {
    watchdog dog(hang_limit, "drain() after a blocking emit on a worker at the capacity");
    EXPECT_FALSE(sig.drain());
  }
  EXPECT_TRUE(inline_run);
  EXPECT_EQ(ones.load(), 1);
  EXPECT_EQ(pool.stats().submitted, 1u);  // only emission 0 was queued
  EXPECT_EQ(sig.stats().delivered, 2u);
}

// ----------------------------------------------------------- block: the wait for room

#if defined(__linux__)
/// The voluntary context switches of thread `tid` of this process so far, or nullopt.
std::optional<long> voluntary_switches(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
  }
  return std::nullopt;
}

using sigs::testing::thread_state;
#endif

// An emitter blocked at queue_capacity sleeps in the kernel until an emission finishes,
// instead of waking every 50 us to look (as it used to): while nothing finishes, it does
// not wake up at all. Counted through the kernel's count of its voluntary context switches
// (each sleep is one); the emitter is then woken by the finish, not by a timer.
TYPED_TEST(AsyncCapacity, BlockWaitsAsleepUntilAnEmissionFinishes) {
#if !defined(__linux__)
  GTEST_SKIP() << "reads /proc";
#else
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  hold h;
  std::atomic<int> calls{0};
  sig.add_listener([&](const T& v) {
    if (v == make<T>(0)) h.block();
    calls++;
  });
  sig.emit(make<T>(0));
  h.wait_entered(1);
  std::atomic<long> tid{0};
  std::atomic<bool> returned{false};
  watchdog dog(hang_limit, "an emitter blocked at queue_capacity to be woken by the finish");
  std::thread emitter([&] {
    tid = sigs::testing::this_tid();
    sig.emit(make<T>(1));
    returned = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  const long t = tid.load();
  if (!voluntary_switches(t)) {
    h.open();
    emitter.join();
    GTEST_SKIP() << "no /proc/self/task/<tid>/status here";
  }
  // Asleep, past its few yields: two looks at 'S' some time apart.
  for (int asleep = 0; asleep < 2;) {
    std::this_thread::sleep_for(5ms);
    asleep = thread_state(t) == 'S' ? asleep + 1 : 0;
  }
  const long before = *voluntary_switches(t);
  std::this_thread::sleep_for(100ms);  // a 50 us poll would wake up hundreds of times here
  const long after = *voluntary_switches(t);
  EXPECT_FALSE(returned.load());
  EXPECT_LE(after - before, 3) << "the blocked emitter kept waking up";
  h.open();  // emission 0 finishes: its count-out must wake the emitter
  emitter.join();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(sig.stats().dropped, 0u);
#endif
}

// A stop request wakes an emitter asleep at queue_capacity (the waiter holds a stop
// callback), and a deadline ends its wait; each emission is dropped and counted.
TYPED_TEST(AsyncCapacity, BlockWaitEndsOnAStopRequestOrTheDeadline) {
  using T = TypeParam;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  hold h;
  std::atomic<int> calls{0};
  sig.add_listener([&](const T& v) {
    if (v == make<T>(0)) h.block();
    calls++;
  });
  sig.emit(make<T>(0));
  h.wait_entered(1);
  watchdog dog(hang_limit, "a blocked emit to end on its context");
  std::stop_source stop;
  std::atomic<bool> returned{false};
  std::thread emitter([&] {
    const auto c = sig.emit_tracked(sigs::context(stop.get_token()), make<T>(1));
    EXPECT_EQ(c.error(), errc::canceled);
    returned = true;
  });
  std::this_thread::sleep_for(20ms);  // most likely asleep by now; correct either way
  EXPECT_FALSE(returned.load());
  stop.request_stop();
  emitter.join();
  const auto c = sig.emit_tracked(sigs::context().with_timeout(20ms), make<T>(2));
  EXPECT_EQ(c.error(), errc::deadline_exceeded);
  h.open();
  EXPECT_FALSE(sig.drain());
  const auto s = sig.stats();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.in_flight, 0u);
}

// Many emitters blocked at a small capacity, woken by finishes on two workers: no wake-up
// is lost (a lost one leaves an emitter asleep for ever: the watchdog), nothing is lost
// from the accounting, and the announcement of waiters (set and cleared many times) never
// leaks into the count.
TYPED_TEST(AsyncCapacity, BlockUnderConcurrentEmittersLosesNoWakeUp) {
  using T = TypeParam;
  constexpr int emitters = 4;
  constexpr int per_emitter = 500;
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  async_signal<T> sig(on(pool, overflow_policy::block, 2));
  std::atomic<int> calls{0};
  sig.add_listener([&](const T&) {
    std::this_thread::yield();
    calls++;
  });
  {
    watchdog dog(hang_limit, "blocked emitters to be woken by finishes");
    std::vector<std::thread> threads;
    for (int e = 0; e < emitters; ++e) {
      threads.emplace_back([&] {
        for (int i = 0; i < per_emitter; ++i) sig.emit(make<T>(i));
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_FALSE(sig.drain());
  }
  const auto s = sig.stats();
  EXPECT_EQ(calls.load(), emitters * per_emitter);
  EXPECT_EQ(s.delivered, static_cast<std::uint64_t>(emitters * per_emitter));
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

}  // namespace
