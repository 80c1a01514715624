// sigs/detail/pool_core.hpp — the worker pool's queue, sleep/wake and shutdown protocol,
// written over the atomics policy A (sigs/detail/atomics.hpp) so that
// models/pool_models.cpp model-checks this very code. sigs::worker_pool owns the threads,
// the statistics and the global pool (src/worker_pool.cpp) and wraps one pool_core<>.
//
//   detail::pool_core<> core(capacity);
//   core.push_and_wake(t);                             // try_submit: lock-free with room
//   core.worker_loop(w);                               // on each worker thread
//   core.shutdown(pool_state::draining, false, join);  // join(): joins the worker threads
//
// Sleep and wake. The queue (mpmc_queue.hpp) is lock-free and never blocks; this header
// decides when a thread sleeps and who wakes it. Workers sleep on work_cv_, producers that
// wait for room sleep on space_cv_. The fast paths (a push with room, a pop with work)
// never lock; they only check, after one fence, whether someone is asleep, and lock to wake
// it only then. Two handshakes of the same Dekker shape make that check sound:
//
//   producer, after a push            worker, about to sleep (holding work_mutex_)
//     publish the cell            sleepers_ += 1
//     (POOL-F1) seq_cst fence           (POOL-F2) seq_cst fence
//     read sleepers_                    try_pop: read the cell 
//
// Both fences are in the single total order S. If POOL-F1 precedes POOL-F2, the worker's
// read of the cell observes the publish and it pops instead of sleeping; otherwise the
// producer's read observes the increment (or a later value, written only by workers that
// have woken and will re-check the queue before they sleep again) and wakes a sleeper. The
// worker holds work_mutex_ from its increment until wait() releases it, so the producer,
// which notifies while holding work_mutex_, does so only once the worker really waits: no
// wakeup is lost. Notifying under the mutex also makes a notifier's last touch of the pool
// an unlock that a later shutdown()'s lock synchronises with.
// (POOL-F3)/(POOL-F4) are the same handshake between a worker that freed a cell and
// a producer about to wait for room (space_waiters_, space_mutex_).
// Both are wake.hpp's wake_count: POOL-F1/POOL-F3 are its wake_one()'s fence (SLEEP-W1),
// POOL-F2/POOL-F4 its sleep()'s (SLEEP-W2). The fences are A::fence(seq_cst) (see
// std_atomics::fence for -Wtsan). Q-2..Q-4 are mpmc_queue.hpp's labels.
//
// Shutdown. request_stop() closes the queue — after which every push fails, so the set of
// accepted tasks is final — and then publishes the new state with (POOL-S1). Workers in
// drain mode stop once the queue is drained(); in discard mode after their current task.
// The joiner then discards what is left, counting each task; a discard called from a task
// does the same at once, on its worker (discard_queued()). Every accepted task is
// therefore run or discarded exactly once, and after the join `pushed() == completed +
// dropped()` (completed: the worker hooks' count).
//
// Helping. run_one_queued() lets a task (~async_signal on a worker) pop and run queued
// tasks on its own worker, or discard them once the pool is discarding, so the identity
// above still holds.
//
// The labels used in the memory-order comments (every label: docs/verification.md):
//   (POOL-F1)  push_and_wake(): sleepers_.wake_one()'s fence       pairs with POOL-F2
//   (POOL-F2)  wait_for_work(): sleepers_.sleep()'s fence          pairs with POOL-F1
//   (POOL-F3)  after_pop(): space_waiters_.wake_one()'s fence      pairs with POOL-F4
//   (POOL-F4)  wait_for_space(): space_waiters_.sleep()'s fence    pairs with POOL-F3
//   (POOL-S1)  request_stop(): state_ CAS (release)                pairs with POOL-S2/S2'
//   (POOL-S2)  workers: state_.load(acquire)                       pairs with POOL-S1
//   (POOL-S2') stopped(): state_.load(acquire)                     pairs with POOL-S1
//
// What Relacy lacks goes through Traits and the wait type: std_pool_traits and
// context_wait are the std implementation (condition_variable_any, stop token, deadline);
// models/pool_models.cpp passes Relacy's condition variable and a flag-based cancellation.
// Threads, thread ids and clocks never appear here: worker_pool passes `from_worker` and a
// join, and the worker hooks keep the idle-time statistics.
//
// Why over 400 lines: some 60 of them are the argument above, beside the code it argues
// about; the fast paths, the two sleeps and the shutdown act on one state (the queue,
// state_, the sleeper counts) under that one protocol.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <utility>

