// models/mutants.hpp — the build's policy and hazard domain: the production protocol, or
// one mutant of it selected by a compile-time switch (-DSIGS_MUTANT_<NAME>).
//
// A model check that cannot fail proves nothing (docs/models.md, "Mutants"). Each mutant
// weakens one order or skips one step of the *production* headers, without a copy of them,
// in one of these ways:
//   - through the policy (relacy_atomics_t<Mutation>): the policy knows the operation, the
//     order and the production function calling it, e.g. "the exchange in protect()" is
//     the hazard publish (H1);
//   - through the Domain parameter of signal_core: a thin subclass of the production
//     hazard_domain whose collect() or guard misbehaves;
//   - for the completion, wake and pool models, through the state and count types they
//     instantiate (completion_state<A>, in_flight_count<A>, wake_count<A> below): a thin
//     subclass of the production in_flight_count / wake_count that hands unreserve() /
//     wake_one() another mutex or condition variable, or —
//     only where a statement must move, which no hook can do — a subclass restating
//     completion_state::finish() with that one change.
// A mutant also declares, per scenario, the result Relacy must report for it; the ctest of
// a mutant passes only when Relacy reports exactly that. A hook that matches nothing (the
// production function was renamed, say) leaves the protocol intact, the mutant survives,
// and its ctest fails: it cannot rot silently.
#pragma once

#include "relacy_atomics.hpp"

