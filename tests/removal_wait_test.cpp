// remove_listener_and_wait with more than one waiter, deep nesting and thread priorities:
// the cases an outside review reproduced as hangs or early returns. Each possible hang is
// guarded by a watchdog that aborts the test within seconds instead of hanging the lane.
#include <sigs/sigs.hpp>

#include <testing/spin_gate.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace {

using namespace std::chrono_literals;
using sigs::testing::watchdog;

constexpr auto hang_limit = 10s;

/// A gate a listener blocks on until the test opens it.
using gate = sigs::testing::spin_gate;

// ---- 1. waiters that wait for each other's idle listeners ------------------------------

// Two threads each run a listener of the same signal (both emissions hold the same
// snapshot); each removes a different, idle listener and waits. Neither target runs, so
// both must return at once. The old per-snapshot wait made each wait for the other's
// emission: a deadlock.
TEST(RemovalWait, TwoListenersOfOneSignalEachWaitingForAnIdleOneBothReturn) {
  sigs::sync_signal<int> sig;
  std::barrier both_inside(2);
  std::atomic<int> removed_ok{0};
  sigs::listener_id idle[2];
  idle[0] = sig.add_listener([](const int&) {});
  idle[1] = sig.add_listener([](const int&) {});
  sig.add_listener([&](const int& who) {
    both_inside.arrive_and_wait();  // both emissions are inside, on one snapshot
    if (!sig.remove_listener_and_wait(idle[who])) removed_ok.fetch_add(1);
  });
  watchdog dog(hang_limit, "two threads waiting for each other's idle listeners");
  std::thread a([&] { sig.emit(0); });
  std::thread b([&] { sig.emit(1); });
  a.join();
  b.join();
  EXPECT_EQ(removed_ok.load(), 2);
  EXPECT_EQ(sig.size(), 1u);
}

// The same on an async signal with two workers: each worker runs one emission's listener,
// which waits for another, idle listener. The old wait wedged the pool.
TEST(RemovalWait, TwoWorkersEachWaitingForAnIdleListenerBothReturn) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 16});
  sigs::async_options options;
  options.pool = &pool;
  sigs::async_signal<int> sig(options);
  std::barrier both_inside(2);
  std::atomic<int> removed_ok{0};
  sigs::listener_id idle[2];
  idle[0] = sig.add_listener([](const int&) {});
  idle[1] = sig.add_listener([](const int&) {});
  // The waiting listener is the only one that does anything; run it first by emitting
  // before the idle ones would be claimed is not needed: the idle ones return at once.
  sig.add_listener([&](const int& who) {
    both_inside.arrive_and_wait();
    if (!sig.remove_listener_and_wait(idle[who])) removed_ok.fetch_add(1);
  });
  watchdog dog(hang_limit, "two workers waiting for each other's idle listeners");
  sig.emit(0);
  sig.emit(1);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(removed_ok.load(), 2);
}

/// Emits `sig` recursively until `depth` levels are open on this thread, then runs `at_bottom`.
template <class F>
void nest(sigs::sync_signal<int>& sig, int depth, F&& at_bottom) {
  auto id = sig.add_listener([&](const int& level) {
    if (level + 1 < depth) {
      sig.emit(level + 1);
    } else {
      at_bottom();
    }
  });
  sig.emit(0);
  sig.remove_listener(id);
}

// Both threads nested past the 8-slot stack, on two unrelated signals, each waiting for an
// idle listener of a third and fourth signal. The old fallback was one process-wide count,
// so each waited for the other's nesting.
TEST(RemovalWait, ThreadsNestedPastTheSlotStackDoNotWaitForEachOther) {
  sigs::sync_signal<int> deep[2];
  sigs::sync_signal<int> other[2];
  sigs::listener_id idle[2] = {other[0].add_listener([](const int&) {}), other[1].add_listener([](const int&) {})};
  std::barrier both_deep(2);
  std::atomic<int> removed_ok{0};
  watchdog dog(hang_limit, "threads nested 12 deep waiting for idle listeners of other signals");
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      nest(deep[t], 12, [&] {
        both_deep.arrive_and_wait();
        if (!other[t].remove_listener_and_wait(idle[t])) removed_ok.fetch_add(1);
        both_deep.arrive_and_wait();  // both waits end while both threads are still deep
      });
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(removed_ok.load(), 2);
}

