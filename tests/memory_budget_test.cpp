// What a listener costs in memory, and the details it keeps apart from its entry (key,
// counters, last error: listener_entry.hpp), measured through a replaced global operator
// new (testing/alloc_hooks.hpp; its own binary, built without sanitizers).
//
// The budget: a capture-less, unkeyed listener that never fails costs at most 96 bytes
// while metrics are off, all included: its entry, its slot in the current snapshot and
// its share of the replaced snapshots still waiting to be freed. The bytes are what the
// allocator holds (usable size plus its chunk header), as bench/'s memory cases count.
#include <sigs/sync_signal.hpp>

#include <testing/alloc_hooks.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <new>
#include <string>
#include <type_traits>

namespace {

using sigs::testing::alloc_hooks::count_bytes_here;
using sigs::testing::alloc_hooks::fail_next_here;
using sigs::testing::alloc_hooks::live_bytes_here;

constexpr auto noop = [](const int&) {};
using noop_entry = sigs::detail::entry_impl<sigs::detail::std_atomics, int, std::decay_t<decltype(noop)>>;
using sync_snapshot = sigs::detail::snapshot<sigs::detail::std_atomics, int>;

// What emit reads of an entry, and the callable after it, in 56 bytes: one 64-byte chunk
// of glibc's malloc.
static_assert(sizeof(void*) != 8 || sizeof(noop_entry) <= 56, "the listener entry grew past its budget");
// A sync snapshot's header is one cache line.
static_assert(sizeof(sync_snapshot) == sigs::detail::cache_line, "the sync snapshot header grew past one line");

constexpr std::size_t listeners = 1000;
constexpr double budget_bytes = 96;

/// Counts the bytes the calling thread holds from the allocator while it lives.
struct byte_count {
  byte_count() {
    live_bytes_here = 0;
    count_bytes_here = true;
  }
  ~byte_count() { stop(); }
  void stop() { count_bytes_here = false; }
  byte_count(const byte_count&) = delete;
  byte_count& operator=(const byte_count&) = delete;
  [[nodiscard]] long long bytes() const { return live_bytes_here; }
};

/// Builds the process's hazard domain and this thread's record first, so that the counts
/// below hold the signal's memory alone.
void warm_up() {
  sigs::sync_signal<int> sig;
  sig.emit(0);
}

TEST(MemoryBudget, AThousandCapturelessListenersTakeAtMost96BytesEach) {
  warm_up();
  byte_count count;
  double per_listener = 0;
  {
    sigs::sync_signal<int> sig;
    for (std::size_t i = 0; i < listeners; ++i) {
      if (!sig.add_listener(noop)) break;
    }
    sig.emit(1);  // emission allocates nothing either
    per_listener = static_cast<double>(count.bytes()) / listeners;
  }
  const long long left = count.bytes();  // the signal gives all of it back
  count.stop();                          // (gtest's own records allocate below)
  EXPECT_EQ(left, 0);
  EXPECT_LE(per_listener, budget_bytes);
  EXPECT_GT(per_listener, 0);  // the count sees the signal at all
  RecordProperty("bytes_per_listener", std::to_string(per_listener));
}

// Replaced snapshots wait to be freed in a batch; the batch is bounded in bytes too, so
// removals at a large listener count do not pile up copies of the list.
TEST(MemoryBudget, RemovalsKeepWithinTheBudgetOfWhatIsLeft) {
  warm_up();
  byte_count count;
  sigs::sync_signal<int> sig;
  std::vector<sigs::listener_id> ids;
  ids.reserve(2 * listeners);
  for (std::size_t i = 0; i < 2 * listeners; ++i) ids.push_back(sig.add_listener(noop));
  for (std::size_t i = 0; i < listeners; ++i) ASSERT_FALSE(sig.remove_listener(ids[i]));
  const long long vector_bytes = static_cast<long long>(ids.capacity() * sizeof(sigs::listener_id)) + 16;
  const long long bytes = count.bytes();
  count.stop();
  EXPECT_LE(static_cast<double>(bytes - vector_bytes) / listeners, budget_bytes);
}

// A listener that only throws gets its details (where its error record lives) at its
// first exception. Without memory for them, the failure is still counted and reported,
// and stats() says the listener's own record missed it; the next one is recorded.
TEST(ListenerDetails, AFirstExceptionWithoutMemoryForTheRecordIsCountedAsUnrecorded) {
  sigs::sync_signal<int> sig;
  int reported = 0;
  sig.set_error_handler([&](const sigs::listener_error&) { ++reported; });
  struct boom {};  // allocates no message: the first allocation of the emit is the details'
  const auto id = sig.add_listener([](const int&) { throw boom{}; });
  ASSERT_TRUE(id);
  fail_next_here = true;  // the details'; the thrown object itself comes from malloc
  sig.emit(1);
  fail_next_here = false;
  EXPECT_EQ(sig.stats().exceptions, 1u);
  EXPECT_EQ(sig.stats().unrecorded_failures, 1u);
  EXPECT_EQ(reported, 1);
  EXPECT_EQ(sig.metadata(id)->error_count, 0u);

  sig.emit(2);
  EXPECT_EQ(sig.stats().exceptions, 2u);
  EXPECT_EQ(sig.stats().unrecorded_failures, 1u);
  const auto md = sig.metadata(id);
  EXPECT_EQ(md->error_count, 1u);
  EXPECT_EQ(md->last_error, sigs::errc::listener_exception);
  EXPECT_TRUE(md->last_exception);
}

// Switching metrics on gives the listeners already added their counters; out of memory,
// it throws and leaves metrics off (and nothing counted).
TEST(ListenerDetails, MetricsSwitchedOnCountTheListenersAlreadyThereOrThrowWithMetricsOff) {
  sigs::sync_signal<int> sig;
  const auto a = sig.add_listener(noop);
  const auto b = sig.add_listener(noop);
  fail_next_here = true;
  EXPECT_THROW(sig.set_metrics(true), std::bad_alloc);
  fail_next_here = false;
  sig.emit(1);
  EXPECT_EQ(sig.stats().emits, 0u);
  EXPECT_EQ(sig.metadata(a)->call_count, 0u);

  sig.set_metrics(true);
  sig.emit(2);
  sig.emit(3);
  EXPECT_EQ(sig.stats().emits, 2u);
  EXPECT_EQ(sig.metadata(a)->call_count, 2u);
  EXPECT_EQ(sig.metadata(b)->call_count, 2u);

  // Off and on again: the counters stay, and nothing more is allocated for them.
  sig.set_metrics(false);
  sig.emit(4);
  sig.set_metrics(true);
  sig.emit(5);
  EXPECT_EQ(sig.metadata(a)->call_count, 3u);
}

// A listener added while metrics are on has its counters from the start.
TEST(ListenerDetails, AListenerAddedWithMetricsOnIsCountedFromItsFirstCall) {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_on});
  const auto a = sig.add_listener(noop);
  sig.emit(1);
  EXPECT_EQ(sig.metadata(a)->call_count, 1u);
  EXPECT_NE(sig.metadata(a)->last_called, std::chrono::system_clock::time_point{});
}

}  // namespace
