// Out of memory in the places allocation_failure_test.cpp does not reach: a signal's
// first write (which also reserves its list of retired snapshots), a write's scan (which
// gathers every thread's hazards in a list it may have to grow), the search of a removal
// wait for calls of a dead listener, and hazard records, which are over-aligned: the
// domain's preallocation, a worker's record at start, an emitting thread's first record.
//
// Injected through a replaced global operator new, the aligned forms included (testing/
// alloc_hooks.hpp; its own binary: the replacement is process-wide). Switches:
//   - `fail_at`: the n-th unaligned allocation from now, on any thread, throws bad_alloc;
//   - `fail_next_here`: the next unaligned allocation on the calling thread throws;
//   - `fail_aligned_at`: the n-th over-aligned allocation from now, on any thread, throws.
// Under ASan and TSan the sanitizer runtime defines operator new itself: tests/CMakeLists.txt
// builds this file only without sanitizers.
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/sigs.hpp>

#include <testing/alloc_hooks.hpp>
#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <latch>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using sigs::testing::alloc_hooks::aligned_here;
using sigs::testing::alloc_hooks::fail_aligned_at;
using sigs::testing::alloc_hooks::fail_at;
using sigs::testing::alloc_hooks::fail_next_here;
using sigs::testing::alloc_hooks::failed;
using sigs::testing::alloc_hooks::failed_aligned;

using namespace std::chrono_literals;
using sigs::errc;
using sigs::detail::global_domain;
using sigs::testing::watchdog;

constexpr auto hang_limit = 10s;

// ------------------------------------------------------------------------ writers