// A true cycle: A runs LA and waits for LB; B runs LB and waits for LA. Neither wait can
// end; at least one must be refused with would_deadlock, and neither may hang.
TEST(RemovalWait, ATrueCycleOfWaitsIsRefusedInsteadOfHanging) {
  sigs::sync_signal<int> sig;
  std::barrier both_inside(2);
  std::atomic<int> refused{0}, ended{0};
  sigs::listener_id ids[2];
  for (int i = 0; i < 2; ++i) {
    ids[i] = sig.add_listener([&, i](const int& who) {
      if (who != i) return;  // thread i runs listener i only
      both_inside.arrive_and_wait();
      const std::error_code ec = sig.remove_listener_and_wait(ids[1 - i]);
      if (ec == sigs::errc::would_deadlock) {
        refused.fetch_add(1);
      } else {
        EXPECT_FALSE(ec);
        ended.fetch_add(1);
      }
    });
  }
  watchdog dog(hang_limit, "a cycle of two waits");
  std::thread a([&] { sig.emit(0); });
  std::thread b([&] { sig.emit(1); });
  a.join();
  b.join();
  EXPECT_GE(refused.load(), 1);
  EXPECT_EQ(refused.load() + ended.load(), 2);
  EXPECT_EQ(sig.size(), 0u);  // a refused cycle still removed its target
}

// The same cycle with both calls made past the slot stack: each thread nests 10 emissions
// deep through a separate listener, and only there calls its cycle listener, so no call
// word names it (calls past 8 levels count in the listener instead). The check must still
// refuse at least one side.
TEST(RemovalWait, ATrueCycleOfWaitsBetweenDeepCallsIsRefusedInsteadOfHanging) {
  sigs::sync_signal<int> sig;
  std::barrier both_inside(2);
  std::atomic<int> refused{0}, ended{0};
  constexpr int depth = 10;
  thread_local int who = -1;                // which cycle listener this thread runs
  sig.add_listener([&](const int& level) {  // the nester
    if (level + 1 < depth) sig.emit(level + 1);
  });
  sigs::listener_id ids[2];
  for (int i = 0; i < 2; ++i) {
    ids[i] = sig.add_listener([&, i](const int& level) {
      if (who != i || level + 1 != depth) return;  // thread i, at the deepest level only
      both_inside.arrive_and_wait();
      const std::error_code ec = sig.remove_listener_and_wait(ids[1 - i]);
      if (ec == sigs::errc::would_deadlock) {
        refused.fetch_add(1);
      } else {
        EXPECT_FALSE(ec);
        ended.fetch_add(1);
      }
    });
  }
  watchdog dog(hang_limit, "a cycle of two waits between calls 10 deep");
  std::thread a([&] {
    who = 0;
    sig.emit(0);
  });
  std::thread b([&] {
    who = 1;
    sig.emit(0);
  });
  a.join();
  b.join();
  EXPECT_GE(refused.load(), 1);
  EXPECT_EQ(refused.load() + ended.load(), 2);
}

// Three threads in a cycle whose last link is a deep call: B calls x
// 10 deep and waits for y; C calls y and waits for z; A calls z and waits for x. They start
// waiting in the order B, C, A, so the last one cannot see the whole cycle by itself: the
// others must look again when it joins.
TEST(RemovalWait, AThreeThreadCycleThroughADeepCallIsRefused) {
  sigs::sync_signal<int> sig;
  std::atomic<int> refused{0}, ended{0};
  std::atomic<int> waiting{0};  // how many of B, C, A have entered their wait (in order)
  constexpr int depth = 10;
  thread_local int who = -1;  // 0: B, 1: C, 2: A
  sig.add_listener([&](const int& level) {
    if (who == 0 && level + 1 < depth) sig.emit(level + 1);  // B nests; C and A stay shallow
  });
  sigs::listener_id x, y, z;
  auto waiter = [&](int me, int level_wanted, const sigs::listener_id* target) {
    return [&, me, level_wanted, target](const int& level) {
      if (who != me || level != level_wanted) return;
      // acquire/release: the start order B, C, A; the wait itself publishes the rest.
      while (waiting.load(std::memory_order_acquire) != me) std::this_thread::yield();
      waiting.store(me + 1, std::memory_order_release);
      // Give the previous thread time to be asleep in its wait before this one joins.
      std::this_thread::sleep_for(20ms);
      const std::error_code ec = sig.remove_listener_and_wait(*target);
      (ec == sigs::errc::would_deadlock ? refused : ended).fetch_add(1);
      if (ec && ec != sigs::errc::would_deadlock) ADD_FAILURE() << ec.message();
    };
  };
  x = sig.add_listener(waiter(0, depth - 1, &y));  // B: calls x deep, waits for y
  y = sig.add_listener(waiter(1, 0, &z));          // C: calls y, waits for z
  z = sig.add_listener(waiter(2, 0, &x));          // A: calls z, waits for x
  watchdog dog(hang_limit, "a three-thread cycle through a deep call");
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      who = t;
      sig.emit(0);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GE(refused.load(), 1);
  EXPECT_EQ(refused.load() + ended.load(), 3);
}

