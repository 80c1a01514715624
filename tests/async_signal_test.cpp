// Unit and stress tests of sigs::async_signal: emission that returns at once, overflow
// policies, completion, drain, errors on workers, cancellation, once-listeners, and the
// accounting invariant delivered + dropped + skipped == emitted x listeners.
#include <sigs/sigs.hpp>

#include <testing/pool_options.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using sigs::async_signal;
using sigs::errc;
using sigs::overflow_policy;
using sigs::testing::on;

/// A gate listeners can wait on, so a test controls when workers are busy.
struct gate {
  std::atomic<bool> open{false};
  void wait() const {
    while (!open.load()) std::this_thread::sleep_for(100us);
  }
};

TEST(AsyncSignal, EmitReturnsBeforeTheListenerRuns) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  gate g;
  std::atomic<int> got{0};
  sig.add_listener([&](const int& v) {
    g.wait();
    got = v;
  });
  sig.emit(5);  // would hang here if emit waited for the listener
  EXPECT_EQ(got.load(), 0);
  g.open = true;
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(got.load(), 5);
  EXPECT_EQ(sig.stats().delivered, 1u);
}

TEST(AsyncSignal, ListenersRunOnWorkersNotTheCaller) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 16});
  async_signal<int> sig(on(pool));
  std::atomic<int> on_caller{0}, calls{0};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 4; ++i) {
    sig.add_listener([&](const int&) {
      calls++;
      if (std::this_thread::get_id() == caller) on_caller++;
    });
  }
  for (int i = 0; i < 50; ++i) sig.emit(i);
  sig.drain();
  EXPECT_EQ(calls.load(), 200);
  EXPECT_EQ(on_caller.load(), 0);
}

// With idle workers, the listeners of one emission run concurrently: each of these two
// listeners waits until the other has started, which only a second worker makes possible.
TEST(AsyncSignal, OneEmissionSpreadsOverIdleWorkers) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 8});
  while (pool.idle_workers() < 2) std::this_thread::yield();  // both workers waiting for work
  async_signal<int> sig(on(pool));
  std::atomic<int> started{0};
  std::atomic<int> saw_the_other{0};
  auto both = [&](const int&) {
    started.fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (started.load() < 2 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    if (started.load() == 2) saw_the_other.fetch_add(1);
  };
  sig.add_listener(both);
  sig.add_listener(both);
  ASSERT_FALSE(sig.emit_and_wait(0));
  EXPECT_EQ(saw_the_other.load(), 2);
}

TEST(AsyncSignal, PayloadIsCopiedOnceOrMoved) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<std::string> sig(on(pool));
  std::vector<std::string> seen;
  std::mutex m;
  sig.add_listener([&](const std::string& s) {
    std::lock_guard<std::mutex> l(m);
    seen.push_back(s);
  });
  std::string a(100, 'a');
  sig.emit(a);
  sig.emit(std::string(50, 'b'));
  {
    std::string temp = "gone soon";
    sig.emit(temp);
  }  // the emission holds its own copy
  sig.drain();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], "gone soon");
  EXPECT_EQ(a.size(), 100u);
}

TEST(AsyncSignal, RegistrationApiMatchesSyncSignal) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  EXPECT_TRUE(sig.add_listener([](const int&) {}, "a"));
  EXPECT_EQ(sig.add_listener([](const int&) {}, "a").error(), errc::duplicate_key);
  EXPECT_EQ(sig.add_listener(std::function<void(const int&)>{}).error(), errc::invalid_listener);
  EXPECT_TRUE(sig.add_listener_with_err([](const int&) -> std::error_code { return {}; }, "e"));
  EXPECT_TRUE(sig.add_once_with_key([](const int&) {}, "o"));
  EXPECT_EQ(sig.size(), 3u);
  EXPECT_EQ(sig.keys(), (std::vector<std::string>{"a", "e", "o"}));
  EXPECT_TRUE(sig.metadata("o")->is_once);
  EXPECT_FALSE(sig.remove_listener("a"));
  EXPECT_EQ(sig.remove_listener("a"), errc::not_found);
  sig.reset();
  EXPECT_TRUE(sig.empty());
}

TEST(AsyncSignal, OnceFiresExactlyOnceHoweverManyEmissionsAreQueued) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 256});
  async_signal<int> sig(on(pool));
  std::atomic<int> once{0}, plain{0};
  sig.add_once([&](const int&) { once++; });
  sig.add_listener([&](const int&) { plain++; });
  for (int i = 0; i < 100; ++i) sig.emit(i);
  sig.drain();
  EXPECT_EQ(once.load(), 1);
  EXPECT_EQ(plain.load(), 100);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 101u);
  EXPECT_EQ(s.delivered + s.dropped + s.skipped, 200u);  // 99 emissions found it fired
  EXPECT_EQ(sig.size(), 1u);
}

// Regression (docs/regressions.md #2): an emission refused before it was queued
// counted size(), which leaves out a fired once-listener that queued emissions still count
// (as skipped) while it stays in the snapshot. Both now count the snapshot.
TEST(AsyncSignal, AFiredOnceListenerCountsAlikeInRefusedAndQueuedEmissions) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  sig.add_once([](const int&) {});
  sig.add_listener([](const int&) {});
  ASSERT_FALSE(sig.emit_and_wait(0));  // the once-listener fires; size() is 1 from now on
  ASSERT_EQ(sig.size(), 1u);
  std::stop_source stop;
  stop.request_stop();
  sigs::completion refused = sig.emit_tracked(sigs::context(stop.get_token()), 1);  // never queued
  sigs::completion queued = sig.emit_tracked(2);
  refused.wait();
  queued.wait();
  auto total = [](const sigs::completion& c) { return c.delivered() + c.dropped() + c.skipped(); };
  EXPECT_EQ(total(refused), 2u);
  EXPECT_EQ(refused.dropped(), 2u);
  EXPECT_EQ(total(queued), 2u);
  EXPECT_EQ(queued.skipped(), 1u);
  ASSERT_FALSE(sig.drain());
  auto s = sig.stats();
  EXPECT_EQ(s.delivered + s.dropped + s.skipped, 3u * 2u);
  // A write republishes the snapshot without the fired once-listener.
  ASSERT_FALSE(sig.remove_listener(sig.add_listener([](const int&) {})));
  sigs::completion after_write = sig.emit_tracked(sigs::context(stop.get_token()), 3);
  after_write.wait();
  EXPECT_EQ(after_write.dropped(), 1u);
}

