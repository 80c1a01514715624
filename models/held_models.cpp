// models/held_models.cpp — held snapshots, the core protocol async delivery relies on:
// hold() pins a snapshot with a count (CORE-K3/K4) so the emitter can drop its hazard; a
// worker runs its entries later, announcing each call in its record (CALL-1) and
// re-reading the state (CALL-2) against the removal's seq_cst CAS (CORE-K1). On the
// production signal_core and signal_domain, and async_signal's own delivery loop
// (async_delivery::run_listeners, what a solo task runs) with its unpin (release).
//
// The envelope shared by several task copies, and its finaliser, are envelope_models.cpp.
#include "mutants/held.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// (g) remove_and_wait against a held snapshot that a worker runs later.
///
///   before:   w = add(W)                                   s0 = [W]
///   thread 0: s = hold(); hand s to thread 1 (release);
///             remove_and_wait(w); read body; returned = 1  s1 = []
///   thread 1: take s (acquire); run its entries (async_delivery::run_listeners: CALL-1,
///             CALL-2); release(s)
///
/// Proves: the worker never calls W once remove_and_wait has returned, even when it
/// announces its call after the waiter looked (then CALL-2 reads `removed`); every call
/// it does make is ordered before the return (rl::var body/returned, as in (e)); the held
/// snapshot outlives its hold (release() touches its count: ACCESS TO FREED MEMORY
/// otherwise), a free by the write after the wait is ordered after the worker's last read
/// of the snapshot (its size is an rl::var: DATA RACE otherwise, the UNPIN_RELAXED mutant),
/// and it is freed once (leak check).
///
/// With hazard_mode::asymmetric the worker's CALL-1 is a plain store and the waiter runs
/// the writer barrier (WAIT-3) before it reads the call words.
template <records How, hazard_mode Mode = hazard_mode::seq_cst>
struct held_snapshot : rl::test_suite<held_snapshot<How, Mode>, 2,
                                      expected_result(Mode == hazard_mode::seq_cst ? scenario::held_snapshot
                                                                                   : scenario::held_snapshot_asym)> {
  using signal = model_signal<2, Mode>;
  using core_t = typename signal::core_t;
  using snapshot = typename core_t::snapshot;
  using domain_t = typename signal::domain_t;
  signal sig;
  thread_records<domain_t, 2, How> recs{sig.domain};
  rl::atomic<snapshot*> handoff;
  rl::var<int> body;
  rl::var<int> returned;
  listener_id w;

  void before() {
    handoff.store(nullptr, rl::mo_relaxed, RL_INFO);
    body(RL_INFO) = 0;
    returned(RL_INFO) = 0;
    w = sig.add([this, c = canary()](const int&) {
      c.check(RL_INFO);
      RL_ASSERT(returned(RL_INFO).load() == 0);
      body(RL_INFO).store(body(RL_INFO).load() + 1);
    });
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      snapshot* s = sig.core->hold(r);
      handoff.store(s, rl::mo_release, RL_INFO);
      RL_ASSERT(!sig.remove_and_wait(r, w));
      RL_ASSERT(body(RL_INFO).load() <= 1);  // ordered after every invocation of W
      returned(RL_INFO).store(1);
      // A later write scans, and may free s as soon as the worker unpinned it (CORE-K4
      // reads its CORE-K3): the worker's reads of s's header must happen-before that.
      sig.reset();
    } else {
      snapshot* s;
      while (!(s = handoff.load(rl::mo_acquire, RL_INFO))) rl::yield(1, RL_INFO);
      // A solo task's work (async_signal::run_solo): every index in order, then the unpin.
      std::size_t next = 0;
      const auto o = signal::delivery::run_listeners(
          *sig.core, r, s, sigs::detail::no_context, 1, nullptr, 0, [&next] { return next++; },
          [](std::error_code) { RL_ASSERT(false); });
      RL_ASSERT(o.delivered + o.skipped == 1 && o.dropped == 0);  // W ran, or was removed first
      core_t::release(s);
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(sig.core->size() == 0);
  }
};

}  // namespace
}  // namespace sigs::models

using sigs::models::hazard_mode;
using sigs::models::records;
SIGS_MODEL_MAIN(SIGS_MODEL("held_snapshot", sigs::models::held_snapshot<records::in_threads>),
                SIGS_MODEL("held_snapshot_pre", sigs::models::held_snapshot<records::before_threads>),
                SIGS_MODEL("held_snapshot_asym",
                           sigs::models::held_snapshot<records::in_threads, hazard_mode::asymmetric>),
                SIGS_MODEL("held_snapshot_asym_pre",
                           sigs::models::held_snapshot<records::before_threads, hazard_mode::asymmetric>))
