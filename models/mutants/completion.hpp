// models/mutants/completion.hpp — the mutants of the completion family
// (completion_models.cpp): completion_state::finish() against wait(), and
// in_flight_count's unreserve() against wait_idle() and wait_reserve(). The state and count
// mutants are thin subclasses of the production types (production::completion_state,
// production::in_flight_count), or, only where a statement must move, a restated finish().
#pragma once

#include "common.hpp"

namespace sigs::models {

/// finish() notifies first, then sets `done` under the mutex, and does not notify again:
/// a waiter that checked `done` before it was set and parks after the notify sleeps for
/// ever. The policy cannot move a statement, so this mutant restates finish() with that one
/// change; wait() and the rest are the production code.
template <class A>
struct completion_notify_first_state : sigs::detail::basic_completion_state<A> {
  void finish(std::uint64_t d, std::uint64_t dr, std::uint64_t s, std::error_code reason) {
    this->cv.notify_all();  // the mutation: before `done`
    std::lock_guard<typename A::mutex> lock(this->mutex);
    this->delivered = d;
    this->dropped = dr;
    this->skipped = s;
    this->drop_reason = reason;
    this->done.store(true);
  }
};

/// finish() sets the totals under the mutex but `done` after leaving it, then notifies:
/// the write of `done` races with the waiter's check under the mutex (and the waiter may
/// check `done`, false, the finaliser set it and notify before the waiter parks — a lost
/// wake-up). Restated as above, with that one change.
template <class A>
struct completion_done_unlocked_state : sigs::detail::basic_completion_state<A> {
  void finish(std::uint64_t d, std::uint64_t dr, std::uint64_t s, std::error_code reason) {
    {
      std::lock_guard<typename A::mutex> lock(this->mutex);
      this->delivered = d;
      this->dropped = dr;
      this->skipped = s;
      this->drop_reason = reason;
    }
    this->done.store(true);  // the mutation: outside the lock
    this->cv.notify_all();
  }
};

struct completion_notify_first : production {
  static constexpr const char* name = "completion_notify_first";
  template <class A>
  using completion_state = completion_notify_first_state<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::completion_wait ? rl::test_result_deadlock : rl::test_result_success;
  }
};

struct completion_done_unlocked : production {
  static constexpr const char* name = "completion_done_unlocked";
  template <class A>
  using completion_state = completion_done_unlocked_state<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::completion_wait ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (FLIGHT-I1) unreserve()'s increments of `finished` (fast-path CAS and locked fetch_add)
/// are relaxed instead of release: the drainer that sees the count at zero is not ordered
/// after a finaliser's work.
struct drain_release_relaxed : production {
  static constexpr const char* name = "drain_release_relaxed";
  using policy_mutation = drain_release_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return (k == op::cas_weak || k == op::fetch_add) && called_from(func, "unreserve") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    // drain_vs_emit: the random search finds the race first; a bounded one finds the
    // drainer reading more finishes than starts (the count wraps) and waiting for ever.
    return s == scenario::drain_last || s == scenario::drain_vs_emit ? rl::test_result_data_race
                                                                     : rl::test_result_success;
  }
};

/// (FLIGHT-I2) wait_idle()'s predicate loads the count relaxed instead of acquire: the idle
/// mutex still orders the finaliser that brought the count to zero, but not the one that
/// left by the fast path (its release sequence is not acquired).
struct drain_acquire_relaxed : production {
  static constexpr const char* name = "drain_acquire_relaxed";
  using policy_mutation = drain_acquire_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    // wait_idle()'s predicate reads the count through count().
    return k == op::load && std::is_same_v<T, std::size_t> && mo == std::memory_order_acquire &&
                   called_from(func, "count")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    // drain_vs_emit: the random search finds the race first; a bounded one finds the
    // drainer reading more finishes than starts (the count wraps) and waiting for ever.
    return s == scenario::drain_last || s == scenario::drain_vs_emit ? rl::test_result_data_race
                                                                     : rl::test_result_success;
  }
};

/// (FLIGHT-I3) reserve()'s load of `finished` is relaxed instead of acquire: a reservation
/// that sees the room made by a finish is not ordered after that emission's work. The hook
/// matches every acquire load of a std::size_t in reserve(), so on_caller_'s load
/// (FLIGHT-I5, also a std::uint64_t, the same type on 64-bit targets) is relaxed too.
struct reserve_acquire_relaxed : production {
  static constexpr const char* name = "reserve_acquire_relaxed";
  using policy_mutation = reserve_acquire_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, std::size_t> && mo == std::memory_order_acquire &&
                   called_from(func, "reserve")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::reserve_at_capacity ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// unreserve() without the idle mutex: the production unreserve() is called with a mutex of
/// its own that no waiter uses, so the decrement to zero and its notify are made outside
/// the lock the drainer checks the count under.
template <class A>
class drain_unlocked_count : public sigs::detail::in_flight_count<A> {
  using base = sigs::detail::in_flight_count<A>;

 public:
  void unreserve(typename base::mutex_type&, typename base::condition_variable_type& idle_cv) noexcept {
    base::unreserve(unrelated_, idle_cv);
  }

 private:
  typename base::mutex_type unrelated_;
};

struct drain_unlocked : production {
  static constexpr const char* name = "drain_unlocked";
  template <class A>
  using in_flight_count = drain_unlocked_count<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::drain_last || s == scenario::drain_vs_emit ? rl::test_result_deadlock
                                                                     : rl::test_result_success;
  }
};

/// unreserve()'s fast-path CAS becomes a load and a store: a waiter's room_wanted bit, set
/// between the two, is overwritten, and the finish that should wake it takes the fast path
/// without a notify.
struct room_cas_split : production {
  static constexpr const char* name = "room_cas_split";
  using policy_mutation = room_cas_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "unreserve");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::reserve_wait ? rl::test_result_deadlock : rl::test_result_success;
  }
};

/// unreserve() wakes the drainer after leaving the idle mutex: the production unreserve()
/// notifies a condition variable of its own that no one waits on, and the real one is
/// notified afterwards. The drainer may see zero, return and destroy the signal before
/// that notify: ACCESS TO FREED MEMORY (the reason the notify is made under the lock).
template <class A>
class drain_notify_unlocked_count : public sigs::detail::in_flight_count<A> {
  using base = sigs::detail::in_flight_count<A>;

 public:
  void unreserve(typename base::mutex_type& idle_mutex, typename base::condition_variable_type& idle_cv) noexcept {
    base::unreserve(idle_mutex, unnotified_);
    idle_cv.notify_all();  // the mutation: outside the lock
  }

 private:
  typename base::condition_variable_type unnotified_;
};

struct drain_notify_unlocked : production {
  static constexpr const char* name = "drain_notify_unlocked";
  template <class A>
  using in_flight_count = drain_notify_unlocked_count<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::drain_last ? rl::test_result_access_to_freed_memory : rl::test_result_success;
  }
};

}  // namespace sigs::models