TEST(AsyncSignal, CancelledContextSkipsListenersNotStarted) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::stop_source stop;
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) {
    calls++;
    stop.request_stop();  // cancels the rest of this emission
  });
  sig.add_listener([&](const int&) { calls++; });
  sig.add_listener([&](const int&) { calls++; });
  auto c = sig.emit_tracked(sigs::context(stop.get_token()), 0);
  c.wait();
  // One worker claims listeners in order, so exactly the first ran.
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(c.delivered(), 1u);
  EXPECT_EQ(c.dropped(), 2u);
  EXPECT_EQ(c.error(), errc::canceled);
  // Already cancelled at emit: nothing is queued; try_emit reports it.
  EXPECT_EQ(sig.try_emit(sigs::context(stop.get_token()), 0).error, errc::canceled);
  sig.emit(sigs::context(stop.get_token()), 0);
  sig.drain();
  EXPECT_EQ(calls.load(), 1);
  auto s = sig.stats();
  EXPECT_EQ(s.dropped, 5u);
  EXPECT_EQ(s.rejected, 1u);
}

TEST(AsyncSignal, ExpiredDeadlineDropsTheEmission) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) { calls++; });
  auto past = sigs::context().with_deadline(sigs::context::clock::now() - 1s);
  auto c = sig.emit_tracked(past, 0);
  c.wait();
  EXPECT_EQ(c.error(), errc::deadline_exceeded);
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(sig.emit_and_wait(past, 0), errc::deadline_exceeded);
}

TEST(AsyncSignal, ErrorsAndExceptionsStayOnTheWorker) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 16});
  async_signal<int> sig(on(pool));
  std::atomic<int> handled{0}, good{0};
  sig.set_error_handler([&](const sigs::listener_error&) { handled++; });
  auto thrower = sig.add_listener([](const int&) { throw std::runtime_error("boom"); }, "t");
  sig.add_listener_with_err([](const int&) -> std::error_code { return errc::listener_error; }, "e");
  sig.add_listener([&](const int&) { good++; });
  auto c = sig.emit_tracked(1);
  c.wait();
  EXPECT_EQ(good.load(), 1);
  EXPECT_EQ(c.delivered(), 3u);
  auto failures = c.failures();
  ASSERT_EQ(failures.size(), 2u);
  for (const auto& f : failures) {
    if (f.key == "t") {
      EXPECT_EQ(f.error, errc::listener_exception);
      EXPECT_THROW(std::rethrow_exception(f.exception), std::runtime_error);
    } else {
      EXPECT_EQ(f.key, "e");
      EXPECT_EQ(f.error, errc::listener_error);
    }
  }
  EXPECT_TRUE(c.error());
  for (int i = 0; i < 20; ++i) sig.emit(i);  // the workers survive
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(good.load(), 21);
  EXPECT_EQ(handled.load(), 42);
  EXPECT_EQ(sig.metadata(thrower)->error_count, 21u);
  EXPECT_EQ(sig.stats().exceptions, 21u);
  EXPECT_EQ(pool.stats().exceptions, 0u);  // none escaped to the pool
}

TEST(AsyncSignal, EmitAndWaitReturnsAfterEveryListener) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 16});
  async_signal<int> sig(on(pool));
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    sig.add_listener([&](const int&) {
      std::this_thread::sleep_for(1ms);
      done++;
    });
  }
  EXPECT_FALSE(sig.emit_and_wait(0));
  EXPECT_EQ(done.load(), 5);
  sig.add_listener_with_err([](const int&) -> std::error_code { return errc::listener_error; });
  EXPECT_EQ(sig.emit_and_wait(0), errc::listener_error);
}

TEST(AsyncSignal, CompletionHandleWaitForAndDefaults) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  gate g;
  sig.add_listener([&](const int&) { g.wait(); });
  auto c = sig.emit_tracked(0);
  EXPECT_TRUE(c.valid());
  EXPECT_FALSE(c.wait_for(1ms));
  EXPECT_FALSE(c.done());
  g.open = true;
  EXPECT_TRUE(c.wait_until(std::chrono::steady_clock::now() + 10s));
  EXPECT_TRUE(c.done());
  EXPECT_FALSE(c.error());
  sigs::completion none;
  EXPECT_FALSE(none.valid());
  EXPECT_TRUE(none.done());
  none.wait();
  EXPECT_TRUE(none.wait_for(0s));
  EXPECT_EQ(none.delivered(), 0u);
  EXPECT_TRUE(none.failures().empty());
  // An emission with no listeners completes at once.
  async_signal<int> empty(on(pool));
  auto e = empty.emit_tracked(0);
  EXPECT_TRUE(e.wait_for(10s));
  EXPECT_EQ(e.delivered(), 0u);
}

TEST(AsyncSignal, RejectPolicyDropsAndTryEmitReportsBackpressure) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<int> sig(on(pool, overflow_policy::reject));
  gate g;
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) {
    g.wait();
    calls++;
  });
  int accepted = 0, refused = 0;
  for (int i = 0; i < 10; ++i) {
    if (std::error_code ec = sig.try_emit(i).error) {
      EXPECT_EQ(ec, errc::backpressure);
      ++refused;
    } else {
      ++accepted;
    }
  }
  for (int i = 0; i < 10; ++i) sig.emit(i);  // reject: dropped, counted
  g.open = true;
  sig.drain();
  auto s = sig.stats();
  EXPECT_GT(refused, 0);
  EXPECT_EQ(s.rejected, static_cast<std::uint64_t>(refused));
  EXPECT_EQ(s.delivered, static_cast<std::uint64_t>(calls.load()));
  EXPECT_EQ(s.delivered + s.dropped + s.skipped, static_cast<std::uint64_t>(accepted) + 10u);
  EXPECT_GT(s.dropped, 0u);
}

TEST(AsyncSignal, CallerRunsPolicyRunsOnTheEmittingThreadWhenFull) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<int> sig(on(pool, overflow_policy::caller_runs));
  gate g;
  std::atomic<int> on_caller{0}, calls{0};
  const auto caller = std::this_thread::get_id();
  sig.add_listener([&](const int& v) {
    if (std::this_thread::get_id() == caller) {
      on_caller++;
    } else if (v == 0) {
      g.wait();  // keeps the only worker busy
    }
    calls++;
  });
  for (int i = 0; i < 10; ++i) sig.emit(i);
  EXPECT_GT(on_caller.load(), 0);
  g.open = true;
  sig.drain();
  EXPECT_EQ(calls.load(), 10);
  EXPECT_EQ(sig.stats().dropped, 0u);
}

