// Stopping a worker pool: a drain requested from one of its own tasks; the run state's move
// (running -> draining -> discarding, never back) when its compare-exchange fails
// spuriously, as the standard allows and LL/SC machines do (x86 never does); and a stop
// that meets a producer between claiming a queue cell and publishing it. The last two drive
// the pool's production protocol (sigs/detail/pool_core.hpp) with a test atomics policy
// that fails a CAS, or runs a hook before a store, on request.
#include <sigs/detail/pool_core.hpp>
#include <sigs/worker_pool.hpp>

#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

using namespace std::chrono_literals;
using sigs::errc;
using sigs::shutdown_mode;
using sigs::testing::watchdog;
using task = sigs::worker_pool::task;

constexpr auto hang_limit = 10s;

// ---------------------------------------------------------------- a drain from a task

// shutdown(drain) from a task cannot join its own worker: it returns would_deadlock, but the
// pool stops taking tasks at once, and the tasks already queued still run (a drain, unlike
// a discard, leaves them to the workers). The owner's shutdown() then joins.
TEST(PoolStop, ADrainFromATaskStopsThePoolAndLeavesTheQueuedTasksToRun) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  std::latch queued{1};
  std::error_code from_task;
  std::error_code late_submit;
  bool stopped_in_task = false;
  std::atomic<int> runs{0};
  std::atomic<int> drops{0};
  int late_drops = 0;
  task stopper = [&] {
    queued.wait();
    from_task = pool.shutdown(shutdown_mode::drain);
    stopped_in_task = pool.stopped();
    task late = task::with_discard([&] { runs.fetch_add(100); }, [&] { ++late_drops; });
    late_submit = pool.try_submit(late);  // refused: `late` stays here and is dropped unrun
  };
  ASSERT_FALSE(pool.try_submit(stopper));
  for (int i = 0; i < 3; ++i) {
    task t = task::with_discard([&] { runs.fetch_add(1); }, [&] { drops.fetch_add(1); });
    ASSERT_FALSE(pool.try_submit(t));
  }
  queued.count_down();
  EXPECT_FALSE(pool.shutdown());
  EXPECT_EQ(from_task, errc::would_deadlock);
  EXPECT_TRUE(stopped_in_task);
  EXPECT_EQ(late_submit, errc::pool_stopped);
  EXPECT_EQ(late_drops, 1);
  EXPECT_EQ(runs.load(), 3);  // the queued tasks ran
  EXPECT_EQ(drops.load(), 0);
  const auto s = pool.stats();
  EXPECT_EQ(s.submitted, 4u);
  EXPECT_EQ(s.completed, 4u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.rejected, 1u);
}

// ------------------------------------- the pool's protocol under a test atomics policy

// Per-thread switches of the policy.
thread_local int spurious_failures = 0;                // weak CASes still to fail
thread_local int weak_cas_calls = 0;                   // weak CASes attempted
thread_local std::function<void()> before_next_store;  // run once, before the next atomic store
thread_local bool is_worker = false;                   // a worker thread of the test
thread_local bool worker_saw_stop = false;             // it has read a stop state
// What the test threads did, for the main thread to wait on.
std::atomic<int> worker_loads_after_stop{0};  // atomic loads by a worker since it saw a stop
std::atomic<int> yields{0};                   // A::yield() calls, any thread
std::atomic<int> sleeps{0};                   // waits for work or room begun, any thread

