// sigs/detail/in_flight.hpp — an async_signal's count of emissions in flight, drain, and
// the wait for room.
//
// reserve() counts an emission in (bounded by queue_capacity), unreserve() counts it out
// when its finaliser is done with it, wait_idle() (drain(), the destructor) waits for zero,
// wait_reserve() (the block policy) waits for room.
//
// The count is started - finished, two monotonic counters on two cache lines: emitters add
// to `started`, finalisers (on workers) to `finished`, so an emit does not take the line
// the workers write, which would cost it a cache-line transfer per emission.
//
//   fast path      unreserve() is one CAS, no lock, while the started count it reads shows
//                  at least one other emission in flight and nobody waits for room: no
//                  waiter can return on it;
//   last one       an increment that may bring `finished` up to `started` is made under the
//                  idle mutex, and the notify too, so a waiter that sees them equal (under
//                  that mutex) knows the finaliser has left the signal for good: drain()
//                  may return and the signal be destroyed (it owns the mutex and the
//                  condition variable);
//   room wanted    wait_reserve() sets the top bit of `finished` (room_wanted) while an
//                  emitter sleeps for room. The fast path's CAS compares the whole word, so
//                  it fails once the bit is set, and every count-out then takes the locked
//                  path and notifies: a finish and a waiter's announcement meet in the
//                  modification order of that one word, and no wake-up is lost. When
//                  nobody waits the bit is clear and the fast path costs what it did.
//
// Emissions on the caller. An emission that runs on the emitting thread because the signal
// reached queue_capacity (caller_runs, or block on one of the pool's own workers) is
// counted in with reserve_on_caller() and out with unreserve_on_caller(). It is in flight
// (count(), so drain() waits for it), but it does not hold a place of the capacity, which
// bounds the emissions queued on or running on the pool: reserve() checks
// started - finished - on_caller against it (docs/decisions.md).
//
// The counters are 64-bit whatever the width of std::size_t: room_wanted is the top bit of
// `finished`, which a 32-bit count would reach after 2^31 emissions.
//
// The mutex and condition variable stay members of the signal (passed in).
//
// The labels used in the memory-order comments (every label: docs/verification.md):
//   (FLIGHT-I1) unreserve(): finished_ CAS and fetch_add (release)   pairs with FLIGHT-I2/I3
//   (FLIGHT-I2) count(): finished_.load(acquire)                      pairs with FLIGHT-I1
//   (FLIGHT-I3) reserve(): finished_.load(acquire)                    pairs with FLIGHT-I1
//   (FLIGHT-I4) reserve_on_caller(): on_caller_.fetch_add(release)    pairs with FLIGHT-I5
//   (FLIGHT-I5) reserve(): on_caller_.load(acquire)                   pairs with FLIGHT-I4
//
// Written against an atomics policy `A` (sigs/detail/atomics.hpp: atomic, var, mutex,
// condition_variable) so that models/ runs this very code under Relacy
// (models/completion_models.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

template <class A = std_atomics>
class in_flight_count {
 public:
  using mutex_type = typename A::mutex;
  using condition_variable_type = typename A::condition_variable;

  in_flight_count() : started_(0), on_caller_(0), finished_(0), room_waiters_(0) {}
  in_flight_count(const in_flight_count&) = delete;
  in_flight_count& operator=(const in_flight_count&) = delete;

  /// Counts one more emission in flight on the pool, unless `capacity` (0: unbounded) is
  /// reached. A reservation racing a finish may see the count before that finish (and
  /// refuse); it never lets more than `capacity` be queued on or running on the pool.
  bool reserve(std::size_t capacity) noexcept {
    if (capacity == 0) {
      started_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; see unreserve()
      return true;
    }
    // (FLIGHT-I3) acquire, pairs with release (FLIGHT-I1) in unreserve(); then `on_caller`,
    // then `started`: each finish we read follows its emission's start, so the started count
    // read after it is at least as large (no wrap-around below). Later finishes only shrink
    // the true count: a stale `finished` errs on the safe side.
    const std::uint64_t finished = finished_.load(std::memory_order_acquire) & ~room_wanted;
    // (FLIGHT-I5) acquire, pairs with release (FLIGHT-I4) in reserve_on_caller(): an
    // emission on the caller that we subtract here has its start in the started count read
    // below. And an emission on the caller whose finish (FLIGHT-I1) we read above has left
    // on_caller before (unreserve_on_caller()), so it is not subtracted twice. Each emission
    // on the caller therefore adds 0 or 1 to started - finished - on_caller, never -1.
    const std::uint64_t on_caller = on_caller_.load(std::memory_order_acquire);
    std::uint64_t started = started_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    while (started - finished - on_caller < capacity) {
      if (started_.compare_exchange_weak(started, started + 1, std::memory_order_relaxed))
        return true;  // relaxed: a count
    }
    return false;
  }