TEST(AsyncSignal, BlockPolicyWaitsForRoomAndHonoursTheContext) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<int> sig(on(pool, overflow_policy::block));
  gate g;
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) {
    g.wait();
    calls++;
  });
  for (int i = 0; i < 3; ++i) sig.emit(i);  // one running + two queued: full now
  auto soon = sigs::context().with_timeout(5ms);
  auto c = sig.emit_tracked(soon, 99);  // blocks ~5 ms, then gives up
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.error(), errc::deadline_exceeded);
  std::thread opener([&] {
    std::this_thread::sleep_for(5ms);
    g.open = true;
  });
  sig.emit(3);  // blocks until the gate opens and a cell frees
  opener.join();
  sig.drain();
  EXPECT_EQ(calls.load(), 4);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.dropped, 1u);
}

TEST(AsyncSignal, QueueCapacityLimitsThisSignalsEmissionsInFlight) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  async_signal<int> sig(on(pool, overflow_policy::reject, 2));
  gate g;
  sig.add_listener([&](const int&) { g.wait(); });
  EXPECT_TRUE(sig.try_emit(0));
  EXPECT_TRUE(sig.try_emit(1));
  EXPECT_EQ(sig.try_emit(2).error, errc::backpressure);  // 2 in flight already
  EXPECT_EQ(sig.stats().in_flight, 2u);
  g.open = true;
  sig.drain();
  EXPECT_EQ(sig.stats().in_flight, 0u);
  EXPECT_TRUE(sig.try_emit(3));
  sig.drain();
}

// Handles cannot be forged: a completion comes only from an async signal's emission.
static_assert(!std::is_constructible_v<sigs::completion, std::shared_ptr<sigs::detail::completion_state>>);
static_assert(std::is_default_constructible_v<sigs::completion>);

TEST(AsyncSignal, TryEmitReadsLikeTheSyncSignalsTryEmit) {
  // `if (sig.try_emit(x))` means "accepted" for both kinds of signal.
  static_assert(std::is_constructible_v<bool, sigs::submit_result>);
  static_assert(!std::is_convertible_v<sigs::submit_result, bool>);  // explicit, like emit_result
  sigs::sync_signal<int> sync;
  sync.add_listener([](const int&) {});
  EXPECT_TRUE(sync.try_emit(1));

  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  async_signal<int> sig(on(pool, overflow_policy::reject, 1));
  gate g;
  sig.add_listener([&](const int&) { g.wait(); });
  const sigs::submit_result accepted = sig.try_emit(1);
  EXPECT_TRUE(accepted);
  EXPECT_TRUE(accepted.ok());
  EXPECT_FALSE(accepted.error);
  const sigs::submit_result refused = sig.try_emit(2);
  EXPECT_FALSE(refused);
  EXPECT_TRUE(refused == errc::backpressure);
  EXPECT_FALSE(refused == errc::pool_stopped);
  g.open = true;
  sig.drain();
  EXPECT_EQ(sig.stats().rejected, 1u);
}

TEST(AsyncSignal, PoolStoppedIsReportedAndCounted) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) { calls++; });
  sig.add_listener([&](const int&) { calls++; });
  pool.shutdown();
  EXPECT_EQ(sig.try_emit(1).error, errc::pool_stopped);
  sig.emit(1);
  auto c = sig.emit_tracked(1);
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.error(), errc::pool_stopped);
  EXPECT_EQ(sig.emit_and_wait(1), errc::pool_stopped);
  EXPECT_EQ(calls.load(), 0);
  auto s = sig.stats();
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.dropped, 6u);
}

TEST(AsyncSignal, DiscardingShutdownCountsEveryQueuedDeliveryAsDropped) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 64});
  async_signal<int> sig(on(pool));
  gate g;
  std::atomic<int> calls{0};
  sig.add_listener([&](const int& v) {
    if (v == 0) g.wait();
    calls++;
  });
  sig.add_listener([&](const int&) { calls++; });
  for (int i = 0; i < 20; ++i) sig.emit(i);
  std::thread stopper([&] { pool.shutdown(sigs::shutdown_mode::discard); });
  while (!pool.stopped()) std::this_thread::yield();  // the discard has begun
  g.open = true;
  stopper.join();
  sig.drain();
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, static_cast<std::uint64_t>(calls.load()));
  EXPECT_EQ(s.delivered + s.dropped + s.skipped, 40u);
  EXPECT_GT(s.dropped, 0u);
}

TEST(AsyncSignal, DrainFromAWorkerRefuses) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::error_code inner;
  sig.add_listener([&](const int&) { inner = sig.drain(); });
  sig.emit(0);
  sig.drain();
  EXPECT_EQ(inner, errc::would_deadlock);
}

// Found by the async properties (docs/regressions.md #3): a listener that
// caller_runs ran on the emitting thread waited in drain() for its own emission forever.
TEST(AsyncSignal, DrainFromAListenerRunByCallerRunsRefuses) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<int> sig(on(pool, overflow_policy::caller_runs, 1));
  gate g;
  std::atomic<int> drained{-1};
  const auto me = std::this_thread::get_id();
  sig.add_listener([&](const int& v) {
    if (v == 0) {
      g.wait();  // holds the signal's one in-flight slot on the worker
    } else if (std::this_thread::get_id() == me) {
      drained = sig.drain().value();
    }
  });
  sig.emit(0);
  {
    sigs::testing::watchdog dog(std::chrono::seconds(30), "drain() inside a delivery of its own signal");
    sig.emit(1);  // queue_capacity reached: caller_runs runs it here, where drain() must refuse
  }
  g.open = true;
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(drained.load(), static_cast<int>(errc::would_deadlock));
}

