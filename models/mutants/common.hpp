// models/mutants/common.hpp — what every family's mutants share: the scenario enum (for a
// mutant's per-scenario expected result), the production hazard domain with the models'
// settings, and `production`, the unmutated protocol every mutant derives from.
//
// A model check that cannot fail proves nothing (docs/models.md, "Mutants"). Each mutant
// weakens one order or skips one step of the *production* headers, without a copy of them,
// in one of these ways:
//   - through the policy (relacy_atomics_t<Mutation>, hooks in models/mutation.hpp): the
//     policy knows the operation, the order and the production function calling it, e.g.
//     "the exchange in protect()" is the hazard publish (HP-H1);
//   - through the Domain parameter of signal_core: a thin subclass of the production
//     signal_domain whose collect(), guard or wait misbehaves;
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
//
// Layout: each family's mutants are in mutants/<family>.hpp, beside its <family>_models.cpp,
// which includes that header (and only that one) before model.hpp; mutants/select.hpp,
// included by model.hpp, picks this build's mutant by the name in -DSIGS_MUTANT=<struct>.
#pragma once

#include "../relacy_atomics.hpp"

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

/// The production signal_domain (the hazard domain with call tracking) with the models'
/// settings: the fence mode chosen by the scenario, and a scan at every retirement. Production batches scans by 32 in asymmetric
/// mode (scan_batch()) because its writer barrier is a syscall; a batch only delays frees,
/// so 1 is the strictest setting, and with 32 a small model would never free anything.
template <class A, std::size_t Slots>
class production_domain : public sigs::detail::signal_domain<A, Slots> {
 public:
  explicit production_domain(bool asymmetric) : sigs::detail::signal_domain<A, Slots>(asymmetric) {}
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

}  // namespace sigs::models
