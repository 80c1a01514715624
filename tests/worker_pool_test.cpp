// Tests of sigs::worker_pool (its task type has its own: task_test.cpp).
//
// No test measures time: waits are on latches or on conditions polled with yield(), and
// ctest's timeout is the only clock. Each test joins every thread it starts.
#include <sigs/worker_pool.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <latch>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

namespace {

using sigs::errc;
using sigs::shutdown_mode;
using sigs::worker_pool;
using sigs::worker_pool_options;
using task = sigs::worker_pool::task;

template <class Pred>
void wait_until(Pred pred) {
  while (!pred()) std::this_thread::yield();
}

// A task that parks its worker until released, so a test controls when the queue moves.
struct gate {
  std::latch entered{1};
  std::latch released{1};
  task make() {
    return [this] {
      entered.count_down();
      released.wait();
    };
  }
  void open() { released.count_down(); }
};

worker_pool_options opts(unsigned threads, std::size_t capacity) {
  worker_pool_options o;
  o.threads = threads;
  o.queue_capacity = capacity;
  return o;
}

// One worker parked on `g`, and the queue (capacity 2) full behind it.
void park_and_fill(worker_pool& pool, gate& g, std::atomic<int>& ran) {
  task parked = g.make();
  ASSERT_FALSE(pool.try_submit(parked));
  g.entered.wait();
  for (int i = 0; i < 2; ++i) {
    task t = [&ran] { ran.fetch_add(1); };
    ASSERT_FALSE(pool.try_submit(t));
  }
}

void expect_balanced(const sigs::worker_pool_stats& s) {
  EXPECT_EQ(s.submitted, s.completed + s.dropped);
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_EQ(s.active_workers, 0u);
}

TEST(WorkerPool, DefaultOptionsUseHardwareConcurrencyAndCapacity1024) {
  const worker_pool_options o;
  EXPECT_EQ(o.threads, std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(o.queue_capacity, 1024u);
  worker_pool pool;
  EXPECT_EQ(pool.threads(), o.threads);
  EXPECT_EQ(pool.queue_capacity(), 1024u);
  const auto s = pool.stats();
  EXPECT_EQ(s.threads, o.threads);
  EXPECT_EQ(s.queue_capacity, 1024u);
}

TEST(WorkerPool, ZeroThreadsAndZeroCapacityAreClamped) {
  worker_pool pool(opts(0, 0));  // documented: 0 threads -> 1, capacity 0 -> 2
  EXPECT_EQ(pool.threads(), 1u);
  EXPECT_EQ(pool.queue_capacity(), 2u);
  std::atomic<int> ran{0};
  task t = [&] { ran.fetch_add(1); };
  EXPECT_FALSE(pool.submit(t));
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
}

TEST(WorkerPool, CapacityIsRoundedUpAndAnAbsurdOneThrows) {
  worker_pool pool(opts(1, 3));
  EXPECT_EQ(pool.queue_capacity(), 4u);
  EXPECT_THROW(worker_pool(opts(1, ~std::size_t(0))), std::length_error);
}

TEST(WorkerPool, RunsEveryTaskOnceAndCountsIt) {
  worker_pool pool(opts(2, 16));
  constexpr int n = 1000;
  std::vector<int> written(n, 0);  // plain ints: submit happens-before run
  std::vector<std::atomic<int>> runs(n);
  for (int i = 0; i < n; ++i) {
    written[static_cast<std::size_t>(i)] = i + 1;
    task t = [&, i] {
      EXPECT_EQ(written[static_cast<std::size_t>(i)], i + 1);
      runs[static_cast<std::size_t>(i)].fetch_add(1);
    };
    ASSERT_FALSE(pool.submit(t));
    EXPECT_FALSE(t);  // moved into the pool
  }
  EXPECT_FALSE(pool.shutdown());
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  const auto s = pool.stats();
  EXPECT_EQ(s.submitted, static_cast<std::uint64_t>(n));
  EXPECT_EQ(s.completed, static_cast<std::uint64_t>(n));
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.exceptions, 0u);
  expect_balanced(s);
}

TEST(WorkerPool, CompletedCountPublishesTheTasksEffects) {
  worker_pool pool(opts(2, 8));
  int plain = 0;  // written by the task, read after stats() counts it: (C1)/(C2)
  task t = [&plain] { plain = 7; };
  ASSERT_FALSE(pool.try_submit(t));
  wait_until([&] { return pool.stats().completed == 1; });
  EXPECT_EQ(plain, 7);
}

TEST(WorkerPool, EmptyTasksAreRefusedAsInvalid) {
  worker_pool pool(opts(1, 4));
  task empty;
  EXPECT_EQ(pool.try_submit(empty), errc::invalid_listener);
  EXPECT_EQ(pool.submit(empty), errc::invalid_listener);
  EXPECT_EQ(pool.stats().rejected, 2u);
  EXPECT_EQ(pool.stats().submitted, 0u);
}

TEST(WorkerPool, TrySubmitReportsBackpressureAndLeavesTheTaskWithTheCaller) {
  worker_pool pool(opts(1, 2));
  gate g;
  std::atomic<int> ran{0};
  park_and_fill(pool, g, ran);
  int caller_ran = 0;
  task t = [&caller_ran] { ++caller_ran; };
  EXPECT_EQ(pool.try_submit(t), errc::backpressure);
  ASSERT_TRUE(t);  // still ours: caller_runs
  t.run();
  EXPECT_EQ(caller_ran, 1);
  EXPECT_EQ(pool.stats().rejected, 1u);
  EXPECT_EQ(pool.stats().queue_depth, 2u);
  g.open();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 2);
  expect_balanced(pool.stats());
}