// As above, but drain() is called from a sync listener nested in the caller_runs listener,
// more levels deep than a record has call words: the thread's frames still show the
// delivery below. A drain() of another async signal there is not refused.
TEST(AsyncSignal, DrainFromASyncListenerNestedInACallerRunsDeliveryRefuses) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<int> sig(on(pool, overflow_policy::caller_runs, 1));
  async_signal<int> other(on(pool));
  sigs::sync_signal<int> nested;
  gate g;
  std::atomic<int> drained{-1}, other_drained{-1};
  const auto me = std::this_thread::get_id();
  nested.add_listener([&](const int& depth) {
    if (depth > 0) {
      nested.emit(depth - 1);
    } else {
      drained = sig.drain().value();
      other_drained = other.drain().value();
    }
  });
  sig.add_listener([&](const int& v) {
    if (v == 0) {
      g.wait();  // holds the signal's one in-flight slot on the worker
    } else if (std::this_thread::get_id() == me) {
      nested.emit(12);
    }
  });
  sig.emit(0);
  {
    sigs::testing::watchdog dog(std::chrono::seconds(30), "drain() inside a delivery of its own signal");
    sig.emit(1);  // queue_capacity reached: caller_runs runs it here
  }
  g.open = true;
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(drained.load(), static_cast<int>(errc::would_deadlock));
  EXPECT_EQ(other_drained.load(), 0);
}

TEST(AsyncSignal, EmitAndWaitFromAWorkerRunsInline) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> outer(on(pool)), inner(on(pool));
  std::atomic<int> inner_calls{0};
  std::error_code ec = errc::not_found;
  inner.add_listener([&](const int&) { inner_calls++; });
  outer.add_listener([&](const int&) { ec = inner.emit_and_wait(1); });  // one worker: would deadlock
  outer.emit(0);
  outer.drain();
  EXPECT_FALSE(ec);
  EXPECT_EQ(inner_calls.load(), 1);
}

TEST(AsyncSignal, RemoveAndWaitReturnsAfterTheRunningInvocation) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  async_signal<int> sig(on(pool));
  std::atomic<int> running{0}, started{0};
  std::atomic<bool> removed{false};
  std::atomic<int> late{0};
  auto id = sig.add_listener([&](const int&) {
    started++;
    running++;
    if (removed.load()) late++;
    std::this_thread::sleep_for(200us);
    running--;
  });
  for (int i = 0; i < 40; ++i) sig.emit(i);
  while (started.load() == 0) std::this_thread::yield();  // deliveries are under way
  EXPECT_FALSE(sig.remove_listener_and_wait(id));
  removed = true;
  EXPECT_EQ(running.load(), 0);
  sig.drain();
  EXPECT_EQ(late.load(), 0);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered + s.skipped + s.dropped, 40u);
}

TEST(AsyncSignal, RemoveAndWaitFromInsideTheListenerOnAWorkerRefuses) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::error_code inner;
  sigs::listener_id self;
  self = sig.add_listener([&](const int&) { inner = sig.remove_listener_and_wait(self); });
  sig.emit(0);
  sig.drain();
  EXPECT_EQ(inner, errc::would_deadlock);
  EXPECT_EQ(sig.size(), 1u);
}

TEST(AsyncSignal, DestructorDrains) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  std::atomic<int> calls{0};
  {
    async_signal<int> sig(on(pool));
    sig.add_listener([&](const int&) {
      std::this_thread::sleep_for(100us);
      calls++;
    });
    for (int i = 0; i < 30; ++i) sig.emit(i);
  }
  EXPECT_EQ(calls.load(), 30);
}

TEST(AsyncSignal, UsesTheGlobalPoolByDefault) {
  async_signal<int> sig;
  EXPECT_EQ(&sig.pool(), &sigs::worker_pool::global());
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) { calls++; });
  EXPECT_FALSE(sig.emit_and_wait(1));
  EXPECT_EQ(calls.load(), 1);
}

TEST(AsyncSignal, MetricsCountPerListenerCalls) {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  auto o = on(pool);
  o.metrics = sigs::metrics_on;
  async_signal<int> sig(o);
  sig.add_listener([](const int&) {}, "k");
  for (int i = 0; i < 10; ++i) sig.emit(i);
  sig.drain();
  EXPECT_EQ(sig.metadata("k")->call_count, 10u);
  EXPECT_EQ(sig.stats().listener_calls, 10u);
  EXPECT_EQ(sig.stats().emits, 10u);
}

// ---- every overflow path, for every payload flavour -------------------------------------
//
// The paths below are exercised for an int payload and for a std::string one (which owns
// heap memory, so ASan sees every copy and every envelope), each emitted as an lvalue (the
// payload is copied into the envelope) and as an rvalue (it is moved in).

/// Parks the listeners that call block() until open() (called exactly once).
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

template <class T, bool Rvalue>
struct flavor {
  using type = T;
  static T make(int v) {
    if constexpr (std::is_same_v<T, int>) {
      return v;
    } else {
      return std::string(32, 'p') + std::to_string(v);  // too long for the small-string buffer
    }
  }
  static int value(const T& t) {
    if constexpr (std::is_same_v<T, int>) {
      return t;
    } else {
      return std::stoi(t.substr(32));
    }
  }
  static void emit(async_signal<T>& sig, int v) {
    if constexpr (Rvalue) {
      sig.emit(make(v));
    } else {
      const T payload = make(v);
      sig.emit(payload);
    }
  }
  static void emit(async_signal<T>& sig, const sigs::context& ctx, int v) {
    if constexpr (Rvalue) {
      sig.emit(ctx, make(v));
    } else {
      const T payload = make(v);
      sig.emit(ctx, payload);
    }
  }
};

/// The typed tests register their listeners through these class templates (one callable
/// type per payload type, wrapping a std::function, copied into the signal like any
/// user-supplied listener) rather than as lambdas of the templated test bodies.
template <class T>
struct value_listener {
  explicit value_listener(std::function<void(const T&)> fn) : f(std::move(fn)) {}
  value_listener(const value_listener&) = default;  // no move: registration copies
  void operator()(const T& v) const { f(v); }
  std::function<void(const T&)> f;
};
template <class T>
struct value_listener_err {
  explicit value_listener_err(std::function<std::error_code(const T&)> fn) : f(std::move(fn)) {}
  value_listener_err(const value_listener_err&) = default;
  std::error_code operator()(const T& v) const { return f(v); }
  std::function<std::error_code(const T&)> f;
};
template <class T>
value_listener<T> on_value(std::function<void(const T&)> f) {
  return value_listener<T>(std::move(f));
}
template <class T>
value_listener_err<T> on_value_err(std::function<std::error_code(const T&)> f) {
  return value_listener_err<T>(std::move(f));
}

template <class F>
class AsyncPaths : public ::testing::Test {};

using Flavors =
    ::testing::Types<flavor<int, false>, flavor<int, true>, flavor<std::string, false>, flavor<std::string, true>>;
