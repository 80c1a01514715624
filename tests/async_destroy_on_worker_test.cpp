// ~async_signal called on a worker of the signal's own pool while the signal's emissions
// run on the pool's other workers and nothing is queued: there is nothing to help with, so
// the destructor sleeps on the signal's condition variable, looking at the queue again now
// and then, until the last emission finishes. It must not return before then.
#include <sigs/sigs.hpp>

#include <testing/thread_state.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>

namespace {

using namespace std::chrono_literals;
using sigs::testing::watchdog;
using task = sigs::worker_pool::task;

constexpr auto hang_limit = 10s;

TEST(AsyncDestroyOnWorker, WaitsForEmissionsRunningOnOtherWorkersWhenNothingIsQueued) {
#if !defined(__linux__)
  GTEST_SKIP() << "reads /proc";
#else
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 16});
  sigs::async_options o;
  o.pool = &pool;
  auto sig = std::make_unique<sigs::async_signal<int> >(o);
  std::latch entered(1);
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  sig->add_listener([&](const int& v) {
    if (v == 0) return;
    entered.count_down();
    while (!release.load()) std::this_thread::yield();
    finished = true;
  });
  const sigs::completion first = sig->emit_tracked(0);
  EXPECT_FALSE(sig->drain());
  EXPECT_TRUE(first.done());
  EXPECT_EQ(first.delivered(), 1u);
  sig->emit(1);
  entered.wait();  // one worker runs the listener; the queue is empty

  std::atomic<long> tid{0};
  std::latch destroyed(1);
  bool finished_when_destroyed = false;
  task destroy = [&] {
    tid = sigs::testing::this_tid();
    sig.reset();
    finished_when_destroyed = finished.load();
    destroyed.count_down();
  };
  ASSERT_FALSE(pool.try_submit(destroy));  // taken by the other worker
  watchdog dog(hang_limit, "~async_signal on a worker, waiting for an emission on another");
  // Asleep in the destructor: there is nothing else that thread can be waiting for.
  sigs::testing::wait_asleep(tid);
  EXPECT_FALSE(finished.load());
  release = true;
  destroyed.wait();
  EXPECT_TRUE(finished_when_destroyed);
  EXPECT_FALSE(pool.shutdown());
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 3u);  // the two emissions and the destroying task; nothing run by it
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.submitted, 3u);
#endif
}

}  // namespace