  /// Counts one more emission in flight on the pool regardless of the capacity.
  void force_reserve() noexcept { started_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count

  /// Counts in an emission that runs on the emitting thread instead of the pool (the
  /// capacity is reached): in flight, but not against the capacity. Counted out with
  /// unreserve_on_caller().
  void reserve_on_caller() noexcept {
    started_.fetch_add(1, std::memory_order_relaxed);  // relaxed: published by (FLIGHT-I4)
    // (FLIGHT-I4) release, pairs with acquire (FLIGHT-I5) in reserve(): whoever subtracts
    // this emission also counts its start.
    on_caller_.fetch_add(1, std::memory_order_release);
  }

  /// One emission counted in by reserve_on_caller() finished. Leaves on_caller before the
  /// finish (FLIGHT-I1) is published, so a reserve() that reads the finish does not
  /// subtract it.
  void unreserve_on_caller(mutex_type& idle_mutex, condition_variable_type& idle_cv) noexcept {
    // relaxed: ordered before readers of the finish by (FLIGHT-I1) release below; an RMW,
    // so the release sequences of earlier FLIGHT-I4s that FLIGHT-I5 acquires run through it.
    on_caller_.fetch_sub(1, std::memory_order_relaxed);
    unreserve(idle_mutex, idle_cv);
  }

  /// One emission finished. An increment that may bring `finished` up to `started`, or that
  /// an emitter waiting for room must hear of, is made under `idle_mutex`, so wait_idle()
  /// can only see them equal once this thread no longer touches the signal.
  void unreserve(mutex_type& idle_mutex, condition_variable_type& idle_cv) noexcept {
    std::uint64_t finished = finished_.load(std::memory_order_relaxed);  // relaxed: the CAS re-checks
    for (;;) {
      // An emitter sleeps in wait_reserve(): take the locked path, which wakes it. The CAS
      // below compares the bit too, so a waiter that announces itself after this check
      // makes it fail, and we come back here.
      if ((finished & room_wanted) != 0) break;
      // relaxed: `started` only grows, so a stale value only sends us to the locked path.
      // This load is sequenced before our CAS (FLIGHT-I1), so a waiter that reads our count
      // reads a started count at least this large: never equal to ours.
      if (finished + 1 >= started_.load(std::memory_order_relaxed)) break;
      // (FLIGHT-I1) release: pairs with wait_idle()'s acquire (FLIGHT-I2) and reserve()'s
      // (FLIGHT-I3); orders this emission's work (and the load above) before a drain that
      // reads the count we write.
      if (finished_.compare_exchange_weak(finished, finished + 1, std::memory_order_release, std::memory_order_relaxed))
        return;
    }
    std::lock_guard<mutex_type> lock(idle_mutex);
    finished_.fetch_add(1, std::memory_order_release);  // (FLIGHT-I1); leaves room_wanted as it is
    idle_cv.notify_all();
  }

  /// Blocks until no emission is in flight.
  void wait_idle(mutex_type& idle_mutex, condition_variable_type& idle_cv) {
    std::unique_lock<mutex_type> lock(idle_mutex);
    idle_cv.wait(lock, [&] { return count() == 0; });
  }

  /// Waits for room: returns true once reserve(capacity) succeeded, false if `sleep` gave
  /// up first. Holding `idle_mutex`, it announces a waiter (room_wanted: from then on
  /// every unreserve() notifies the idle condition variable under that mutex), then calls
  /// `sleep(lock, ready)` once: `sleep` must wait on the idle condition variable with
  /// `lock` until ready() returns true (ready() tries reserve(capacity)) or it gives up,
  /// calling ready() before each wait, as a predicate wait does. The caller decides how
  /// long to wait and who else may wake it (a stop request, a deadline).
  template <class Sleep>
  bool wait_reserve(std::size_t capacity, mutex_type& idle_mutex, Sleep&& sleep) {
    std::unique_lock<mutex_type> lock(idle_mutex);
    const unsigned waiters = room_waiters_.load();
    if (waiters == 0) {
      // relaxed: what matters is where this RMW falls in the modification order of
      // `finished` against unreserve()'s CAS (see there), not ordering. Being an RMW, it
      // keeps the release sequences of earlier FLIGHT-I1s intact for FLIGHT-I2/I3.
      finished_.fetch_or(room_wanted, std::memory_order_relaxed);
    }
    room_waiters_.store(waiters + 1);
    bool got = false;
    sleep(lock, [&] {
      got = reserve(capacity);
      return got;
    });
    const unsigned left = room_waiters_.load() - 1;
    room_waiters_.store(left);
    if (left == 0) {
      // relaxed: as for the fetch_or above. While the bit is set and we hold the mutex,
      // nobody else changes `finished` (the fast path's CAS fails, the locked path waits).
      finished_.fetch_sub(room_wanted, std::memory_order_relaxed);
    }
    return got;
  }

  /// The count, for statistics (and wait_idle()): every emission in flight, on the pool or
  /// on an emitting thread.
  [[nodiscard]] std::size_t count() const noexcept {
    // (FLIGHT-I2) acquire, pairs with (FLIGHT-I1): every finish we read, and the work
    // before it, happens-before us, and so does its emission's start: the started count
    // read after it includes them all, and equal means every start we can see has finished.
    const std::uint64_t finished = finished_.load(std::memory_order_acquire) & ~room_wanted;
    return static_cast<std::size_t>(started_.load(std::memory_order_relaxed) - finished);
  }

 private:
  // Set in `finished` while an emitter sleeps in wait_reserve() (see the top of this file).
  static constexpr std::uint64_t room_wanted = std::uint64_t(1) << 63;

  // `on_caller` shares the emitters' line: it is read by every bounded reserve() and written
  // only by emissions that run on the caller, a rare path.
  alignas(cache_line) typename A::template atomic<std::uint64_t> started_;   // emitters
  typename A::template atomic<std::uint64_t> on_caller_;                     // emitters
  alignas(cache_line) typename A::template atomic<std::uint64_t> finished_;  // finalisers
  typename A::template var<unsigned> room_waiters_;                          // guarded by the idle mutex
};

}  // namespace sigs::detail
