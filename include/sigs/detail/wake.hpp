// sigs/detail/wake.hpp — the sleep/wake handshake of the worker pool, over the atomics
// policy A (sigs/detail/atomics.hpp), so that models/wake_models.cpp (on its own) and
// models/pool_models.cpp (inside the pool) run this code.
//
// A wake_count counts the threads asleep (or about to be) on one condition variable. It
// lets the fast path of a notifier skip the lock when nobody sleeps, with no lost wake-up.
//
//   publish(x); count.wake_one(m, cv);                              // notifier
//   std::unique_lock lock(m);                                       // sleeper
//   count.sleep([&] { cv.wait(lock, [&] { return consume(x); }); });
//
// The handshake has a Dekker shape:
//
//   notifier: wake_one()                 sleeper: sleep(), holding the mutex
//     (its caller) publish the event      count_ += 1
//     (SLEEP-W1) seq_cst fence            (SLEEP-W2) seq_cst fence
//     read count_                         wait(): re-check the event, then wait on the cv
//
// Both fences are in the single total order S. If SLEEP-W1 precedes SLEEP-W2, the sleeper's
// re-check observes the event; otherwise the notifier's read observes the increment (or a
// later value, written only by sleepers that have woken and will re-check before they sleep
// again) and notifies. The sleeper holds the mutex from its increment until the condition
// variable's wait releases it, and the notifier notifies while holding the same mutex, so
// the notification comes only once the sleeper really waits.
//
// The labels used in the memory-order comments (every label: docs/verification.md):
//   (SLEEP-W1) wake_one(): A::fence(seq_cst)     pairs with SLEEP-W2
//   (SLEEP-W2) sleep(): A::fence(seq_cst)        pairs with SLEEP-W1
// (SLEEP-, not WAKE-: WAKE-1 is call_tracking.hpp's wake of removal waiters.)
//
// pool_core.hpp uses two: sleepers_ ((POOL-F1)/(POOL-F2): a producer's push against a
// worker about to sleep) and space_waiters_ ((POOL-F3)/(POOL-F4): a worker's pop against a
// producer about to wait for room). SLEEP-W1 is POOL-F1 or POOL-F3, SLEEP-W2 is POOL-F2 or
// POOL-F4.
#pragma once

#include <atomic>
#include <mutex>

#include <sigs/detail/atomics.hpp>

namespace sigs::detail {

template <class A = std_atomics>
class wake_count {
 public:
  /// Notifier side, called after the event is published: wakes one sleeper, taking `m` only
  /// when someone may sleep on `cv`.
  template <class Mutex, class CondVar>
  void wake_one(Mutex& m, CondVar& cv) {
    // (SLEEP-W1) seq_cst fence, pairs with (SLEEP-W2): either the sleeping-to-be thread's
    //            re-check sees our event, or we see it in count_ below.
    A::fence(std::memory_order_seq_cst);
    if (count_.load(std::memory_order_relaxed) != 0) {  // relaxed: ordered by (SLEEP-W1)
      std::lock_guard<Mutex> sync(m);                   // the sleeper is now in wait()
      cv.notify_one();
    }
  }

  /// Sleeper side, called holding the mutex the notifier takes: announces the sleeper, then
  /// runs `wait`, which must re-check the event before each wait on the condition variable
  /// (a predicate wait does), and withdraws.
  template <class Wait>
  void sleep(Wait&& wait) {
    count_.fetch_add(1, std::memory_order_relaxed);  // relaxed: ordered by (SLEEP-W2)
    // (SLEEP-W2) seq_cst fence, pairs with (SLEEP-W1).
    A::fence(std::memory_order_seq_cst);
    wait();
    // relaxed: a stale non-zero value only costs a notifier one needless notify.
    count_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  typename A::template atomic<unsigned> count_{0};
};

}  // namespace sigs::detail