TEST(WorkerPool, SubmissionsAfterShutdownFailWithPoolStoppedAndKeepTheTask) {
  worker_pool pool(opts(2, 4));
  EXPECT_FALSE(pool.stopped());
  EXPECT_FALSE(pool.shutdown(shutdown_mode::drain));
  EXPECT_TRUE(pool.stopped());
  int drops = 0;
  int runs = 0;
  task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
  EXPECT_EQ(pool.try_submit(t), errc::pool_stopped);
  EXPECT_EQ(pool.submit(t), errc::pool_stopped);
  EXPECT_EQ(pool.submit(t, sigs::context().with_timeout(std::chrono::hours(1))), errc::pool_stopped);
  ASSERT_TRUE(t);
  EXPECT_EQ(drops, 0);  // nothing happened to it
  t.run();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(pool.stats().rejected, 3u);
}

TEST(WorkerPool, ShutdownIsIdempotentInEveryOrder) {
  worker_pool a(opts(2, 4));
  EXPECT_FALSE(a.shutdown(shutdown_mode::drain));
  EXPECT_FALSE(a.shutdown(shutdown_mode::drain));
  EXPECT_FALSE(a.shutdown(shutdown_mode::discard));
  worker_pool b(opts(2, 4));
  EXPECT_FALSE(b.shutdown(shutdown_mode::discard));
  EXPECT_FALSE(b.shutdown(shutdown_mode::drain));
  expect_balanced(a.stats());
  expect_balanced(b.stats());
}

TEST(WorkerPool, ConcurrentShutdownsAllReturnAfterTheJoin) {
  worker_pool pool(opts(2, 64));
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) {
    task t = [&] { ran.fetch_add(1); };
    ASSERT_FALSE(pool.submit(t));
  }
  std::vector<std::thread> closers;
  for (int i = 0; i < 3; ++i) closers.emplace_back([&] { EXPECT_FALSE(pool.shutdown()); });
  for (auto& c : closers) c.join();
  EXPECT_EQ(ran.load(), 50);
  expect_balanced(pool.stats());
}

