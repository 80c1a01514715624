// models/snapshot_models.cpp — the copy-on-write snapshot: publish (CORE-P1), hazard
// protection (HP-H1..H3), retire/scan (HP-R5, HP-S1/S2) and logical removal, on the
// production signal_core.
#include "mutants/snapshot.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// (a) Emission racing add, remove and reset.
///
/// Proves, for the explored schedules: an emitter never touches a snapshot's listener after
/// it is freed (ACCESS TO FREED MEMORY), every listener it calls was fully built before (its
/// canary is ordered after construction: CORE-P1/HP-H2), no listener is destroyed while a
/// call may still run (canary store vs load: HP-H3/HP-S1/HP-R5), every snapshot and entry is
/// freed exactly once
/// (DOUBLE FREE, MEMORY LEAK), and size() agrees with the snapshot's live listeners.
///
///   before:   a = add(A), b = add(B)            s0 = [A, B]
///   thread 0: emit(1)
///   thread 1: remove(a); add(C)                 s1 = [B], s2 = [B, C]
///   thread 2: emit(2); reset()                  s3 = []   (may come before thread 1's)
///
/// The context-bound search enumerates every load value, spurious CAS failure and
/// memory-reuse choice, so it runs the pieces: thread 0 against one write each
/// (emit_vs_remove, emit_vs_add, emit_vs_reset), records taken before the threads.
///
/// With hazard_mode::asymmetric the domain uses the membarrier read path (HP-H1a, HP-H2a,
/// HP-W1).
enum class writes { all, remove, add, reset };

template <records How, writes W, hazard_mode Mode = hazard_mode::seq_cst>
struct emit_vs_writers
    : rl::test_suite<emit_vs_writers<How, W, Mode>, W == writes::all ? 3 : 2,
                     expected_result(Mode == hazard_mode::seq_cst ? scenario::emit_vs_writers
                                                                  : scenario::emit_vs_writers_asym)> {
  static constexpr unsigned threads = W == writes::all ? 3 : 2;
  using signal = model_signal<2, Mode>;
  signal sig;
  thread_records<typename signal::domain_t, threads, How> recs{sig.domain};
  rl::atomic<int> calls[3];
  listener_id a;

  template <int I>
  auto listener() {
    return [this, c = canary()](const int& v) {
      c.check(RL_INFO);
      RL_ASSERT(v == 1 || v == 2);
      calls[I].fetch_add(1, rl::mo_relaxed, RL_INFO);
    };
  }

  void before() {
    for (auto& c : calls) c.store(0, rl::mo_relaxed, RL_INFO);
    a = sig.add(listener<0>());
    (void)sig.add(listener<1>());
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      sig.emit(r, 1);
    } else if (index == 1) {
      if (W == writes::all || W == writes::remove) {
        const std::error_code ec = sig.remove(a);  // not_found if the reset came first
        RL_ASSERT(!ec || ec == sigs::errc::not_found);
      }
      if (W == writes::all || W == writes::add) (void)sig.add(listener<2>());
      if (W == writes::reset) sig.reset();
    } else {
      sig.emit(r, 2);
      sig.reset();
    }
  }

  void after() {
    recs.after();
    // Each of the two emissions calls each listener at most once, and thread 2's emission,
    // which precedes its own reset (the only removal of B), calls B.
    for (auto& c : calls) RL_ASSERT(c.load(rl::mo_relaxed, RL_INFO) <= 2);
    if (W == writes::all) RL_ASSERT(calls[1].load(rl::mo_relaxed, RL_INFO) >= 1);
    scoped_record<typename signal::domain_t> r(sig.domain);
    RL_ASSERT(sig.count_alive(r) == sig.core->size());
  }
};

/// (d) A removal that happens-before a listener call prevents that call.
///
/// Proves that removal is immediate, in the strong form signal_core.hpp promises ("a state
/// change is the logical removal: it is immediate for every emission, including those
/// already walking an older snapshot"): thread 0 removes V, then sets a flag (release).
/// Each emission of thread 1 calls G first, which reads the flag (acquire); once G has seen
/// it, V must not be called, neither later in the same emission (whose older snapshot still
/// lists V: V's state must stop the call) nor by a later emission (new snapshot).
///
///   before:   g = add(G), v = add(V)
///   thread 0: remove(v); removed.store(1, release)
///   thread 1: emit(1); emit(2)
template <records How>
struct removal_then_emit : rl::test_suite<removal_then_emit<How>, 2, expected_result(scenario::removal_then_emit)> {
  using signal = model_signal<2>;
  signal sig;
  thread_records<signal::domain_t, 2, How> recs{sig.domain};
  rl::atomic<int> removed;
  rl::atomic<int> v_calls;
  listener_id v;
  bool seen = false;  // G and V run on thread 1 only

  void before() {
    removed.store(0, rl::mo_relaxed, RL_INFO);
    v_calls.store(0, rl::mo_relaxed, RL_INFO);
    (void)sig.add([this, c = canary()](const int&) {
      c.check(RL_INFO);
      seen = removed.load(rl::mo_acquire, RL_INFO) == 1;
    });
    v = sig.add([this, c = canary()](const int&) {
      c.check(RL_INFO);
      RL_ASSERT(!seen);  // the removal happened-before this call
      v_calls.fetch_add(1, rl::mo_relaxed, RL_INFO);
    });
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      RL_ASSERT(!sig.remove(v));
      removed.store(1, rl::mo_release, RL_INFO);
    } else {
      sig.emit(r, 1);
      sig.emit(r, 2);
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(v_calls.load(rl::mo_relaxed, RL_INFO) <= 2);
    RL_ASSERT(sig.core->size() == 1);
  }
};

using emit_vs_writers_t = emit_vs_writers<records::in_threads, writes::all>;
using emit_vs_remove = emit_vs_writers<records::before_threads, writes::remove>;
using emit_vs_add = emit_vs_writers<records::before_threads, writes::add>;
using emit_vs_reset = emit_vs_writers<records::before_threads, writes::reset>;
using emit_vs_writers_asym = emit_vs_writers<records::in_threads, writes::all, hazard_mode::asymmetric>;
using emit_vs_remove_asym = emit_vs_writers<records::before_threads, writes::remove, hazard_mode::asymmetric>;
using emit_vs_add_asym = emit_vs_writers<records::before_threads, writes::add, hazard_mode::asymmetric>;
using removal_then_emit_t = removal_then_emit<records::in_threads>;
using removal_then_emit_pre = removal_then_emit<records::before_threads>;

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("emit_vs_writers", sigs::models::emit_vs_writers_t),
                SIGS_MODEL("emit_vs_remove", sigs::models::emit_vs_remove),
                SIGS_MODEL("emit_vs_add", sigs::models::emit_vs_add),
                SIGS_MODEL("emit_vs_reset", sigs::models::emit_vs_reset),
                SIGS_MODEL("emit_vs_writers_asym", sigs::models::emit_vs_writers_asym),
                SIGS_MODEL("emit_vs_remove_asym", sigs::models::emit_vs_remove_asym),
                SIGS_MODEL("emit_vs_add_asym", sigs::models::emit_vs_add_asym),
                SIGS_MODEL("removal_then_emit", sigs::models::removal_then_emit_t),
                SIGS_MODEL("removal_then_emit_pre", sigs::models::removal_then_emit_pre))