TYPED_TEST_SUITE(AsyncPaths, Flavors);

TYPED_TEST(AsyncPaths, QueueCapacityReachedWithRejectDropsTheEmission) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::reject, 1));
  hold h;
  std::atomic<int> calls{0};
  sig.add_listener(on_value<T>([&](const T& v) {
    if (F::value(v) == 0) h.block();
    calls++;
  }));
  F::emit(sig, 0);
  h.wait_entered(1);  // emission 0 is in flight until the hold opens
  F::emit(sig, 1);    // the signal's one slot is taken: dropped, counted
  const T two = F::make(2);
  auto c = sig.emit_tracked(two);
  EXPECT_TRUE(c.done());  // refused at once, never queued
  EXPECT_EQ(c.error(), errc::backpressure);
  EXPECT_EQ(c.dropped(), 1u);
  EXPECT_EQ(sig.stats().in_flight, 1u);
  h.open();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 1);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.rejected, 0u);  // emit() never counts as rejected; only try_emit does
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, QueueCapacityReachedWithCallerRunsRunsOnTheEmitter) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::caller_runs, 1));
  hold h;
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{-1};
  std::atomic<int> calls{0};
  sig.add_listener(on_value<T>([&](const T& v) {
    if (std::this_thread::get_id() == caller) {
      on_caller = F::value(v);
    } else {
      h.block();
    }
    calls++;
  }));
  F::emit(sig, 0);
  h.wait_entered(1);
  F::emit(sig, 1);  // over queue_capacity: its listener ran here, before emit returned
  EXPECT_EQ(on_caller.load(), 1);
  EXPECT_EQ(calls.load(), 1);
  h.open();
  EXPECT_FALSE(sig.drain());
  auto s = sig.stats();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.emits, 2u);
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, QueueCapacityReachedWithBlockWaitsForRoom) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  hold h;
  std::vector<int> seen;  // written by the pool's one worker, read after drain()
  sig.add_listener(on_value<T>([&](const T& v) {
    if (F::value(v) == 0) h.block();
    seen.push_back(F::value(v));
  }));
  F::emit(sig, 0);
  h.wait_entered(1);
  std::atomic<bool> returned{false};
  std::thread opener([&] {
    // emit(1) cannot return before the hold opens: emission 0 keeps the only slot.
    std::this_thread::sleep_for(2ms);
    EXPECT_FALSE(returned.load());
    h.open();
  });
  F::emit(sig, 1);
  returned = true;
  opener.join();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, QueueCapacityReachedWithBlockHonoursTheContext) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  hold h;
  std::atomic<int> calls{0};
  sig.add_listener(on_value<T>([&](const T& v) {
    if (F::value(v) == 0) h.block();
    calls++;
  }));
  F::emit(sig, 0);
  h.wait_entered(1);
  // Expires while waiting for the slot.
  const T one = F::make(1);
  auto c = sig.emit_tracked(sigs::context().with_timeout(2ms), one);
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.error(), errc::deadline_exceeded);
  EXPECT_EQ(c.dropped(), 1u);
  // Cancelled by another thread while waiting.
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(1ms);
    stop.request_stop();
  });
  F::emit(sig, sigs::context(stop.get_token()), 2);
  canceller.join();
  h.open();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 1);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, QueueCapacityReachedWithBlockOnAWorkerDoesNotWaitForItself) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool, overflow_policy::block, 1));
  std::vector<int> seen;  // the pool's one worker only; read after drain()
  sig.add_listener(on_value<T>([&](const T& v) {
    seen.push_back(F::value(v));
    // This emission holds the only slot; waiting for it here would wait forever.
    if (F::value(v) == 0) F::emit(sig, 1);
  }));
  F::emit(sig, 0);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, FullPoolQueueWithCallerRunsRunsOnTheEmitter) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<T> sig(on(pool, overflow_policy::caller_runs));
  hold h;
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{-1};
  std::atomic<int> calls{0};
  sig.add_listener(on_value<T>([&](const T& v) {
    if (std::this_thread::get_id() == caller) {
      on_caller = F::value(v);
    } else if (F::value(v) == 0) {
      h.block();
    }
    calls++;
  }));
  F::emit(sig, 0);
  h.wait_entered(1);  // the only worker is busy
  F::emit(sig, 1);
  F::emit(sig, 2);  // the queue's two cells are taken
  EXPECT_EQ(on_caller.load(), -1);
  F::emit(sig, 3);  // no cell: runs here
  EXPECT_EQ(on_caller.load(), 3);
  h.open();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 4);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.dropped, 0u);
}

TYPED_TEST(AsyncPaths, FullPoolQueueWithBlockOnItsOwnWorkerRunsInline) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  async_signal<T> sig(on(pool, overflow_policy::block));
  std::vector<int> seen;  // the pool's one worker only; read after drain()
  bool ran_inline = false;
  sig.add_listener(on_value<T>([&](const T& v) {
    seen.push_back(F::value(v));
    if (F::value(v) != 0) return;
    F::emit(sig, 10);
    F::emit(sig, 11);  // both queued: the queue is full, and its only worker is us
    F::emit(sig, 1);   // blocking would wait for ourselves: runs here instead
    ran_inline = seen.back() == 1;
  }));
  F::emit(sig, 0);
  EXPECT_FALSE(sig.drain());
  EXPECT_TRUE(ran_inline);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 10, 11}));
  EXPECT_EQ(sig.stats().delivered, 4u);
  EXPECT_EQ(pool.stats().rejected, 1u);  // the one submit that would have deadlocked
}

TYPED_TEST(AsyncPaths, StoppedPoolDropsAndCancelledContextsDrop) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<T> sig(on(pool));
  std::stop_source stop;
  std::atomic<int> calls{0};
  sig.add_listener(on_value<T>([&](const T&) {
    calls++;
    stop.request_stop();  // the rest of this emission is dropped
  }));
  sig.add_listener(on_value<T>([&](const T&) { calls++; }));
  F::emit(sig, 5);  // no context: the stop request changes nothing
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 2);
  stop = std::stop_source();
  F::emit(sig, sigs::context(stop.get_token()), 0);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 3);
  F::emit(sig, sigs::context(stop.get_token()), 1);  // cancelled already: not queued
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_FALSE(pool.shutdown());
  F::emit(sig, 2);
  const T three = F::make(3);
  auto c = sig.emit_tracked(three);
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.error(), errc::pool_stopped);
  EXPECT_EQ(calls.load(), 3);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.dropped, 7u);  // 1 + 2 + 2 + 2
  EXPECT_EQ(s.in_flight, 0u);
}

