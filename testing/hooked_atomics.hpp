// testing/hooked_atomics.hpp — std_atomics with hooks, for chosen interleavings on one
// thread.
//
//   sigs::detail::hazard_domain<sigs::testing::hooked_atomics, 2> d(asymmetric);
//   hooked_atomics::atomic<int*> src;
//   src.before_load = [&](std::memory_order) { src.store(other); };  // a writer, between two loads
//   hooked_atomics::on_yield = [&] { ... };  // a waiter's spin, one round at a time
//
// An atomics policy (include/sigs/detail/atomics.hpp) that is sigs::detail::std_atomics
// with two additions: an atomic object runs its `before_load` hook, if set, just before each
// of its loads (with the load's order), and yield() runs `on_yield`, if set, instead of
// yielding the thread. Everything else, the asymmetric-fence hooks included, forwards to
// std_atomics, so both read paths run under it. Reset on_yield to nullptr after a test.
#pragma once

#include <sigs/detail/atomics.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace sigs::testing {

struct hooked_atomics {
  template <class T>
  class atomic : public std::atomic<T> {
   public:
    atomic() noexcept = default;
    explicit atomic(T v) noexcept : std::atomic<T>(v) {}

    /// Runs before each load of this object, with the load's order.
    std::function<void(std::memory_order)> before_load;

    T load(std::memory_order order = std::memory_order_seq_cst) const noexcept {
      if (before_load) before_load(order);
      return std::atomic<T>::load(order);
    }
  };
  template <class T>
  using var = sigs::detail::std_atomics::var<T>;
  using mutex = sigs::detail::std_atomics::mutex;
  using condition_variable = sigs::detail::std_atomics::condition_variable;

  /// Run at each yield of a waiter in place of yielding the thread, when set.
  static inline std::function<void()> on_yield;

  static void yield() noexcept {
    if (on_yield) {
      on_yield();
    } else {
      sigs::detail::std_atomics::yield();
    }
  }
  static void wait(const std::atomic<std::uint32_t>& a, std::uint32_t old) noexcept {
    sigs::detail::std_atomics::wait(a, old);
  }
  static void notify_all(std::atomic<std::uint32_t>& a) noexcept { sigs::detail::std_atomics::notify_all(a); }
  static void fence(std::memory_order mo) noexcept { sigs::detail::std_atomics::fence(mo); }
  static bool asymmetric_fence_available() noexcept { return sigs::detail::std_atomics::asymmetric_fence_available(); }
  static void reader_barrier() noexcept { sigs::detail::std_atomics::reader_barrier(); }
  static void writer_barrier() noexcept { sigs::detail::std_atomics::writer_barrier(); }
};

}  // namespace sigs::testing
