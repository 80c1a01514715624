// The production core (signal_core over signal_domain) instantiated with `flaky_atomics`: a
// std::atomic policy whose compare_exchange_weak fails spuriously on request, as the
// standard allows and as LL/SC machines (ARM, POWER) really do, and which can run a hook
// just before a CAS, to replay one chosen interleaving deterministically on one thread.
// x86 never fails a weak CAS spuriously, so without this policy the retry paths of the
// record-list push (hazard.hpp (R3)) and of kill() in signal_core.hpp never run here.
//
// The asymmetric-fence hooks forward to std_atomics, so the domain takes the same read path
// as production, and BOTH_FENCES runs every test on both.
#include <sigs/detail/call_tracking.hpp>
#include <sigs/detail/signal_core.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// Per-thread switches of the policy (every test here drives the core on one thread).
thread_local int spurious_failures = 0;              // weak CASes still to fail
thread_local int weak_cas_calls = 0;                 // weak CASes attempted
thread_local std::function<void()> before_next_cas;  // run once, before the next CAS

void run_cas_hook() {
  if (before_next_cas) {
    auto hook = std::exchange(before_next_cas, nullptr);  // one-shot, and not re-entered
    hook();
  }
}

struct flaky_atomics {
  template <class T>
  class atomic : public std::atomic<T> {
   public:
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
      run_cas_hook();
      ++weak_cas_calls;
      if (spurious_failures > 0) {
        --spurious_failures;
        expected = this->load(failure);  // a spurious failure still reports the current value
        return false;
      }
      return std::atomic<T>::compare_exchange_weak(expected, desired, success, failure);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                                 std::memory_order failure) noexcept {
      run_cas_hook();
      return std::atomic<T>::compare_exchange_strong(expected, desired, success, failure);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order order) noexcept {
      run_cas_hook();
      return std::atomic<T>::compare_exchange_strong(expected, desired, order);
    }
  };
  template <class T>
  using var = sigs::detail::std_atomics::var<T>;
  using mutex = sigs::detail::std_atomics::mutex;
  static void yield() noexcept { sigs::detail::std_atomics::yield(); }
  static void wait(const std::atomic<std::uint32_t>& a, std::uint32_t old) noexcept {
    sigs::detail::std_atomics::wait(a, old);
  }
  static void notify_all(std::atomic<std::uint32_t>& a) noexcept { sigs::detail::std_atomics::notify_all(a); }
  static bool asymmetric_fence_available() noexcept { return sigs::detail::std_atomics::asymmetric_fence_available(); }
  static void reader_barrier() noexcept { sigs::detail::std_atomics::reader_barrier(); }
  static void writer_barrier() noexcept { sigs::detail::std_atomics::writer_barrier(); }
};

using domain_t = sigs::detail::signal_domain<flaky_atomics, 2>;
using core_t = sigs::detail::signal_core<flaky_atomics, int, domain_t>;
using entry_t = core_t::entry_t;

class FlakyCas : public ::testing::Test {
 protected:
  void SetUp() override {
    spurious_failures = 0;
    weak_cas_calls = 0;
    before_next_cas = nullptr;
  }
  void TearDown() override {
    before_next_cas = nullptr;
    spurious_failures = 0;
  }
};

auto by_id(sigs::listener_id id) {
  return [v = id.value()](const entry_t& e) { return e.id == v; };
}

void emit(core_t& core, domain_t::record& rec, int value) {
  core.emit<sigs::detail::on_failure::record, sigs::detail::ctx_check::off>(rec, sigs::context{}, value);
}

TEST_F(FlakyCas, ARecordPushThatFailsSpuriouslyRetriesAndPublishesTheRecord) {
  domain_t d;
  spurious_failures = 3;  // the first three pushes of a new record onto the list fail
  auto& r1 = d.acquire_record();
  EXPECT_EQ(spurious_failures, 0);
  EXPECT_EQ(weak_cas_calls, 4);  // three spurious failures, then the push
  auto& r2 = d.acquire_record();
  EXPECT_NE(&r1, &r2);

  // Both records are in the list: a hazard published through either is seen by a scan.
  int a = 1, b = 2;
  std::atomic<int*> src_a{&a}, src_b{&b};
  sigs::detail::overflow_count<flaky_atomics> overflow;
  std::vector<const void*> seen;
  {
    domain_t::guard g1(d, r1), g2(d, r2);
    EXPECT_EQ(g1.protect<int>(src_a, overflow), &a);
    EXPECT_EQ(g2.protect<int>(src_b, overflow), &b);
    d.collect(seen);
    EXPECT_NE(std::find(seen.begin(), seen.end(), &a), seen.end());
    EXPECT_NE(std::find(seen.begin(), seen.end(), &b), seen.end());
  }
  d.release_record(r2);
  EXPECT_EQ(&d.acquire_record(), &r2);  // a released record is reused, not reallocated
  d.release_record(r2);
  d.release_record(r1);
}

