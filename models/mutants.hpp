// models/mutants.hpp — the build's policy and hazard domain: the production protocol, or
// one mutant of it selected by a compile-time switch (-DSIGS_MUTANT_<NAME>).
//
// A model check that cannot fail proves nothing (VERIFICATION.md, "Model checks with
// teeth"). Each mutant weakens one order or skips one step of the *production* headers,
// without a copy of them, in one of two ways:
//   - through the policy (relacy_atomics_t<Mutation>): the policy knows the operation, the
//     order and the production function calling it, e.g. "the exchange in protect()" is
//     the hazard publish (H1);
//   - through the Domain parameter of signal_core: a thin subclass of the production
//     hazard_domain whose collect() or guard misbehaves;
//   - for the completion and wake models, through the state and count types they
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
  overflow_fallback,
  held_snapshot,
  // The same scenarios with the domain in asymmetric-fence mode, where they differ.
  emit_vs_writers_asym,
  remove_and_wait_asym,
  held_snapshot_asym,
  // detail::mpmc_queue (queue_models.cpp).
  queue_fifo,
  queue_mpmc,
  queue_close,
  // detail::envelope_tally (envelope_models.cpp).
  envelope_copies,
  // detail::basic_completion_state, detail::in_flight_count (completion_models.cpp).
  completion_wait,
  drain_last,
  reserve_at_capacity,
  drain_vs_emit,
  // detail::wake_count (wake_models.cpp).
  wake_work,
  wake_two_workers,
  wake_space,
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

/// (H3) the hazard clear is relaxed instead of release: the writer that sees the empty
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
    return s == scenario::remove_and_wait ? rl::test_result_data_race : rl::test_result_success;
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

/// (K2) a worker running a held snapshot loads each state relaxed instead of seq_cst: its
/// unvalidated hazard may come after remove_and_wait's scan and it may still see "live".
struct held_state_relaxed : production {
  static constexpr const char* name = "held_state_relaxed";
  using policy_mutation = held_state_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, std::uint32_t> && mo == std::memory_order_seq_cst &&
                   called_from(func, "run_entry")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::held_snapshot ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (K1) the removal's state CAS in kill() is relaxed instead of seq_cst.
struct kill_relaxed : production {
  static constexpr const char* name = "kill_relaxed";
  using policy_mutation = kill_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "kill") ? std::memory_order_relaxed : mo;
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
    return s == scenario::held_snapshot ? rl::test_result_access_to_freed_memory : rl::test_result_success;
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

// ---- policy mutants: detail::envelope_tally (envelope_models.cpp) -----------------------

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
/// readers hold, remove_and_wait returns at once.
template <class A, std::size_t Slots>
class scan_ignores_slots_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  bool collect(std::vector<const void*>& out, const typename base::record* skip = nullptr) const {
    const bool no_overflow = base::collect(out, skip);
    out.clear();
    return no_overflow;
  }
};

/// remove_and_wait's collect (the only caller passing its own record as `skip`) forgets
/// the hazards: the wait returns while an invocation may still run. Scans are untouched.
template <class A, std::size_t Slots>
class wait_ignores_hazards_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  bool collect(std::vector<const void*>& out, const typename base::record* skip = nullptr) const {
    const bool no_overflow = base::collect(out, skip);
    if (skip) {
      out.clear();
      return true;
    }
    return no_overflow;
  }
};

/// collect() ignores the overflow-reader count: scans free snapshots that a reader past
/// its slot stack (O1) is walking.
template <class A, std::size_t Slots>
class overflow_ignored_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  bool collect(std::vector<const void*>& out, const typename base::record* skip = nullptr) const {
    (void)base::collect(out, skip);
    return true;
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
    T* protect(const Atomic& src) noexcept {
      const std::size_t depth = rec_.depth;
      rec_.depth = 0;  // the production guard then takes slot 0 and sets depth to 1
      T* p = base::guard::template protect<T>(src);
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
struct wait_ignores_hazards : production {
  static constexpr const char* name = "wait_ignores_hazards";
  template <class A, std::size_t Slots>
  using domain = wait_ignores_hazards_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::remove_and_wait ? rl::test_result_data_race : rl::test_result_success;
  }
};
struct overflow_ignored : production {
  static constexpr const char* name = "overflow_ignored";
  template <class A, std::size_t Slots>
  using domain = overflow_ignored_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback || s == scenario::remove_and_wait ? rl::test_result_data_race
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

// ---- the pool's sleep/wake handshake (wake_models.cpp) ----------------------------------
// wake_count::wake_one()'s fence is (F1) for a producer and (F3) for a worker that freed a
// cell; sleep()'s is (F2) for a worker and (F4) for a producer waiting for room: one code,
// so each mutant weakens both handshakes and both scenarios must catch it.

/// A wake_count fence with another order (relaxed: removed). Expected: a lost wake-up.
constexpr rl::test_result_e lost_wakeup(scenario s) noexcept {
  return s == scenario::wake_work || s == scenario::wake_two_workers || s == scenario::wake_space
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
#elif defined(SIGS_MUTANT_HELD_STATE_RELAXED)
using model_mutation = held_state_relaxed;
#elif defined(SIGS_MUTANT_KILL_RELAXED)
using model_mutation = kill_relaxed;
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
#elif defined(SIGS_MUTANT_WAIT_IGNORES_HAZARDS)
using model_mutation = wait_ignores_hazards;
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

/// The wake count the wake models instantiate.
template <class A>
using model_wake_count = typename model_mutation::template wake_count<A>;

/// The result the current build must produce for scenario `s`.
constexpr rl::test_result_e expected_result(scenario s) noexcept { return model_mutation::expect(s); }

}  // namespace sigs::models
