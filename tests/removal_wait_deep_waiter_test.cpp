// remove_listener_and_wait for a listener called past the slot stack (more than 8 nested
// emissions), whose call no call word names, while a thread nested that deep waits for
// something else. The cycle search must follow that thread as a possible holder, find that
// its wait leads nowhere near the caller (no cycle), go on with the rest of the search,
// and wait, rather than refuse: the wait does end.
#include <sigs/sigs.hpp>

#include <testing/spin_gate.hpp>
#include <testing/thread_state.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <system_error>
#include <thread>

namespace {

using namespace std::chrono_literals;
using sigs::testing::watchdog;

constexpr auto hang_limit = 10s;

#if defined(__linux__)
using sigs::testing::this_tid;
using sigs::testing::wait_asleep;
#endif

/// A gate a listener blocks on (spinning, so that its thread is never seen asleep).
using gate = sigs::testing::spin_gate;

// Thread C calls x (shallow) and blocks. Thread B nests 10 emissions deep, calls y there,
// and inside y waits for x: a deep waiter. Thread A then waits for y: y's call is deep, so
// the search looks at every deep waiter, B among them; B waits for x, which A is not
// calling and C (not waiting) is: no cycle. A waits, and returns once y's call has ended,
// after C lets x return and B's wait ends.
TEST(RemovalWaitDeepWaiter, AWaitForADeepCallWhoseThreadWaitsElsewhereIsNotACycle) {
#if !defined(__linux__)
  GTEST_SKIP() << "reads /proc";
#else
  constexpr int depth = 10;
  sigs::sync_signal<int> nest;  // B's nesting
  sigs::sync_signal<int> ys;
  sigs::sync_signal<int> xs;
  gate x_open;
  std::latch x_entered(1);
  const sigs::listener_id x = xs.add_listener([&](const int&) {
    x_entered.count_down();
    x_open.wait();
  });
  std::atomic<long> b_tid{0};
  std::error_code b_wait;
  std::atomic<bool> y_done{false};
  const sigs::listener_id y = ys.add_listener([&](const int&) {
    b_tid = this_tid();
    b_wait = xs.remove_listener_and_wait(x);
    y_done.store(true, std::memory_order_release);  // pairs with A's acquire
  });
  nest.add_listener([&](const int& level) {
    if (level + 1 < depth) {
      nest.emit(level + 1);
    } else {
      ys.emit(0);  // the call of y is 11 emissions deep: past the slot stack
    }
  });

  watchdog dog(hang_limit, "a wait for a deep call whose thread waits for another listener");
  std::thread c([&] { xs.emit(0); });
  x_entered.wait();
  std::thread b([&] { nest.emit(0); });
  wait_asleep(b_tid);  // B waits for x

  std::atomic<long> a_tid{0};
  std::error_code a_wait = make_error_code(sigs::errc::listener_error);
  bool y_done_when_returned = false;
  std::thread a([&] {
    a_tid = this_tid();
    a_wait = ys.remove_listener_and_wait(y);
    y_done_when_returned = y_done.load(std::memory_order_acquire);
  });
  wait_asleep(a_tid);  // A has searched for a cycle, found none, and sleeps
  EXPECT_FALSE(y_done.load());
  x_open.release();
  a.join();
  b.join();
  c.join();
  EXPECT_FALSE(a_wait) << a_wait.message();
  EXPECT_FALSE(b_wait) << b_wait.message();
  EXPECT_TRUE(y_done_when_returned);
  EXPECT_EQ(xs.size(), 0u);
  EXPECT_EQ(ys.size(), 0u);
#endif
}

}  // namespace