// The preallocated records go on the list with one CAS, which may fail spuriously too.
TEST_F(FlakyCas, PreallocatedRecordsArePublishedDespiteSpuriousFailuresAndTakenBeforeNewOnes) {
  domain_t d;
  d.preallocate(0);
  EXPECT_EQ(d.record_count(), 0u);
  spurious_failures = 2;
  weak_cas_calls = 0;
  d.preallocate(3);
  EXPECT_EQ(spurious_failures, 0);
  EXPECT_EQ(weak_cas_calls, 3);  // two spurious failures, then the chain is on the list
  EXPECT_EQ(d.record_count(), 3u);
  auto& r = d.acquire_record();  // one of the three: nothing new is allocated
  EXPECT_EQ(d.record_count(), 3u);
  d.release_record(r);
}

TEST_F(FlakyCas, ARemovalWhoseCasFailsSpuriouslyRetriesAndRemoves) {
  domain_t d;
  auto& rec = d.acquire_record();
  {
    core_t core(d);
    int calls_a = 0, calls_b = 0;
    const auto a = core.add([&](const int&) { ++calls_a; }, "a", false);
    const auto b = core.add([&](const int&) { ++calls_b; }, {}, true);  // a once-listener too
    ASSERT_TRUE(a && b);
    ASSERT_EQ(core.size(), 2u);

    spurious_failures = 2;
    weak_cas_calls = 0;
    EXPECT_FALSE(core.remove(by_id(a)));
    EXPECT_EQ(weak_cas_calls, 3);  // kill(): two spurious failures, then the state moved
    EXPECT_EQ(core.size(), 1u);

    spurious_failures = 1;
    EXPECT_FALSE(core.remove_and_wait(rec, by_id(b)));  // an armed once-listener, likewise
    EXPECT_EQ(spurious_failures, 0);
    EXPECT_EQ(core.size(), 0u);

    emit(core, rec, 1);
    EXPECT_EQ(calls_a, 0);
    EXPECT_EQ(calls_b, 0);
    EXPECT_EQ(core.remove(by_id(a)), sigs::errc::not_found);  // gone for good
  }
  d.release_record(rec);
}

// The interleaving: the remover finds the once-listener armed, then, before its CAS, an
// emission fires it. The CAS fails on a real state change; the removal must report
// not_found and the listener must have fired exactly once.
TEST_F(FlakyCas, AOnceListenerThatFiresBetweenFindAndRemoveIsNotRemovedTwice) {
  domain_t d;
  auto& rec = d.acquire_record();
  {
    core_t core(d);
    int fired = 0;
    const auto id = core.add([&](const int&) { ++fired; }, {}, true);
    ASSERT_TRUE(id);
    before_next_cas = [&] { emit(core, rec, 7); };  // fires it: armed -> fired
    EXPECT_EQ(core.remove(by_id(id)), sigs::errc::not_found);
    EXPECT_FALSE(before_next_cas);  // the hook did run, inside the removal
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(core.size(), 0u);
    emit(core, rec, 8);
    EXPECT_EQ(fired, 1);
  }
  d.release_record(rec);
}

TEST_F(FlakyCas, AOnceListenerThatFiresBetweenFindAndRemoveAndWaitIsNotRemovedTwice) {
  domain_t d;
  auto& rec = d.acquire_record();
  {
    core_t core(d);
    int fired = 0;
    const auto id = core.add([&](const int&) { ++fired; }, {}, true);
    ASSERT_TRUE(id);
    before_next_cas = [&] { emit(core, rec, 7); };
    EXPECT_EQ(core.remove_and_wait(rec, by_id(id)), sigs::errc::not_found);
    EXPECT_FALSE(before_next_cas);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(core.size(), 0u);
  }
  d.release_record(rec);
}

// A once-listener claimed by an emission while a plain removal of the same listener is
// pending: the claim's strong CAS wins, the removal's weak CAS sees `fired` and gives up.
TEST_F(FlakyCas, ARemovalRacingAFiringOnceListenerLeavesTheOtherListenersAlone) {
  domain_t d;
  auto& rec = d.acquire_record();
  {
    core_t core(d);
    int once_calls = 0, plain_calls = 0;
    core.add([&](const int&) { ++plain_calls; }, "plain", false);
    const auto once = core.add([&](const int&) { ++once_calls; }, "once", true);
    before_next_cas = [&] { emit(core, rec, 1); };
    EXPECT_EQ(core.remove(by_id(once)), sigs::errc::not_found);
    emit(core, rec, 2);
    EXPECT_EQ(once_calls, 1);
    EXPECT_EQ(plain_calls, 2);
    EXPECT_EQ(core.size(), 1u);
  }
  d.release_record(rec);
}

}  // namespace
