// models/wait_models.cpp — remove_and_wait: the removal returns only once no other thread
// can still be running the listener, on the production signal_core.
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
///   nested:   before: add(P), P emits once more from inside itself
///             thread 0: emit(1)                           outer level, then inner level
///             thread 1: w = add(W); remove_and_wait(w)    s1 = [P, W], s2 = [P]
///
/// In the nested form the record has one slot, so the inner level is an overflow reader
/// (O1); when the outer level holds s0 = [P] and the inner one s1, only the overflow count
/// tells the wait that W may be running (collect() returns false).
template <bool Nested, records How, hazard_mode Mode = hazard_mode::seq_cst>
struct remove_and_wait
    : rl::test_suite<remove_and_wait<Nested, How, Mode>, 2,
                     expected_result(Mode == hazard_mode::seq_cst ? scenario::remove_and_wait
                                                                  : scenario::remove_and_wait_asym)> {
  using signal = model_signal<Nested ? 1 : 2, Mode>;
  signal sig;
  thread_records<typename signal::domain_t, 2, How> recs{sig.domain};
  rl::var<int> body;
  rl::var<int> returned;
  listener_id w;
  typename signal::record* emitter = nullptr;  // thread 0's record, for P's inner emission
  int depth = 0;                               // P runs on thread 0 only

  void before() {
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
    if (!Nested) w = sig.add(w_listener());
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
      if (Nested) w = sig.add(w_listener());
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

}  // namespace
}  // namespace sigs::models

using sigs::models::records;
SIGS_MODEL_MAIN(SIGS_MODEL("remove_and_wait", sigs::models::remove_and_wait<false, records::in_threads>),
                SIGS_MODEL("remove_and_wait_pre", sigs::models::remove_and_wait<false, records::before_threads>),
                SIGS_MODEL("remove_and_wait_asym",
                           sigs::models::remove_and_wait<false, records::in_threads, sigs::models::hazard_mode::asymmetric>),
                SIGS_MODEL("remove_and_wait_asym_pre", sigs::models::remove_and_wait<false, records::before_threads,
                                                                                     sigs::models::hazard_mode::asymmetric>),
                SIGS_MODEL("remove_and_wait_nested", sigs::models::remove_and_wait<true, records::in_threads>),
                SIGS_MODEL("remove_and_wait_nested_pre",
                           sigs::models::remove_and_wait<true, records::before_threads>))