TYPED_TEST(AsyncPaths, FailuresHelpersAndTheEnvelopeCache) {
  using F = TypeParam;
  using T = typename F::type;
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  auto o = on(pool);
  o.envelope_cache = 2;  // smaller than the emissions in flight below: extras are freed
  async_signal<T> sig(o);
  std::atomic<int> handled{0}, sum{0};
  sig.set_error_handler([&](const sigs::listener_error&) { handled++; });
  sig.add_listener(on_value<T>([](const T&) { throw std::runtime_error("boom"); }), "t");
  sig.add_listener_with_err(on_value_err<T>([](const T&) -> std::error_code { return errc::listener_error; }), "e");
  hold h;
  sig.add_listener(on_value<T>([&](const T& v) {
    if (F::value(v) >= 100) h.block();
    sum += F::value(v);
  }));
  const T one = F::make(1);
  auto c = sig.emit_tracked(one);
  c.wait();
  EXPECT_EQ(c.delivered(), 3u);
  auto failures = c.failures();
  ASSERT_EQ(failures.size(), 2u);
  for (const auto& f : failures) {
    EXPECT_EQ(f.error,
              f.key == "t" ? std::error_code(errc::listener_exception) : std::error_code(errc::listener_error));
  }
  // Three emissions in flight at once (none can finish before the hold opens), so three
  // envelopes; the cache keeps two and frees the third.
  F::emit(sig, 100);
  F::emit(sig, 101);
  F::emit(sig, 102);
  EXPECT_GE(sig.stats().in_flight, 3u);  // (the tracked one may still be finishing)
  h.open();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(sum.load(), 304);
  EXPECT_EQ(handled.load(), 8);
  auto s = sig.stats();
  EXPECT_EQ(s.delivered, 12u);
  EXPECT_EQ(s.exceptions, 4u);
  EXPECT_EQ(s.errors, 4u);
  // emit_and_wait from a worker of the signal's pool runs there.
  async_signal<T> outer(on(pool));
  std::error_code inner = errc::not_found;
  outer.add_listener(on_value<T>([&](const T& v) { inner = sig.emit_and_wait(v); }));
  const T four = F::make(4);
  outer.emit(four);
  EXPECT_FALSE(outer.drain());
  EXPECT_EQ(inner, errc::listener_exception);  // the first failure recorded
  EXPECT_EQ(sum.load(), 308);
}

TYPED_TEST(AsyncPaths, DefaultsAndConstructionErrors) {
  using F = TypeParam;
  using T = typename F::type;
  // A listener whose copy throws while it is registered: not registered, signal usable.
  struct copy_may_throw {
    std::atomic<int>* calls;
    const bool* armed;
    copy_may_throw(std::atomic<int>* c, const bool* a) : calls(c), armed(a) {}
    copy_may_throw(const copy_may_throw& o) : calls(o.calls), armed(o.armed) {
      if (*armed) throw std::runtime_error("copy");
    }
    void operator()(const T&) const { calls->fetch_add(1); }
  };
  async_signal<T> on_global;
  EXPECT_EQ(&on_global.pool(), &sigs::worker_pool::global());
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 4});
  auto o = on(pool);
  o.envelope_cache = ~std::size_t(0);  // beyond what any queue can hold
  EXPECT_THROW(async_signal<T>{o}, std::length_error);
  // An emission without listeners completes at once.
  async_signal<T> empty(on(pool));
  const T one = F::make(1);
  EXPECT_FALSE(empty.emit_and_wait(one));
  F::emit(empty, 1);
  EXPECT_FALSE(empty.drain());
  EXPECT_EQ(empty.stats().emits, 2u);
  EXPECT_EQ(empty.stats().delivered, 0u);
  std::atomic<int> calls{0};
  bool armed = true;
  const copy_may_throw listener(&calls, &armed);
  EXPECT_THROW(empty.add_listener(listener, "k"), std::runtime_error);
  EXPECT_TRUE(empty.empty());
  armed = false;
  ASSERT_TRUE(empty.add_listener(listener, "k"));
  EXPECT_FALSE(empty.emit_and_wait(one));
  EXPECT_EQ(calls.load(), 1);
}

TEST(AsyncSignal, DefaultCompletionHasNoErrorAndIsDoneByAnyDeadline) {
  sigs::completion none;
  EXPECT_FALSE(none.error());
  EXPECT_TRUE(none.wait_until(std::chrono::steady_clock::now() - 1s));
  EXPECT_EQ(none.dropped(), 0u);
  EXPECT_EQ(none.skipped(), 0u);
}

// The caller_runs mark is per signal: a listener running on the emitting thread may still
// drain *another* signal, which waits for that signal's emissions as usual.
TEST(AsyncSignal, DrainOfAnotherSignalFromACallerRunsListenerWaits) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 2});
  sigs::worker_pool other_pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool, overflow_policy::caller_runs, 1));
  async_signal<int> other(on(other_pool));
  hold h;
  std::atomic<int> other_calls{0};
  other.add_listener([&](const int&) { other_calls++; });
  std::error_code drained = errc::not_found;
  int seen_after_drain = -1;
  const auto me = std::this_thread::get_id();
  sig.add_listener([&](const int& v) {
    if (v == 0) {
      h.block();  // holds sig's one in-flight slot on its worker
    } else if (std::this_thread::get_id() == me) {
      other.emit(7);
      drained = other.drain();  // not this signal's emission: waits, and returns
      seen_after_drain = other_calls.load();
    }
  });
  sig.emit(0);
  h.wait_entered(1);
  sig.emit(1);  // queue_capacity reached: caller_runs runs it here
  EXPECT_FALSE(drained) << drained.message();
  EXPECT_EQ(seen_after_drain, 1);
  h.open();
  EXPECT_FALSE(sig.drain());
}

