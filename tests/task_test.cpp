// Tests of sigs::worker_pool::task (sigs/task.hpp): the type-erased, move-only
// callable a worker pool queues. Small callables are stored inline, others on the heap;
// every task ends in exactly one run or one discard, and its callable is destroyed once.
#include <sigs/worker_pool.hpp>

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

namespace {

using task = sigs::worker_pool::task;

TEST(Task, DefaultIsEmptyAndRunAndDiscardAreNoOps) {
  task t;
  EXPECT_FALSE(t);
  t.run();
  t.discard();
  EXPECT_FALSE(t);
}

void free_function() {}

TEST(Task, NullFunctionPointerAndEmptyStdFunctionGiveAnEmptyTask) {
  void (*null_fn)() = nullptr;
  EXPECT_FALSE(task(null_fn));
  EXPECT_FALSE(task(std::function<void()>()));
  EXPECT_TRUE(task(&free_function));
  EXPECT_TRUE(task(free_function));
  EXPECT_TRUE(task(std::function<void()>([] {})));
}

TEST(Task, RunInvokesOnceThenTheTaskIsEmpty) {
  int calls = 0;
  task t = [&calls] { ++calls; };
  ASSERT_TRUE(t);
  t.run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(t);
  t.run();
  EXPECT_EQ(calls, 1);
}

TEST(Task, SmallCallablesAreInlineLargeOrOveralignedOrThrowingMoveOnHeap) {
  struct alignas(64) overaligned {
    void operator()() {}
  };
  struct throwing_move {
    throwing_move() = default;
    throwing_move(throwing_move&&) noexcept(false) {}
    void operator()() {}
  };
  struct fits {
    std::array<char, 48> bytes;
    void operator()() {}
  };
  struct too_big {
    std::array<char, 49> bytes;
    void operator()() {}
  };
  static_assert(task::stored_inline<fits>);
  static_assert(!task::stored_inline<too_big>);
  static_assert(!task::stored_inline<overaligned>);
  static_assert(!task::stored_inline<throwing_move>);
  static_assert(sizeof(task) == 64);

  int calls = 0;
  std::array<int, 32> payload{};
  payload[31] = 5;
  task heap = [&calls, payload] { calls += payload[31]; };
  task moved = std::move(heap);
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): the moved-from state is specified
  EXPECT_FALSE(heap);
  moved.run();
  EXPECT_EQ(calls, 5);
  task a = overaligned{};
  task b = throwing_move{};
  a.run();
  b.run();
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
}

