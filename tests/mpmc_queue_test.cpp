// Tests of sigs::detail::mpmc_queue, run twice: over the production atomics policy, and over
// `strict_atomics`, a policy that offers only the operations the header promises to use,
// each with an explicit memory order — so the header stays instantiable by the Relacy
// policy in models/.
#include <sigs/detail/mpmc_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using sigs::detail::mpmc_queue;
using sigs::detail::push_result;

// The narrowest policy the queue may be written against.
struct strict_atomics {
  template <class T>
  class atomic {
   public:
    T load(std::memory_order mo) const noexcept { return v_.load(mo); }
    void store(T v, std::memory_order mo) noexcept { v_.store(v, mo); }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
      return v_.compare_exchange_weak(expected, desired, success, failure);
    }
    T fetch_or(T v, std::memory_order mo) noexcept { return v_.fetch_or(v, mo); }

   private:
    std::atomic<T> v_;
  };
  template <class T>
  class var {
   public:
    T load() const noexcept { return v_; }
    void store(T v) noexcept { v_ = v; }

   private:
    T v_{};
  };
  static void yield() noexcept { std::this_thread::yield(); }
};

// Counts live instances, to check that the queue destroys exactly what it constructs.
struct tracked {
  static inline std::atomic<int> live{0};
  int value = 0;
  tracked() noexcept { live.fetch_add(1); }
  explicit tracked(int v) noexcept : value(v) { live.fetch_add(1); }
  tracked(tracked&& o) noexcept : value(o.value) { live.fetch_add(1); }
  tracked& operator=(tracked&& o) noexcept {
    value = o.value;
    return *this;
  }
  ~tracked() { live.fetch_sub(1); }
};

template <class A>
class MpmcQueueTest : public ::testing::Test {
 public:
  template <class T>
  using queue = mpmc_queue<T, A>;
};

using Policies = ::testing::Types<sigs::detail::std_atomics, strict_atomics>;
TYPED_TEST_SUITE(MpmcQueueTest, Policies);

TYPED_TEST(MpmcQueueTest, CapacityIsRoundedUpToAPowerOfTwoOfAtLeastTwo) {
  using Q = typename TestFixture::template queue<int>;
  EXPECT_EQ(Q(0).capacity(), 2u);  // documented: 0 and 1 give 2
  EXPECT_EQ(Q(1).capacity(), 2u);
  EXPECT_EQ(Q(2).capacity(), 2u);
  EXPECT_EQ(Q(3).capacity(), 4u);
  EXPECT_EQ(Q(4).capacity(), 4u);
  EXPECT_EQ(Q(5).capacity(), 8u);
  EXPECT_EQ(Q(1000).capacity(), 1024u);
  EXPECT_EQ(Q(1024).capacity(), 1024u);
}

template <class Q>
void expect_rejects_capacities_above_its_maximum() {
  EXPECT_THROW(Q(Q::max_capacity + 1), std::length_error);
  EXPECT_THROW(Q(~std::size_t(0)), std::length_error);
}

TYPED_TEST(MpmcQueueTest, RejectsACapacityAboveTheMaximum) {
  // The maximum depends on the element size; every element type the tests use is checked.
  expect_rejects_capacities_above_its_maximum<typename TestFixture::template queue<int>>();
  expect_rejects_capacities_above_its_maximum<typename TestFixture::template queue<std::unique_ptr<int>>>();
  expect_rejects_capacities_above_its_maximum<typename TestFixture::template queue<tracked>>();
  EXPECT_EQ(tracked::live.load(), 0);
}