// Two threads each inside a call of the same listener, which has been removed; each waits
// for the listener's calls on other threads, that is, for the other's. A cycle: at least
// one is refused. (A first fix of the cycle search skipped a thread waiting for the very
// listener it calls, and these two waited for ever; the async properties found it.)
TEST(RemovalWait, TwoCallsOfARemovedListenerWaitingForEachOtherAreRefused) {
  sigs::sync_signal<int> sig;
  std::barrier both_inside(2);
  std::atomic<int> refused{0}, ended{0};
  sigs::listener_id id;
  id = sig.add_listener([&](const int&) {
    both_inside.arrive_and_wait();
    (void)sig.remove_listener(id);  // one of the two removes it; the other finds it gone
    both_inside.arrive_and_wait();
    const std::error_code ec = sig.remove_listener_and_wait(id);
    (ec == sigs::errc::would_deadlock ? refused : ended).fetch_add(1);
    if (ec && ec != sigs::errc::would_deadlock && ec != sigs::errc::not_found) ADD_FAILURE() << ec.message();
  });
  watchdog dog(hang_limit, "two calls of a removed listener waiting for each other");
  std::thread a([&] { sig.emit(0); });
  std::thread b([&] { sig.emit(1); });
  a.join();
  b.join();
  EXPECT_GE(refused.load(), 1);
  EXPECT_EQ(refused.load() + ended.load(), 2);
}

// ---- 2. the wait covers calls of a listener that is already dead -----------------------

enum class kill_by { fired, removed, reset };

class RemovalWaitOfADeadListener : public ::testing::TestWithParam<kill_by> {};

// A call of the listener is running on another thread when the listener dies (fires, is
// removed, or reset); remove_listener_and_wait(id) must return (not_found) only after that
// call has returned. The old wait returned not_found at once.
TEST_P(RemovalWaitOfADeadListener, WaitsForTheCallStillRunning) {
  sigs::sync_signal<int> sig;
  gate release_body;
  std::latch inside(1);
  std::atomic<bool> body_done{false};
  const bool once = GetParam() == kill_by::fired;
  auto body = [&](const int&) {
    inside.count_down();
    release_body.wait();
    body_done.store(true, std::memory_order_release);  // pairs with the waiter's acquire
  };
  const sigs::listener_id id = once ? sig.add_once(body) : sig.add_listener(body);
  std::thread emitter([&] { sig.emit(1); });
  inside.wait();  // the call is under way (and a once-listener has fired)
  if (GetParam() == kill_by::removed) {
    EXPECT_FALSE(sig.remove_listener(id));
  }
  if (GetParam() == kill_by::reset) sig.reset();
  EXPECT_EQ(sig.size(), 0u);

  std::atomic<bool> returned{false};
  bool done_when_returned = false;
  std::thread waiter([&] {
    EXPECT_EQ(sig.remove_listener_and_wait(id), sigs::errc::not_found);
    // acquire: pairs with the body's release: the body ended before the wait returned.
    done_when_returned = body_done.load(std::memory_order_acquire);
    returned.store(true, std::memory_order_release);
  });
  // Give a wrong early return every chance to happen while the body is still blocked.
  for (int i = 0; i < 50 && !returned.load(std::memory_order_acquire); ++i) std::this_thread::sleep_for(1ms);
  release_body.release();
  watchdog dog(hang_limit, "remove_listener_and_wait of a dead listener after its call ended");
  waiter.join();
  emitter.join();
  EXPECT_TRUE(done_when_returned);
}

INSTANTIATE_TEST_SUITE_P(Kinds, RemovalWaitOfADeadListener,
                         ::testing::Values(kill_by::fired, kill_by::removed, kill_by::reset), [](const auto& info) {
                           switch (info.param) {
                             case kill_by::fired: return "Fired";
                             case kill_by::removed: return "Removed";
                             case kill_by::reset: return "Reset";
                           }
                           return "Unknown";
                         });

// By key: every dead listener that had the key and may still be running is waited for.
TEST(RemovalWait, ByKeyWaitsForACallOfARemovedListenerWithThatKey) {
  sigs::sync_signal<int> sig;
  gate release_body;
  std::latch inside(1);
  std::atomic<bool> body_done{false};
  sig.add_listener(
      [&](const int&) {
        inside.count_down();
        release_body.wait();
        body_done.store(true, std::memory_order_release);  // pairs with the waiter's acquire
      },
      "k");
  std::thread emitter([&] { sig.emit(1); });
  inside.wait();
  EXPECT_FALSE(sig.remove_listener("k"));
  bool done_when_returned = false;
  std::thread waiter([&] {
    EXPECT_EQ(sig.remove_listener_and_wait("k"), sigs::errc::not_found);
    done_when_returned = body_done.load(std::memory_order_acquire);  // pairs with the body's release
  });
  std::this_thread::sleep_for(20ms);
  release_body.release();
  watchdog dog(hang_limit, "remove_listener_and_wait by key of a removed listener");
  waiter.join();
  emitter.join();
  EXPECT_TRUE(done_when_returned);
}

