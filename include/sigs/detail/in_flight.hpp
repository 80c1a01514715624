// sigs/detail/in_flight.hpp — an async_signal's count of emissions in flight, and drain.
//
// reserve() counts an emission in (bounded by queue_capacity), unreserve() counts it out
// when its finaliser is done with it, wait_idle() (drain(), the destructor) waits for zero.
//
// The count is started - finished, two monotonic counters on two cache lines: emitters add
// to `started`, finalisers (on workers) to `finished`, so an emit does not take the line
// the workers write, which would cost it a cache-line transfer per emission.
//
//   fast path      unreserve() is one CAS, no lock, while the started count it reads shows
//                  at least one other emission in flight: no waiter can return on it;
//   last one       an increment that may bring `finished` up to `started` is made under the
//                  idle mutex, and the notify too, so a waiter that sees them equal (under
//                  that mutex) knows the finaliser has left the signal for good: drain()
//                  may return and the signal be destroyed (it owns the mutex and the
//                  condition variable).
//
// The mutex and condition variable stay members of the signal (passed in).
//
// Written against an atomics policy `A` (sigs/detail/atomics.hpp: atomic, mutex,
// condition_variable) so that models/ runs this very code under Relacy
// (models/completion_models.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

template <class A = std_atomics>
class in_flight_count {
 public:
  using mutex_type = typename A::mutex;
  using condition_variable_type = typename A::condition_variable;

  in_flight_count() : started_(0), finished_(0) {}
  in_flight_count(const in_flight_count&) = delete;
  in_flight_count& operator=(const in_flight_count&) = delete;

  /// Counts one more emission in flight, unless `capacity` (0: unbounded) is reached. A
  /// reservation racing a finish may see the count before that finish (and refuse); it
  /// never lets more than `capacity` be in flight.
  bool reserve(std::size_t capacity) noexcept {
    if (capacity == 0) {
      started_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; see unreserve()
      return true;
    }
    // (I3) acquire, then `started`: each finish we read follows its emission's start, so
    // the started count read after it is at least as large (no wrap-around below). Later
    // finishes only shrink the true count: a stale `finished` errs on the safe side.
    const std::size_t finished = finished_.load(std::memory_order_acquire);
    std::size_t started = started_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    while (started - finished < capacity) {
      if (started_.compare_exchange_weak(started, started + 1, std::memory_order_relaxed)) return true;  // relaxed: a count
    }
    return false;
  }

  /// Counts one more emission in flight regardless of the capacity.
  void force_reserve() noexcept { started_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count

  /// One emission finished. An increment that may bring `finished` up to `started` is made
  /// under `idle_mutex`, so wait_idle() can only see them equal once this thread no longer
  /// touches the signal.
  void unreserve(mutex_type& idle_mutex, condition_variable_type& idle_cv) noexcept {
    std::size_t finished = finished_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    for (;;) {
      // relaxed: `started` only grows, so a stale value only sends us to the locked path.
      // This load is sequenced before our CAS (I1), so a waiter that reads our count
      // reads a started count at least this large: never equal to ours.
      if (finished + 1 >= started_.load(std::memory_order_relaxed)) break;
      // (I1) release: pairs with wait_idle()'s acquire (I2); orders this emission's work
      // (and the load above) before a drain that reads the count we write.
      if (finished_.compare_exchange_weak(finished, finished + 1, std::memory_order_release,
                                          std::memory_order_relaxed))
        return;
    }
    std::lock_guard<mutex_type> lock(idle_mutex);
    finished_.fetch_add(1, std::memory_order_release);  // (I1)
    idle_cv.notify_all();
  }

  /// Blocks until no emission is in flight.
  void wait_idle(mutex_type& idle_mutex, condition_variable_type& idle_cv) {
    std::unique_lock<mutex_type> lock(idle_mutex);
    idle_cv.wait(lock, [&] { return count() == 0; });
  }

  /// The count, for statistics (and wait_idle()).
  [[nodiscard]] std::size_t count() const noexcept {
    // (I2) acquire, pairs with (I1): every finish we read, and the work before it,
    // happens-before us, and so does its emission's start: the started count read after
    // it includes them all, and equal means every start we can see has finished.
    const std::size_t finished = finished_.load(std::memory_order_acquire);
    return started_.load(std::memory_order_relaxed) - finished;
  }

 private:
  alignas(cache_line) typename A::template atomic<std::size_t> started_;   // emitters
  alignas(cache_line) typename A::template atomic<std::size_t> finished_;  // finalisers
};

}  // namespace sigs::detail
