// Unit tests of the hazard-pointer domain itself (include/sigs/detail/hazard.hpp): slot
// stack, per-source overflow fallback, collect, record reuse, the choice of read path, and
// chosen interleavings of protect() and collect() under a test atomics policy.
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/thread_record.hpp>

#include <sigs/sync_signal.hpp>

#include <testing/hooked_atomics.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using domain = sigs::detail::hazard_domain<sigs::detail::std_atomics, 2>;
using counter = sigs::detail::overflow_count<sigs::detail::std_atomics>;

class HazardDomain : public ::testing::TestWithParam<bool> {};

TEST_P(HazardDomain, ProtectPublishesAndClearWithdraws) {
  domain d(GetParam());
  auto& rec = d.acquire_record();
  int a = 1, b = 2;
  std::atomic<int*> src{&a};
  counter overflow;
  std::vector<const void*> seen;
  {
    domain::guard g(d, rec);
    EXPECT_EQ(g.protect<int>(src, overflow), &a);
    d.collect(seen);
    EXPECT_EQ(seen, (std::vector<const void*>{&a}));  // the caller's own record is scanned too
    src.store(&b, std::memory_order_relaxed);         // relaxed: one thread
    EXPECT_EQ(g.protect<int>(src, overflow), &b);     // re-protecting replaces the slot
    d.collect(seen);
    EXPECT_EQ(seen, (std::vector<const void*>{&b}));
    EXPECT_EQ(rec.depth, 1u);
  }
  d.collect(seen);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(rec.depth, 0u);
  EXPECT_EQ(overflow.readers.load(std::memory_order_relaxed), 0u);  // relaxed: one thread
  d.release_record(rec);
}

// Past the slot stack a reader counts itself in the overflow count of the source it reads,
// and only there: a writer of another signal still frees what its scan allows.
TEST_P(HazardDomain, NestingPastTheSlotsCountsInThatSourcesOverflowCountOnly) {
  domain d(GetParam());
  auto& rec = d.acquire_record();
  int x = 0, y = 0;
  std::atomic<int*> src{&x}, other{&y};
  counter src_count, other_count;
  auto readers = [](const counter& c) { return c.readers.load(std::memory_order_relaxed); };  // relaxed: one thread
  std::vector<const void*> seen;
  {
    domain::guard g1(d, rec), g2(d, rec), g3(d, rec);
    EXPECT_EQ(g1.protect<int>(other, other_count), &y);
    EXPECT_EQ(g2.protect<int>(src, src_count), &x);
    EXPECT_FALSE(g2.overflowed());
    EXPECT_EQ(g3.protect<int>(src, src_count), &x);
    EXPECT_TRUE(g3.overflowed());
    EXPECT_EQ(readers(src_count), 1u);    // a scan of `src` must free nothing now
    EXPECT_EQ(readers(other_count), 0u);  // a scan of `other` is not held up
    d.collect(seen);
    EXPECT_EQ(seen, (std::vector<const void*>{&y, &x}));  // the slots; g3 is in the count only
    g3.clear();
    EXPECT_EQ(readers(src_count), 0u);
    g3.clear();  // idempotent: the count is not decremented twice
    EXPECT_EQ(readers(src_count), 0u);
    EXPECT_EQ(g3.protect<int>(other, other_count), &y);  // a guard reused on another source
    EXPECT_EQ(readers(other_count), 1u);
    EXPECT_EQ(readers(src_count), 0u);
  }
  EXPECT_EQ(readers(src_count), 0u);
  EXPECT_EQ(readers(other_count), 0u);
  EXPECT_EQ(rec.depth, 0u);
  d.collect(seen);
  EXPECT_TRUE(seen.empty());
  d.release_record(rec);
}