// ---- 3. one deep thread delays only its own signal -------------------------------------

// Counts live copies of a listener's state: what a signal has not yet reclaimed.
struct counted {
  static inline std::atomic<long> live{0};
  counted() { live.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count read after joins
  counted(const counted&) { live.fetch_add(1, std::memory_order_relaxed); }
  ~counted() { live.fetch_sub(1, std::memory_order_relaxed); }
  counted& operator=(const counted&) = default;
};

// A thread nested 9 deep in signal X, blocked there. Signal Y, never emitted, adds and
// removes 10,000 listeners: their callables must be reclaimed (the old process-wide
// overflow count kept all 10,000 alive), and Y.remove_listener_and_wait must not wait for
// the deep thread's unrelated listener (it used to, until that thread returned).
TEST(RemovalWait, AThreadNestedPastTheSlotStackDelaysNoOtherSignal) {
  sigs::sync_signal<int> x, y;
  gate release_deep;
  std::latch deep(1);
  std::thread nested([&] {
    nest(x, 9, [&] {
      deep.count_down();
      release_deep.wait();
    });
  });
  deep.wait();
  {
    watchdog dog(hang_limit, "Y.remove_listener_and_wait while a thread is 9 deep in X");
    const long before = counted::live.load();
    for (int i = 0; i < 10000; ++i) {
      auto id = y.add_listener([c = counted{}](const int&) {});
      EXPECT_FALSE(y.remove_listener(id));
    }
    const long kept = counted::live.load() - before;
    std::printf("live callables after 10000 add/remove on an unrelated signal: %ld\n", kept);
    EXPECT_LT(kept, 100);  // at most a scan batch waiting for its scan
    auto id = y.add_listener([](const int&) {});
    EXPECT_FALSE(y.remove_listener_and_wait(id));
  }
  release_deep.release();
  nested.join();
}

// ---- 4. waits sleep; a waiter of higher priority cannot livelock the caller --------------

#if defined(__linux__)
bool make_fifo(int priority) {
  sched_param p{};
  p.sched_priority = priority;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0;
}

bool pin_to_cpu0() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// The emitter (SCHED_FIFO 1) is inside a listener that works for a while; the waiter
// (SCHED_FIFO 2, same CPU) calls remove_listener_and_wait. A waiter that only yields never
// lets the lower-priority emitter run again: a livelock. One that sleeps in the kernel lets
// it finish and is woken.
TEST(RemovalWait, AHigherPriorityWaiterOnTheSameCpuDoesNotLivelockTheCaller) {
  sigs::sync_signal<int> sig;
  std::latch inside(1);
  std::latch waiter_ready(1);
  std::atomic<bool> body_done{false};
  const auto id = sig.add_listener([&](const int&) {
    inside.count_down();  // wakes the waiter, which preempts us at once
    // Busy work: the waiter is certainly waiting before this ends.
    const auto until = std::chrono::steady_clock::now() + 50ms;
    while (std::chrono::steady_clock::now() < until) {}
    body_done.store(true, std::memory_order_release);  // pairs with the waiter's acquire
  });
  std::atomic<int> setup_failed{0};
  bool done_when_returned = false;
  watchdog dog(hang_limit, "a SCHED_FIFO waiter above the emitter on one CPU");
  std::thread waiter([&] {
    const bool ok = pin_to_cpu0() && make_fifo(2);
    if (!ok) setup_failed.fetch_add(1);
    waiter_ready.count_down();
    if (!ok) return;
    inside.wait();  // sleeps in the kernel until the emitter is inside the listener
    EXPECT_FALSE(sig.remove_listener_and_wait(id));
    done_when_returned = body_done.load(std::memory_order_acquire);
  });
  std::thread emitter([&] {
    waiter_ready.wait();
    if (!pin_to_cpu0() || !make_fifo(1)) {
      setup_failed.fetch_add(1);
      inside.count_down();
      return;
    }
    sig.emit(1);
  });
  waiter.join();
  emitter.join();
  ASSERT_EQ(setup_failed.load(), 0) << "needs CAP_SYS_NICE (run as root) to set SCHED_FIFO";
  EXPECT_TRUE(done_when_returned);
}
#endif

}  // namespace
