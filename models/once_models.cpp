// models/once_models.cpp — once-listeners: the firing CAS (armed -> fired) against other
// emissions and against removal (armed -> removed), on the production signal_core.
#include "mutants/once.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// (c) A once-listener under two concurrent emissions fires exactly once (the exactly-once
/// guarantee of docs/guarantees.md), and is then gone: size() is 0 and no snapshot entry is
/// alive.
///
///   before:   o = add(O, once)
///   thread 0: emit(1)
///   thread 1: emit(2)
template <records How>
struct once_fires_once : rl::test_suite<once_fires_once<How>, 2, expected_result(scenario::once_fires_once)> {
  using signal = model_signal<2>;
  signal sig;
  thread_records<signal::domain_t, 2, How> recs{sig.domain};
  rl::atomic<int> fired;

  void before() {
    fired.store(0, rl::mo_relaxed, RL_INFO);
    (void)sig.add(
        [this, c = canary()](const int&) {
          c.check(RL_INFO);
          fired.fetch_add(1, rl::mo_relaxed, RL_INFO);
        },
        true);
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    sig.emit(r, static_cast<int>(index) + 1);
  }

  void after() {
    recs.after();
    RL_ASSERT(fired.load(rl::mo_relaxed, RL_INFO) == 1);
    RL_ASSERT(sig.core->size() == 0);
    scoped_record<signal::domain_t> r(sig.domain);
    RL_ASSERT(sig.count_alive(r) == 0);
  }
};

/// (c') A once-listener raced by an emission and a removal: exactly one of them wins. It
/// fires once and the removal reports not_found, or the removal succeeds and it never
/// fires; size() ends at 0 either way.
///
///   before:   o = add(O, once)
///   thread 0: emit(1)
///   thread 1: remove(o)
template <records How>
struct once_vs_remove : rl::test_suite<once_vs_remove<How>, 2, expected_result(scenario::once_vs_remove)> {
  using signal = model_signal<2>;
  signal sig;
  thread_records<signal::domain_t, 2, How> recs{sig.domain};
  rl::atomic<int> fired;
  listener_id o;
  bool removed = false;  // written by thread 1, read in after()

  void before() {
    fired.store(0, rl::mo_relaxed, RL_INFO);
    o = sig.add(
        [this, c = canary()](const int&) {
          c.check(RL_INFO);
          fired.fetch_add(1, rl::mo_relaxed, RL_INFO);
        },
        true);
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      sig.emit(r, 1);
    } else {
      const std::error_code ec = sig.remove(o);
      RL_ASSERT(!ec || ec == sigs::errc::not_found);
      removed = !ec;
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(fired.load(rl::mo_relaxed, RL_INFO) + (removed ? 1 : 0) == 1);
    RL_ASSERT(sig.core->size() == 0);
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("once_fires_once", sigs::models::once_fires_once<sigs::models::records::in_threads>),
                SIGS_MODEL("once_fires_once_pre", sigs::models::once_fires_once<sigs::models::records::before_threads>),
                SIGS_MODEL("once_vs_remove", sigs::models::once_vs_remove<sigs::models::records::in_threads>),
                SIGS_MODEL("once_vs_remove_pre", sigs::models::once_vs_remove<sigs::models::records::before_threads>))