TEST_P(HazardDomain, RecordsAreReusedAfterRelease) {
  domain d(GetParam());
  auto* first = &d.acquire_record();
  auto* second = &d.acquire_record();
  EXPECT_NE(first, second);
  d.release_record(*first);
  EXPECT_EQ(&d.acquire_record(), first);
  // Concurrent acquisition never hands one record to two threads.
  std::vector<domain::record*> got(4);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { got[i] = &d.acquire_record(); });
  for (auto& t : ts) t.join();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::unique(got.begin(), got.end()), got.end());
  EXPECT_FALSE(std::count(got.begin(), got.end(), first));
  EXPECT_FALSE(std::count(got.begin(), got.end(), second));
}

TEST_P(HazardDomain, ThreadsAllocatingRecordsAtOnceGetDistinctOnes) {
  // Several threads push new records onto the domain's list at the same time (the push
  // retries its CAS when another thread got there first); none is lost or handed out twice.
  domain d(GetParam());
  constexpr int threads = 4;
  constexpr int per_thread = 200;
  std::vector<std::vector<domain::record*>> got(threads);
  std::latch start(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) got[static_cast<std::size_t>(t)].push_back(&d.acquire_record());
    });
  }
  for (auto& t : ts) t.join();
  std::vector<domain::record*> all;
  for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(threads * per_thread));
  for (auto* r : all) d.release_record(*r);
  // Every record is on the list: a new acquisition reuses one of them.
  EXPECT_TRUE(std::binary_search(all.begin(), all.end(), &d.acquire_record()));
}

TEST_P(HazardDomain, ScanBatchFollowsTheReadPath) {
  domain d(GetParam());
  EXPECT_EQ(d.scan_batch(), d.asymmetric() ? 32u : 1u);
  if (!GetParam()) {
    EXPECT_FALSE(d.asymmetric());
  }
}

INSTANTIATE_TEST_SUITE_P(ReadPaths, HazardDomain, ::testing::Values(false, true), [](const auto& info) {
  return info.param ? std::string("asymmetric_if_available") : std::string("seq_cst");
});

// ---- chosen interleavings, replayed on one thread under a test policy ------------------
//
// `hooked_atomics` (testing/hooked_atomics.hpp) is std_atomics with hooks; these tests use
// one: an atomic object can run a hook just before each of its loads. A hook on a source that stores a new pointer into it plays a
// writer publishing (CORE-P1) between two loads of a reader, deterministically; a hook
// that calls collect() sees what a writer's scan would see at that instant. These tests
// check what the Relacy models and TSan otherwise catch alone: each holds against the
// domain and fails against a one-line mutation of it (named at each test). The
// asymmetric-fence hooks forward to std_atomics, so both read paths run here.

using sigs::testing::hooked_atomics;

using hooked_domain = sigs::detail::hazard_domain<hooked_atomics, 4>;
using hooked_counter = sigs::detail::overflow_count<hooked_atomics>;
using hooked_source = hooked_atomics::atomic<int*>;

class HazardInterleaving : public ::testing::TestWithParam<bool> {};