// A signal's first write allocates the listener's entry, the new snapshot and the list of
// retired snapshots. Out of memory at any of them, add_listener throws std::bad_alloc and
// the signal stays empty and usable.
TEST(WriterAllocationFailure, TheFirstAddListenerOfASignalThatRunsOutOfMemoryLeavesItEmpty) {
  int failures = 0;
  for (long n = 1;; ++n) {
    ASSERT_LT(n, 100) << "add_listener never succeeded";
    sigs::sync_signal<int> sig;
    int calls = 0;
    bool threw = false;
    fail_at = n;
    try {
      (void)sig.add_listener([&](const int&) { ++calls; }, "k");
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    const bool reached = fail_at.exchange(0) == 0;  // the n-th allocation was made (and failed)
    sig.emit(1);
    if (!threw) {
      EXPECT_FALSE(reached) << "allocation " << n << " failed, yet add_listener returned";
      EXPECT_EQ(sig.size(), 1u);
      EXPECT_EQ(calls, 1);
      break;
    }
    ++failures;
    EXPECT_EQ(sig.size(), 0u) << "allocation " << n << " failed";
    EXPECT_FALSE(sig.has_key("k")) << "allocation " << n << " failed";
    EXPECT_EQ(calls, 0) << "allocation " << n << " failed";
    EXPECT_TRUE(sig.add_listener([&](const int&) { ++calls; }, "k")) << "allocation " << n << " failed";
    sig.emit(1);
    EXPECT_EQ(calls, 1) << "allocation " << n << " failed";
  }
  EXPECT_GE(failures, 3);  // the entry, the snapshot, the retired list
}

// A write from inside a listener: the emission's hazard is on the snapshot the write
// replaces, so the write's scan has a hazard to gather, in a list that grows on first use.
// Out of memory there, the scan frees nothing this time, and the write still completes:
// it neither throws nor loses the listener. Every other allocation of the write throws
// std::bad_alloc and leaves the signal as it was.
TEST(WriterAllocationFailure, AWriteWhoseScanCannotListTheHazardsStillCompletes) {
  // Writes before the one under test, so that its scan is the first of the signal: with the
  // asymmetric fence a write scans once 32 snapshots are retired (scan_batch), otherwise
  // every write scans; registering the outer listener retired one.
  const std::size_t batch = global_domain().scan_batch();
  const std::size_t warm_up = batch > 1 ? batch - 2 : 0;
  int absorbed = 0;
  for (long n = 1;; ++n) {
    ASSERT_LT(n, 100) << "the write never succeeded";
    sigs::sync_signal<int> sig;
    int late_calls = 0;
    bool threw = false;
    bool reached = false;
    sigs::listener_id late;
    std::size_t size_inside = 0;
    ASSERT_TRUE(sig.add_listener(
        [&](const int& v) {
          if (v != 0) return;
          for (std::size_t i = 0; i < warm_up; ++i) ASSERT_TRUE(sig.add_listener([](const int&) {}));
          const int failed_before = failed.load();
          fail_at = n;
          try {
            late = sig.add_listener([&](const int&) { ++late_calls; }, "late");
          } catch (const std::bad_alloc&) {
            threw = true;
          }
          reached = fail_at.exchange(0) == 0;
          size_inside = sig.size();
          if (reached) {
            EXPECT_EQ(failed.load() - failed_before, 1);
          }
        },
        "outer"));
    sig.emit(0);
    sig.emit(1);
    const std::size_t expected_size = 1 + warm_up;
    if (!reached) {  // no allocation failed: past the write's allocations
      EXPECT_FALSE(threw);
      EXPECT_TRUE(late);
      EXPECT_EQ(late_calls, 1);
      break;
    }
    if (threw) {
      EXPECT_EQ(size_inside, expected_size) << "allocation " << n << " failed";
      EXPECT_FALSE(sig.has_key("late")) << "allocation " << n << " failed";
      EXPECT_EQ(late_calls, 0) << "allocation " << n << " failed";
      continue;
    }
    // The failure was absorbed: the write is complete and the signal consistent.
    ++absorbed;
    EXPECT_TRUE(late) << "allocation " << n << " failed";
    EXPECT_EQ(size_inside, expected_size + 1) << "allocation " << n << " failed";
    EXPECT_TRUE(sig.has_key("late")) << "allocation " << n << " failed";
    EXPECT_EQ(late_calls, 1) << "allocation " << n << " failed";
    EXPECT_EQ(sig.size(), expected_size + 1) << "allocation " << n << " failed";
    // A later write scans again, with memory, and the signal goes on working.
    EXPECT_FALSE(sig.remove_listener("late"));
    sig.emit(1);
    EXPECT_EQ(late_calls, 1) << "allocation " << n << " failed";
  }
  EXPECT_EQ(absorbed, 1);
}

// remove_listener_and_wait of a listener already removed looks for its calls in every
// snapshot an emission may still walk: here the one the running emission holds. Out of
// memory while listing them, it throws std::bad_alloc and changes nothing; with memory it
// returns not_found (there is no other call to wait for).
TEST(WriterAllocationFailure, ARemovalWaitOfADeadListenerThatRunsOutOfMemoryThrowsAndChangesNothing) {
  sigs::sync_signal<int> sig;
  int gone_calls = 0;
  int other_calls = 0;
  const sigs::listener_id gone = sig.add_listener([&](const int&) { ++gone_calls; }, "gone");
  ASSERT_TRUE(gone);
  const sigs::listener_id other = sig.add_listener([&](const int&) { ++other_calls; }, "other");
  ASSERT_TRUE(other);
  int threw = 0;
  std::error_code by_key, by_id;
  ASSERT_TRUE(sig.add_listener([&](const int& v) {
    if (v != 0) return;
    EXPECT_FALSE(sig.remove_listener(gone));  // the running emission's snapshot still holds it
    for (int i = 0; i < 2; ++i) {
      fail_next_here = true;
      try {
        (void)(i == 0 ? sig.remove_listener_and_wait("gone") : sig.remove_listener_and_wait(gone));
      } catch (const std::bad_alloc&) {
        ++threw;
      }
      fail_next_here = false;
    }
    EXPECT_EQ(sig.size(), 2u);
    by_key = sig.remove_listener_and_wait("gone");
    by_id = sig.remove_listener_and_wait(gone);
  }));
  sig.emit(0);
  EXPECT_EQ(threw, 2);
  EXPECT_EQ(by_key, errc::not_found);
  EXPECT_EQ(by_id, errc::not_found);
  EXPECT_EQ(gone_calls, 1);  // called by the emission, before it was removed
  sig.emit(1);
  EXPECT_EQ(gone_calls, 1);
  EXPECT_EQ(other_calls, 2);
  EXPECT_EQ(sig.size(), 2u);
  EXPECT_TRUE(sig.has_key("other"));
  EXPECT_FALSE(sig.remove_listener_and_wait(other));  // a live one, with memory: removed
  EXPECT_FALSE(sig.has_key("other"));
  EXPECT_EQ(sig.size(), 1u);
}

// ------------------------------------------------------------------------ records

// preallocate() gives the strong guarantee: out of memory for any record of the batch, it
// throws std::bad_alloc and adds none (the ones already made are freed).
TEST(RecordAllocationFailure, APreallocationThatRunsOutOfMemoryAddsNoRecord) {
  using domain_t = sigs::detail::hazard_domain<sigs::detail::std_atomics, 2>;
  domain_t d;
  const int failed_before = failed_aligned.load();
  fail_aligned_at = 3;  // the third record of four
  EXPECT_THROW(d.preallocate(4), std::bad_alloc);
  EXPECT_EQ(fail_aligned_at.exchange(0), 0);
  EXPECT_EQ(failed_aligned.load() - failed_before, 1);
  EXPECT_EQ(d.record_count(), 0u);

  d.preallocate(4);
  EXPECT_EQ(d.record_count(), 4u);
  const long before = aligned_here;
  std::vector<domain_t::record*> taken;
  for (int i = 0; i < 4; ++i) taken.push_back(&d.acquire_record());  // the four: nothing allocated
  EXPECT_EQ(aligned_here, before);
  taken.push_back(&d.acquire_record());  // a fifth is allocated
  EXPECT_EQ(aligned_here, before + 1);
  EXPECT_EQ(d.record_count(), 5u);
  for (domain_t::record* r : taken) d.release_record(*r);
}

/// Holds every free record of the global domain: starts threads, each taking a record,
/// until one has to allocate its own. Until destroyed, a thread without a record allocates.
class record_hoarder {
 public:
  record_hoarder() {
    for (;;) {
      auto h = std::make_unique<holder>();
      h->thread = std::thread([p = h.get()] {
        const long before = aligned_here;
        (void)sigs::detail::local_record();
        p->allocated = aligned_here != before;
        p->ready.count_down();
        p->release.wait();
      });
      h->ready.wait();
      const bool allocated = h->allocated;
      holders_.push_back(std::move(h));
      if (allocated) return;
      if (holders_.size() > 4096) {
        ADD_FAILURE() << "the free records never ran out";
        return;
      }
    }
  }
  ~record_hoarder() {
    for (auto& h : holders_) h->release.count_down();
    for (auto& h : holders_) h->thread.join();
  }
  record_hoarder(const record_hoarder&) = delete;
  record_hoarder& operator=(const record_hoarder&) = delete;

 private:
  struct holder {
    std::thread thread;
    std::latch ready{1};
    std::latch release{1};
    bool allocated = false;
  };
  std::vector<std::unique_ptr<holder>> holders_;
};

// A worker takes its record when it starts, so that no delivery meets that allocation
// half-way. Out of memory then, the worker starts anyway; its first delivery takes the
// record (allocates it) instead, and the pool works normally.
TEST(RecordAllocationFailure, AWorkerWhoseRecordCannotBeAllocatedAtStartTakesItAtItsFirstDelivery) {
  (void)sigs::detail::local_record();  // this thread keeps its own
  record_hoarder hoard;                // every other record is held
  const std::size_t records_before = global_domain().record_count();
  const int failed_before = failed_aligned.load();
  fail_aligned_at = 2;  // the pool's worker slots first, then the worker's record
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  {
    watchdog dog(hang_limit, "the worker to try to allocate its record");
    while (failed_aligned.load() == failed_before) std::this_thread::yield();
  }
  EXPECT_EQ(fail_aligned_at.exchange(0), 0);
  EXPECT_EQ(global_domain().record_count(), records_before);

  sigs::async_options o;
  o.pool = &pool;
  sigs::async_signal<int> sig(o);
  std::atomic<int> calls{0};
  ASSERT_TRUE(sig.add_listener([&](const int& v) { calls.fetch_add(v); }));
  sig.emit(1);
  const sigs::completion second = sig.emit_tracked(2);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(second.delivered(), 1u);
  EXPECT_FALSE(second.error());
  EXPECT_EQ(sig.stats().delivered, 2u);
  EXPECT_EQ(global_domain().record_count(), records_before + 1);  // the worker's, at its first delivery
  EXPECT_EQ(failed_aligned.load() - failed_before, 1);
  EXPECT_FALSE(pool.shutdown());
  EXPECT_EQ(pool.stats().exceptions, 0u);
}

// An emitting thread takes its record at its first emission. Out of memory for it, an async
// emit throws std::bad_alloc before anything is queued or counted (drain() does not wait
// for it), and the thread's next emit takes the record and is delivered.
TEST(RecordAllocationFailure, AnAsyncEmitOnAThreadWithoutARecordThatRunsOutOfMemoryLeavesNothingInFlight) {
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 8});
  sigs::async_options o;
  o.pool = &pool;
  sigs::async_signal<int> sig(o);
  std::atomic<int> calls{0};
  ASSERT_TRUE(sig.add_listener([&](const int& v) { calls.fetch_add(v); }));
  sig.emit(1);  // the worker has taken its record
  EXPECT_FALSE(sig.drain());

  record_hoarder hoard;
  bool threw = false;
  std::thread emitter([&] {
    fail_aligned_at = 1;
    try {
      sig.emit(10);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    EXPECT_EQ(fail_aligned_at.exchange(0), 0);
    const auto s = sig.stats();
    EXPECT_EQ(s.in_flight, 0u);
    EXPECT_EQ(s.emits, 1u);  // the failed emit is not an emission
    EXPECT_FALSE(sig.drain());
    sig.emit(100);
  });
  emitter.join();
  EXPECT_TRUE(threw);
  EXPECT_FALSE(sig.drain());
  EXPECT_EQ(calls.load(), 101);
  const auto s = sig.stats();
  EXPECT_EQ(s.emits, 2u);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

}  // namespace
