// Properties of sigs::async_signal: random programs on a pool of 1-2 workers with a tiny
// queue, run on real threads and checked by testing/async_run.hpp for what holds under
// every interleaving (see the list at the top of that header). Run them under the
// tsan preset too: a data race there fails the test.
//
//   Accounting          1-3 emitter threads (emit / try_emit / emit_tracked / emit_and_wait,
//                       contexts that get cancelled or expire, drain, sometimes a pool
//                       shutdown(drain | discard) midway), optionally a writer thread
//                       (add, once-add, remove, remove_and_wait, reset), or one thread doing
//                       both; every overflow policy and signal queue_capacity 0-4; listeners
//                       that succeed, return errors or throw. delivered + dropped + skipped
//                       against the completion handles (or emitted x listeners when the set
//                       is stable), delivered against invocations, failures, rejected, ...
//   OnceExactlyOnce     once-listeners across many queued emissions on 2 workers, some
//                       removed concurrently: each fires exactly once, or never if its
//                       removal succeeded
//   RemovalHappensBefore no call in an emission accepted after remove_listener returned;
//                       remove_listener_and_wait returns only when no invocation is running
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <testing/async_program.hpp>
#include <testing/async_run.hpp>

namespace {

using namespace sigs_test;
using namespace sigs_test::async;

// ---- generators ---------------------------------------------------------------------

/// A value in [lo, hi), uniform whatever the current size (gen::inRange scales with it,
/// which at small sizes would always pick lo: every program single-threaded). Shrinks
/// towards lo, so a flag is `pick(0, n) == n - 1` (shrinks to false).
int pick(int lo, int hi) { return *rc::gen::resize(100, rc::gen::inRange(lo, hi)); }

rc::Gen<config> any_config(unsigned min_threads = 1) {
  return rc::gen::exec([min_threads] {
    config c;
    c.pool_threads = static_cast<unsigned>(pick(static_cast<int>(min_threads), 3));
    c.pool_queue = static_cast<std::size_t>(pick(2, 5));  // rounded up: 2 or 4 cells
    c.policy = *rc::gen::element(sigs::overflow_policy::block, sigs::overflow_policy::reject,
                                 sigs::overflow_policy::caller_runs);
    c.capacity = *rc::gen::weightedElement<std::size_t>({{3, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}});
    c.metrics = *rc::gen::arbitrary<bool>();
    c.handler = *rc::gen::weightedElement<bool>({{4, true}, {1, false}});
    return c;
  });
}

/// A listener; once-forms only if `once` (and only those if `only_once`).
rc::Gen<listener_plan> any_listener(bool once, bool only_once = false) {
  return rc::gen::exec([once, only_once] {
    listener_plan l;
    if (only_once) {
      l.form = *rc::gen::element(add_form::once, add_form::once_with_key, add_form::once_with_err,
                                 add_form::once_with_err_and_key);
    } else if (once) {
      l.form = *rc::gen::weightedElement<add_form>({{4, add_form::listener},
                                                    {2, add_form::listener_with_err},
                                                    {1, add_form::once},
                                                    {1, add_form::once_with_key},
                                                    {1, add_form::once_with_err},
                                                    {1, add_form::once_with_err_and_key}});
    } else {
      l.form = *rc::gen::weightedElement<add_form>({{2, add_form::listener}, {1, add_form::listener_with_err}});
    }
    l.keyed = *rc::gen::arbitrary<bool>();
    l.result = *rc::gen::weightedElement<outcome>({{5, outcome::ok}, {2, outcome::error}, {2, outcome::throws}});
    l.slow = pick(0, 4) == 3;
    l.probe = pick(0, 6) == 5;
    l.handler_throws = pick(0, 4) == 3;
    return normalised(l);
  });
}

rc::Gen<ctx_kind> any_ctx() {
  return rc::gen::weightedElement<ctx_kind>({{6, ctx_kind::none},
                                             {2, ctx_kind::token},
                                             {1, ctx_kind::expired},
                                             {1, ctx_kind::soon},
                                             {1, ctx_kind::token_soon}});
}

/// An emitter's step: mostly emissions, sometimes cancel / drain, rarely a shutdown.
rc::Gen<step> any_emitter_step(bool shutdowns) {
  return rc::gen::exec([shutdowns] {
    step s;
    const int w = shutdowns ? 1 : 0;
    s.kind = *rc::gen::weightedElement<step_kind>({{30, step_kind::emit},
                                                   {30, step_kind::try_emit},
                                                   {30, step_kind::emit_tracked},
                                                   {10, step_kind::emit_and_wait},
                                                   {6, step_kind::cancel},
                                                   {6, step_kind::drain},
                                                   {3 * w, step_kind::shutdown_drain},
                                                   {3 * w, step_kind::shutdown_discard}});
    s.ctx = *any_ctx();
    return s;
  });
}

rc::Gen<step> any_writer_step(bool resets) {
  return rc::gen::exec([resets] {
    step s;
    s.kind = *rc::gen::weightedElement<step_kind>({{4, step_kind::add},
                                                   {3, step_kind::remove},
                                                   {3, step_kind::remove_and_wait},
                                                   {resets ? 1 : 0, step_kind::reset}});
    s.listener = *any_listener(true);
    s.slot = *rc::gen::arbitrary<std::uint8_t>();
    s.by_key = *rc::gen::arbitrary<bool>();
    return s;
  });
}

template <class G>
std::vector<step> steps(int min, int max, G gen) {
  const int n = *rc::gen::inRange(min, max + 1);
  std::vector<step> out;
  for (int i = 0; i < n; ++i) out.push_back(*gen);
  return out;
}

/// The accounting programs: one thread doing everything, several emitters on a stable
/// listener set, or emitters plus a writer thread.
rc::Gen<program> accounting_program() {
  return rc::gen::exec([] {
    program p;
    p.cfg = *any_config();
    const int nsetup = *rc::gen::inRange(1, 5);
    for (int i = 0; i < nsetup; ++i) p.setup.push_back(*any_listener(true));
    const bool shutdowns = pick(0, 3) == 2;
    switch (pick(0, 3)) {
      case 0: {  // single: writes and emissions interleaved on one thread
        std::vector<step> t;
        const int n = *rc::gen::inRange(1, 17);
        for (int i = 0; i < n; ++i)
          t.push_back(pick(0, 3) == 2 ? *any_writer_step(true) : *any_emitter_step(shutdowns));
        p.threads.push_back(t);
        break;
      }
      case 1: {  // stable: 2-3 emitters, nobody writes
        const int n = pick(2, 4);
        for (int i = 0; i < n; ++i) p.threads.push_back(steps(1, 10, any_emitter_step(shutdowns)));
        break;
      }
      default: {  // tracked: a writer and 1-2 emitters
        p.threads.push_back(steps(1, 8, any_writer_step(true)));
        const int n = pick(1, 3);
        for (int i = 0; i < n; ++i) p.threads.push_back(steps(1, 10, any_emitter_step(shutdowns)));
        break;
      }
    }
    return p;
  });
}

/// Once-listeners (plus 0-2 plain ones) and many emissions on 2 workers; thread 0
/// sometimes removes some of them meanwhile.
rc::Gen<program> once_program() {
  return rc::gen::exec([] {
    program p;
    p.cfg = *any_config(2);
    const int onces = *rc::gen::inRange(1, 9);
    for (int i = 0; i < onces; ++i) p.setup.push_back(*any_listener(true, true));
    const int plain = *rc::gen::inRange(0, 3);
    for (int i = 0; i < plain; ++i) p.setup.push_back(*any_listener(false));
    auto emission = rc::gen::exec([] {
      step s;
      s.kind = *rc::gen::element(step_kind::emit, step_kind::try_emit, step_kind::emit_tracked);
      s.ctx = *rc::gen::weightedElement<ctx_kind>({{8, ctx_kind::none}, {1, ctx_kind::token}, {1, ctx_kind::soon}});
      return s;
    });
    if (pick(0, 2) == 1) {  // thread 0 removes while the others emit
      std::vector<step> t;
      const int n = *rc::gen::inRange(1, 7);
      for (int i = 0; i < n; ++i) {
        step s;
        s.kind = *rc::gen::element(step_kind::remove, step_kind::remove_and_wait, step_kind::emit);
        s.slot = *rc::gen::arbitrary<std::uint8_t>();
        s.by_key = *rc::gen::arbitrary<bool>();
        t.push_back(s);
      }
      p.threads.push_back(t);
    }
    const int emitters = pick(1, 4);
    for (int i = 0; i < emitters; ++i) {
      std::vector<step> t = steps(3, 20, emission);
      if (pick(0, 4) == 3) {
        step cancel;
        cancel.kind = step_kind::cancel;
        t.insert(t.begin() + *rc::gen::inRange<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(t.size())), cancel);
      }
      p.threads.push_back(t);
    }
    return p;
  });
}

