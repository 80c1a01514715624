// The cycle search of a removal wait (call_tracking.hpp, "Cycles"), on one thread: a private
// signal domain whose records are set up by hand as other threads would leave them (each
// naming the listener it calls and the one it waits for), under an atomics policy that
// runs a hook before a chosen object's loads, or at a waiter's yield. Two of its rules:
//   - a cycle is refused only when seen twice in a row: one that is gone at the second look
//     (the other thread stopped waiting) was a stale read, and the wait goes on;
//   - the search follows a chain of waits to its end, however long (it keeps the first 64
//     listeners on the stack, the rest on the heap).
// Both read paths run (the test parameter allows the asymmetric fence where it works).
#include <sigs/detail/call_tracking.hpp>

#include <testing/hooked_atomics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace {

using sigs::testing::hooked_atomics;

using domain = sigs::detail::signal_domain<hooked_atomics, 2>;
using record = domain::record;

class CycleSearch : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { hooked_atomics::on_yield = nullptr; }
  void TearDown() override { hooked_atomics::on_yield = nullptr; }
};

/// `r` as another thread calling `calls` (its first call word) and waiting for `waits_for`.
void as_other_thread(record& r, std::uint64_t calls, std::uint64_t waits_for) {
  r.running[0].store(calls);
  r.waiting_for.store(waits_for);
}

// This thread calls L1 and waits for L2. Thread B calls L2 and waits for L1: a cycle, seen
// by the first look. Before the second look B stops waiting (its own check refused its
// wait, say) and then returns from L2. The wait must not be refused: it goes on, and ends
// when B's call of L2 does.
TEST_P(CycleSearch, ACycleGoneAtTheSecondLookIsNotRefused) {
  domain d(GetParam());
  d.set_spin_rounds(1000);  // never sleep: the test is one thread
  record& self = d.acquire_record();
  record& b = d.acquire_record();
  constexpr std::uint64_t l1 = 1, l2 = 2;
  domain::frame f;
  domain::deep_count l1_deep{0}, l2_deep{0};
  d.open_frame(self, f, nullptr);
  if (d.asymmetric()) {  // this thread is inside L1
    d.begin_call<sigs::detail::fence_mode::asymmetric>(f, l1, l1_deep);
  } else {
    d.begin_call<sigs::detail::fence_mode::symmetric>(f, l1, l1_deep);
  }
  as_other_thread(b, l2, l1);

  int looks = 0;
  b.waiting_for.before_load = [&](std::memory_order) {
    if (++looks == 2) {  // the second look: B has stopped waiting and left L2
      b.waiting_for.store(0);
      b.running[0].store(0);
    }
  };
  int yields = 0;
  hooked_atomics::on_yield = [&] { ++yields; };
  EXPECT_TRUE(d.wait_for_calls(self, l2, l2_deep, 0));
  EXPECT_EQ(looks, 2);                     // one look saw the cycle, the next one did not
  EXPECT_EQ(yields, 1);                    // then one more round found nobody calling L2
  EXPECT_EQ(self.waiting_for.load(), 0u);  // the wait is withdrawn

  // The same graph, seen twice: refused.
  b.waiting_for.before_load = nullptr;
  as_other_thread(b, l2, l1);
  EXPECT_FALSE(d.wait_for_calls(self, l2, l2_deep, 0));

  if (d.asymmetric()) {
    d.end_call<sigs::detail::fence_mode::asymmetric>(f, l1_deep, true);
  } else {
    d.end_call<sigs::detail::fence_mode::symmetric>(f, l1_deep, true);
  }
  d.close_frame(self, f);
  d.release_record(b);
  d.release_record(self);
}

// A chain of waits through 70 listeners, more than the search keeps on the stack: this
// thread calls L_self and waits for L0, called by R0, which waits for L1, called by R1, ...
// R69 waits for `last`. The search follows the whole chain (every record is looked at).
// Ending in nothing: no cycle, so the wait goes on, and ends when R0's call of L0 does.
// Ending in L_self: a cycle through 71 threads, refused.
constexpr int long_chain = 70;

TEST_P(CycleSearch, ALongChainOfWaitsIsFollowedToItsEnd) {
  for (const bool cycle : {false, true}) {
    SCOPED_TRACE(cycle ? "ends in a cycle" : "ends in a thread that does not wait");
    domain d(GetParam());
    d.set_spin_rounds(1000);
    record& self = d.acquire_record();
    constexpr std::uint64_t l_self = 1;
    domain::frame f;
    domain::deep_count self_deep{0};
    d.open_frame(self, f, nullptr);
    if (d.asymmetric()) {
      d.begin_call<sigs::detail::fence_mode::asymmetric>(f, l_self, self_deep);
    } else {
      d.begin_call<sigs::detail::fence_mode::symmetric>(f, l_self, self_deep);
    }
    std::vector<record*> r;
    std::vector<int> looked(long_chain, 0);  // loads of each record's waiting_for
    for (int i = 0; i < long_chain; ++i) {
      r.push_back(&d.acquire_record());
      const std::uint64_t next = i + 1 < long_chain ? 100 + i + 1 : (cycle ? l_self : 0);
      as_other_thread(*r.back(), 100 + i, next);
      r.back()->waiting_for.before_load = [&looked, i](std::memory_order) { ++looked[i]; };
    }
    domain::deep_count deep{0};
    hooked_atomics::on_yield = [&] { r[0]->running[0].store(0); };  // R0 leaves L0 during the first spin
    EXPECT_EQ(d.wait_for_calls(self, 100, deep, 0), !cycle);
    for (int i = 0; i < long_chain; ++i) EXPECT_GE(looked[i], 1) << "R" << i;

    hooked_atomics::on_yield = nullptr;
    for (record* x : r) {
      x->waiting_for.before_load = nullptr;
      as_other_thread(*x, 0, 0);
      d.release_record(*x);
    }
    if (d.asymmetric()) {
      d.end_call<sigs::detail::fence_mode::asymmetric>(f, self_deep, true);
    } else {
      d.end_call<sigs::detail::fence_mode::symmetric>(f, self_deep, true);
    }
    d.close_frame(self, f);
    d.release_record(self);
  }
}

INSTANTIATE_TEST_SUITE_P(ReadPaths, CycleSearch, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "AsymmetricAllowed" : "SeqCst"; });

}  // namespace