TEST(WorkerPool, DrainClosesAtOnceThenRunsEverythingQueued) {
  worker_pool pool(opts(1, 4));
  gate g;
  std::atomic<int> ran{0};
  int drops = 0;
  task parked = g.make();
  ASSERT_FALSE(pool.try_submit(parked));
  g.entered.wait();
  for (int i = 0; i < 3; ++i) {
    task t = task::with_discard([&] { ran.fetch_add(1); }, [&] { ++drops; });
    ASSERT_FALSE(pool.try_submit(t));
  }
  std::thread closer([&] { EXPECT_FALSE(pool.shutdown(shutdown_mode::drain)); });
  wait_until([&] { return pool.stopped(); });
  task late = [] {};
  EXPECT_EQ(pool.try_submit(late), errc::pool_stopped);
  g.open();
  closer.join();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(drops, 0);
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 4u);
  EXPECT_EQ(s.dropped, 0u);
  expect_balanced(s);
}

TEST(WorkerPool, DiscardDropsQueuedTasksCallingAndCountingEach) {
  worker_pool pool(opts(1, 4));
  gate g;
  int runs = 0;
  int drops = 0;
  task parked = g.make();
  ASSERT_FALSE(pool.try_submit(parked));
  g.entered.wait();
  for (int i = 0; i < 3; ++i) {
    task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
    ASSERT_FALSE(pool.try_submit(t));
  }
  std::thread closer([&] { EXPECT_FALSE(pool.shutdown(shutdown_mode::discard)); });
  wait_until([&] { return pool.stopped(); });
  g.open();
  closer.join();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(drops, 3);
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 1u);  // the parked task
  EXPECT_EQ(s.dropped, 3u);
  expect_balanced(s);
}

TEST(WorkerPool, ShutdownFromATaskReturnsWouldDeadlockAndCanTurnADrainIntoADiscard) {
  worker_pool pool(opts(1, 4));
  std::latch entered{1};
  std::latch released{1};
  std::error_code from_task;
  task parked = [&] {
    entered.count_down();
    released.wait();
    from_task = pool.shutdown(shutdown_mode::discard);
    EXPECT_TRUE(pool.on_worker_thread());
  };
  ASSERT_FALSE(pool.try_submit(parked));
  entered.wait();
  int runs = 0;
  int drops = 0;
  for (int i = 0; i < 2; ++i) {
    task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
    ASSERT_FALSE(pool.try_submit(t));
  }
  std::thread closer([&] { EXPECT_FALSE(pool.shutdown(shutdown_mode::drain)); });
  wait_until([&] { return pool.stopped(); });
  released.count_down();
  closer.join();
  EXPECT_EQ(from_task, errc::would_deadlock);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(drops, 2);
  EXPECT_EQ(pool.stats().dropped, 2u);
  expect_balanced(pool.stats());
}

// A discard called from a task discards the queued tasks before it returns (each hook
// once, on that task's thread, counted in `dropped`), instead of leaving them to the join,
// which only another thread can do, and later: until then whatever waited for them (an
// async_signal's destructor) waited too.
TEST(WorkerPool, DiscardFromATaskDiscardsTheQueuedTasksBeforeItReturns) {
  worker_pool pool(opts(1, 8));
  std::latch queued{1};
  std::atomic<int> drops{0};
  std::atomic<int> drops_elsewhere{0};
  int runs = 0;
  int drops_when_returned = -1;
  std::uint64_t dropped_when_returned = 0;
  std::error_code from_task;
  std::thread::id task_thread;
  task stopper = [&] {
    task_thread = std::this_thread::get_id();
    queued.wait();
    from_task = pool.shutdown(shutdown_mode::discard);
    drops_when_returned = drops.load();
    dropped_when_returned = pool.stats().dropped;
  };
  ASSERT_FALSE(pool.try_submit(stopper));
  for (int i = 0; i < 4; ++i) {
    task t = task::with_discard([&] { ++runs; },
                                [&] {
                                  drops.fetch_add(1);
                                  if (std::this_thread::get_id() != task_thread) drops_elsewhere.fetch_add(1);
                                });
    ASSERT_FALSE(pool.try_submit(t));
  }
  queued.count_down();
  EXPECT_FALSE(pool.shutdown());  // joins; a drain that the task's discard overrides
  EXPECT_EQ(from_task, errc::would_deadlock);
  EXPECT_EQ(drops_when_returned, 4);
  EXPECT_EQ(dropped_when_returned, 4u);
  EXPECT_EQ(drops_elsewhere.load(), 0);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(drops.load(), 4);  // each hook once, also after the join
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, 1u);
  EXPECT_EQ(s.dropped, 4u);
  expect_balanced(s);
}

