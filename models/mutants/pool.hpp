// models/mutants/pool.hpp — the mutants of the pool family (pool_models.cpp),
// detail::pool_core: the sleep predicate's drain check and its peer notify, request_stop()'s
// wake-ups, the discard loop's wait for a half-published cell, the space handshake's notify
// under space_mutex_. The wake_count mutants the pool family also runs live with the code
// they mutate, in mutants/wake.hpp, included here.
//
// Policy mutants name pool_core's own functions (work_or_stop, wake_workers,
// wake_space_waiters, discard_queued): its waits and notifies are made from named member
// functions, not lambdas, so that __builtin_FUNCTION tells them apart.
#pragma once

#include "common.hpp"
#include "wake.hpp"  // WAKE_* mutants, run against the pool family too

namespace sigs::models {

/// The pool scenarios that end with a drain: the worker that runs the last job, or the
/// joiner, requests it, and every worker must then leave.
constexpr bool pool_ends_draining(scenario s) noexcept {
  return s == scenario::pool_work || s == scenario::pool_two_workers || s == scenario::pool_drain ||
         s == scenario::pool_drain_two_workers || s == scenario::pool_drain_from_task || s == scenario::pool_space ||
         s == scenario::pool_space_give_up || s == scenario::pool_help;
}

/// run_one_queued() ignores a discarding pool: the helper runs what it takes.
struct help_ignores_discard : production {
  static constexpr const char* name = "help_ignores_discard";
  using policy_mutation = help_ignores_discard;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, sigs::detail::pool_state>) {
      if (v == sigs::detail::pool_state::discarding && called_from(func, "run_one_queued"))
        return sigs::detail::pool_state::running;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_help_discarding ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// The sleep predicate work_or_stop() reads a draining pool as running: the drained() check
/// is skipped, so a worker never leaves a drain and whoever joins it waits for ever.
struct pool_drain_ignored : production {
  static constexpr const char* name = "pool_drain_ignored";
  using policy_mutation = pool_drain_ignored;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, sigs::detail::pool_state>) {
      if (v == sigs::detail::pool_state::draining && called_from(func, "work_or_stop"))
        return sigs::detail::pool_state::running;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return pool_ends_draining(s) ? rl::test_result_deadlock : rl::test_result_success;
  }
};

/// work_or_stop() does not wake its peers when it finds the queue drained: a peer that went
/// to sleep in the drain before the last pop (the last cell still being published) is
/// woken by nobody — pops wake producers, not workers — and sleeps for ever.
struct pool_drain_no_peer_notify : production {
  static constexpr const char* name = "pool_drain_no_peer_notify";
  using policy_mutation = pool_drain_no_peer_notify;
  static bool skip_notify(const char* func) noexcept { return called_from(func, "work_or_stop"); }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_drain_from_task ? rl::test_result_deadlock : rl::test_result_success;
  }
};

/// request_stop() does not wake the sleeping workers (wake_workers() notifies nobody): a
/// worker asleep on an empty queue when the pool stops is never told.
struct pool_stop_no_work_notify : production {
  static constexpr const char* name = "pool_stop_no_work_notify";
  using policy_mutation = pool_stop_no_work_notify;
  static bool skip_notify(const char* func) noexcept { return called_from(func, "wake_workers"); }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_drain || s == scenario::pool_discard ? rl::test_result_deadlock
                                                                    : rl::test_result_success;
  }
};

/// request_stop() does not wake the producers waiting for room (wake_space_waiters()
/// notifies nobody), nor does a cancellation in the models, which wakes them the same way.
struct pool_stop_no_space_notify : production {
  static constexpr const char* name = "pool_stop_no_space_notify";
  using policy_mutation = pool_stop_no_space_notify;
  static bool skip_notify(const char* func) noexcept { return called_from(func, "wake_space_waiters"); }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_discard_from_task || s == scenario::pool_space_cancel ? rl::test_result_deadlock
                                                                                     : rl::test_result_success;
  }
};

/// The discard loop does not wait for a half-published cell: at the first point where
/// discard_queued() would yield (a producer claimed a position before close() and is still
/// publishing it), its next drained() answers true — the mutation returns the closed bit
/// and equal positions for that call's two loads. The claimed task is neither run nor
/// discarded, and `pushed == completed + dropped` fails after the discard.
struct pool_discard_no_wait : production {
  static constexpr const char* name = "pool_discard_no_wait";
  using policy_mutation = pool_discard_no_wait;
  static constexpr unsigned max_threads = 8;
  static constexpr std::uint64_t closed_bit = std::uint64_t(1) << 63;  // mpmc_queue's
  // Per model thread: 1 after a yield in discard_queued(), 2 after drained()'s first load.
  // A completed iteration always leaves 0 (the yield is followed by drained()).
  static inline unsigned step[max_threads] = {};
  static inline std::uint64_t enqueue[max_threads] = {};
  static void yielded(const char* func) noexcept {
    const unsigned t = rl::thread_index();
    if (t < max_threads && called_from(func, "discard_queued")) step[t] = 1;
  }
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      const unsigned t = rl::thread_index();
      if (t < max_threads && step[t] != 0 && called_from(func, "drained")) {
        if (step[t] == 1) {  // enqueue_pos_
          step[t] = 2;
          enqueue[t] = v | closed_bit;
          return enqueue[t];
        }
        step[t] = 0;  // dequeue_pos_: equal to the positions claimed
        return enqueue[t] & ~closed_bit;
      }
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_discard || s == scenario::pool_discard_from_task ? rl::test_result_user_assert_failed
                                                                                : rl::test_result_success;
  }
};

/// A worker that freed a cell notifies a producer waiting for room without taking
/// space_mutex_: after_pop()'s wake_count is handed a mutex of its own, for the space
/// handshake only (POOL-F3/POOL-F4; the work handshake, POOL-F1/POOL-F2, is intact). The
/// pool's two condition variables have different types in the models (relacy_atomics.hpp),
/// which is how this tells them apart.
template <class A>
struct space_notify_unlocked_count : sigs::detail::wake_count<A> {
  using base = sigs::detail::wake_count<A>;
  template <class Mutex, class CondVar>
  void wake_one(Mutex& m, CondVar& cv) {
    if constexpr (std::is_same_v<CondVar, typename A::condition_variable_any>) {
      base::wake_one(own_, cv);
    } else {
      base::wake_one(m, cv);
    }
  }

 private:
  typename A::mutex own_;
};

struct pool_space_notify_unlocked : production {
  static constexpr const char* name = "pool_space_notify_unlocked";
  template <class A>
  using wake_count = space_notify_unlocked_count<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::pool_space ? rl::test_result_deadlock : rl::test_result_success;
  }
};

}  // namespace sigs::models
