// Allocation failures, injected through a replaced global operator new (testing/
// alloc_hooks.hpp; its own binary: the replacement is process-wide). Two switches:
//   - `fail_at`: the n-th unaligned allocation from now, on any thread, throws bad_alloc;
//   - `fail_next_here`: the next unaligned allocation on the calling thread throws.
// Under ASan and TSan (clang) the sanitizer runtime defines operator new itself (linked
// whole, so a second definition does not link): tests/CMakeLists.txt builds this file only
// without sanitizers (dev, coverage and the release preset run it).
#include <sigs/sigs.hpp>

#include <testing/alloc_hooks.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>
#include <thread>

namespace {

using sigs::testing::alloc_hooks::allocations_here;
using sigs::testing::alloc_hooks::fail_at;
using sigs::testing::alloc_hooks::fail_next_here;
using sigs::testing::alloc_hooks::failed_next_here;

using sigs::errc;

// Threads of this process now (Linux); -1 where /proc is not available.
long thread_count() {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? -1 : n;
}

// A worker that cannot be started (its thread state cannot be allocated) makes the
// constructor throw, after stopping and joining the workers already started: otherwise a
// joinable std::thread would be destroyed (std::terminate) or a worker leaked. Every
// allocation of the constructor is failed in turn, until one construction succeeds.
TEST(AllocationFailure, APoolWhoseWorkerCannotStartThrowsAndLeavesNoThreadBehind) {
  const long threads_before = thread_count();
  int failures = 0;
  for (long n = 1;; ++n) {
    ASSERT_LT(n, 100) << "the constructor never succeeded";
    fail_at = n;
    try {
      sigs::worker_pool pool({.threads = 3, .queue_capacity = 4});
      fail_at = 0;
      ASSERT_GE(n, 2) << "a successful construction allocates";
      sigs::worker_pool::task t = [] {};
      EXPECT_FALSE(pool.submit(t));
      EXPECT_FALSE(pool.shutdown());
      EXPECT_EQ(pool.stats().completed, 1u);
      break;
    } catch (const std::bad_alloc&) {
      fail_at = 0;
      ++failures;
      if (threads_before > 0) {
        EXPECT_EQ(thread_count(), threads_before) << "allocation " << n;
      }
    }
  }
  // Among the allocations failed: the queue, the worker list, and each worker's thread
  // state (three workers), so failures struck after one and after two workers had started.
  EXPECT_GE(failures, 4);
}

// Out of memory while recording a listener's failure in the emission's completion: the
// detail is lost from the completion only; the listener's metadata, the signal's counters
// and the accounting still have it, and the worker lives on.
TEST(AllocationFailure, AFailureThatCannotBeRecordedInTheCompletionIsStillCounted) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  sigs::async_options o;
  o.pool = &pool;
  sigs::async_signal<int> sig(o);
  const auto id = sig.add_listener_with_err([](const int& v) -> std::error_code {
    if (v != 1) return {};
    fail_next_here = true;  // the first allocation after we return: recording the failure
    return make_error_code(errc::canceled);
  });
  ASSERT_TRUE(id);

  auto c = sig.emit_tracked(1);
  c.wait();
  EXPECT_EQ(failed_next_here.load(), 1);  // the allocation was attempted, and failed
  EXPECT_TRUE(c.failures().empty());      // the detail that could not be allocated
  EXPECT_FALSE(c.error());                // nothing else went wrong with the emission
  const auto md = sig.metadata(id);
  ASSERT_TRUE(md);
  EXPECT_EQ(md->error_count, 1u);
  EXPECT_EQ(md->last_error, errc::canceled);
  EXPECT_EQ(sig.stats().errors, 1u);
  EXPECT_EQ(sig.stats().delivered, 1u);

  // The worker survived and the next failure is recorded in full.
  sigs::listener_id other = sig.add_listener_with_err(
      [](const int& v) -> std::error_code { return v == 2 ? make_error_code(errc::backpressure) : std::error_code{}; });
  ASSERT_TRUE(other);
  auto c2 = sig.emit_tracked(2);
  c2.wait();
  ASSERT_EQ(c2.failures().size(), 1u);
  EXPECT_EQ(c2.error(), errc::backpressure);
  EXPECT_EQ(pool.stats().exceptions, 0u);
}