namespace sigs::models {

/// The scenarios, for the per-scenario expected result of a mutant.
enum class scenario {
  emit_vs_writers,
  nested_emit,
  once_fires_once,
  once_vs_remove,
  removal_then_emit,
  remove_and_wait,
  remove_and_wait_nested,
  overflow_fallback,
  // remove_and_wait with more than one waiter, and after unrelated writes (wait_models.cpp).
  cross_wait,
  wait_cycle,
  wait_after_write,
  held_snapshot,
  // The same scenarios with the domain in asymmetric-fence mode, where they differ.
  emit_vs_writers_asym,
  remove_and_wait_asym,
  held_snapshot_asym,
  cross_wait_asym,
  // detail::mpmc_queue (queue_models.cpp).
  queue_fifo,
  queue_mpmc,
  queue_close,
  // detail::async_delivery and its envelope_tally (envelope_models.cpp).
  envelope_copies,
  envelope_drops,
  // detail::basic_completion_state, detail::in_flight_count (completion_models.cpp).
  completion_wait,
  drain_last,
  reserve_at_capacity,
  drain_vs_emit,
  reserve_wait,
  // detail::wake_count (wake_models.cpp).
  wake_work,
  wake_two_workers,
  // detail::pool_core (pool_models.cpp).
  pool_work,
  pool_two_workers,
  pool_drain,
  pool_drain_two_workers,
  pool_drain_from_task,
  pool_discard,
  pool_discard_from_task,
  pool_space,
  pool_space_cancel,
  pool_space_give_up,
  pool_help,
  pool_help_discarding,
};

/// The production hazard_domain with the models' settings: the fence mode chosen by the
/// scenario, and a scan at every retirement. Production batches scans by 32 in asymmetric
/// mode (scan_batch()) because its writer barrier is a syscall; a batch only delays frees,
/// so 1 is the strictest setting, and with 32 a small model would never free anything.
template <class A, std::size_t Slots>
class production_domain : public sigs::detail::hazard_domain<A, Slots> {
 public:
  explicit production_domain(bool asymmetric) : sigs::detail::hazard_domain<A, Slots>(asymmetric) {}
  [[nodiscard]] std::size_t scan_batch() const noexcept { return 1; }
};

/// The production protocol: every scenario must succeed.
struct production : no_mutation {
  /// What the policy is built with: no_mutation unless the mutant acts through the policy.
  using policy_mutation = no_mutation;
  /// The hazard domain signal_core is instantiated with.
  template <class A, std::size_t Slots>
  using domain = production_domain<A, Slots>;
  /// The completion state and the in-flight count the completion models instantiate.
  template <class A>
  using completion_state = sigs::detail::basic_completion_state<A>;
  template <class A>
  using in_flight_count = sigs::detail::in_flight_count<A>;
  /// The wake count the wake models instantiate.
  template <class A>
  using wake_count = sigs::detail::wake_count<A>;
  static constexpr rl::test_result_e expect(scenario) noexcept { return rl::test_result_success; }
};

// ---- policy mutants: one atomic operation of hazard.hpp / signal_core.hpp ---------------

/// (H1) the hazard publish in protect() is relaxed instead of seq_cst: the writer's scan
/// (S1) may miss a hazard the reader then relies on.
struct hazard_publish_relaxed : production {
  static constexpr const char* name = "hazard_publish_relaxed";
  using policy_mutation = hazard_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::exchange && called_from(func, "protect") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (H2) protect() still performs the validating load but ignores what it read, returning
/// its first (relaxed) guess: the snapshot may have been retired and freed before H1.
struct no_revalidate : production {
  static constexpr const char* name = "no_revalidate";
  using policy_mutation = no_revalidate;
  template <class T>
  static bool reuse_guess(std::memory_order mo, const char* func) noexcept {
    return mo == std::memory_order_seq_cst && called_from(func, "protect");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_access_to_freed_memory : rl::test_result_success;
  }
};

/// (HP-H3) the hazard clear is relaxed instead of release: the writer that sees the empty
/// slot is not ordered after the reader's last use of the snapshot and its listeners.
struct hazard_clear_relaxed : production {
  static constexpr const char* name = "hazard_clear_relaxed";
  using policy_mutation = hazard_clear_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "clear") ? std::memory_order_relaxed
                                                                                          : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (P1) the snapshot publish in republish() is relaxed: a reader may see the new snapshot
/// without the construction of its listeners.
struct snapshot_publish_relaxed : production {
  static constexpr const char* name = "snapshot_publish_relaxed";
  using policy_mutation = snapshot_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && called_from(func, "republish") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (P1) the snapshot publish is release instead of seq_cst: the store-load order between
/// P1 and the scan (S1) against H1 and H2 is lost.
struct snapshot_publish_release : production {
  static constexpr const char* name = "snapshot_publish_release";
  using policy_mutation = snapshot_publish_release;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && called_from(func, "republish") ? std::memory_order_release : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_access_to_freed_memory : rl::test_result_success;
  }
};

/// (S1) the scan reads hazard slots with acquire instead of seq_cst.
struct scan_acquire : production {
  static constexpr const char* name = "scan_acquire";
  using policy_mutation = scan_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, const void*> && mo == std::memory_order_seq_cst &&
                   called_from(func, "collect")
               ? std::memory_order_acquire
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The once-listener's firing CAS (claim_once()) becomes a load and a store: two emissions may
/// both see "armed" and both fire.
struct once_split_cas : production {
  static constexpr const char* name = "once_split_cas";
  using policy_mutation = once_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_strong && called_from(func, "claim_once");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::once_fires_once ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// emit (run_entry()) skips the logical-removal check: an entry whose state says "removed" is called
/// anyway while its (older) snapshot is being walked.
struct emit_ignores_state : production {
  static constexpr const char* name = "emit_ignores_state";
  using policy_mutation = emit_ignores_state;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint32_t>) {
      if (v == sigs::detail::state_removed && called_from(func, "run_entry")) return sigs::detail::state_live;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::removal_then_emit ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// The removal's state CAS (kill(): live/armed -> removed) becomes a load and a store: a
/// removal and a once-listener's firing may both win.
struct kill_split_cas : production {
  static constexpr const char* name = "kill_split_cas";
  using policy_mutation = kill_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "kill");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::once_vs_remove ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// (R3, R5) the record-list push is release and the scan reads the list head with acquire
/// only, as before the fix in docs/models.md: a scan may read a stale list head and never
/// look at a record whose hazard (or whose release, H3) it needed.
struct record_list_acquire : production {
  static constexpr const char* name = "record_list_acquire";
  using policy_mutation = record_list_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    if (k == op::cas_weak && called_from(func, "acquire_record") && mo == std::memory_order_seq_cst)
      return std::memory_order_release;
    if (k == op::load && !std::is_same_v<T, const void*> && called_from(func, "collect") &&
        mo == std::memory_order_seq_cst)
      return std::memory_order_acquire;
    return mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (O1) the overflow-reader count is raised with relaxed instead of seq_cst.
struct overflow_publish_relaxed : production {
  static constexpr const char* name = "overflow_publish_relaxed";
  using policy_mutation = overflow_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "protect") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (O2) the overflow-reader count is dropped with relaxed instead of release.
struct overflow_done_relaxed : production {
  static constexpr const char* name = "overflow_done_relaxed";
  using policy_mutation = overflow_done_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "clear") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
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

/// (CORE-K3) release() unpins with relaxed instead of release: a scan that sees the unpin
/// (CORE-K4) frees the snapshot without being ordered after the worker's last read of it.
struct unpin_relaxed : production {
  static constexpr const char* name = "unpin_relaxed";
  using policy_mutation = unpin_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "release") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::held_snapshot ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (K4) scan() ignores the hold count: it frees a held snapshot a worker will still run.
/// Both its loads of the count (unpins, then pins) read 0, so the count looks balanced.
struct scan_ignores_holds : production {
  static constexpr const char* name = "scan_ignores_holds";
  using policy_mutation = scan_ignores_holds;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::size_t>) {
      if (called_from(func, "scan")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::held_snapshot ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (W1) the asymmetric fence's writer barrier does nothing: a scan may miss a reader's
/// relaxed hazard store (H1a) while that reader's acquire validation (H2a) missed P1.
struct no_writer_barrier : production {
  static constexpr const char* name = "no_writer_barrier";
  using policy_mutation = no_writer_barrier;
  static constexpr bool skip_writer_barrier = true;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers_asym ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (H2a) the asymmetric path validates with a relaxed load instead of acquire: a reader
/// may use a snapshot whose listeners' construction it has not synchronised with.
struct validate_relaxed : production {
  static constexpr const char* name = "validate_relaxed";
  using policy_mutation = validate_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "protect") ? std::memory_order_relaxed
                                                                                          : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers_asym ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-S2) scan() ignores its signal's overflow-reader count: it frees snapshots that a
/// reader past its slot stack (HP-O1) is walking.
struct overflow_ignored : production {
  static constexpr const char* name = "overflow_ignored";
  using policy_mutation = overflow_ignored;
  template <class T>
  static T loaded(T v, std::memory_order mo, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::size_t>) {
      if (mo == std::memory_order_seq_cst && called_from(func, "scan")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
  }
};

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

// ---- policy mutants: detail::mpmc_queue (queue_models.cpp) ------------------------------

/// True for the queue scenarios, where every queue mutant must be caught.
constexpr bool queue_scenario(scenario s) noexcept {
  return s == scenario::queue_fifo || s == scenario::queue_mpmc || s == scenario::queue_close;
}

/// (2) the producer publishes the cell's sequence with relaxed instead of release: the
/// consumer that sees the cell full is not ordered after the element's construction.
struct queue_publish_relaxed : production {
  static constexpr const char* name = "queue_publish_relaxed";
  using policy_mutation = queue_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "try_push")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (3) the consumer loads the cell's sequence with relaxed instead of acquire.
struct queue_consume_relaxed : production {
  static constexpr const char* name = "queue_consume_relaxed";
  using policy_mutation = queue_consume_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "try_pop")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (4) the consumer hands the cell back to the next lap with relaxed instead of release:
/// the next lap's producer is not ordered after the move-out.
struct queue_handback_relaxed : production {
  static constexpr const char* name = "queue_handback_relaxed";
  using policy_mutation = queue_handback_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "try_pop")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (1) the producer loads the cell's sequence with relaxed instead of acquire.
struct queue_reuse_relaxed : production {
  static constexpr const char* name = "queue_reuse_relaxed";
  using policy_mutation = queue_reuse_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "try_push")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The consumers' claim CAS on dequeue_pos_ becomes a load and a store: two consumers may
/// claim one position and pop one element twice; the second one's accesses to the cell
/// then race with the next lap's producer, which the first one's hand-over let in.
struct queue_pop_split_cas : production {
  static constexpr const char* name = "queue_pop_split_cas";
  using policy_mutation = queue_pop_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "try_pop");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::queue_mpmc ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The producers' claim CAS on enqueue_pos_ becomes a load and a store: two producers may
/// fill one cell.
struct queue_push_split_cas : production {
  static constexpr const char* name = "queue_push_split_cas";
  using policy_mutation = queue_push_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "try_push");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// close()'s fetch_or becomes a load and a store: a claim between the two is overwritten
/// and enqueue_pos_ goes back, so dequeue_pos_ has passed it and drained() never holds —
/// the consumer waiting for it spins forever (LIVELOCK); the claimed element is lost.
struct queue_close_split : production {
  static constexpr const char* name = "queue_close_split";
  using policy_mutation = queue_close_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::fetch_or && called_from(func, "close");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::queue_close ? rl::test_result_livelock : rl::test_result_success;
  }
};

// ---- policy mutants: detail::async_delivery's envelope (envelope_models.cpp) ------------

/// (R) release_ref()'s drop is relaxed instead of acq_rel: the finaliser is ordered neither
/// after the other copies' counts and payload reads nor they before its destruction.
struct envelope_release_relaxed : production {
  static constexpr const char* name = "envelope_release_relaxed";
  using policy_mutation = envelope_release_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "release_ref") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (R) release_ref()'s drop is release only: every copy publishes, but the last one does
/// not acquire what the others published.
struct envelope_release_no_acquire : production {
  static constexpr const char* name = "envelope_release_no_acquire";
  using policy_mutation = envelope_release_no_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "release_ref") ? std::memory_order_release : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// note_drop()'s exchange becomes a load and a store: two copies that drop listeners at
/// once may both write the reason.
struct envelope_reason_split : production {
  static constexpr const char* name = "envelope_reason_split";
  using policy_mutation = envelope_reason_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::exchange && called_from(func, "note_drop");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_drops ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// claim()'s fetch_add becomes a load and a store: two copies may claim one listener.
struct envelope_claim_split : production {
  static constexpr const char* name = "envelope_claim_split";
  using policy_mutation = envelope_claim_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "claim");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

// ---- completion and drain (completion_models.cpp) ----------------------------------------

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

/// (I1) unreserve()'s increments of `finished` (fast-path CAS and locked fetch_add) are
/// relaxed instead of release: the drainer that sees the count at zero is not ordered after
/// a finaliser's work.
struct drain_release_relaxed : production {
  static constexpr const char* name = "drain_release_relaxed";
  using policy_mutation = drain_release_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return (k == op::cas_weak || k == op::fetch_add) && called_from(func, "unreserve") ? std::memory_order_relaxed
                                                                                        : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    // drain_vs_emit: the random search finds the race first; a bounded one finds the
    // drainer reading more finishes than starts (the count wraps) and waiting for ever.
    return s == scenario::drain_last || s == scenario::drain_vs_emit ? rl::test_result_data_race
                                                                      : rl::test_result_success;
  }
};

/// (I2) wait_idle()'s predicate loads the count relaxed instead of acquire: the idle mutex
/// still orders the finaliser that brought the count to zero, but not the one that left by
/// the fast path (its release sequence is not acquired).
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

/// (I3) reserve()'s load of `finished` is relaxed instead of acquire: a reservation that
/// sees the room made by a finish is not ordered after that emission's work.
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

// ---- domain mutants: a thin subclass of the production hazard_domain --------------------

/// collect() still reads every slot but forgets what it found: scans free snapshots that
/// readers hold.
template <class A, std::size_t Slots>
class scan_ignores_slots_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  void collect(std::vector<const void*>& out) const {
    base::collect(out);
    out.clear();
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
      for (auto* r = this->head_.load(std::memory_order_seq_cst); r; r = r->next) {
        if (r == &self) continue;
        for (auto& c : r->running) busy = busy || c.load(std::memory_order_seq_cst) != 0;
      }
      if (!busy) return true;
      A::yield();
    }
  }
};

/// Every guard of a thread uses slot 0, as if a record had a single hazard pointer: a
/// nested emission overwrites, then clears, the hazard of the emission around it.
template <class A, std::size_t Slots>
class shared_slot_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  class guard : public base::guard {
   public:
    guard(shared_slot_domain& d, typename base::record& r) noexcept : base::guard(d, r), rec_(r) {}

    template <class T, class Atomic>
    T* protect(const Atomic& src, sigs::detail::overflow_count<A>& overflow) noexcept {
      const std::size_t depth = rec_.depth;
      rec_.depth = 0;  // the production guard then takes slot 0 and sets depth to 1
      T* p = base::guard::template protect<T>(src, overflow);
      rec_.depth = depth + 1;  // keeps the production clear()'s bookkeeping balanced
      return p;
    }

   private:
    typename base::record& rec_;
  };
};

struct scan_ignores_slots : production {
  static constexpr const char* name = "scan_ignores_slots";
  template <class A, std::size_t Slots>
  using domain = scan_ignores_slots_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
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
struct shared_slot : production {
  static constexpr const char* name = "shared_slot";
  template <class A, std::size_t Slots>
  using domain = shared_slot_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::nested_emit ? rl::test_result_data_race : rl::test_result_success;
  }
};

// ---- this build -------------------------------------------------------------------------

// ---- the pool's sleep/wake handshake (wake_models.cpp, pool_models.cpp) -----------------
// wake_count::wake_one()'s fence is (F1) for a producer and (F3) for a worker that freed a
// cell; sleep()'s is (F2) for a worker and (F4) for a producer waiting for room: one code,
// so each mutant weakens both handshakes, and the wake scenarios (wake_count on its own)
// and the pool's sleep/wake scenarios (pool_core) must all catch it.

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

/// (F1)/(F3) removed: the notifier's relaxed read of the count may miss the sleeper's
/// increment while the sleeper's re-check misses the event.
struct wake_f1_removed : wake_fence_mutant<wake_f1_removed> {
  static constexpr const char* name = "wake_f1_removed";
  using policy_mutation = wake_f1_removed;
  static constexpr const char* function = "wake_one";
  static constexpr std::memory_order weakened = std::memory_order_relaxed;
};

/// (F1)/(F3) acq_rel instead of seq_cst: not in the total order S, so the same.
struct wake_f1_acq_rel : wake_fence_mutant<wake_f1_acq_rel> {
  static constexpr const char* name = "wake_f1_acq_rel";
  using policy_mutation = wake_f1_acq_rel;
  static constexpr const char* function = "wake_one";
  static constexpr std::memory_order weakened = std::memory_order_acq_rel;
};

/// (F2)/(F4) removed.
struct wake_f2_removed : wake_fence_mutant<wake_f2_removed> {
  static constexpr const char* name = "wake_f2_removed";
  using policy_mutation = wake_f2_removed;
  static constexpr const char* function = "sleep";
  static constexpr std::memory_order weakened = std::memory_order_relaxed;
};

/// (F2)/(F4) acq_rel instead of seq_cst.
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

// ---- the pool's protocol: detail::pool_core (pool_models.cpp) ---------------------------
// Policy mutants name pool_core's own functions (work_or_stop, wake_workers,
// wake_space_waiters, discard_queued): its waits and notifies are made from named member
// functions, not lambdas, so that __builtin_FUNCTION tells them apart.

/// The pool scenarios that end with a drain: the worker that runs the last job, or the
/// joiner, requests it, and every worker must then leave.
constexpr bool pool_ends_draining(scenario s) noexcept {
  return s == scenario::pool_work || s == scenario::pool_two_workers || s == scenario::pool_drain ||
         s == scenario::pool_drain_two_workers || s == scenario::pool_drain_from_task || s == scenario::pool_space ||
         s == scenario::pool_space_give_up || s == scenario::pool_help;
}

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
/// handshake only ((F3)/(F4); the work handshake (F1)/(F2) is intact). The pool's two
/// condition variables have different types in the models (relacy_atomics.hpp), which is
/// how this tells them apart.
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

#if defined(SIGS_MUTANT_HAZARD_PUBLISH_RELAXED)
using model_mutation = hazard_publish_relaxed;
#elif defined(SIGS_MUTANT_NO_REVALIDATE)
using model_mutation = no_revalidate;
#elif defined(SIGS_MUTANT_HAZARD_CLEAR_RELAXED)
using model_mutation = hazard_clear_relaxed;
#elif defined(SIGS_MUTANT_SNAPSHOT_PUBLISH_RELAXED)
using model_mutation = snapshot_publish_relaxed;
#elif defined(SIGS_MUTANT_SNAPSHOT_PUBLISH_RELEASE)
using model_mutation = snapshot_publish_release;
#elif defined(SIGS_MUTANT_SCAN_ACQUIRE)
using model_mutation = scan_acquire;
#elif defined(SIGS_MUTANT_ONCE_SPLIT_CAS)
using model_mutation = once_split_cas;
#elif defined(SIGS_MUTANT_KILL_SPLIT_CAS)
using model_mutation = kill_split_cas;
#elif defined(SIGS_MUTANT_RECORD_LIST_ACQUIRE)
using model_mutation = record_list_acquire;
#elif defined(SIGS_MUTANT_DEEP_VALIDATE_RELAXED)
using model_mutation = deep_validate_relaxed;
#elif defined(SIGS_MUTANT_KILL_RELAXED)
using model_mutation = kill_relaxed;
#elif defined(SIGS_MUTANT_UNPIN_RELAXED)
using model_mutation = unpin_relaxed;
#elif defined(SIGS_MUTANT_SCAN_IGNORES_HOLDS)
using model_mutation = scan_ignores_holds;
#elif defined(SIGS_MUTANT_NO_WRITER_BARRIER)
using model_mutation = no_writer_barrier;
#elif defined(SIGS_MUTANT_VALIDATE_RELAXED)
using model_mutation = validate_relaxed;
#elif defined(SIGS_MUTANT_EMIT_IGNORES_STATE)
using model_mutation = emit_ignores_state;
#elif defined(SIGS_MUTANT_OVERFLOW_PUBLISH_RELAXED)
using model_mutation = overflow_publish_relaxed;
#elif defined(SIGS_MUTANT_OVERFLOW_DONE_RELAXED)
using model_mutation = overflow_done_relaxed;
#elif defined(SIGS_MUTANT_SCAN_IGNORES_SLOTS)
using model_mutation = scan_ignores_slots;
#elif defined(SIGS_MUTANT_WAIT_IGNORES_CALLS)
using model_mutation = wait_ignores_calls;
#elif defined(SIGS_MUTANT_WAIT_PER_SNAPSHOT)
using model_mutation = wait_per_snapshot;
#elif defined(SIGS_MUTANT_DEEP_CALLS_IGNORED)
using model_mutation = deep_calls_ignored;
#elif defined(SIGS_MUTANT_CALL_PUBLISH_RELAXED)
using model_mutation = call_publish_relaxed;
#elif defined(SIGS_MUTANT_WAITERS_CHECK_RELAXED)
using model_mutation = waiters_check_relaxed;
#elif defined(SIGS_MUTANT_NO_CYCLE_CHECK)
using model_mutation = no_cycle_check;
#elif defined(SIGS_MUTANT_OVERFLOW_IGNORED)
using model_mutation = overflow_ignored;
#elif defined(SIGS_MUTANT_SHARED_SLOT)
using model_mutation = shared_slot;
#elif defined(SIGS_MUTANT_QUEUE_PUBLISH_RELAXED)
using model_mutation = queue_publish_relaxed;
#elif defined(SIGS_MUTANT_QUEUE_CONSUME_RELAXED)
using model_mutation = queue_consume_relaxed;
#elif defined(SIGS_MUTANT_QUEUE_HANDBACK_RELAXED)
using model_mutation = queue_handback_relaxed;
#elif defined(SIGS_MUTANT_QUEUE_REUSE_RELAXED)
using model_mutation = queue_reuse_relaxed;
#elif defined(SIGS_MUTANT_QUEUE_POP_SPLIT_CAS)
using model_mutation = queue_pop_split_cas;
#elif defined(SIGS_MUTANT_QUEUE_PUSH_SPLIT_CAS)
using model_mutation = queue_push_split_cas;
#elif defined(SIGS_MUTANT_QUEUE_CLOSE_SPLIT)
using model_mutation = queue_close_split;
#elif defined(SIGS_MUTANT_ENVELOPE_RELEASE_RELAXED)
using model_mutation = envelope_release_relaxed;
#elif defined(SIGS_MUTANT_ENVELOPE_RELEASE_NO_ACQUIRE)
using model_mutation = envelope_release_no_acquire;
#elif defined(SIGS_MUTANT_ENVELOPE_CLAIM_SPLIT)
using model_mutation = envelope_claim_split;
#elif defined(SIGS_MUTANT_ENVELOPE_REASON_SPLIT)
using model_mutation = envelope_reason_split;
#elif defined(SIGS_MUTANT_ROOM_CAS_SPLIT)
using model_mutation = room_cas_split;
#elif defined(SIGS_MUTANT_HELP_IGNORES_DISCARD)
using model_mutation = help_ignores_discard;
#elif defined(SIGS_MUTANT_DRAIN_RELEASE_RELAXED)
using model_mutation = drain_release_relaxed;
#elif defined(SIGS_MUTANT_DRAIN_ACQUIRE_RELAXED)
using model_mutation = drain_acquire_relaxed;
#elif defined(SIGS_MUTANT_RESERVE_ACQUIRE_RELAXED)
using model_mutation = reserve_acquire_relaxed;
#elif defined(SIGS_MUTANT_DRAIN_UNLOCKED)
using model_mutation = drain_unlocked;
#elif defined(SIGS_MUTANT_DRAIN_NOTIFY_UNLOCKED)
using model_mutation = drain_notify_unlocked;
#elif defined(SIGS_MUTANT_COMPLETION_NOTIFY_FIRST)
using model_mutation = completion_notify_first;
#elif defined(SIGS_MUTANT_COMPLETION_DONE_UNLOCKED)
using model_mutation = completion_done_unlocked;
#elif defined(SIGS_MUTANT_WAKE_F1_REMOVED)
using model_mutation = wake_f1_removed;
#elif defined(SIGS_MUTANT_WAKE_F1_ACQ_REL)
using model_mutation = wake_f1_acq_rel;
#elif defined(SIGS_MUTANT_WAKE_F2_REMOVED)
using model_mutation = wake_f2_removed;
#elif defined(SIGS_MUTANT_WAKE_F2_ACQ_REL)
using model_mutation = wake_f2_acq_rel;
#elif defined(SIGS_MUTANT_WAKE_NOTIFY_UNLOCKED)
using model_mutation = wake_notify_unlocked;
#elif defined(SIGS_MUTANT_POOL_DRAIN_IGNORED)
using model_mutation = pool_drain_ignored;
#elif defined(SIGS_MUTANT_POOL_DRAIN_NO_PEER_NOTIFY)
using model_mutation = pool_drain_no_peer_notify;
#elif defined(SIGS_MUTANT_POOL_STOP_NO_WORK_NOTIFY)
using model_mutation = pool_stop_no_work_notify;
#elif defined(SIGS_MUTANT_POOL_STOP_NO_SPACE_NOTIFY)
using model_mutation = pool_stop_no_space_notify;
#elif defined(SIGS_MUTANT_POOL_DISCARD_NO_WAIT)
using model_mutation = pool_discard_no_wait;
#elif defined(SIGS_MUTANT_POOL_SPACE_NOTIFY_UNLOCKED)
using model_mutation = pool_space_notify_unlocked;
#else
using model_mutation = production;
#endif

using model_policy = relacy_atomics_t<model_mutation::policy_mutation>;

template <std::size_t Slots>
using model_domain = typename model_mutation::template domain<model_policy, Slots>;

/// The completion state and in-flight count the completion models instantiate.
template <class A>
using model_completion_state = typename model_mutation::template completion_state<A>;
template <class A>
using model_in_flight_count = typename model_mutation::template in_flight_count<A>;

/// The wake count the wake and pool models instantiate.
template <class A>
using model_wake_count = typename model_mutation::template wake_count<A>;

/// The result the current build must produce for scenario `s`.
constexpr rl::test_result_e expected_result(scenario s) noexcept { return model_mutation::expect(s); }

}  // namespace sigs::models