// The same discard while producers keep submitting, some of them caught between claiming a
// cell and publishing it when the queue closes: every accepted task runs or is discarded
// exactly once, and the counts balance after the join.
TEST(WorkerPool, StressDiscardFromATaskWhileSubmittingLosesNothing) {
  for (int round = 0; round < 20; ++round) {
    worker_pool pool(opts(2, 16));
    constexpr int producers = 3;
    std::atomic<long> accepted{0};
    std::atomic<long> refused{0};  // destroyed unrun by the producer: their hook runs too
    std::atomic<long> ran{0};
    std::atomic<long> hooks{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&] {
        for (;;) {
          task t = task::with_discard([&] { ran.fetch_add(1); }, [&] { hooks.fetch_add(1); });
          const std::error_code ec = pool.try_submit(t);
          if (!ec) {
            accepted.fetch_add(1);
            continue;
          }
          refused.fetch_add(1);
          if (ec == errc::pool_stopped) return;
          std::this_thread::yield();
        }
      });
    }
    while (accepted.load() < 50) std::this_thread::yield();
    task discarder = [&] { EXPECT_EQ(pool.shutdown(shutdown_mode::discard), errc::would_deadlock); };
    ASSERT_FALSE(pool.submit(discarder));  // waits for room: we are not a worker
    for (std::thread& t : threads) t.join();
    EXPECT_FALSE(pool.shutdown());
    const auto s = pool.stats();
    expect_balanced(s);
    EXPECT_EQ(static_cast<long>(s.submitted), accepted.load() + 1);  // and the discarder
    EXPECT_EQ(ran.load() + hooks.load(), accepted.load() + refused.load());
    EXPECT_EQ(static_cast<long>(s.dropped), hooks.load() - refused.load());
  }
}

TEST(WorkerPool, ATaskThatThrowsIsCountedAndDoesNotKillItsWorker) {
  worker_pool pool(opts(1, 8));
  std::atomic<int> ran{0};
  task a = [] { throw std::runtime_error("boom"); };
  task b = [] { throw 42; };
  task c = [&] { ran.fetch_add(1); };
  ASSERT_FALSE(pool.submit(a));
  ASSERT_FALSE(pool.submit(b));
  ASSERT_FALSE(pool.submit(c));
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
  const auto s = pool.stats();
  EXPECT_EQ(s.exceptions, 2u);
  EXPECT_EQ(s.completed, 3u);
  expect_balanced(s);
}

TEST(WorkerPool, BlockingSubmitWaitsForRoom) {
  worker_pool pool(opts(1, 2));
  gate g;
  std::atomic<int> ran{0};
  park_and_fill(pool, g, ran);
  std::thread producer([&] {
    task t = [&] { ran.fetch_add(1); };
    EXPECT_FALSE(pool.submit(t));
    EXPECT_FALSE(t);
  });
  for (int i = 0; i < 100; ++i) std::this_thread::yield();  // let it reach the wait (not required)
  g.open();
  producer.join();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(pool.stats().rejected, 0u);
  expect_balanced(pool.stats());
}

