// models/mutants/wake.hpp — the mutants of wake.hpp's wake_count, the pool's sleep/wake
// handshake. Built against the wake family (wake_models.cpp, wake_count on its own) and,
// through mutants/pool.hpp, which includes this header, against the pool family
// (pool_models.cpp, the production pool paths).
//
// wake_count::wake_one()'s fence (SLEEP-W1) is POOL-F1 for a producer and POOL-F3 for a
// worker that freed a cell; sleep()'s (SLEEP-W2) is POOL-F2 for a worker and POOL-F4 for a
// producer waiting for room: one code, so each mutant weakens both handshakes, and the wake
// scenarios (wake_count on its own) and the pool's sleep/wake scenarios (pool_core) must
// all catch it.
#pragma once

#include "common.hpp"

namespace sigs::models {

/// A wake_count fence with another order (relaxed: removed). Expected: a lost wake-up.
constexpr rl::test_result_e lost_wakeup(scenario s) noexcept {
  return s == scenario::wake_work || s == scenario::wake_two_workers || s == scenario::pool_work ||
                 s == scenario::pool_two_workers || s == scenario::pool_space
             ? rl::test_result_deadlock
             : rl::test_result_success;
}

template <class Self>
struct wake_fence_mutant : production {
  static constexpr rl::test_result_e expect(scenario s) noexcept { return lost_wakeup(s); }
  static std::memory_order fence_order(std::memory_order mo, const char* func) noexcept {
    return called_from(func, Self::function) ? Self::weakened : mo;
  }
};

/// (SLEEP-W1, i.e. POOL-F1/POOL-F3) removed: the notifier's relaxed read of the count may
/// miss the sleeper's increment while the sleeper's re-check misses the event.
struct wake_f1_removed : wake_fence_mutant<wake_f1_removed> {
  static constexpr const char* name = "wake_f1_removed";
  using policy_mutation = wake_f1_removed;
  static constexpr const char* function = "wake_one";
  static constexpr std::memory_order weakened = std::memory_order_relaxed;
};

/// (SLEEP-W1, i.e. POOL-F1/POOL-F3) acq_rel instead of seq_cst: not in the total order S,
/// so the same.
struct wake_f1_acq_rel : wake_fence_mutant<wake_f1_acq_rel> {
  static constexpr const char* name = "wake_f1_acq_rel";
  using policy_mutation = wake_f1_acq_rel;
  static constexpr const char* function = "wake_one";
  static constexpr std::memory_order weakened = std::memory_order_acq_rel;
};

/// (SLEEP-W2, i.e. POOL-F2/POOL-F4) removed.
struct wake_f2_removed : wake_fence_mutant<wake_f2_removed> {
  static constexpr const char* name = "wake_f2_removed";
  using policy_mutation = wake_f2_removed;
  static constexpr const char* function = "sleep";
  static constexpr std::memory_order weakened = std::memory_order_relaxed;
};

/// (SLEEP-W2, i.e. POOL-F2/POOL-F4) acq_rel instead of seq_cst.
struct wake_f2_acq_rel : wake_fence_mutant<wake_f2_acq_rel> {
  static constexpr const char* name = "wake_f2_acq_rel";
  using policy_mutation = wake_f2_acq_rel;
  static constexpr const char* function = "sleep";
  static constexpr std::memory_order weakened = std::memory_order_acq_rel;
};

/// The notifier does not take the sleeper's mutex: wake_one() is handed a mutex of its own.
/// Its notify can then fall between the sleeper's re-check and its wait, and be lost.
template <class A>
struct wake_notify_unlocked_count : sigs::detail::wake_count<A> {
  using base = sigs::detail::wake_count<A>;
  template <class Mutex, class CondVar>
  void wake_one(Mutex& /*sleepers_mutex*/, CondVar& cv) {
    base::wake_one(own_, cv);
  }

 private:
  typename A::mutex own_;
};

struct wake_notify_unlocked : production {
  static constexpr const char* name = "wake_notify_unlocked";
  template <class A>
  using wake_count = wake_notify_unlocked_count<A>;
  static constexpr rl::test_result_e expect(scenario s) noexcept { return lost_wakeup(s); }
};

}  // namespace sigs::models
