// Unit tests of the hazard-pointer domain itself (include/sigs/detail/hazard.hpp): slot
// stack, overflow fallback, collect, record reuse, and the choice of read path.
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/thread_record.hpp>

#include <sigs/sync_signal.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

namespace {

using domain = sigs::detail::hazard_domain<sigs::detail::std_atomics, 2>;

bool contains(const std::vector<const void*>& v, const void* p) { return std::find(v.begin(), v.end(), p) != v.end(); }

class HazardDomain : public ::testing::TestWithParam<bool> {};

TEST_P(HazardDomain, ProtectPublishesAndClearWithdraws) {
  domain d(GetParam());
  auto& rec = d.acquire_record();
  int a = 1, b = 2;
  std::atomic<int*> src{&a};
  std::vector<const void*> seen;
  {
    domain::guard g(d, rec);
    EXPECT_EQ(g.template protect<int>(src), &a);
    EXPECT_TRUE(d.collect(seen));
    EXPECT_TRUE(contains(seen, &a));
    EXPECT_TRUE(d.collect(seen, &rec));  // the caller's own record is skipped
    EXPECT_FALSE(contains(seen, &a));
    src.store(&b);
    EXPECT_EQ(g.template protect<int>(src), &b);  // re-protecting replaces the slot
    EXPECT_TRUE(d.collect(seen));
    EXPECT_FALSE(contains(seen, &a));
    EXPECT_TRUE(contains(seen, &b));
  }
  EXPECT_TRUE(d.collect(seen));
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(rec.depth, 0u);
  d.release_record(rec);
}

TEST_P(HazardDomain, NestingPastTheSlotsUsesTheOverflowCount) {
  domain d(GetParam());
  auto& rec = d.acquire_record();
  int x = 0;
  std::atomic<int*> src{&x};
  std::vector<const void*> seen;
  {
    domain::guard g1(d, rec), g2(d, rec), g3(d, rec);
    g1.template protect<int>(src);
    g2.template protect<int>(src);
    EXPECT_FALSE(g2.overflowed());
    g3.template protect<int>(src);
    EXPECT_TRUE(g3.overflowed());
    EXPECT_EQ(rec.overflow, 1u);
    EXPECT_FALSE(d.collect(seen));        // an overflow reader: a scan must free nothing
    EXPECT_TRUE(d.collect(seen, &rec));   // ... unless it is the caller itself
    g3.clear();
    EXPECT_TRUE(d.collect(seen));
  }
  EXPECT_EQ(rec.overflow, 0u);
  EXPECT_EQ(rec.depth, 0u);
  d.release_record(rec);
}

TEST_P(HazardDomain, PublishWithoutValidation) {
  domain d(GetParam());
  auto& rec = d.acquire_record();
  int x = 0;
  std::vector<const void*> seen;
  {
    domain::guard g(d, rec);
    g.publish(&x);
    EXPECT_TRUE(d.collect(seen));
    EXPECT_TRUE(contains(seen, &x));
    domain::guard g2(d, rec), g3(d, rec);
    g2.publish(&x);
    g3.publish(&x);  // past the two slots
    EXPECT_TRUE(g3.overflowed());
    EXPECT_FALSE(d.collect(seen));
  }
  EXPECT_TRUE(d.collect(seen));
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

INSTANTIATE_TEST_SUITE_P(ReadPaths, HazardDomain, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("asymmetric_if_available") : std::string("seq_cst"); });

TEST(GlobalDomain, ReadPathFollowsTheEnvironment) {
  const char* env = std::getenv("SIGS_ASYMMETRIC_FENCE");
  if (env && std::strcmp(env, "0") == 0) {
    EXPECT_FALSE(sigs::detail::global_domain().asymmetric());
  }
  EXPECT_EQ(sigs::detail::global_domain().asymmetric(), sigs::detail::std_atomics::asymmetric_fence_available());
  std::printf("global domain read path: %s\n", sigs::detail::global_domain().asymmetric() ? "asymmetric fence" : "seq_cst exchange");
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