// A snapshot an emission still holds survives the writes that retire it (however many:
// scans are batched), and the emission delivers to exactly the listeners it was given.
TEST(AsyncSignal, AQueuedEmissionKeepsItsSnapshotAcrossManyWrites) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  hold h;
  std::atomic<int> first{0}, later{0};
  sig.add_listener([&](const int& v) {
    if (v == 0) h.block();
    first++;
  });
  sig.emit(0);
  h.wait_entered(1);
  sig.emit(1);  // queued behind emission 0, holding the one-listener snapshot
  std::vector<sigs::listener_id> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(sig.add_listener([&](const int&) { later++; }));
  for (int i = 0; i < 99; ++i) EXPECT_FALSE(sig.remove_listener(ids[static_cast<std::size_t>(i)]));
  h.open();
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(first.load(), 2);
  EXPECT_EQ(later.load(), 0);  // added after both emissions began
  sig.emit(2);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(first.load(), 3);
  EXPECT_EQ(later.load(), 1);  // the one left
}

TEST(AsyncSignal, AListenerWhoseCopyThrowsIsNotRegistered) {
  struct copy_may_throw {
    std::atomic<int>* calls;
    const bool* armed;
    copy_may_throw(std::atomic<int>* c, const bool* a) : calls(c), armed(a) {}
    copy_may_throw(const copy_may_throw& o) : calls(o.calls), armed(o.armed) {
      if (*armed) throw std::runtime_error("copy");
    }
    void operator()(const int&) const { calls->fetch_add(1); }
  };
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  async_signal<int> sig(on(pool));
  std::atomic<int> calls{0};
  bool armed = true;
  const copy_may_throw f(&calls, &armed);
  EXPECT_THROW(sig.add_listener(f, "k"), std::runtime_error);
  EXPECT_TRUE(sig.empty());
  armed = false;
  ASSERT_TRUE(sig.add_listener(f, "k"));
  EXPECT_FALSE(sig.emit_and_wait(0));
  EXPECT_EQ(calls.load(), 1);
}

// The accounting identity under stress, while listeners are removed: several emitters, tiny
// queues, every policy, throwing listeners, cancellations, a discarding pool shutdown in the
// middle, and a thread that removes and re-adds two listeners all along, so that queued
// emissions meet listeners removed before their turn. For every emission, delivered +
// dropped + skipped equals the listeners its snapshot held (docs/async.md, "Accounting"),
// and the removals do produce skips.
class AsyncAccounting : public ::testing::TestWithParam<overflow_policy> {};

/// Whether the churned listeners were in an emission's snapshot, from the churn phase read
/// just before and just after its emit() call. Phase 4k: present; 4k+1: being removed;
/// 4k+2: absent; 4k+3: being re-added. emit() takes its snapshot on the calling thread
/// before it returns, so when both reads give the same even phase no write overlapped that
/// snapshot's load and the snapshot is known (see PH-1 / PH-2).
enum class churned { present, absent, unknown };

churned classify(std::uint64_t before, std::uint64_t after) {
  if (before != after || before % 2 != 0) return churned::unknown;
  return before % 4 == 0 ? churned::present : churned::absent;
}

