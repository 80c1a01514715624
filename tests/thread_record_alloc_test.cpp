// A thread's first emission takes one of the records the global domain was built with, so
// it allocates nothing; only a thread that finds every record held allocates one
// (docs/guarantees.md, "Threads and records"). Counted by replacing every global operator
// new of this binary (testing/alloc_hooks.hpp; its own binary: the replacement is
// process-wide), as bench/alloc_counter.cpp does; the record is over-aligned, so the
// aligned forms count too. Not built under ASan/TSan, whose runtimes define operator new
// themselves.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <testing/alloc_hooks.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <new>
#include <thread>
#include <vector>

namespace {

// Allocations attempted on the calling thread so far, over-aligned ones included.
std::uint64_t allocations_here() {
  return static_cast<std::uint64_t>(sigs::testing::alloc_hooks::allocations_here +
                                    sigs::testing::alloc_hooks::aligned_here);
}

using sigs::detail::global_domain;

// Starts `n` threads that are all alive at once (so each holds a record of its own), and
// returns how many allocations each one's first emit made.
std::vector<std::uint64_t> first_emit_allocations(sigs::sync_signal<int>& sig, int n) {
  std::vector<std::uint64_t> made(static_cast<std::size_t>(n));
  std::latch started(n);
  std::latch emitted(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      started.arrive_and_wait();
      const std::uint64_t before = allocations_here();
      sig.emit(1);
      made[static_cast<std::size_t>(i)] = allocations_here() - before;
      emitted.arrive_and_wait();  // keep the record until every thread has emitted
    });
  }
  for (auto& t : threads) t.join();
  return made;
}

TEST(ThreadRecordAllocation, TheCounterSeesAllocations) {
  const std::uint64_t before = allocations_here();
  delete new int(1);
  EXPECT_EQ(allocations_here() - before, 1u);
}

TEST(ThreadRecordAllocation, AThreadsFirstEmitAllocatesNothing) {
  sigs::sync_signal<int> sig;  // builds the global domain with its free records
  std::atomic<int> calls{0};
  sig.add_listener([&](const int&) { calls.fetch_add(1, std::memory_order_relaxed); });  // relaxed: read after join
  constexpr int threads = 8;
  const auto made = first_emit_allocations(sig, threads);
  for (int i = 0; i < threads; ++i) EXPECT_EQ(made[static_cast<std::size_t>(i)], 0u) << "thread " << i;
  EXPECT_EQ(calls.load(), threads);
  std::printf("record: %zu bytes; %zu preallocated\n", sizeof(sigs::detail::default_domain::record),
              sigs::detail::preallocated_records);
}

TEST(ThreadRecordAllocation, PastThePreallocatedRecordsOnlyTheExtraThreadsAllocate) {
  sigs::sync_signal<int> sig;
  sig.add_listener([](const int&) {});
  const std::size_t before = global_domain().record_count();
  constexpr int threads = static_cast<int>(sigs::detail::preallocated_records) + 16;
  const auto made = first_emit_allocations(sig, threads);
  const std::size_t after = global_domain().record_count();
  std::uint64_t total = 0;
  int allocating = 0;
  for (std::uint64_t m : made) {
    EXPECT_LE(m, 1u);  // one record, nothing else
    total += m;
    allocating += m != 0;
  }
  std::printf("%d threads at once: %d allocated a record; records %zu -> %zu\n", threads, allocating, before, after);
  EXPECT_EQ(total, after - before);  // every allocation is a record the domain keeps
  // The main thread may hold a record too: at most one more than the strict excess.
  EXPECT_LE(after - before, static_cast<std::size_t>(threads) - sigs::detail::preallocated_records + 1);
  EXPECT_GE(after, static_cast<std::size_t>(threads));  // each thread held its own
}

}  // namespace