/// std_atomics, with compare_exchange_weak failing spuriously while `spurious_failures` > 0,
/// a hook before a store (to stop a producer between claiming a cell and publishing it),
/// and counts of loads and yields (to know how far another thread has got).
struct test_atomics : sigs::detail::std_atomics {
  template <class T>
  class atomic : public std::atomic<T> {
   public:
    using std::atomic<T>::atomic;
    T load(std::memory_order order = std::memory_order_seq_cst) const noexcept {
      const T v = std::atomic<T>::load(order);
      if (is_worker) {
        if (worker_saw_stop) worker_loads_after_stop.fetch_add(1);
        if constexpr (std::is_same_v<T, sigs::detail::pool_state>) {
          if (v != sigs::detail::pool_state::running) worker_saw_stop = true;
        }
      }
      return v;
    }
    void store(T v, std::memory_order order = std::memory_order_seq_cst) noexcept {
      if (before_next_store) std::exchange(before_next_store, nullptr)();  // one-shot
      std::atomic<T>::store(v, order);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
      ++weak_cas_calls;
      if (spurious_failures > 0) {
        --spurious_failures;
        expected = std::atomic<T>::load(failure);  // a spurious failure still reports the current value
        return false;
      }
      return std::atomic<T>::compare_exchange_weak(expected, desired, success, failure);
    }
  };
  static void yield() noexcept {
    yields.fetch_add(1);
    std::this_thread::yield();
  }
};

/// The sleep/wake handshake is not under test here (detail/wake.hpp has its own models):
/// a wake count that always notifies, under the mutex, is correct if slower.
struct always_notify_traits {
  template <class A>
  struct wake_count {
    template <class Mutex, class CondVar>
    void wake_one(Mutex& m, CondVar& cv) {
      std::lock_guard<Mutex> sync(m);
      cv.notify_one();
    }
    template <class Wait>
    void sleep(Wait&& wait) {
      sleeps.fetch_add(1);
      wait();
    }
  };
  using space_condition_variable = std::condition_variable_any;
};

using core_t = sigs::detail::pool_core<test_atomics, always_notify_traits>;
using sigs::detail::pool_state;
using sigs::detail::push_result;

class PoolCore : public ::testing::Test {
 protected:
  void SetUp() override {
    spurious_failures = 0;
    weak_cas_calls = 0;
    before_next_store = nullptr;
    worker_loads_after_stop = 0;
    yields = 0;
    sleeps = 0;
  }
  void TearDown() override {
    spurious_failures = 0;
    before_next_store = nullptr;
  }
};

/// The worker hooks of pool_core::worker_loop: no statistics, run the task.
struct plain_worker {
  void idle_begin() noexcept {}
  void idle_end() noexcept {}
  void run(task& t) noexcept { t.run(); }
};

/// A task that counts its run or its discard.
task counted(int& runs, int& discards) {
  return task::with_discard([&runs] { ++runs; }, [&discards] { ++discards; });
}