TEST(WorkerPool, BlockingSubmitReturnsCanceledWhenTheContextIsStopped) {
  worker_pool pool(opts(1, 2));
  gate g;
  std::atomic<int> ran{0};
  park_and_fill(pool, g, ran);
  std::stop_source stop;
  std::atomic<bool> failed{false};
  std::thread producer([&] {
    task t = [] {};
    EXPECT_EQ(pool.submit(t, sigs::context(stop.get_token())), errc::canceled);
    EXPECT_TRUE(t);  // still ours
    failed.store(true);
  });
  for (int i = 0; i < 100; ++i) std::this_thread::yield();
  stop.request_stop();
  producer.join();
  EXPECT_TRUE(failed.load());
  EXPECT_EQ(pool.stats().rejected, 1u);
  g.open();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 2);
  expect_balanced(pool.stats());
}

TEST(WorkerPool, BlockingSubmitWithAnAlreadyFinishedContextFailsWithoutEnqueuing) {
  worker_pool pool(opts(1, 8));
  std::stop_source stop;
  stop.request_stop();
  task t = [] {};
  EXPECT_EQ(pool.submit(t, sigs::context(stop.get_token())), errc::canceled);
  const auto past = sigs::context::clock::now() - std::chrono::seconds(1);
  EXPECT_EQ(pool.submit(t, sigs::context().with_deadline(past)), errc::deadline_exceeded);
  EXPECT_TRUE(t);
  EXPECT_EQ(pool.stats().submitted, 0u);
  EXPECT_EQ(pool.stats().rejected, 2u);
}

TEST(WorkerPool, BlockingSubmitReturnsDeadlineExceededWhenNoRoomInTime) {
  worker_pool pool(opts(1, 2));
  gate g;
  std::atomic<int> ran{0};
  park_and_fill(pool, g, ran);
  task t = [] {};
  EXPECT_EQ(pool.submit(t, sigs::context().with_timeout(std::chrono::milliseconds(1))), errc::deadline_exceeded);
  EXPECT_TRUE(t);
  g.open();
  pool.shutdown();
  expect_balanced(pool.stats());
}

TEST(WorkerPool, BlockingSubmitReturnsPoolStoppedWhenShutDownWhileWaiting) {
  worker_pool pool(opts(1, 2));
  gate g;
  std::atomic<int> ran{0};
  park_and_fill(pool, g, ran);
  std::thread producer([&] {
    task t = [] {};
    EXPECT_EQ(pool.submit(t), errc::pool_stopped);
    EXPECT_TRUE(t);
  });
  // Let it get past its spins into the wait (not required: a producer still spinning sees
  // the closed queue directly and returns the same error).
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread closer([&] { pool.shutdown(shutdown_mode::discard); });
  producer.join();  // woken by the shutdown, although the queue is still full
  g.open();
  closer.join();
  const auto s = pool.stats();
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(ran.load(), 0);
  expect_balanced(s);
}

TEST(WorkerPool, SubmitFromItsOwnWorkerOnAFullQueueReturnsWouldDeadlock) {
  worker_pool pool(opts(1, 2));
  std::atomic<int> ran{0};
  std::error_code blocking;
  std::error_code non_blocking;
  int inline_runs = 0;
  std::latch done{1};
  task outer = [&] {
    for (int i = 0; i < 2; ++i) {
      task t = [&] { ran.fetch_add(1); };
      EXPECT_FALSE(pool.submit(t));
    }
    task t = [&] { ++inline_runs; };
    blocking = pool.submit(t);  // would wait for this very thread
    non_blocking = pool.try_submit(t);
    t.run();
    done.count_down();
  };
  ASSERT_FALSE(pool.submit(outer));
  done.wait();  // shutting down earlier would refuse the inner submissions
  pool.shutdown();
  EXPECT_EQ(blocking, errc::would_deadlock);
  EXPECT_EQ(non_blocking, errc::backpressure);
  EXPECT_EQ(inline_runs, 1);
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPool, OnWorkerThreadIsTrueOnlyInsideThisPoolsTasks) {
  worker_pool a(opts(1, 4));
  worker_pool b(opts(1, 4));
  EXPECT_FALSE(a.on_worker_thread());
  std::atomic<int> in_a{-1};
  std::atomic<int> a_in_b{-1};
  task ta = [&] { in_a.store(a.on_worker_thread() ? 1 : 0); };
  task tb = [&] { a_in_b.store(a.on_worker_thread() ? 1 : 0); };
  ASSERT_FALSE(a.submit(ta));
  ASSERT_FALSE(b.submit(tb));
  a.shutdown();
  b.shutdown();
  EXPECT_EQ(in_a.load(), 1);
  EXPECT_EQ(a_in_b.load(), 0);
}