#include <sigs/context.hpp>
#include <sigs/detail/atomics.hpp>
#include <sigs/detail/mpmc_queue.hpp>
#include <sigs/detail/port.hpp>
#include <sigs/task.hpp>
#include <sigs/detail/wake.hpp>
#include <sigs/errors.hpp>

namespace sigs::detail {

/// The pool's run state; it only moves forward.
enum class pool_state : unsigned char { running, draining, discarding };

/// Yields before a worker sleeps / a producer blocks: they cover the common short gaps
/// without the cost of a sleep and a wake, and without burning a core for long. (The
/// models spin once, to keep their state space small.)
struct pool_spins {
  unsigned idle = 16;
  unsigned submit = 16;
};

/// What pool_core takes besides the atomics policy; this is the std implementation (the
/// models give Relacy's condition variable and their build's wake count).
struct std_pool_traits {
  /// The count of workers asleep (sleepers_) and of producers waiting for room.
  template <class A>
  using wake_count = detail::wake_count<A>;
  /// Producers wait for room on it with their context's stop token and deadline, which
  /// std::condition_variable cannot take.
  using space_condition_variable = std::condition_variable_any;
};

/// How a producer waits for room, for a sigs::context (std implementation). A wait type
/// offers can_be_canceled(), error() (why to give up; empty while live) and
/// wait(cv, lock, pred): waits on cv until pred() holds or the wait is given up, and calls
/// pred() once more after giving up (as condition_variable_any's stop-token waits do).
struct context_wait {
  const context& ctx;

  [[nodiscard]] bool can_be_canceled() const noexcept { return ctx.can_be_canceled(); }
  [[nodiscard]] std::error_code error() const noexcept { return ctx.error(); }

  template <class Lock, class Pred>
  void wait(std::condition_variable_any& cv, Lock& lock, Pred pred) const {
    if (const auto deadline = ctx.deadline()) {
      cv.wait_until(lock, ctx.stop_token(), *deadline, std::move(pred));
    } else {
      cv.wait(lock, ctx.stop_token(), std::move(pred));
    }
  }
};

template <class A = std_atomics, class Traits = std_pool_traits>
class pool_core {
  template <class U>
  using atomic = typename A::template atomic<U>;
  using mutex_type = typename A::mutex;
  using lock_type = std::unique_lock<mutex_type>;
  using wake_type = typename Traits::template wake_count<A>;

 public:
  /// An empty, running pool core with a queue of at least `capacity` cells (mpmc_queue's
  /// rounding and exceptions).
  explicit pool_core(std::size_t capacity, pool_spins spins = {}) : queue_(capacity), spins_(spins) {}
  pool_core(const pool_core&) = delete;
  pool_core& operator=(const pool_core&) = delete;

  // ---- producers --------------------------------------------------------------------------

  /// try_submit: pushes `t` (moving from it on ok) and wakes a sleeping worker, if any.
  push_result push_and_wake(task& t) {
    const push_result r = queue_.try_push(t);
    if (r == push_result::ok) {
      // (POOL-F1) seq_cst fence, pairs with (POOL-F2): either the sleeping-to-be worker's
      //           re-check sees our element, or we see it in sleepers_ and notify work_cv_
      //           under work_mutex_ (wake.hpp, SLEEP-W1).
      sleepers_.wake_one(work_mutex_, work_cv_);
    }
    return r;
  }

  /// submit: pushes `t`, waiting while the queue is full (spins, then wait_for_space), and
  /// giving up with w.error() before each attempt. `on_worker()`: true on one of this
  /// pool's workers, where waiting for room could wait for itself (asked only when full).
  template <class Wait, class OnWorker>
  std::error_code submit(task& t, const Wait& w, OnWorker&& on_worker) {
    const bool cancellable = w.can_be_canceled();
    for (unsigned attempt = 0;; ++attempt) {
      if (cancellable) {
        if (std::error_code ec = w.error()) return ec;
      }
      switch (push_and_wake(t)) {
        case push_result::ok: return {};
        case push_result::closed: return errc::pool_stopped;
        case push_result::full: break;
      }
      if (on_worker()) return errc::would_deadlock;
      if (attempt == spins_.submit) break;
      A::yield();
    }
    return wait_for_space(t, w);
  }

