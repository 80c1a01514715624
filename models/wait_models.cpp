// models/wait_models.cpp — remove_and_wait: the removal returns only once no other thread
// can still be running the listener, on the production signal_core.
#include "mutants/wait.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// (e) remove_and_wait returns only after the running invocation ends.
///
/// W's body reads `returned` and writes `body`, both rl::var (plain shared variables). The
/// waiter, once remove_and_wait returns, reads `body` and writes `returned`. Any invocation
/// of W not ordered before the return is then a DATA RACE on one of them; one ordered after
/// it (W called after its removal completed) fails the assertion in W.
///
///   direct:   before: w = add(W)                          s0 = [W]
///             thread 0: emit(1)
///             thread 1: remove_and_wait(w); read body; returned = 1
///   nested:   before: add(P), w = add(W); P emits once more from inside itself
///             thread 0: emit(1)       P, then (inner level) P, W, then (outer level) W
///             thread 1: remove_and_wait(w); read body; returned = 1
///
/// In the nested form the record has one slot, so the inner level is past the slot stack:
/// it protects its snapshot with the signal's overflow count (HP-O1) and counts its call of
/// W in W's entry (deep_calls), which is all the wait can see of it; the outer level's call
/// of W is announced in the record's one call word.
/// Where the inner level's call of W is: in a call word of its own, or past the record's
/// slots (the nested form).
enum class inner_call { in_slot, past_slots };

template <inner_call Inner, records How, hazard_mode Mode = hazard_mode::seq_cst>
struct remove_and_wait
    : rl::test_suite<remove_and_wait<Inner, How, Mode>, 2,
                     expected_result(Inner == inner_call::past_slots ? scenario::remove_and_wait_nested
                                     : Mode == hazard_mode::seq_cst  ? scenario::remove_and_wait
                                                                     : scenario::remove_and_wait_asym)> {
  static constexpr bool Nested = Inner == inner_call::past_slots;
  using signal = model_signal<Nested ? 1 : 2, Mode>;
  signal sig;
  thread_records<typename signal::domain_t, 2, How> recs{sig.domain};
  rl::var<int> body;
  rl::var<int> returned;
  listener_id w;
  typename signal::record* emitter = nullptr;  // thread 0's record, for P's inner emission
  int depth = 0;                               // P runs on thread 0 only

  void before() {
    sig.domain.set_spin_rounds(1);
    body(RL_INFO) = 0;
    returned(RL_INFO) = 0;
    if (Nested) {
      (void)sig.add([this](const int&) {  // P
        if (depth == 0) {
          ++depth;
          sig.emit(*emitter, 2);
          --depth;
        }
      });
    }
    w = sig.add(w_listener());
    recs.before();
  }

  auto w_listener() {
    return [this, c = canary()](const int&) {
      c.check(RL_INFO);
      RL_ASSERT(returned(RL_INFO).load() == 0);
      body(RL_INFO).store(body(RL_INFO).load() + 1);
    };
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (index == 0) {
      emitter = &r.get();
      sig.emit(r, 1);
    } else {
      RL_ASSERT(!sig.remove_and_wait(r, w));
      RL_ASSERT(body(RL_INFO).load() <= 2);  // ordered after every invocation of W
      returned(RL_INFO).store(1);
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(sig.core->size() == (Nested ? 1u : 0u));
  }
};

/// (h) Two waiters that each run a listener of the signal, each waiting for a different,
/// idle listener: both waits end at once. A wait per snapshot (the first design) makes
/// each wait for the other's emission, a LIVELOCK in the model (the WAIT_PER_SNAPSHOT mutant).
///
///   before: i0 = add(I), i1 = add(I), add(L)             L on thread t: remove_and_wait(i_t)
///   thread t: emit(t)
template <hazard_mode Mode = hazard_mode::seq_cst>
struct cross_wait
    : rl::test_suite<cross_wait<Mode>, 2,
                     expected_result(Mode == hazard_mode::seq_cst ? scenario::cross_wait : scenario::cross_wait_asym)> {
  using signal = model_signal<2, Mode>;
  signal sig;
  thread_records<typename signal::domain_t, 2, records::before_threads> recs{sig.domain};
  listener_id idle[2];
  typename signal::record* rec[2] = {};
  int removed[2] = {};

  void before() {
    sig.domain.set_spin_rounds(1);
    idle[0] = sig.add([](const int&) {});
    idle[1] = sig.add([](const int&) {});
    (void)sig.add([this](const int& t) { removed[t] = sig.remove_and_wait(*rec[t], idle[t]) ? 0 : 1; });
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    rec[index] = &r.get();
    sig.emit(r, static_cast<int>(index));
  }

  void after() {
    recs.after();
    RL_ASSERT(removed[0] == 1 && removed[1] == 1);
    RL_ASSERT(sig.core->size() == 1u);
  }
};

/// (i) A true cycle: thread 0 runs L0 and waits for L1; thread 1 runs L1 and waits for L0.
/// Neither wait can end; at least one must be refused (would_deadlock) and both threads
/// must finish. Without the cycle check, a LIVELOCK (the NO_CYCLE_CHECK mutant).
struct wait_cycle : rl::test_suite<wait_cycle, 2, expected_result(scenario::wait_cycle)> {
  using signal = model_signal<2>;
  signal sig;
  thread_records<typename signal::domain_t, 2, records::before_threads> recs{sig.domain};
  listener_id l[2];
  typename signal::record* rec[2] = {};
  int refused[2] = {};

  void before() {
    sig.domain.set_spin_rounds(1);
    for (int i = 0; i < 2; ++i) {
      l[i] = sig.add([this, i](const int& t) {
        if (t != i) return;  // thread i runs L_i only
        const std::error_code ec = sig.remove_and_wait(*rec[t], l[1 - t]);
        RL_ASSERT(!ec || ec == sigs::errc::would_deadlock);
        refused[t] = ec ? 1 : 0;
      });
    }
    recs.before();
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    rec[index] = &r.get();
    sig.emit(r, static_cast<int>(index));
  }

  void after() {
    recs.after();
    // Both removals happened; a wait that ended normally saw the other's call end first,
    // which the other's refusal allows.
    (void)refused;
    RL_ASSERT(sig.core->size() <= 1u);  // a listener is skipped once its removal started
  }
};

/// (j) The wait after unrelated writes: W is removed, then an unrelated listener is added
/// (the snapshot the emitter walks is now retired twice over), then remove_and_wait(w)
/// must still wait for the call of W the emitter may be making (it returns not_found).
///
///   before: w = add(W)                                    s0 = [W]
///   thread 0: emit(1)
///   thread 1: remove(w); add(X); remove_and_wait(w) == not_found; read body; returned = 1
struct wait_after_write : rl::test_suite<wait_after_write, 2, expected_result(scenario::wait_after_write)> {
  using signal = model_signal<2>;
  signal sig;
  thread_records<typename signal::domain_t, 2, records::before_threads> recs{sig.domain};
  rl::var<int> body;
  rl::var<int> returned;
  listener_id w;

  void before() {
    sig.domain.set_spin_rounds(1);
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
      sig.emit(r, 1);
    } else {
      (void)sig.remove(w);
      (void)sig.add([](const int&) {});
      RL_ASSERT(sig.remove_and_wait(r, w) == sigs::errc::not_found);
      RL_ASSERT(body(RL_INFO).load() <= 1);  // ordered after W's call, if there was one
      returned(RL_INFO).store(1);
    }
  }

  void after() {
    recs.after();
    RL_ASSERT(sig.core->size() == 1u);
  }
};

}  // namespace
}  // namespace sigs::models