TYPED_TEST(MpmcQueueTest, PopsInFifoOrderAndReportsFullAndEmpty) {
  typename TestFixture::template queue<std::unique_ptr<int>> q(4);
  std::unique_ptr<int> out;
  EXPECT_FALSE(q.try_pop(out));
  for (int i = 0; i < 4; ++i) {
    auto p = std::make_unique<int>(i);
    ASSERT_EQ(q.try_push(p), push_result::ok);
    EXPECT_EQ(p, nullptr);  // moved from on success
  }
  auto extra = std::make_unique<int>(99);
  EXPECT_EQ(q.try_push(extra), push_result::full);
  ASSERT_NE(extra, nullptr);  // left with the caller on failure
  EXPECT_EQ(*extra, 99);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(*out, i);
  }
  auto sentinel = std::make_unique<int>(7);
  out = std::move(sentinel);
  EXPECT_FALSE(q.try_pop(out));
  ASSERT_NE(out, nullptr);  // untouched on failure
  EXPECT_EQ(*out, 7);
}

TYPED_TEST(MpmcQueueTest, WrapsAroundManyLaps) {
  typename TestFixture::template queue<int> q(2);
  int next_in = 0;
  int next_out = 0;
  for (int lap = 0; lap < 1000; ++lap) {
    for (int k = 0; k < 1 + lap % 2; ++k) {
      int v = next_in;
      ASSERT_EQ(q.try_push(v), push_result::ok);
      ++next_in;
    }
    int out = -1;
    while (q.try_pop(out)) {
      ASSERT_EQ(out, next_out);
      ++next_out;
    }
  }
  EXPECT_EQ(next_in, next_out);
  EXPECT_EQ(q.pushed(), static_cast<std::uint64_t>(next_in));
  EXPECT_EQ(q.popped(), static_cast<std::uint64_t>(next_out));
}

TYPED_TEST(MpmcQueueTest, CountsAndApproximateSize) {
  typename TestFixture::template queue<int> q(8);
  EXPECT_EQ(q.size_approx(), 0u);
  for (int i = 0; i < 5; ++i) {
    int v = i;
    ASSERT_EQ(q.try_push(v), push_result::ok);
  }
  EXPECT_EQ(q.size_approx(), 5u);
  int out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(q.size_approx(), 4u);
  EXPECT_EQ(q.pushed(), 5u);
  EXPECT_EQ(q.popped(), 1u);
}

TYPED_TEST(MpmcQueueTest, CloseRefusesPushesButLetsPopsDrain) {
  typename TestFixture::template queue<int> q(4);
  int a = 1;
  int b = 2;
  ASSERT_EQ(q.try_push(a), push_result::ok);
  ASSERT_EQ(q.try_push(b), push_result::ok);
  EXPECT_FALSE(q.closed());
  EXPECT_FALSE(q.drained());
  q.close();
  q.close();  // idempotent
  EXPECT_TRUE(q.closed());
  int c = 3;
  EXPECT_EQ(q.try_push(c), push_result::closed);
  EXPECT_EQ(c, 3);
  EXPECT_FALSE(q.drained());
  EXPECT_EQ(q.pushed(), 2u);  // the closed bit is not a count
  EXPECT_EQ(q.size_approx(), 2u);
  int out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 2);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_TRUE(q.drained());
}

TYPED_TEST(MpmcQueueTest, ClosedWhenFullReportsClosed) {
  typename TestFixture::template queue<int> q(2);
  int v = 0;
  ASSERT_EQ(q.try_push(v), push_result::ok);
  ASSERT_EQ(q.try_push(v), push_result::ok);
  q.close();
  EXPECT_EQ(q.try_push(v), push_result::closed);
}

TYPED_TEST(MpmcQueueTest, DestroysEveryElementExactlyOnce) {
  ASSERT_EQ(tracked::live.load(), 0);
  {
    typename TestFixture::template queue<tracked> q(4);
    for (int i = 0; i < 3; ++i) {
      tracked t(i);
      ASSERT_EQ(q.try_push(t), push_result::ok);
    }
    tracked out;
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value, 0);
    EXPECT_EQ(tracked::live.load(), 3);  // two queued + out
  }
  EXPECT_EQ(tracked::live.load(), 0);
}