  /// The producer's sleep until a cell is free (ok), the pool stops (pool_stopped) or `w`
  /// gives up (w.error(), or deadline_exceeded when it has none).
  template <class Wait>
  std::error_code wait_for_space(task& t, const Wait& w) {
    lock_type lock(space_mutex_);
    push_result result = push_result::full;
    // space_waiters_ += 1, then (POOL-F4) seq_cst fence, pairs with (POOL-F3): either our
    // next push (the predicate, before any wait) sees the cell a worker freed, or that
    // worker sees space_waiters_ > 0 and notifies space_cv_. Then -= 1 (wake.hpp, SLEEP-W2).
    space_waiters_.sleep([&] {
      w.wait(space_cv_, lock, [&] {
        result = push_and_wake(t);
        return result != push_result::full;
      });
    });
    // Given up: we may have consumed a notification for a freed cell; pass it on.
    if (result == push_result::full) space_cv_.notify_one();
    lock.unlock();
    if (result == push_result::ok) return {};
    if (result == push_result::closed) return errc::pool_stopped;
    const std::error_code ec = w.error();
    return ec ? ec : std::error_code(errc::deadline_exceeded);
  }

  // ---- workers ----------------------------------------------------------------------------

  /// A worker thread's life: pop and run until stopped. `w` offers idle_begin(),
  /// idle_end() (statistics around each wait for work) and run(task&) noexcept.
  template <class Worker>
  void worker_loop(Worker& w) {
    task t;
    for (;;) {
      // (POOL-S2) acquire, pairs with release (POOL-S1): a worker that sees a stop state
      //           also sees the closed queue, which drained() relies on.
      if (state_.load(std::memory_order_acquire) == pool_state::discarding) break;
      if (!queue_.try_pop(t) && !wait_for_work(w, t)) break;
      after_pop();
      w.run(t);
    }
  }

  /// From inside a task on a worker: pops one queued task, if any, and hands it to run()
  /// or, once the pool is discarding, discards it. False when nothing could be taken
  /// (empty, or the next cell is still being published).
  template <class Run>
  bool run_one_queued(Run&& run) noexcept {
    task t;
    if (!queue_.try_pop(t)) return false;
    after_pop();
    // (POOL-S2) acquire, pairs with release (POOL-S1) in request_stop(): a discarding pool
    //           discards what it has not started.
    if (state_.load(std::memory_order_acquire) == pool_state::discarding) {
      t.discard();
      dropped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    } else {
      run(t);
    }
    return true;
  }

  // ---- shutdown ---------------------------------------------------------------------------

  /// Closes the queue and moves the state to `target` (draining or discarding; a discard
  /// overrides a drain, never the reverse), then wakes every sleeper to re-check.
  void request_stop(pool_state target) noexcept {
    // Every caller closes (idempotent), so its own later reads of the queue see it closed.
    queue_.close();
    pool_state current = state_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
    // (POOL-S1) release, pairs with acquire (POOL-S2, POOL-S2'): the close above is visible
    // with the new state.
    while (current < target &&
           !state_.compare_exchange_weak(current, target, std::memory_order_release, std::memory_order_relaxed)) {}
    wake_workers();
    wake_space_waiters();
  }

  /// shutdown(): request_stop(target). From one of the workers (`from_worker`, a task)
  /// joining would join itself: a discard discards the queue at once, on this thread, and
  /// the call returns would_deadlock. Otherwise the first caller runs join_workers() and
  /// then discards what is left; concurrent callers return once that is done.
  template <class Join>
  std::error_code shutdown(pool_state target, bool from_worker, Join&& join_workers) {
    request_stop(target);
    if (from_worker) {
      // Left to the joiner, the queued tasks could wait for a join that only comes after
      // someone (an async_signal's destructor) has waited for them.
      if (target == pool_state::discarding) discard_queued();
      return errc::would_deadlock;
    }
    std::lock_guard<mutex_type> lock(join_mutex_);
    if (!joined_.load()) {
      join_workers();
      discard_queued();  // left over after a discard (or a drain turned into one)
      joined_.store(true);
    }
    return {};
  }

  /// Discards every queued task, counting each in dropped(). Called after request_stop() on
  /// this thread: the queue is closed, so drained() comes.
  void discard_queued() {
    // A producer that claimed a cell before close() may still be publishing it: wait for it
    // rather than miss it. Other consumers (workers finishing, a concurrent joiner) may
    // take some of the tasks meanwhile; each is popped once, so each is counted once.
    task t;
    while (!queue_.drained()) {
      if (queue_.try_pop(t)) {
        t.discard();
        dropped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      } else {
        A::yield();
      }
    }
  }

  /// Wakes every producer waiting for room, to re-check (request_stop(): they find the
  /// queue closed). Under space_mutex_: a producer that checked under it is in wait() once
  /// we hold it, so the notification reaches it.
  void wake_space_waiters() noexcept {
    std::lock_guard<mutex_type> sync(space_mutex_);
    space_cv_.notify_all();
  }

  // ---- observers --------------------------------------------------------------------------