using sigs::models::hazard_mode;
using sigs::models::records;
SIGS_MODEL_MAIN(
    SIGS_MODEL("remove_and_wait",
               sigs::models::remove_and_wait<sigs::models::inner_call::in_slot, records::in_threads>),
    SIGS_MODEL("remove_and_wait_pre",
               sigs::models::remove_and_wait<sigs::models::inner_call::in_slot, records::before_threads>),
    SIGS_MODEL(
        "remove_and_wait_asym",
        sigs::models::remove_and_wait<sigs::models::inner_call::in_slot, records::in_threads, hazard_mode::asymmetric>),
    SIGS_MODEL("remove_and_wait_asym_pre",
               sigs::models::remove_and_wait<sigs::models::inner_call::in_slot, records::before_threads,
                                             hazard_mode::asymmetric>),
    SIGS_MODEL("remove_and_wait_nested",
               sigs::models::remove_and_wait<sigs::models::inner_call::past_slots, records::in_threads>),
    SIGS_MODEL("remove_and_wait_nested_pre",
               sigs::models::remove_and_wait<sigs::models::inner_call::past_slots, records::before_threads>),
    SIGS_MODEL("cross_wait", sigs::models::cross_wait<>),
    SIGS_MODEL("cross_wait_asym", sigs::models::cross_wait<hazard_mode::asymmetric>),
    SIGS_MODEL("wait_cycle", sigs::models::wait_cycle), SIGS_MODEL("wait_after_write", sigs::models::wait_after_write))
