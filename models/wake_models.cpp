// models/wake_models.cpp — the worker pool's sleep/wake handshake, wake.hpp's
// detail::wake_count, on the production code over the Relacy policy, with the production
// run queue detail::mpmc_queue as the event: the fences (F1)/(F2) (a producer's push against
// a worker about to sleep, sleepers_) and (F3)/(F4) (a worker's pop against a producer about
// to wait for room, space_waiters_). ThreadSanitizer does not model fences; Relacy does
// (rl::atomic_thread_fence, seq_cst fences in the total order S).
//
// Each thread does what src/worker_pool.cpp does around the handshake, without the parts
// that do not take part in it (the spins before sleeping, the run state, statistics):
//   push_and_wake:   try_push, then wake_one(work_mutex_, work_cv_)
//   wait_for_work:   under work_mutex_, sleep() around a predicate wait that re-checks
//                    try_pop
//   after_pop:       wake_one(space_mutex_, space_cv_)
//   wait_for_space:  under space_mutex_, sleep() around a predicate wait that re-tries
//                    try_push
// rl::condition_variable allows spurious wake-ups and reports a thread blocked for ever as
// DEADLOCK: a lost wake-up is a DEADLOCK. The count type is the build's (model_wake_count:
// the production wake_count, or a mutant's subclass).
#include "model.hpp"

namespace sigs::models {
namespace {

using queue_t = sigs::detail::mpmc_queue<token, model_policy>;
using wake_t = model_wake_count<model_policy>;
using sigs::detail::push_result;

/// The pool's pieces that take part in one handshake: the queue, the count, the mutex and
/// the condition variable.
struct pool_part {
  queue_t queue{2};
  wake_t count;
  typename model_policy::mutex mutex;
  typename model_policy::condition_variable cv;

  /// push_and_wake: try_push(v), then wake_one (F1).
  void push_and_wake(int v) {
    token t(v);
    RL_ASSERT(queue.try_push(t) == push_result::ok);
    count.wake_one(mutex, cv);
  }

  /// worker_main + wait_for_work: try_pop; if empty, under the mutex, sleep() (F2) around
  /// cv.wait(lock, try_pop). Returns what it popped (it waits until it pops something).
  token pop_or_sleep() {
    token t;
    bool got = queue.try_pop(t);
    if (!got) {
      std::unique_lock<typename model_policy::mutex> lock(mutex);
      count.sleep([&] { cv.wait(lock, [&] { return got = queue.try_pop(t); }); });
    }
    RL_ASSERT(got);
    return t;
  }
};

/// (k) A producer's push against a worker that finds the queue empty and goes to sleep.
///
///   thread 0 (producer, push_and_wake): try_push(7), then wake_one (F1)
///   thread 1 (worker, worker_main + wait_for_work): try_pop; if empty, under the mutex,
///            sleep() (F2) around cv.wait(lock, try_pop)
///
/// Proves: no lost wake-up — the worker always ends up with the item (DEADLOCK if it sleeps
/// for ever), and with its payload (DATA RACE otherwise).
struct wake_work : rl::test_suite<wake_work, 2, expected_result(scenario::wake_work)> {
  pool_part* pool = nullptr;

  void before() { pool = new pool_part; }

  void thread(unsigned index) {
    if (index == 0) {
      pool->push_and_wake(7);
    } else {
      RL_ASSERT(pool->pop_or_sleep().get() == 7);
    }
  }

  void after() { delete pool; }
};

/// (k2) Two workers asleep, two pushes: notify_one with more than one sleeper.
///
///   thread 0 (producer): try_push(7), wake_one (F1); try_push(8), wake_one (F1)
///   thread 1, 2 (workers): as (k)
///
/// Proves: no lost wake-up when one count covers two sleepers: the second push's
/// notifier reads a count that still includes a sleeper already woken by the first one
/// (whose decrement comes after its re-check), or the second worker's re-check sees the
/// second element; each worker ends up with one element (DEADLOCK otherwise).
struct wake_two_workers : rl::test_suite<wake_two_workers, 3, expected_result(scenario::wake_two_workers)> {
  pool_part* pool = nullptr;
  rl::var<int> got[2];

  void before() {
    pool = new pool_part;
    for (auto& g : got) g(RL_INFO) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int v : {7, 8}) pool->push_and_wake(v);
    } else {
      got[index - 1](RL_INFO).store(pool->pop_or_sleep().get());
    }
  }

  void after() {
    const int a = got[0](RL_INFO).load();
    const int b = got[1](RL_INFO).load();
    RL_ASSERT((a == 7 && b == 8) || (a == 8 && b == 7));
    delete pool;
  }
};

/// (s) A worker's pop against a producer that finds the queue full and waits for room.
///
///   before:   the queue (capacity 2) holds 1, 2
///   thread 0 (worker, worker_main + after_pop): try_pop (gets 1), then wake_one (F3)
///   thread 1 (producer, submit + wait_for_space): try_push(3); if full, under the mutex,
///            sleep() (F4) around cv.wait(lock, try_push != full)
///
/// Proves: no lost wake-up — the producer's element always gets in (DEADLOCK if it waits
/// for ever); the queue ends holding 2, 3.
struct wake_space : rl::test_suite<wake_space, 2, expected_result(scenario::wake_space)> {
  pool_part* pool = nullptr;

  void before() {
    pool = new pool_part;
    for (int v : {1, 2}) {
      token t(v);
      RL_ASSERT(pool->queue.try_push(t) == push_result::ok);
    }
  }

  void thread(unsigned index) {
    pool_part& p = *pool;
    if (index == 0) {
      token t;
      RL_ASSERT(p.queue.try_pop(t) && t.get() == 1);
      p.count.wake_one(p.mutex, p.cv);
    } else {
      token t(3);
      push_result r = p.queue.try_push(t);
      if (r == push_result::full) {
        std::unique_lock<typename model_policy::mutex> lock(p.mutex);
        p.count.sleep([&] {
          p.cv.wait(lock, [&] {
            r = p.queue.try_push(t);
            return r != push_result::full;
          });
        });
      }
      RL_ASSERT(r == push_result::ok);
    }
  }

  void after() {
    for (int v : {2, 3}) {
      token t;
      RL_ASSERT(pool->queue.try_pop(t) && t.get() == v);
    }
    delete pool;
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("wake_work", sigs::models::wake_work),
                SIGS_MODEL("wake_two_workers", sigs::models::wake_two_workers),
                SIGS_MODEL("wake_space", sigs::models::wake_space))