TEST(Task, DestroysItsCallableExactlyOnceInlineOrOnHeap) {
  auto token = std::make_shared<int>(0);
  {
    task small = [token] {};
    EXPECT_EQ(token.use_count(), 2);
    task moved(std::move(small));
    task assigned;
    assigned = std::move(moved);
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
  {
    std::array<char, 100> pad{};
    task big = [token, pad] { (void)pad; };
    EXPECT_EQ(token.use_count(), 2);
    task moved(std::move(big));
    moved.run();
    EXPECT_EQ(token.use_count(), 1);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Task, MoveOnlyCallablesAreAccepted) {
  auto p = std::make_unique<int>(41);
  int out = 0;
  task t = [p = std::move(p), &out] { out = *p + 1; };
  t.run();
  EXPECT_EQ(out, 42);
}

TEST(Task, DiscardCallsTheHookInsteadOfRunning) {
  int runs = 0;
  int drops = 0;
  task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
  t.discard();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(drops, 1);
  EXPECT_FALSE(t);
  t.run();
  t.discard();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(drops, 1);
}

// target<F>() finds the callable only under its exact type, inline or on the heap, and
// lets the owner change it before it runs or is discarded.
TEST(Task, TargetGivesTheCallableOfExactlyThatType) {
  struct small {
    int* out;
    int add;
    void operator()() const { *out += add; }
  };
  struct big {
    int* out;
    int add;
    char pad[64];
    void operator()() const { *out += add; }
  };
  static_assert(task::stored_inline<small> && !task::stored_inline<big>);
  int out = 0;
  task a = small{&out, 1};
  task b = big{&out, 10, {}};
  ASSERT_NE(a.target<small>(), nullptr);
  ASSERT_NE(b.target<big>(), nullptr);
  EXPECT_EQ(a.target<big>(), nullptr);
  EXPECT_EQ(b.target<small>(), nullptr);
  a.target<small>()->add = 100;
  b.target<big>()->add = 1000;
  a.run();
  b.run();
  EXPECT_EQ(out, 1100);
  EXPECT_EQ(a.target<small>(), nullptr);  // empty after run
  task moved = small{&out, 1};
  task c = std::move(moved);
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): the moved-from state is specified
  EXPECT_EQ(moved.target<small>(), nullptr);
  EXPECT_NE(c.target<small>(), nullptr);
}

TEST(Task, RunDoesNotCallTheHook) {
  int runs = 0;
  int drops = 0;
  {
    task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
    t.run();
  }
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(drops, 0);
}

TEST(Task, DestroyingOrAssigningOverAnUnrunTaskDiscardsIt) {
  int drops = 0;
  {
    task t = task::with_discard([] {}, [&] { ++drops; });
  }
  EXPECT_EQ(drops, 1);
  task t = task::with_discard([] {}, [&] { ++drops; });
  t = task([] {});
  EXPECT_EQ(drops, 2);
  std::array<char, 64> pad{};
  {
    task big = task::with_discard([pad] { (void)pad; }, [&] { ++drops; });
  }
  EXPECT_EQ(drops, 3);
}

TEST(Task, ACallableWithADiscardMemberIsToldWhenDropped) {
  struct job {
    int* runs;
    int* drops;
    void operator()() { ++*runs; }
    void discard() noexcept { ++*drops; }
  };
  int runs = 0;
  int drops = 0;
  { task t = job{&runs, &drops}; }
  task u = job{&runs, &drops};
  u.run();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(drops, 1);
}

TEST(Task, AThrowingCallableIsStillDestroyedAndTheTaskEmptied) {
  auto token = std::make_shared<int>(0);
  task t = [token] { throw std::runtime_error("boom"); };
  EXPECT_THROW(t.run(), std::runtime_error);
  EXPECT_FALSE(t);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Task, MovingAnEmptyTaskAndSelfMoveAssignmentChangeNothing) {
  task empty;
  task moved(std::move(empty));
  EXPECT_FALSE(moved);
  int runs = 0;
  int drops = 0;
  task t = task::with_discard([&] { ++runs; }, [&] { ++drops; });
  task& alias = t;
  t = std::move(alias);  // self-move: neither discarded nor emptied
  ASSERT_TRUE(t);
  EXPECT_EQ(drops, 0);
  t = std::move(moved);  // assigning an empty task discards what t held
  EXPECT_FALSE(t);
  EXPECT_EQ(drops, 1);
  EXPECT_EQ(runs, 0);
}

// A heap-stored callable whose copy throws: the exception leaves the task constructor and
// nothing is leaked (LeakSanitizer checks the allocation made for it in the asan lane).
struct throws_on_copy {
  std::array<char, 64> pad{};  // too big for the inline buffer
  int* copies_left;
  int* runs;
  throws_on_copy(int* left, int* r) : copies_left(left), runs(r) {}
  throws_on_copy(const throws_on_copy& o) : pad(o.pad), copies_left(o.copies_left), runs(o.runs) {
    if ((*copies_left)-- == 0) throw std::runtime_error("copy");
  }
  void operator()() { ++*runs; }
};

TEST(Task, ACallableWhoseCopyThrowsLeavesNothingBehind) {
  static_assert(!task::stored_inline<throws_on_copy>);
  int left = 0;
  int runs = 0;
  throws_on_copy f(&left, &runs);
  EXPECT_THROW(task{f}, std::runtime_error);  // copied from an lvalue
  left = 0;
  EXPECT_THROW(task{throws_on_copy(&left, &runs)}, std::runtime_error);  // "moved" (a copy)
  int drops = 0;
  left = 1;  // with_discard's own copy succeeds; wrapping it into the task throws
  EXPECT_THROW(task::with_discard(f, [&] { ++drops; }), std::runtime_error);
  EXPECT_EQ(drops, 0);  // never constructed, so never discarded
  left = 100;
  task ok{f};
  task also_ok{throws_on_copy(&left, &runs)};
  task hooked = task::with_discard(f, [&] { ++drops; });
  ok.run();
  also_ok.run();
  hooked.run();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(drops, 0);
}

}  // namespace