/// Plain listeners (some slow) removed one by one, with or without waiting, by thread 0
/// while 1-2 threads emit.
rc::Gen<program> removal_program() {
  return rc::gen::exec([] {
    program p;
    p.cfg = *any_config();
    const int n = *rc::gen::inRange(2, 7);
    for (int i = 0; i < n; ++i) {
      listener_plan l = *any_listener(false);
      l.slow = pick(0, 2) == 1;
      p.setup.push_back(l);
    }
    // The remover emits first, sometimes, so that calls are under way when it removes.
    std::vector<step> remover(static_cast<std::size_t>(pick(0, 3)));
    for (step& s : remover) s.kind = step_kind::emit;
    const int removals = *rc::gen::inRange(1, n + 2);
    for (int i = 0; i < removals; ++i) {
      step s;
      s.kind = *rc::gen::weightedElement<step_kind>(
          {{4, step_kind::remove}, {4, step_kind::remove_and_wait}, {1, step_kind::add}, {2, step_kind::emit_tracked}});
      s.slot = *rc::gen::arbitrary<std::uint8_t>();
      s.by_key = *rc::gen::arbitrary<bool>();
      s.listener = *any_listener(false);
      remover.push_back(s);
    }
    p.threads.push_back(remover);
    const int emitters = pick(1, 3);
    auto emission = rc::gen::exec([] {
      step s;
      s.kind = *rc::gen::element(step_kind::emit, step_kind::emit_tracked, step_kind::emit_and_wait);
      return s;
    });
    for (int i = 0; i < emitters; ++i) p.threads.push_back(steps(2, 12, emission));
    return p;
  });
}

/// Runs `p` `attempts` times (each run a new interleaving); fails on the first violation.
void check(const program& p, int attempts = 3) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const verdict v = run(p);
    if (attempt == 0) {  // what the runs exercised, in the distribution RapidCheck prints
      const mode m = mode_of(p);
      RC_TAG(m == mode::single   ? "single"
             : m == mode::stable ? "stable"
                                 : "tracked",
             v.dropped ? "dropped" : "-", v.skipped ? "skipped" : "-", v.rejected ? "rejected" : "-");
    }
    if (v.ok()) continue;
    std::ostringstream os;
    os << "invariants violated (run " << attempt + 1 << (v.hung ? ", hung" : "") << "):";
    for (const auto& x : v.violations) os << "\n  " << x;
    RC_FAIL(os.str());
  }
}

RC_GTEST_PROP(AsyncSignal, Accounting, ()) { check(*accounting_program()); }

RC_GTEST_PROP(AsyncSignal, OnceExactlyOnce, ()) { check(*once_program()); }

RC_GTEST_PROP(AsyncSignal, RemovalHappensBefore, ()) { check(*removal_program()); }

}  // namespace