// The source changes between protect()'s first (relaxed) load and its validation, `changes`
// times in a row: protect() must return the latest pointer, and that pointer must be the
// one its slot holds, or a writer's scan misses the hazard and frees what the reader uses.
// Also, at every validating load, the slot already holds the pointer being validated
// (HP-H1 before HP-H2 in program order).
// Mutation caught: after a failed validation, return the re-read pointer without
// publishing it (`if (q == p) return p; return q;`): the slot keeps the old pointer.
// Also caught: publishing the slot after the validating load rather than before.
TEST_P(HazardInterleaving, AProtectThatRevalidatesPublishesThePointerItReturns) {
  for (int changes : {1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << "changes=" << changes);
    hooked_domain d(GetParam());
    auto& rec = d.acquire_record();
    int values[4] = {0, 1, 2, 3};
    hooked_source src(&values[0]);
    hooked_counter overflow;
    std::vector<std::vector<const void*>> at_validation;  // collect() before each validating load
    int changed = 0;
    src.before_load = [&](std::memory_order order) {
      if (order == std::memory_order_relaxed) return;  // protect()'s first guess
      std::vector<const void*> seen;
      d.collect(seen);
      at_validation.push_back(seen);
      if (changed < changes) {
        ++changed;
        // Stands for the writer's publish (CORE-P1), which the validating load (HP-H2)
        // pairs with. One thread, so the order only documents the role.
        src.store(&values[changed], std::memory_order_seq_cst);
      }
    };
    std::vector<const void*> seen;
    {
      hooked_domain::guard g(d, rec);
      int* got = g.protect<int>(src, overflow);
      EXPECT_EQ(got, &values[changes]);
      EXPECT_FALSE(g.overflowed());
      d.collect(seen);
      EXPECT_EQ(seen, (std::vector<const void*>{got}));  // the slot holds what protect returned
      // One validation per pointer tried, each after that pointer's publish.
      ASSERT_EQ(at_validation.size(), static_cast<std::size_t>(changes) + 1);
      for (int i = 0; i <= changes; ++i) {
        EXPECT_EQ(at_validation[static_cast<std::size_t>(i)], (std::vector<const void*>{&values[i]}))
            << "validation " << i;
      }
      src.before_load = nullptr;
    }
    d.collect(seen);
    EXPECT_TRUE(seen.empty());
    d.release_record(rec);
  }
}

// The overflow path validates too: past the slots, the count goes up before the source is
// read, so a writer that publishes in between still sees the reader (HP-O1 before HP-H2).
// Mutation caught: reading the source first and counting the reader after.
TEST_P(HazardInterleaving, AnOverflowReaderIsCountedBeforeItReadsTheSource) {
  hooked_domain d(GetParam());
  auto& rec = d.acquire_record();
  int held = 0, value = 0;
  hooked_source filler(&held), src(&value);
  hooked_counter filler_count, src_count;
  std::optional<hooked_domain::guard> slots[hooked_domain::slots_per_record];
  for (auto& g : slots) {
    g.emplace(d, rec);
    g->protect<int>(filler, filler_count);
  }
  std::size_t readers_at_load = 0;
  src.before_load = [&](std::memory_order) {
    readers_at_load = src_count.readers.load(std::memory_order_relaxed);  // relaxed: one thread
  };
  {
    hooked_domain::guard deep(d, rec);
    EXPECT_EQ(deep.protect<int>(src, src_count), &value);
    EXPECT_TRUE(deep.overflowed());
    EXPECT_EQ(readers_at_load, 1u);
    EXPECT_EQ(filler_count.readers.load(std::memory_order_relaxed), 0u);  // relaxed: one thread
  }
  EXPECT_EQ(src_count.readers.load(std::memory_order_relaxed), 0u);  // relaxed: one thread
  for (std::size_t i = hooked_domain::slots_per_record; i-- > 0;) slots[i].reset();
  d.release_record(rec);
}