  /// True once request_stop() has begun.
  [[nodiscard]] bool stopped() const noexcept {
    // (POOL-S2') acquire, pairs with release (POOL-S1): a caller that sees true also sees
    // the close.
    return state_.load(std::memory_order_acquire) != pool_state::running;
  }

  /// Workers waiting for work (spinning or asleep): a hint, possibly stale.
  [[nodiscard]] unsigned idle_workers() const noexcept {
    return idle_.load(std::memory_order_relaxed);  // relaxed: a hint; nothing is published by it
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return queue_.capacity(); }
  [[nodiscard]] std::size_t size_approx() const noexcept { return queue_.size_approx(); }
  /// Tasks accepted so far.
  [[nodiscard]] std::uint64_t pushed() const noexcept { return queue_.pushed(); }
  /// Accepted tasks discarded so far.
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);  // relaxed: statistics
  }

 private:
  /// Called when a worker found the queue empty: spins, then sleeps on work_cv_. True with
  /// a task in `t`; false when the worker must stop.
  template <class Worker>
  bool wait_for_work(Worker& w, task& t) {
    w.idle_begin();
    idle_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint (idle_workers())
    bool got = false;
    for (unsigned i = 0; i < spins_.idle && !got; ++i) {
      // (POOL-S2) acquire, as in worker_loop(): stopping takes the careful path below.
      if (state_.load(std::memory_order_acquire) != pool_state::running) break;
      A::yield();
      got = queue_.try_pop(t);
    }
    if (!got) {
      lock_type lock(work_mutex_);
      // sleepers_ += 1, then (POOL-F2) seq_cst fence, pairs with (POOL-F1); -= 1 after the
      // wait (wake.hpp, SLEEP-W2).
      sleepers_.sleep([&] { work_cv_.wait(lock, [&] { return work_or_stop(t, got); }); });
    }
    idle_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint (idle_workers())
    w.idle_end();
    return got;
  }

  /// The re-check before each wait, under work_mutex_: true to stop waiting, with a task
  /// (`got`) or to stop the worker.
  bool work_or_stop(task& t, bool& got) {
    // (POOL-S2) acquire, as in worker_loop(). Under work_mutex_, so request_stop()'s
    // lock-and-notify after (POOL-S1) cannot slip between this check and the wait.
    const pool_state s = state_.load(std::memory_order_acquire);
    if (s == pool_state::discarding) return true;
    if (queue_.try_pop(t)) {
      got = true;
      return true;
    }
    if (s == pool_state::draining && queue_.drained()) {
      // A peer may have gone to sleep in this drain before the last pop (the last cell was
      // still being published, say), and pops wake producers, not workers: wake the peers
      // so that each re-checks under the mutex, after us.
      work_cv_.notify_all();
      return true;
    }
    return false;
  }

  void after_pop() {
    // (POOL-F3) seq_cst fence, pairs with (POOL-F4): either the about-to-wait producer's
    //           push sees the cell we just freed, or we see it in space_waiters_ and
    //           notify space_cv_ under space_mutex_ (wake.hpp, SLEEP-W1).
    space_waiters_.wake_one(space_mutex_, space_cv_);
  }

  /// request_stop()'s wake-up of the workers, under work_mutex_ like wake_space_waiters().
  void wake_workers() noexcept {
    std::lock_guard<mutex_type> sync(work_mutex_);
    work_cv_.notify_all();
  }

  mpmc_queue<task, A> queue_;

  // Read by every producer after each push / every worker after each pop; written only
  // when a worker goes to sleep or a producer blocks. state_ is read on every task.
  // The workers asleep on work_cv_ / producers waiting on space_cv_ (wake.hpp).
  alignas(cache_line) wake_type sleepers_;
  wake_type space_waiters_;
  atomic<pool_state> state_{pool_state::running};

  // Written by workers at every switch between busy and idle, read by emitters of several
  // listeners: kept off the line of sleepers_, which every push reads.
  alignas(cache_line) atomic<unsigned> idle_{0};  // see idle_workers()

  // Rare-path counter, off the hot lines.
  alignas(cache_line) atomic<std::uint64_t> dropped_{0};

  const pool_spins spins_;
  mutex_type work_mutex_;  // workers sleep on work_cv_ under it
  typename A::condition_variable work_cv_;
  mutex_type space_mutex_;  // producers wait for a free cell on space_cv_ under it
  typename Traits::space_condition_variable space_cv_;
  mutex_type join_mutex_;                         // serialises joining
  typename A::template var<bool> joined_{false};  // guarded by join_mutex_
};

}  // namespace sigs::detail