TEST_P(AsyncAccounting, EveryDeliveryIsMadeDroppedOrSkippedWhileListenersAreRemoved) {
  constexpr std::uint64_t stable = 3;  // never removed
  constexpr std::uint64_t churn = 2;   // removed and re-added all along
  constexpr int emitters = 2;
  constexpr int cycles = 60;               // the churner's remove / re-add rounds, at least
  constexpr int max_cycles = 20000;        // ... and at most, while no emission has met a removal
  constexpr int max_per_emitter = 100000;  // a bound on the values each emitter can use
  constexpr auto values = static_cast<std::size_t>(emitters) * max_per_emitter;
  for (bool shutdown_midway : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "shutdown_midway=" << shutdown_midway);
    const bool failed_before = ::testing::Test::HasFailure();
    sigs::worker_pool pool({.threads = 2, .queue_capacity = 2});
    async_signal<int> sig(on(pool, GetParam(), 4));
    // Calls per emitted value (each value is emitted once). relaxed: read after drain(),
    // which every listener call happens-before (docs/async.md).
    std::vector<std::atomic<std::uint32_t>> stable_calls(values), churn_calls(values);
    auto at = [](std::vector<std::atomic<std::uint32_t>>& calls, int v) -> std::atomic<std::uint32_t>& {
      return calls[static_cast<std::size_t>(v)];
    };
    sig.add_listener([&](const int& v) {
      at(stable_calls, v).fetch_add(1, std::memory_order_relaxed);
      // Keeps emissions in flight a little longer, so that more removals meet one that
      // holds the churned listeners (registered last) but has not reached them yet.
      std::this_thread::yield();
    });
    sig.add_listener([&](const int& v) {
      at(stable_calls, v).fetch_add(1, std::memory_order_relaxed);
      if (v % 7 == 0) throw std::runtime_error("seven");
    });
    sig.add_listener_with_err([&](const int& v) -> std::error_code {
      at(stable_calls, v).fetch_add(1, std::memory_order_relaxed);
      return v % 5 == 0 ? std::error_code(errc::listener_error) : std::error_code{};
    });
    auto churned_listener = [&](const int& v) { at(churn_calls, v).fetch_add(1, std::memory_order_relaxed); };
    std::array<sigs::listener_id, churn> ids;
    for (auto& id : ids) id = sig.add_listener(churned_listener);

    std::stop_source stop;
    std::atomic<std::uint64_t> phase{0};
    std::atomic<int> cycles_done{0};
    std::atomic<bool> finished{false};  // the churner has done its rounds: emitters stop
    std::atomic<bool> emitting{true};
    std::atomic<std::uint64_t> known_so_far{0};  // emissions that fell wholly in one known phase
    // Holds a known phase (absent, present) until an emission fell wholly inside it, so that
    // every round gives the exact checks below cases, however slow the emitters are (TSan,
    // a loaded machine). At most a second: an emitter may wait for room that long. Not once
    // the emitters have stopped.
    auto hold_phase = [&] {
      // relaxed, all: only pacing; the join orders what the checks read.
      const std::uint64_t seen = known_so_far.load(std::memory_order_relaxed);
      const auto until = std::chrono::steady_clock::now() + 1s;
      do {
        std::this_thread::sleep_for(20us);
      } while (known_so_far.load(std::memory_order_relaxed) == seen && !finished.load(std::memory_order_relaxed) &&
               std::chrono::steady_clock::now() < until);
    };
    std::thread churner([&] {
      auto step = [&] {
        // (PH-1) release: pairs with the emitters' acquire loads (PH-2). A load that reads
        // this phase happens-after the write before it, so a snapshot taken after that load
        // reflects the write; and a snapshot that reflects the next write makes the next
        // phase visible to the emitter's load after emit() (write-read coherence).
        phase.fetch_add(1, std::memory_order_release);
      };
      // The stop and shutdown come once 3/4 of the rounds are done and some emission has met
      // a removal (on a loaded machine that can take more rounds); the emitters stop a
      // quarter of the rounds later.
      int stop_at = 0;
      // relaxed: only ends the loop; the join orders everything else.
      while (emitting.load(std::memory_order_relaxed)) {
        step();  // removing
        // Both removal paths: the plain one, and the one that also waits for running calls.
        EXPECT_FALSE(sig.remove_listener(ids[0]));
        EXPECT_FALSE(sig.remove_listener_and_wait(ids[1]));
        step();  // absent
        hold_phase();
        step();  // re-adding
        for (auto& id : ids) id = sig.add_listener(churned_listener);
        step();  // present
        // relaxed: only paces the emitters.
        const int done = cycles_done.fetch_add(1, std::memory_order_relaxed) + 1;
        if (stop_at == 0 && done >= cycles * 3 / 4 && (sig.stats().skipped > 0 || done >= max_cycles)) {
          stop_at = done;
          stop.request_stop();  // cancels the contexts of the emissions from now on
          if (shutdown_midway) pool.shutdown(sigs::shutdown_mode::discard);
        }
        // relaxed: only ends the emitters' loops.
        if (stop_at != 0 && done >= stop_at + cycles / 4) finished.store(true, std::memory_order_relaxed);
        hold_phase();
      }
    });

    struct emission {
      int value;
      churned seen;
      std::optional<sigs::completion> tracked;
    };
    std::vector<std::vector<emission>> accepted(emitters);
    std::atomic<std::uint64_t> try_refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < emitters; ++t) {
      threads.emplace_back([&, t] {
        // relaxed: `finished` only ends the loop.
        for (int i = 0; i < max_per_emitter && !finished.load(std::memory_order_relaxed); ++i) {
          const int v = t * max_per_emitter + i;
          const std::uint64_t before = phase.load(std::memory_order_acquire);  // (PH-2) pairs with PH-1
          std::optional<sigs::completion> tracked;
          bool queued = true;
          switch (i % 4) {
            case 0: queued = sig.try_emit(v).ok(); break;
            case 1: sig.emit(sigs::context(stop.get_token()), v); break;
            case 2: sig.emit(v); break;  // no context: the solo path when it applies
            default: tracked = sig.emit_tracked(sigs::context(stop.get_token()), v); break;
          }
          // relaxed: sequenced after emit()'s snapshot load (an acquire), which is all the
          // write-read coherence argument at PH-1 needs.
          const std::uint64_t after = phase.load(std::memory_order_relaxed);
          if (queued) {
            const churned seen = classify(before, after);
            if (seen != churned::unknown) known_so_far.fetch_add(1, std::memory_order_relaxed);  // relaxed: pacing
            accepted[static_cast<std::size_t>(t)].push_back({v, seen, std::move(tracked)});
          } else {
            try_refused.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after join
          }
          // Lets the workers and the churner run: a reject emitter that never waits would
          // otherwise use up its values before the churner is done.
          std::this_thread::yield();
        }
      });
    }
    for (auto& th : threads) th.join();
    emitting.store(false, std::memory_order_relaxed);  // relaxed: see the churner's loop
    churner.join();
    ASSERT_FALSE(sig.drain());

    // Per emission: its total is the listeners its snapshot held, exactly when the churn
    // phase is known, else between the stable ones and all of them; only a churned
    // listener can be skipped; one never called by an emission that could not see it.
    std::uint64_t low = 0, high = 0, calls = 0, known = 0, emissions = 0;
    for (auto& per_thread : accepted) {
      for (auto& e : per_thread) {
        SCOPED_TRACE(::testing::Message() << "value " << e.value);
        ++emissions;
        const std::uint32_t made = at(stable_calls, e.value).load(std::memory_order_relaxed);  // relaxed: after drain
        const std::uint32_t made_churned = at(churn_calls, e.value).load(std::memory_order_relaxed);
        calls += made + made_churned;
        EXPECT_LE(made, stable);
        EXPECT_LE(made_churned, churn);
        const std::uint64_t min = stable + (e.seen == churned::present ? churn : 0);
        const std::uint64_t max = stable + (e.seen == churned::absent ? 0 : churn);
        if (e.seen == churned::absent) {
          EXPECT_EQ(made_churned, 0u);
        }
        if (e.seen != churned::unknown) ++known;
        if (e.tracked) {
          sigs::completion& c = *e.tracked;
          ASSERT_TRUE(c.done());
          const std::uint64_t total = c.delivered() + c.dropped() + c.skipped();
          EXPECT_GE(total, min);
          EXPECT_LE(total, max);
          EXPECT_EQ(c.delivered(), made + made_churned);
          EXPECT_LE(c.skipped(), total - stable);
          low += total;
          high += total;
        } else {
          low += min;
          high += max;
        }
        if (!failed_before && ::testing::Test::HasFailure()) break;  // one emission's report is enough
      }
    }
    const auto s = sig.stats();
    const std::uint64_t total = s.delivered + s.dropped + s.skipped;
    EXPECT_EQ(s.delivered, calls);
    EXPECT_GE(total, low);
    EXPECT_LE(total, high);
    EXPECT_GT(s.skipped, 0u) << "no queued emission met a removed listener";
    // Each round holds its two known phases until an emission fell in them (hold_phase).
    EXPECT_GE(known, static_cast<std::uint64_t>(cycles)) << "too few emissions with a known snapshot to check exactly";
    std::printf("%s: %llu emissions (%llu with a known snapshot), %llu skipped, %llu dropped\n",
                shutdown_midway ? "shutdown midway" : "no shutdown", static_cast<unsigned long long>(emissions),
                static_cast<unsigned long long>(known), static_cast<unsigned long long>(s.skipped),
                static_cast<unsigned long long>(s.dropped));
    EXPECT_EQ(s.rejected, try_refused.load(std::memory_order_relaxed));  // relaxed: after join
    EXPECT_EQ(s.in_flight, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, AsyncAccounting,
                         ::testing::Values(overflow_policy::block, overflow_policy::reject,
                                           overflow_policy::caller_runs),
                         [](const auto& info) {
                           switch (info.param) {
                             case overflow_policy::block: return std::string("block");
                             case overflow_policy::reject: return std::string("reject");
                             default: return std::string("caller_runs");
                           }
                         });

}  // namespace
