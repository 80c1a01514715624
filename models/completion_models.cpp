// models/completion_models.cpp — the two blocking hand-overs at the end of an async
// emission, on the production code over the Relacy policy (rl::mutex,
// rl::condition_variable, which reports a thread blocked for ever as DEADLOCK):
//   - completion.hpp's basic_completion_state: finish() by the finaliser against wait()
//     (completion::wait, emit_and_wait);
//   - in_flight.hpp's in_flight_count: unreserve() by finalisers (a CAS fast path while
//     another emission is in flight, a locked increment that may end the count) against
//     wait_idle() (drain(), ~async_signal), and against wait_reserve() (the block policy's
//     sleep for room).
#include "mutants/completion.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

using completion_t = model_completion_state<model_policy>;
using in_flight_t = model_in_flight_count<model_policy>;

/// (w) finish() against wait().
///
///   thread 0 (finaliser): write the emission's results (rl::var); finish(2, 1, 0, reason)
///   thread 1 (waiter):    wait(); read the results and the totals
///
/// Proves: no lost wake-up (the waiter either sees `done` or is waiting when the notify
/// comes: DEADLOCK otherwise); everything the finaliser did before finish() happens-before
/// wait() returns (the mutex; DATA RACE on the results otherwise); the totals read after
/// wait() are the ones finish() set. The state is not destroyed by the waiter: in production
/// it is shared through std::shared_ptr, and the finaliser's reference keeps it alive until
/// finish() has returned.
struct completion_wait : rl::test_suite<completion_wait, 2, expected_result(scenario::completion_wait)> {
  completion_t* state = nullptr;
  rl::var<int> results;

  void before() {
    state = new completion_t;
    results(RL_INFO) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      results(RL_INFO).store(1);
      state->finish(2, 1, 0, sigs::errc::pool_stopped);
    } else {
      state->wait();
      RL_ASSERT(results(RL_INFO).load() == 1);
      RL_ASSERT(state->is_done());
      RL_ASSERT(state->delivered == 2 && state->dropped == 1 && state->skipped == 0);
      RL_ASSERT(state->drop_reason == sigs::errc::pool_stopped);
    }
  }

  void after() { delete state; }
};

/// What a signal owns for drain(): the count, the idle mutex and condition variable, and
/// state its finalisers touch (rl::var), all destroyed by the drainer.
struct drain_signal {
  in_flight_t in_flight;
  typename model_policy::mutex idle_mutex;
  typename model_policy::condition_variable idle_cv;
  rl::var<int> work[2];

  /// A new signal with `in_flight` emissions already counted in, work[] zero.
  static drain_signal* make(int in_flight) {
    auto* s = new drain_signal;
    for (auto& w : s->work) w(RL_INFO) = 0;
    for (int i = 0; i < in_flight; ++i) s->in_flight.force_reserve();
    return s;
  }
};

/// (d) Two finalisers against drain() and the signal's destruction.
///
///   before:             two emissions in flight (force_reserve twice)
///   thread 0, 1 (finalisers): write work[i] (the finaliser's last use of the signal);
///                       unreserve()
///   thread 2 (drainer): wait_idle(); read work[0], work[1]; destroy the signal
///
/// Proves: wait_idle() returns only once both emissions are counted out, after every
/// finaliser's accesses (FLIGHT-I1 release / FLIGHT-I2 acquire, through the fast path's
/// release sequence, and the idle mutex: DATA RACE on work[] otherwise); the finaliser that
/// takes the count to zero touches nothing after the drainer can return — it decrements and
/// notifies under the idle mutex — so destroying the signal right after is safe (a notify
/// or unlock on the destroyed mutex / condition variable is reported otherwise); and no
/// lost wake-up (DEADLOCK otherwise).
struct drain_last : rl::test_suite<drain_last, 3, expected_result(scenario::drain_last)> {
  drain_signal* sig = nullptr;

  void before() { sig = drain_signal::make(2); }

  void thread(unsigned index) {
    if (index < 2) {
      drain_signal* s = sig;  // as finalize(): the envelope's owner, read before the last step
      s->work[index](RL_INFO).store(1);
      s->in_flight.unreserve(s->idle_mutex, s->idle_cv);
    } else {
      sig->in_flight.wait_idle(sig->idle_mutex, sig->idle_cv);
      RL_ASSERT(sig->work[0](RL_INFO).load() == 1 && sig->work[1](RL_INFO).load() == 1);
      RL_ASSERT(sig->in_flight.count() == 0);
      delete sig;  // ~async_signal after drain()
    }
  }
};

/// (r) A reservation at queue_capacity against the finaliser that makes room.
///
///   before:             capacity 1, one emission in flight (reserve(1))
///   thread 0 (finaliser): write work[0]; unreserve()
///   thread 1 (emitter): if reserve(1) succeeds: read work[0]; write work[1]; unreserve()
///   after:              the count is 0
///
/// Proves: the capacity is never exceeded: a reservation succeeds only once it reads the
/// finish of the emission in flight, and then that emission's work happens-before it
/// (FLIGHT-I3 acquire, pairs with FLIGHT-I1: DATA RACE on work[0] otherwise); both
/// count-outs land whichever way the reservation went.
struct reserve_at_capacity : rl::test_suite<reserve_at_capacity, 2, expected_result(scenario::reserve_at_capacity)> {
  drain_signal* sig = nullptr;