// Every level of a record's slot stack is scanned: one distinct pointer per slot (nested
// guards, all Slots levels, plus one reader past them), each reported by collect() while
// held and gone once its guard clears, innermost first.
// Mutation caught: collect() walking one slot fewer per record (`i + 1 < Slots`), which
// misses only the deepest nesting level, so no shallow test notices.
template <class Domain, class Source, class Counter>
void every_slot_level_is_scanned(bool allow_asymmetric) {
  constexpr std::size_t slots = Domain::slots_per_record;
  Domain d(allow_asymmetric);
  auto& rec = d.acquire_record();
  std::array<int, slots + 1> values{};
  std::array<Source, slots + 1> sources;
  std::array<Counter, slots + 1> counts;
  for (std::size_t i = 0; i <= slots; ++i)
    sources[i].store(&values[i], std::memory_order_relaxed);  // relaxed: one thread
  auto expect_protected = [&](std::size_t n) {                // values[0..n) and nothing else
    std::vector<const void*> seen, want;
    d.collect(seen);
    for (std::size_t i = 0; i < n; ++i) want.push_back(&values[i]);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, want) << n << " of " << slots << " slots in use";
  };
  auto overflow_readers = [&] {
    std::size_t n = 0;
    for (auto& c : counts) n += c.readers.load(std::memory_order_relaxed);  // relaxed: one thread
    return n;
  };

  std::array<std::optional<typename Domain::guard>, slots + 1> guards;
  for (std::size_t i = 0; i <= slots; ++i) {
    guards[i].emplace(d, rec);
    EXPECT_EQ(guards[i]->template protect<int>(sources[i], counts[i]), &values[i]);
    EXPECT_EQ(guards[i]->overflowed(), i == slots);
    expect_protected(std::min(i + 1, slots));
  }
  EXPECT_EQ(rec.depth, slots);
  EXPECT_EQ(counts[slots].readers.load(std::memory_order_relaxed), 1u);  // relaxed: one thread
  EXPECT_EQ(overflow_readers(), 1u);

  for (std::size_t i = slots + 1; i-- > 0;) {
    guards[i]->clear();
    guards[i].reset();
    expect_protected(std::min(i, slots));
    EXPECT_EQ(overflow_readers(), 0u);
  }
  EXPECT_EQ(rec.depth, 0u);
  d.release_record(rec);
}

TEST_P(HazardInterleaving, EveryLevelOfTheSlotStackIsScanned) {
  every_slot_level_is_scanned<hooked_domain, hooked_source, hooked_counter>(GetParam());
  // And the production instantiation, with its slot count.
  every_slot_level_is_scanned<sigs::detail::default_domain, std::atomic<int*>,
                              sigs::detail::overflow_count<sigs::detail::std_atomics>>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(ReadPaths, HazardInterleaving, ::testing::Values(false, true), [](const auto& info) {
  return info.param ? std::string("asymmetric_if_available") : std::string("seq_cst");
});

TEST(GlobalDomain, ReadPathFollowsTheEnvironment) {
  const char* env = std::getenv("SIGS_ASYMMETRIC_FENCE");
  if (env && std::strcmp(env, "0") == 0) {
    EXPECT_FALSE(sigs::detail::global_domain().asymmetric());
  }
  EXPECT_EQ(sigs::detail::global_domain().asymmetric(), sigs::detail::std_atomics::asymmetric_fence_available());
  std::printf("global domain read path: %s\n",
              sigs::detail::global_domain().asymmetric() ? "asymmetric fence" : "seq_cst exchange");
}

TEST(GlobalDomain, ThreadsGetDistinctRecordsAndReturnThem) {
  auto* mine = &sigs::detail::local_record();
  EXPECT_EQ(&sigs::detail::local_record(), mine);
  sigs::detail::default_domain::record* other = nullptr;
  std::thread([&] { other = &sigs::detail::local_record(); }).join();
  EXPECT_NE(other, mine);
  // The exited thread handed its record back: the next new thread may get it again.
  sigs::detail::default_domain::record* again = nullptr;
  std::thread([&] { again = &sigs::detail::local_record(); }).join();
  EXPECT_EQ(again, other);
}

// A thread_local whose destructor emits, destroyed after the thread's record was handed
// back (it was constructed before the thread's first emission, so it is destroyed after
// the record's owner): the emission still works, on a record that is never handed back.
struct emits_at_thread_exit {
  sigs::sync_signal<int>* sig = nullptr;
  ~emits_at_thread_exit() {
    if (sig) sig->emit(2);
  }
};
thread_local emits_at_thread_exit at_thread_exit;

TEST(GlobalDomain, AThreadLocalDestroyedAfterTheRecordOwnerCanStillEmit) {
  sigs::sync_signal<int> sig;
  std::vector<int> seen;  // written by the thread, read after join
  sig.add_listener([&](const int& v) { seen.push_back(v); });
  std::thread([&] {
    at_thread_exit.sig = &sig;  // first use: registered for destruction before the record
    sig.emit(1);                // first emission: takes this thread's record
  }).join();
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
  sig.emit(3);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
}

}  // namespace
