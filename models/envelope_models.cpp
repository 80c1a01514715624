// models/envelope_models.cpp — the lock-free bookkeeping of one async emission,
// detail::envelope_tally (include/sigs/detail/envelope.hpp), as async_signal uses it: the
// claim counter `next`, the copies' outcome counts, and the reference count whose last
// acq_rel drop (R) hands the envelope to the finaliser.
//
// The pool's push, which publishes the envelope to each copy, is a release/acquire inside
// detail::mpmc_queue (checked in queue_models.cpp); here it is one release store / acquire
// load per copy. The finaliser below does what async_signal::finalize does with the
// envelope: totals(), then destroying the payload.
#include "model.hpp"

namespace sigs::models {
namespace {

using tally_t = sigs::detail::envelope_tally<model_policy>;

/// The outcome of listener index i, whichever copy runs it: 0 ran, 1 was skipped (removed
/// before its turn), 2 was dropped (its context expired).
constexpr std::size_t listeners = 3;

/// (n) An emitter and two pool copies of one envelope, three listeners.
///
///   thread 0 (emitter): write the payload; refs = 1 (its own); for each copy: add_ref(),
///                       push it (release); then drop its own reference
///   thread 1, 2 (copies): take the envelope (acquire); claim indices until none is left,
///                       reading the payload for each and recording its outcome; add their
///                       counts once; drop their reference
///   whoever drops the last reference finalises: totals(3), read the payload and every
///   copy's work, destroy the payload.
///
/// Proves: every listener index is claimed exactly once (claim()'s RMW); the finaliser runs
/// exactly once, whichever thread is last; it is ordered after every copy's counts and its
/// accesses to the payload and to its own state (release_ref()'s acq_rel, (R)) — a read of
/// the payload after its destruction, or a destruction before a copy's read, is a DATA
/// RACE on the payload's rl::var; its totals are exact (claimed 3; 1 delivered, 1 skipped,
/// 1 dropped).
struct envelope_copies : rl::test_suite<envelope_copies, 3, expected_result(scenario::envelope_copies)> {
  tally_t* env = nullptr;
  rl::var<int> payload;
  rl::var<int> work[2];  // each copy's own record of what it ran, read by the finaliser
  rl::atomic<int> pushed[2];
  rl::atomic<int> runs[listeners];
  rl::atomic<int> finalised;

  void before() {
    env = new tally_t;
    payload(RL_INFO) = 0;
    for (auto& w : work) w(RL_INFO) = 0;
    for (auto& p : pushed) p.store(0, rl::mo_relaxed, RL_INFO);
    for (auto& r : runs) r.store(0, rl::mo_relaxed, RL_INFO);
    finalised.store(0, rl::mo_relaxed, RL_INFO);
  }

  void finalize() {
    RL_ASSERT(finalised.fetch_add(1, rl::mo_relaxed, RL_INFO) == 0);  // exactly once
    const auto t = env->totals(listeners);
    RL_ASSERT(t.claimed == listeners);
    RL_ASSERT(t.delivered == 1 && t.skipped == 1 && t.dropped == 1);
    RL_ASSERT(work[0](RL_INFO).load() + work[1](RL_INFO).load() == static_cast<int>(listeners));
    RL_ASSERT(payload(RL_INFO).load() == 42);
    payload(RL_INFO).store(-1);  // env.payload.reset()
  }

  void thread(unsigned index) {
    if (index == 0) {
      payload(RL_INFO).store(42);
      env->refs.store(1, std::memory_order_relaxed);  // as submit(): published by the push
      for (auto& p : pushed) {
        env->add_ref();
        p.store(1, rl::mo_release, RL_INFO);  // the pool's push
      }
      if (env->release_ref()) finalize();
      return;
    }
    const unsigned copy = index - 1;
    while (pushed[copy].load(rl::mo_acquire, RL_INFO) == 0) rl::yield(1, RL_INFO);
    std::uint64_t delivered = 0, dropped = 0, skipped = 0;
    int ran = 0;
    for (;;) {
      const std::size_t i = env->claim();
      if (i >= listeners) break;
      RL_ASSERT(payload(RL_INFO).load() == 42);  // the listener reads the payload
      RL_ASSERT(runs[i].fetch_add(1, rl::mo_relaxed, RL_INFO) == 0);  // claimed once
      ++ran;
      switch (i) {
        case 0: ++delivered; break;
        case 1: ++skipped; break;
        default: ++dropped; break;
      }
    }
    work[copy](RL_INFO).store(ran);
    env->add_counts(delivered, dropped, skipped);
    if (env->release_ref()) finalize();
  }

  void after() {
    RL_ASSERT(finalised.load(rl::mo_relaxed, RL_INFO) == 1);
    RL_ASSERT(env->refs.load(std::memory_order_relaxed) == 0);
    delete env;
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("envelope_copies", sigs::models::envelope_copies))
