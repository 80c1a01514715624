// The global pool is built on its first use. Threads that ask for it while another thread
// is building it wait for that build and get the same pool; the options set before the
// first use are the ones it is built with, and later ones are refused.
//
// To hold the build open, the building thread parks in its first allocation (a replaced
// global operator new, testing/alloc_hooks.hpp, so its own binary; not under ASan/TSan,
// whose runtimes define operator new themselves) until the second thread is seen asleep,
// waiting for it.
#include <sigs/worker_pool.hpp>

#include <testing/alloc_hooks.hpp>
#include <testing/thread_state.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

namespace {

using namespace std::chrono_literals;
using sigs::testing::watchdog;
using sigs::testing::alloc_hooks::park_in_next_new;
using sigs::testing::alloc_hooks::parked_in_new;
using sigs::testing::alloc_hooks::unpark_new;

constexpr auto hang_limit = 10s;

TEST(GlobalPoolFirstUse, AThreadAskingWhileThePoolIsBuiltWaitsAndGetsTheSamePool) {
#if !defined(__linux__)
  GTEST_SKIP() << "reads /proc";
#else
  ASSERT_TRUE(sigs::worker_pool::set_global_threads(3));  // nothing has used the global pool yet
  watchdog dog(hang_limit, "two threads' first use of the global pool");
  sigs::worker_pool* built = nullptr;
  std::atomic<sigs::worker_pool*> waited{nullptr};
  std::thread builder([&] {
    park_in_next_new = true;  // the pool's first allocation, inside its construction
    built = &sigs::worker_pool::global();
  });
  while (!parked_in_new.load()) std::this_thread::yield();
  std::atomic<long> tid{0};
  std::thread waiter([&] {
    tid = sigs::testing::this_tid();
    waited = &sigs::worker_pool::global();
  });
  sigs::testing::wait_asleep(tid);  // waiting for the build
  EXPECT_EQ(waited.load(), nullptr);
  unpark_new = true;
  builder.join();
  waiter.join();
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built, waited.load());
  EXPECT_EQ(built, &sigs::worker_pool::global());
  EXPECT_EQ(built->threads(), 3u);
  EXPECT_FALSE(sigs::worker_pool::set_global_threads(1));  // built: too late
  EXPECT_FALSE(sigs::worker_pool::set_global_options({.threads = 1, .queue_capacity = 4}));

  std::latch ran(1);
  sigs::worker_pool::task t = [&] { ran.count_down(); };
  EXPECT_FALSE(built->submit(t));
  ran.wait();
#endif
}

}  // namespace