// Found by this test, fixed (docs/regressions.md): add_listener leaked its entry and
// left size() counting it when the new snapshot could not be allocated, and could throw
// after it had registered the listener. Failing each allocation of an add_listener in turn,
// a throwing add_listener must leave the signal as it was (and leak nothing).
TEST(AllocationFailure, AnAddListenerThatRunsOutOfMemoryLeavesTheSignalUnchanged) {
  for (long n = 1;; ++n) {
    ASSERT_LT(n, 100) << "add_listener never succeeded";
    sigs::sync_signal<int> sig;
    int first = 0, second = 0;
    ASSERT_TRUE(sig.add_listener([&](const int&) { ++first; }, "first"));
    bool threw = false;
    fail_at = n;
    try {
      (void)sig.add_listener([&](const int&) { ++second; }, "a key longer than the small-string buffer");
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    fail_at = 0;
    sig.emit(1);
    if (!threw) {
      EXPECT_EQ(sig.size(), 2u);
      EXPECT_EQ(second, 1);
      break;
    }
    EXPECT_EQ(sig.size(), 1u) << "allocation " << n << " failed";
    EXPECT_FALSE(sig.has_key("a key longer than the small-string buffer")) << "allocation " << n << " failed";
    EXPECT_EQ(second, 0) << "allocation " << n << " failed";
    EXPECT_EQ(first, 1);
  }
}

// The other writers: each either completes or throws std::bad_alloc and leaves the signal
// as it was (the listeners, their keys, and what emit calls).
TEST(AllocationFailure, EveryWriterThatRunsOutOfMemoryLeavesTheSignalUnchanged) {
  enum class op { remove, remove_and_wait, reset, set_error_handler };
  for (op o : {op::remove, op::remove_and_wait, op::reset, op::set_error_handler}) {
    for (long n = 1;; ++n) {
      ASSERT_LT(n, 100) << "the write never succeeded";
      sigs::sync_signal<int> sig;
      int a = 0, b = 0;
      ASSERT_TRUE(sig.add_listener([&](const int&) { ++a; }, "a"));
      const sigs::listener_id idb = sig.add_listener([&](const int&) { ++b; }, "b");
      ASSERT_TRUE(idb);
      for (int i = 0; i < 20; ++i) {  // retire some snapshots first: scans have work to do
        ASSERT_FALSE(sig.remove_listener(sig.add_listener([](const int&) {})));
      }
      bool threw = false;
      std::error_code ec;
      fail_at = n;
      try {
        switch (o) {
          case op::remove: ec = sig.remove_listener(idb); break;
          case op::remove_and_wait: ec = sig.remove_listener_and_wait("b"); break;
          case op::reset: sig.reset(); break;
          case op::set_error_handler: sig.set_error_handler([](const sigs::listener_error&) {}); break;
        }
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      fail_at = 0;
      EXPECT_FALSE(ec) << ec.message();
      sig.emit(1);
      const int op_index = static_cast<int>(o);
      if (threw) {
        EXPECT_EQ(sig.size(), 2u) << "op " << op_index << ", allocation " << n << " failed";
        EXPECT_TRUE(sig.has_key("b")) << "op " << op_index << ", allocation " << n << " failed";
        EXPECT_EQ(a, 1) << "op " << op_index << ", allocation " << n << " failed";
        EXPECT_EQ(b, 1) << "op " << op_index << ", allocation " << n << " failed";
        continue;
      }
      const bool b_gone = o != op::set_error_handler;
      EXPECT_EQ(sig.size(), o == op::reset ? 0u : (b_gone ? 1u : 2u)) << "op " << op_index;
      EXPECT_EQ(sig.has_key("b"), !b_gone) << "op " << op_index;
      EXPECT_EQ(a, o == op::reset ? 0 : 1) << "op " << op_index;
      EXPECT_EQ(b, b_gone ? 0 : 1) << "op " << op_index;
      break;
    }
  }
}

// Out of memory while an emission is built (its envelope, or the copy of its payload): emit
// throws std::bad_alloc and leaves nothing behind. Before the fix (docs/regressions.md), the
// emission stayed counted in flight with its snapshot pinned, so drain() and the destructor
// waited for it forever (here: the ctest timeout).
TEST(AllocationFailure, AnEmitThatRunsOutOfMemoryThrowsAndLeavesNothingInFlight) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  sigs::async_options o;
  o.pool = &pool;
  sigs::async_signal<std::string> sig(o);
  std::atomic<int> calls{0};
  ASSERT_TRUE(sig.add_listener([&](const std::string&) { calls++; }));
  const std::string payload(64, 'x');  // its copy allocates
  const int failed_before = failed_next_here.load();

  fail_next_here = true;  // the cache is empty: the envelope's allocation fails
  EXPECT_THROW(sig.emit(payload), std::bad_alloc);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(sig.stats().in_flight, 0u);

  sig.emit(payload);  // leaves its envelope in the cache
  EXPECT_FALSE(sig.drain());
  fail_next_here = true;  // the envelope comes from the cache: the payload's copy fails
  EXPECT_THROW(sig.emit(payload), std::bad_alloc);
  EXPECT_FALSE(sig.drain());

  const auto s = sig.stats();
  EXPECT_EQ(failed_next_here.load() - failed_before, 2);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(s.emits, 1u);  // the failed emits threw: they are not emissions
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  sig.emit(payload);  // and the signal still works, with the envelope recycled
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 2);
}

// A plain emit of a small trivially copyable payload travels inside the pool's task (the
// solo path): no envelope, so it allocates nothing even when far more emissions are in
// flight than the envelope cache holds (the envelope path allocates one per emission
// beyond the cache, docs/benchmarks.md).
TEST(AllocationFailure, PlainEmitsOfASmallTrivialPayloadAllocateNothingBeyondTheEnvelopeCache) {
  constexpr int emits = 200;
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 256});
  sigs::async_options o;
  o.pool = &pool;
  o.envelope_cache = 2;
  sigs::async_signal<int> sig(o);
  std::atomic<long> sum{0};
  ASSERT_TRUE(sig.add_listener([&](const int& v) { sum += v; }));
  std::atomic<bool> open{false};
  sigs::worker_pool::task gate = [&] {
    while (!open.load()) std::this_thread::yield();
  };
  ASSERT_FALSE(pool.submit(gate));  // the only worker waits: every emission stays queued
  sig.emit(0);                      // the first emit of a thread sets up its hazard record
  const long before = allocations_here;
  for (int i = 1; i <= emits; ++i) sig.emit(i);
  const long allocated = allocations_here - before;
  EXPECT_EQ(sig.stats().in_flight, static_cast<std::size_t>(emits + 1));
  open = true;
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(allocated, 0);
  EXPECT_EQ(sum.load(), static_cast<long>(emits) * (emits + 1) / 2);
  EXPECT_EQ(sig.stats().delivered, static_cast<std::uint64_t>(emits + 1));
}

}  // namespace