// Several producers and consumers on a small ring: every element arrives exactly once, and
// each consumer sees each producer's elements in the order they were pushed.
template <class Q>
void exactly_once_stress(std::size_t capacity, int producers, int consumers, int per_producer) {
  Q q(capacity);
  const int total = producers * per_producer;
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  std::atomic<int> consumed{0};
  std::atomic<bool> order_ok{true};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        int v = p * per_producer + i;
        while (q.try_push(v) != push_result::ok) std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<int> last(static_cast<std::size_t>(producers), -1);
      int v;
      while (consumed.load(std::memory_order_relaxed) < total) {
        if (!q.try_pop(v)) {
          std::this_thread::yield();
          continue;
        }
        seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
        const auto p = static_cast<std::size_t>(v / per_producer);
        if (v <= last[p]) order_ok.store(false);
        last[p] = v;
        consumed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < total; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1) << "element " << i;
  EXPECT_TRUE(order_ok.load());
  EXPECT_EQ(q.pushed(), static_cast<std::uint64_t>(total));
  EXPECT_EQ(q.popped(), static_cast<std::uint64_t>(total));
  EXPECT_EQ(q.size_approx(), 0u);
}

TYPED_TEST(MpmcQueueTest, StressCapacityTwoDeliversExactlyOnceInProducerOrder) {
  exactly_once_stress<typename TestFixture::template queue<int>>(2, 3, 3, 3000);
}

TYPED_TEST(MpmcQueueTest, StressCapacitySixtyFourDeliversExactlyOnceInProducerOrder) {
  exactly_once_stress<typename TestFixture::template queue<int>>(64, 3, 2, 5000);
}

// Close while producers push: every push that returned ok is popped, nothing else is.
TYPED_TEST(MpmcQueueTest, CloseDuringPushesLosesNothing) {
  typename TestFixture::template queue<int> q(4);
  constexpr int producers = 3;
  std::atomic<long> accepted{0};
  std::atomic<long> popped_sum{0};
  std::atomic<long> accepted_sum{0};
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      started.fetch_add(1);
      for (int i = 1;; ++i) {
        int v = p * 1000000 + i;
        const push_result r = q.try_push(v);
        if (r == push_result::closed) return;
        if (r == push_result::ok) {
          accepted.fetch_add(1);
          accepted_sum.fetch_add(p * 1000000 + i);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  std::thread consumer([&] {
    int v;
    for (;;) {
      if (q.try_pop(v)) {
        popped_sum.fetch_add(v);
      } else if (q.drained()) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
  });
  while (started.load() < producers) std::this_thread::yield();
  while (q.pushed() < 200) std::this_thread::yield();
  q.close();
  for (auto& t : threads) t.join();
  consumer.join();
  EXPECT_EQ(static_cast<long>(q.pushed()), accepted.load());
  EXPECT_EQ(static_cast<long>(q.popped()), accepted.load());
  EXPECT_EQ(popped_sum.load(), accepted_sum.load());
}

// Positions are 64-bit whatever the width of std::size_t: the closed bit is the top bit of
// the enqueue position, which a 32-bit position would reach after 2^31 pushes, and then
// every later push would fail as closed (and drained() lie). Positions keep counting over
// many laps of the ring.
TYPED_TEST(MpmcQueueTest, PositionsAre64BitWhateverTheWidthOfSizeT) {
  using queue = typename TestFixture::template queue<int>;
  EXPECT_TRUE((std::is_same_v<typename queue::position_type, std::uint64_t>));
  EXPECT_TRUE((std::is_same_v<decltype(std::declval<queue&>().pushed()), std::uint64_t>));
  EXPECT_TRUE((std::is_same_v<decltype(std::declval<queue&>().popped()), std::uint64_t>));
  queue q(2);
  for (int i = 0; i < 1000; ++i) {
    int v = i;
    ASSERT_EQ(q.try_push(v), push_result::ok);
    int out = -1;
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_EQ(q.pushed(), 1000u);
  EXPECT_EQ(q.popped(), 1000u);
  EXPECT_FALSE(q.closed());
  q.close();
  EXPECT_TRUE(q.drained());
  EXPECT_EQ(q.pushed(), 1000u);  // the closed bit is not part of the count
}

}  // namespace
