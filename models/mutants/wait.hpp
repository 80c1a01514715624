// models/mutants/wait.hpp — the mutants of the wait family (wait_models.cpp):
// remove_and_wait's call words and deep count (CALL-1..4, WAIT-3), the kill's order on the
// deep-call path, more than one waiter, and the cycle check.
#pragma once

#include "common.hpp"

namespace sigs::models {

/// (WAIT-3) the waiter reads every other thread's call words as 0: it returns while a call
/// of the listener still runs.
struct wait_ignores_calls : production {
  static constexpr const char* name = "wait_ignores_calls";
  using policy_mutation = wait_ignores_calls;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (called_from(func, "holder_of")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait || s == scenario::wait_after_write ? rl::test_result_data_race
                                                                             : rl::test_result_success;
  }
};

/// (CALL-1) in seq_cst mode, the call word is published with a relaxed exchange: the waiter
/// may miss it while the caller's validation (CALL-2) misses the removal.
struct call_publish_relaxed : production {
  static constexpr const char* name = "call_publish_relaxed";
  using policy_mutation = call_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::exchange && std::is_same_v<T, std::uint64_t> && called_from(func, "publish_call")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait || s == scenario::held_snapshot ? rl::test_result_data_race
                                                                          : rl::test_result_success;
  }
};

/// (CALL-4) in seq_cst mode, the caller's check for waiters after announcing a call is
/// relaxed: it no longer orders the validation (CALL-2) after the waiter's kill, nor the
/// announcement before the waiter's look.
struct waiters_check_relaxed : production {
  static constexpr const char* name = "waiters_check_relaxed";
  using policy_mutation = waiters_check_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, std::uint32_t> && called_from(func, "publish_call")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait ? rl::test_result_livelock : rl::test_result_success;  // a lost wake-up
  }
};

/// (WAIT-3 deep) the waiter ignores the calls made past the slot stack (the entry's
/// deep_calls): it returns while a nested call of the listener still runs.
struct deep_calls_ignored : production {
  static constexpr const char* name = "deep_calls_ignored";
  using policy_mutation = deep_calls_ignored;
  template <class T>
  static T loaded(T v, std::memory_order mo, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint32_t>) {
      if (mo == std::memory_order_seq_cst && called_from(func, "wait_for_calls")) return 0;  // not generation_
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait_nested ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (CALL-2, deep) a call past the slot stack validates the listener's state with relaxed
/// instead of seq_cst: after its count (deep_calls) missed the waiter, it may still read
/// "live" and call a listener whose wait has returned.
struct deep_validate_relaxed : production {
  static constexpr const char* name = "deep_validate_relaxed";
  using policy_mutation = deep_validate_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, std::uint32_t> && mo == std::memory_order_seq_cst &&
                   called_from(func, "run_entry")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait_nested ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (CORE-K1) the removal's state CAS in kill() is relaxed instead of seq_cst: a deep call's
/// validation may miss it while the waiter's load of the deep count misses the call.
struct kill_relaxed : production {
  static constexpr const char* name = "kill_relaxed";
  using policy_mutation = kill_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "kill") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait_nested ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The removal wait of the first design: a waiter waits while any other thread is in the
/// middle of a call of any listener (there, while any other thread held a snapshot holding
/// the target), and never looks for a cycle. Restated, since the condition itself changes:
/// two waiters that each run a listener wait for each other for ever.
template <class A, std::size_t Slots>
class wait_per_snapshot_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  bool wait_for_calls(typename base::record& self, std::uint64_t, const typename base::deep_count&, std::uint32_t) {
    for (;;) {
      if constexpr (requires { A::writer_barrier(); }) {
        if (this->asymmetric()) A::writer_barrier();
      }
      bool busy = false;
      for (auto* r = this->scan_head(); r; r = r->next) {
        if (r == &self) continue;
        for (auto& c : r->running) busy = busy || c.load(std::memory_order_seq_cst) != 0;
      }
      if (!busy) return true;
      A::yield();
    }
  }
};

struct wait_per_snapshot : production {
  static constexpr const char* name = "wait_per_snapshot";
  template <class A, std::size_t Slots>
  using domain = wait_per_snapshot_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::cross_wait || s == scenario::cross_wait_asym ? rl::test_result_livelock
                                                                       : rl::test_result_success;
  }
};

/// The cycle check never finds one (the holders' waiting_for reads as 0): two threads that
/// wait for each other's running listeners wait for ever.
struct no_cycle_check : production {
  static constexpr const char* name = "no_cycle_check";
  using policy_mutation = no_cycle_check;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (called_from(func, "in_cycle") || called_from(func, "deep_waiter")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::wait_cycle ? rl::test_result_livelock : rl::test_result_success;
  }
};

}  // namespace sigs::models
