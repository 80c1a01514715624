// sigs/detail/in_flight.hpp — an async_signal's count of emissions in flight, and drain.
//
// reserve() counts an emission in (bounded by queue_capacity), unreserve() counts it out
// when its finaliser is done with it, wait_idle() (drain(), the destructor) waits for zero.
//
//   fast path      unreserve() above 1 is one CAS, no lock: no waiter can return on it;
//   last one       the decrement that may reach zero is made under the idle mutex, and the
//                  notify too, so a waiter that sees zero (under that mutex) knows the
//                  finaliser has left the signal for good: drain() may return and the
//                  signal be destroyed (it owns the mutex and the condition variable).
//
// The mutex and condition variable stay members of the signal (passed in), so the count
// keeps its place on the signal's statistics cache line.
//
// Written against an atomics policy `A` (sigs/detail/atomics.hpp: atomic, mutex,
// condition_variable) so that models/ runs this very code under Relacy
// (models/completion_models.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include <sigs/detail/atomics.hpp>

namespace sigs::detail {

template <class A = std_atomics>
class in_flight_count {
 public:
  using mutex_type = typename A::mutex;
  using condition_variable_type = typename A::condition_variable;

  in_flight_count() : count_(0) {}
  in_flight_count(const in_flight_count&) = delete;
  in_flight_count& operator=(const in_flight_count&) = delete;

  /// Counts one more emission in flight, unless `capacity` (0: unbounded) is reached.
  bool reserve(std::size_t capacity) noexcept {
    if (capacity == 0) {
      count_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; see unreserve()
      return true;
    }
    std::size_t cur = count_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    while (cur < capacity) {
      if (count_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) return true;  // relaxed: a count
    }
    return false;
  }

  /// Counts one more emission in flight regardless of the capacity.
  void force_reserve() noexcept { count_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count

  /// One emission finished. A decrement that may reach zero is made under `idle_mutex`, so
  /// wait_idle() can only see zero once this thread no longer touches the signal.
  void unreserve(mutex_type& idle_mutex, condition_variable_type& idle_cv) noexcept {
    std::size_t cur = count_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    while (cur > 1) {
      // (I1) release: pairs with wait_idle()'s acquire (I2); orders this emission's work
      // before a drain that sees the count drop.
      if (count_.compare_exchange_weak(cur, cur - 1, std::memory_order_release, std::memory_order_relaxed)) return;
    }
    std::lock_guard<mutex_type> lock(idle_mutex);
    count_.fetch_sub(1, std::memory_order_release);  // (I1)
    idle_cv.notify_all();
  }

  /// Blocks until no emission is in flight.
  void wait_idle(mutex_type& idle_mutex, condition_variable_type& idle_cv) {
    std::unique_lock<mutex_type> lock(idle_mutex);
    idle_cv.wait(lock, [&] { return count_.load(std::memory_order_acquire) == 0; });  // (I2) pairs with (I1)
  }

  /// The count, for statistics.
  [[nodiscard]] std::size_t load(std::memory_order mo) const noexcept { return count_.load(mo); }

 private:
  typename A::template atomic<std::size_t> count_;
};

}  // namespace sigs::detail