TEST(WorkerPool, StatsReportActiveWorkersAndQueueDepth) {
  worker_pool pool(opts(1, 4));
  gate g;
  task parked = g.make();
  ASSERT_FALSE(pool.try_submit(parked));
  g.entered.wait();
  wait_until([&] { return pool.stats().active_workers == 1; });
  for (int i = 0; i < 3; ++i) {
    task t = [] {};
    ASSERT_FALSE(pool.try_submit(t));
  }
  auto s = pool.stats();
  EXPECT_EQ(s.queue_depth, 3u);
  EXPECT_EQ(s.submitted, 4u);
  EXPECT_EQ(s.completed, 0u);
  g.open();
  pool.shutdown();
  s = pool.stats();
  EXPECT_EQ(s.completed, 4u);
  expect_balanced(s);
}

TEST(WorkerPool, IdleTimeCountsWaitsInProgressAndFinished) {
  worker_pool pool(opts(1, 4));
  wait_until([&] { return pool.stats().idle_time > std::chrono::nanoseconds(0); });
  pool.shutdown();
  EXPECT_GT(pool.stats().idle_time, std::chrono::nanoseconds(0));
}

TEST(WorkerPool, DestructorDrains) {
  std::atomic<int> ran{0};
  {
    worker_pool pool(opts(1, 128));
    for (int i = 0; i < 100; ++i) {
      task t = [&] { ran.fetch_add(1); };
      ASSERT_FALSE(pool.submit(t));
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

// Several producers on a queue of two cells: blocking producers and caller-runs producers.
// Every task runs exactly once, on a worker or on its producer.
TEST(WorkerPool, StressTinyQueueEveryTaskRunsExactlyOnce) {
  worker_pool pool(opts(3, 2));
  constexpr int producers = 4;
  constexpr int per_producer = 1500;
  std::vector<std::atomic<int>> runs(std::size_t{producers} * per_producer);
  std::atomic<std::uint64_t> caller_ran{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        const auto id = static_cast<std::size_t>(p) * per_producer + i;
        task t = [&runs, id] { runs[id].fetch_add(1, std::memory_order_relaxed); };
        if (p % 2 == 0) {
          EXPECT_FALSE(pool.submit(t));
        } else if (pool.try_submit(t)) {
          t.run();  // caller_runs
          caller_ran.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  pool.shutdown();
  for (std::size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "task " << i;
  const auto s = pool.stats();
  EXPECT_EQ(s.submitted + caller_ran.load(), static_cast<std::uint64_t>(producers * per_producer));
  EXPECT_EQ(s.rejected, caller_ran.load());
  EXPECT_EQ(s.dropped, 0u);
  expect_balanced(s);
}

// Producers race a shutdown(discard): every task ends in exactly one run or one discard
// (through the pool, or through the destructor of a refused task), never both, never none.
TEST(WorkerPool, StressShutdownWhileSubmittingLosesNothing) {
  worker_pool pool(opts(2, 4));
  constexpr int producers = 3;
  constexpr int per_producer = 2000;
  std::vector<std::atomic<int>> ended(std::size_t{producers} * per_producer);  // runs + discards
  std::vector<std::atomic<int>> ran(std::size_t{producers} * per_producer);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        const auto id = static_cast<std::size_t>(p) * per_producer + i;
        task t = task::with_discard(
            [&, id] {
              ran[id].fetch_add(1);
              ended[id].fetch_add(1);
            },
            [&, id] { ended[id].fetch_add(1); });
        std::error_code ec;
        while ((ec = pool.try_submit(t)) == errc::backpressure) std::this_thread::yield();
        if (ec) {
          EXPECT_EQ(ec, errc::pool_stopped);
        }
        // a refused task is discarded here, by its destructor
      }
    });
  }
  wait_until([&] { return pool.stats().submitted >= 300; });
  pool.shutdown(shutdown_mode::discard);
  for (auto& t : threads) t.join();
  std::uint64_t total_ran = 0;
  for (std::size_t i = 0; i < ended.size(); ++i) {
    ASSERT_EQ(ended[i].load(), 1) << "task " << i;
    total_ran += static_cast<std::uint64_t>(ran[i].load());
  }
  const auto s = pool.stats();
  EXPECT_EQ(s.completed, total_ran);
  expect_balanced(s);
}

// The one documented way a pool is destroyed by one of its own tasks: exit() from a task of
// the global pool runs the static destructors on that worker. The pool must join its other
// workers, leave the calling one alone, and let the process exit with the task's status.
// As for any static object, no other thread may be using the pool while exit() destroys it:
// the task waits until submit() has returned (submit's notify of the worker once raced the
// destructor under TSan), and the submitter then sleeps without touching any static object.
TEST(WorkerPoolDeathTest, ExitFromATaskOfTheGlobalPoolExitsCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes: a fresh global pool
  EXPECT_EXIT(
      {
        worker_pool::set_global_threads(2);
        static std::atomic<bool> submitted{false};
        task t = [] {
          // acquire, pairs with the submitter's release store: submit() has returned.
          while (!submitted.load(std::memory_order_acquire)) std::this_thread::yield();
          std::exit(7);
        };
        if (!worker_pool::global().submit(t)) {
          submitted.store(true, std::memory_order_release);             // pairs with the task's acquire
          for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // the task ends it
        }
      },
      ::testing::ExitedWithCode(7), "");
}

// A global pool that cannot be built (here: an absurd queue capacity) reports it to every
// caller of global(); its options were claimed by that first call and stay locked.
TEST(WorkerPoolDeathTest, AGlobalPoolThatCannotBeBuiltThrowsFromGlobal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes: the global pool is unused
  EXPECT_EXIT(
      {
        bool ok = worker_pool::set_global_options(opts(1, ~std::size_t(0)));
        for (int attempt = 0; attempt < 2; ++attempt) {
          try {
            (void)worker_pool::global();
            ok = false;
          } catch (const std::length_error&) {}
        }
        ok = ok && !worker_pool::set_global_threads(1);
        std::exit(ok ? 3 : 4);
      },
      ::testing::ExitedWithCode(3), "");
}

TEST(WorkerPool, GlobalPoolIsConfigurableOnlyBeforeFirstUse) {
  // The only test that touches the global pool; it is drained at exit (LeakSanitizer-clean).
  static bool used_before = false;  // --gtest_repeat: the pool outlives the first round
  if (std::exchange(used_before, true)) {
    EXPECT_FALSE(worker_pool::set_global_threads(2));
    GTEST_SKIP() << "the global pool was created by an earlier repetition";
  }
  EXPECT_TRUE(worker_pool::set_global_options(opts(3, 8)));
  EXPECT_TRUE(worker_pool::set_global_threads(2));  // keeps the capacity set above
  worker_pool& global = worker_pool::global();
  EXPECT_EQ(&global, &worker_pool::global());
  EXPECT_EQ(global.threads(), 2u);
  EXPECT_EQ(global.queue_capacity(), 8u);
  EXPECT_FALSE(worker_pool::set_global_threads(4));
  EXPECT_FALSE(worker_pool::set_global_options(opts(4, 16)));
  EXPECT_EQ(global.threads(), 2u);
  std::latch done{1};
  task t = [&] { done.count_down(); };
  ASSERT_FALSE(global.submit(t));
  done.wait();
  EXPECT_FALSE(global.stopped());
  // One task left queued at exit: the static destructor must drain it without deadlock.
  task at_exit = [] {};
  EXPECT_FALSE(global.submit(at_exit));
}

}  // namespace
