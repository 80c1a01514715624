// models/nesting_models.cpp — nested emission: a listener that emits again holds one
// hazard slot per level (the record's slot stack), and past the stack falls back to the
// domain's overflow-reader count (HP-O1/HP-O2, HP-S2), on the production signal_core.
#include "mutants/nesting.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// A listener P that emits the same signal once more from inside itself, racing a writer
/// that adds a listener X and removes it again, so X lives only in the snapshots the
/// emissions may be walking. With Slots = 2 both levels hold hazard slots (b); with
/// Slots = 1 the inner level is an overflow reader (f).
///
///   before:   add(P)                               s0 = [P]
///   thread 0: emit(1) -> P -> emit(2)              outer and inner level
///   thread 1: x = add(X); remove(x)                s1 = [P, X], s2 = [P]
///
/// Proves: neither level touches X after it is freed or unordered with its destruction
/// (canary), the slot stack keeps both levels' snapshots from the scan (b), the overflow
/// count does for the inner one (f), and nothing leaks.
///
/// The small form (context-bound search of (b)) adds X in before() and thread 1 only
/// removes it: s0 = [P, X], s1 = [P]. (f) needs both writes: the inner level must read a
/// snapshot that the outer level does not hold and that a later write retires.
/// Where X is added: by thread 1, racing the emission (both writes race), or in before()
/// (the small form: only the removal races).
enum class x_added { by_writer, before };

template <std::size_t Slots, records How, scenario Which, x_added Add = x_added::by_writer>
struct nested_emission : rl::test_suite<nested_emission<Slots, How, Which, Add>, 2, expected_result(Which)> {
  static constexpr bool Small = Add == x_added::before;
  using signal = model_signal<Slots>;
  signal sig;
  thread_records<typename signal::domain_t, 2, How> recs{sig.domain};
  rl::atomic<int> x_calls;
  listener_id x;
  typename signal::record* emitter = nullptr;  // thread 0's record, for P's inner emission
  int depth = 0;                               // P runs on thread 0 only

  void before() {
    x_calls.store(0, rl::mo_relaxed, RL_INFO);
    (void)sig.add([this, c = canary()](const int&) {
      c.check(RL_INFO);
      if (depth == 0) {
        ++depth;
        sig.emit(*emitter, 2);
        --depth;
      }
      c.check(RL_INFO);
    });
    if (Small) x = sig.add(x_listener());
    recs.before();
  }

  auto x_listener() {
    return [this, c = canary()](const int&) {
      c.check(RL_INFO);
      x_calls.fetch_add(1, rl::mo_relaxed, RL_INFO);
    };
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      emitter = &r.get();
      sig.emit(r, 1);
    } else {
      if (!Small) x = sig.add(x_listener());
      RL_ASSERT(!sig.remove(x));
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(x_calls.load(rl::mo_relaxed, RL_INFO) <= 2);
    RL_ASSERT(sig.core->size() == 1);
  }
};

template <records How>
using nested_emit = nested_emission<2, How, scenario::nested_emit>;
using nested_emit_small = nested_emission<2, records::before_threads, scenario::nested_emit, x_added::before>;
template <records How>
using overflow_fallback = nested_emission<1, How, scenario::overflow_fallback>;

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("nested_emit", sigs::models::nested_emit<sigs::models::records::in_threads>),
                SIGS_MODEL("nested_emit_pre", sigs::models::nested_emit_small),
                SIGS_MODEL("overflow_fallback", sigs::models::overflow_fallback<sigs::models::records::in_threads>),
                SIGS_MODEL("overflow_fallback_pre",
                           sigs::models::overflow_fallback<sigs::models::records::before_threads>))