// A stop whose state CAS fails spuriously retries until the state has moved: a drain is
// still a drain (queued tasks run), a later discard still discards, and a drain requested
// after the discard does not move the state back.
TEST_F(PoolCore, AStopWhoseCasFailsSpuriouslyRetriesUntilTheStateMoves) {
  core_t core(4);
  int runs = 0;
  int discards = 0;
  for (int i = 0; i < 3; ++i) {
    task t = counted(runs, discards);
    ASSERT_EQ(core.push_and_wake(t), push_result::ok);
  }

  spurious_failures = 2;
  weak_cas_calls = 0;
  core.request_stop(pool_state::draining);
  EXPECT_EQ(spurious_failures, 0);
  EXPECT_EQ(weak_cas_calls, 3);  // two spurious failures, then the state moved
  EXPECT_TRUE(core.stopped());
  task refused = counted(runs, discards);
  EXPECT_EQ(core.push_and_wake(refused), push_result::closed);
  refused.discard();
  EXPECT_EQ(discards, 1);

  // Draining: what a task takes from the queue runs.
  EXPECT_TRUE(core.run_one_queued([](task& t) noexcept { t.run(); }));
  EXPECT_EQ(runs, 1);

  spurious_failures = 1;
  weak_cas_calls = 0;
  core.request_stop(pool_state::discarding);
  EXPECT_EQ(weak_cas_calls, 2);
  // Discarding: what is taken is discarded and counted, not run.
  EXPECT_TRUE(core.run_one_queued([](task& t) noexcept { t.run(); }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(discards, 2);
  EXPECT_EQ(core.dropped(), 1u);

  weak_cas_calls = 0;
  core.request_stop(pool_state::draining);  // never back to a drain
  EXPECT_EQ(weak_cas_calls, 0);
  EXPECT_TRUE(core.run_one_queued([](task& t) noexcept { t.run(); }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(discards, 3);
  EXPECT_EQ(core.dropped(), 2u);
  EXPECT_FALSE(core.run_one_queued([](task& t) noexcept { t.run(); }));  // nothing left

  // No workers to join; shutdown() finds the queue drained.
  EXPECT_FALSE(core.shutdown(pool_state::discarding, false, [] {}));
  EXPECT_EQ(core.pushed(), 3u);
  EXPECT_EQ(static_cast<std::uint64_t>(runs) + core.dropped(), core.pushed());
}

// The queue's claims of a cell, by a producer and by a consumer, retry after a spurious
// failure too: nothing is lost or taken twice.
TEST_F(PoolCore, PushesAndPopsWhoseClaimFailsSpuriouslyRetry) {
  core_t core(2);
  int runs = 0;
  int discards = 0;
  spurious_failures = 1;
  task a = counted(runs, discards);
  EXPECT_EQ(core.push_and_wake(a), push_result::ok);
  EXPECT_EQ(spurious_failures, 0);
  EXPECT_FALSE(a);  // moved into the queue
  spurious_failures = 1;
  weak_cas_calls = 0;
  EXPECT_TRUE(core.run_one_queued([](task& t) noexcept { t.run(); }));
  EXPECT_EQ(weak_cas_calls, 2);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(core.run_one_queued([](task& t) noexcept { t.run(); }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(discards, 0);
}

// A producer caught between claiming a cell and publishing it when a discarding shutdown
// closes the queue: its push was accepted, so the joiner must not call the queue drained
// before it. It waits for the cell and discards the task: nothing is lost or left behind.
TEST_F(PoolCore, ADiscardWaitsForATaskStillBeingPublishedAndDiscardsIt) {
  core_t core(4);
  int runs = 0;
  int discards = 0;
  std::thread joiner;
  std::error_code joined = make_error_code(errc::listener_error);
  watchdog dog(hang_limit, "a discarding shutdown to wait for a cell being published");
  before_next_store = [&] {  // the cell is claimed, not yet published
    joiner = std::thread([&] { joined = core.shutdown(pool_state::discarding, false, [] {}); });
    while (yields.load() == 0) std::this_thread::yield();  // the joiner is waiting for the cell
  };
  task t = counted(runs, discards);
  EXPECT_EQ(core.push_and_wake(t), push_result::ok);
  joiner.join();
  EXPECT_FALSE(joined);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(discards, 1);
  EXPECT_EQ(core.pushed(), 1u);
  EXPECT_EQ(core.dropped(), 1u);
}

// The same producer when a drain begins while a worker sleeps: the worker, woken by the
// drain, finds the queue empty but not drained (a cell is claimed), so it must wait rather
// than stop; the publish wakes it, it runs the task, and only then does it stop.
TEST_F(PoolCore, ADrainingWorkerWaitsForATaskStillBeingPublishedAndRunsIt) {
  core_t core(4);
  int runs = 0;
  int discards = 0;
  plain_worker hooks;
  watchdog dog(hang_limit, "a draining worker to wait for a cell being published");
  std::thread worker([&] {
    is_worker = true;
    core.worker_loop(hooks);
  });
  while (sleeps.load() == 0) std::this_thread::yield();  // the worker waits for work
  before_next_store = [&] {                              // the cell is claimed, not yet published
    core.request_stop(pool_state::draining);
    // Woken, the worker reads the state, then looks for the cell (two loads) and checks
    // whether the queue is drained (two more): it saw a claimed cell and went back to sleep.
    while (worker_loads_after_stop.load() < 4) std::this_thread::yield();
  };
  task t = counted(runs, discards);
  EXPECT_EQ(core.push_and_wake(t), push_result::ok);
  worker.join();  // stops once the queue is drained
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(discards, 0);
  EXPECT_FALSE(core.shutdown(pool_state::draining, false, [] {}));
  EXPECT_EQ(core.pushed(), 1u);
  EXPECT_EQ(core.dropped(), 0u);
}

}  // namespace