  void before() {
    sig = drain_signal::make(0);
    RL_ASSERT(sig->in_flight.reserve(1));
    RL_ASSERT(!sig->in_flight.reserve(1));
  }

  void thread(unsigned index) {
    if (index == 0) {
      sig->work[0](RL_INFO).store(1);
      sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
    } else if (sig->in_flight.reserve(1)) {
      RL_ASSERT(sig->work[0](RL_INFO).load() == 1);
      sig->work[1](RL_INFO).store(1);
      sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
    }
  }

  void after() {
    RL_ASSERT(sig->in_flight.count() == 0);
    delete sig;
  }
};

/// (v) drain() while another emission starts: the started count moves under the
/// finalisers' fast-path decision.
///
///   before:             one emission in flight
///   thread 0 (finaliser): write work[0]; unreserve()
///   thread 1 (emitter, caller_runs): reserve(0); write work[1]; unreserve()
///   thread 2 (drainer): wait_idle(); read work[0]
///   after:              the count is 0
///
/// Proves: whether the emitter's start lands before or after the drainer looks, the drainer
/// returns only after the emission that was in flight when it began (DATA RACE on work[0]
/// otherwise), and never sleeps through the last count-out: a finaliser that takes the
/// fast path because the new emission is in flight leaves the notify to that emission's
/// own finish (DEADLOCK otherwise).
struct drain_vs_emit : rl::test_suite<drain_vs_emit, 3, expected_result(scenario::drain_vs_emit)> {
  drain_signal* sig = nullptr;

  void before() { sig = drain_signal::make(1); }

  void thread(unsigned index) {
    if (index == 0) {
      sig->work[0](RL_INFO).store(1);
      sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
    } else if (index == 1) {
      RL_ASSERT(sig->in_flight.reserve(0));
      sig->work[1](RL_INFO).store(1);
      sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
    } else {
      sig->in_flight.wait_idle(sig->idle_mutex, sig->idle_cv);
      RL_ASSERT(sig->work[0](RL_INFO).load() == 1);
    }
  }

  void after() {
    RL_ASSERT(sig->in_flight.count() == 0);
    delete sig;
  }
};

/// (y) Two emitters asleep for room (the block policy at queue_capacity) and the finish
/// that makes it.
///
///   before:             capacity 2, two emissions in flight (A, B)
///   thread 0 (finaliser of A): unreserve() — B is still in flight, so the lock-free fast
///                       path is open unless someone waits for room
///   thread 1, 2 (emitters): wait_reserve(2), sleeping on the idle condition variable;
///                       with room: write emitted[i]; unreserve() (their own emission ends)
///   after:              both emitted; B counted out; the count is 0
///
/// Proves: no emitter sleeps for ever: a finish racing a waiter's announcement (the
/// room_wanted bit, set once for both waiters and cleared by the last to leave) either sees
/// it and notifies under the idle mutex, or lands before it and is seen by the waiter's
/// own check (DEADLOCK otherwise: the ROOM_CAS_SPLIT mutant); the second waiter gets the
/// room the first one's emission gives back. That a reservation is ordered after the
/// finish that made room is (r), reserve_at_capacity.
struct reserve_wait : rl::test_suite<reserve_wait, 3, expected_result(scenario::reserve_wait)> {
  drain_signal* sig = nullptr;
  rl::var<int> emitted[2];

  void before() {
    sig = drain_signal::make(0);
    RL_ASSERT(sig->in_flight.reserve(2) && sig->in_flight.reserve(2));
    for (auto& e : emitted) e(RL_INFO) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
      return;
    }
    const bool got = sig->in_flight.wait_reserve(2, sig->idle_mutex, [&](auto& lock, auto ready) {
      sig->idle_cv.wait(lock, ready);  // as async_signal::wait_reserve without a context
    });
    RL_ASSERT(got);
    emitted[index - 1](RL_INFO).store(1);
    sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);
  }

  void after() {
    RL_ASSERT(emitted[0](RL_INFO).load() == 1 && emitted[1](RL_INFO).load() == 1);
    RL_ASSERT(sig->in_flight.count() == 1);
    sig->in_flight.unreserve(sig->idle_mutex, sig->idle_cv);  // B ends
    RL_ASSERT(sig->in_flight.count() == 0);
    delete sig;
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("completion_wait", sigs::models::completion_wait),
                SIGS_MODEL("drain_last", sigs::models::drain_last),
                SIGS_MODEL("reserve_at_capacity", sigs::models::reserve_at_capacity),
                SIGS_MODEL("drain_vs_emit", sigs::models::drain_vs_emit),
                SIGS_MODEL("reserve_wait", sigs::models::reserve_wait))
