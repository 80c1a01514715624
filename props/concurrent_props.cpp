// Concurrent properties of sigs::sync_signal: random programs on 2-4 threads sharing one
// signal, checked by testing/concurrent_run.hpp for the invariants that hold under
// every interleaving (no call after a happened-before removal, remove_and_wait really
// waits, at most one call per listener per emission and a consistent order, once-listeners
// fire exactly once, predictable results, final size/keys/stats, no leaked listener).
// Run them under the tsan preset too: a data race there fails the test.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <testing/concurrent_program.hpp>
#include <testing/concurrent_run.hpp>

namespace {

using namespace sigs_test;
using namespace sigs_test::concurrent;

/// Any step a thread may take; adds and emits weigh most.
rc::Gen<step> any_step() {
  return rc::gen::exec([] {
    step s;
    s.kind = *rc::gen::weightedElement<step_kind>({{6, step_kind::add},
                                                   {1, step_kind::readd},
                                                   {2, step_kind::remove_id},
                                                   {2, step_kind::remove_key},
                                                   {2, step_kind::remove_and_wait_id},
                                                   {2, step_kind::remove_and_wait_key},
                                                   {4, step_kind::emit},
                                                   {3, step_kind::try_emit},
                                                   {1, step_kind::try_emit_cancel},
                                                   {1, step_kind::has_key},
                                                   {1, step_kind::metadata},
                                                   {1, step_kind::keys},
                                                   {1, step_kind::size}});
    s.form = *rc::gen::element(add_form::listener, add_form::listener, add_form::listener_with_err, add_form::once,
                               add_form::once_with_key, add_form::once_with_err, add_form::once_with_err_and_key);
    s.keyed = *rc::gen::arbitrary<bool>();
    s.result = *rc::gen::weightedElement<outcome>({{6, outcome::ok}, {1, outcome::error}, {1, outcome::throws}});
    s.slow = *rc::gen::inRange(0, 4) == 0;
    s.slot = *rc::gen::inRange<std::uint8_t>(0, 8);
    s.cancel_after = *rc::gen::inRange<std::uint8_t>(0, 4);
    return s;
  });
}

rc::Gen<std::vector<step>> any_steps(int max_len) {
  return rc::gen::mapcat(rc::gen::inRange(0, max_len + 1), [](int n) {
    return rc::gen::container<std::vector<step>>(static_cast<std::size_t>(n), any_step());
  });
}

rc::Gen<program> any_program() {
  return rc::gen::exec([] {
    program p;
    p.setup = *any_steps(4);
    const int threads = *rc::gen::inRange(2, 5);
    for (int t = 0; t < threads; ++t) p.threads.push_back(*any_steps(16));
    return p;
  });
}

/// Once-listeners registered up front, then every thread emits: each fires exactly once.
rc::Gen<program> once_storm() {
  return rc::gen::exec([] {
    program p;
    const int onces = *rc::gen::inRange(1, 17);
    for (int i = 0; i < onces; ++i) {
      step s;
      s.kind = step_kind::add;
      s.form = *rc::gen::element(add_form::once, add_form::once_with_key, add_form::once_with_err,
                                 add_form::once_with_err_and_key);
      s.keyed = true;
      s.result = *rc::gen::element(outcome::ok, outcome::ok, outcome::error, outcome::throws);
      s.slow = *rc::gen::arbitrary<bool>();
      p.setup.push_back(s);
    }
    const int threads = *rc::gen::inRange(2, 5);
    for (int t = 0; t < threads; ++t) {
      const auto n = *rc::gen::inRange(1, 6);
      std::vector<step> emits;
      for (int i = 0; i < n; ++i) {
        step s;
        s.kind = *rc::gen::element(step_kind::emit, step_kind::try_emit, step_kind::try_emit_cancel);
        s.cancel_after = *rc::gen::inRange<std::uint8_t>(0, 3);
        emits.push_back(s);
      }
      p.threads.push_back(emits);
    }
    return p;
  });
}

/// Runs `p` a few times (each run is a new interleaving) and fails on the first violation.
void check(const program& p) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const verdict v = run(p);
    std::string all;
    for (const auto& x : v.violations) all += "\n  " + x;
    if (!v.ok()) RC_FAIL("invariants violated (run " + std::to_string(attempt + 1) + "):" + all);
  }
}

RC_GTEST_PROP(ConcurrentSignal, RandomPrograms, ()) { check(*any_program()); }

RC_GTEST_PROP(ConcurrentSignal, OnceListenersFireExactlyOnce, ()) { check(*once_storm()); }

}  // namespace
