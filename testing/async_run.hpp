// testing/async_run.hpp — runs a random async program and checks it.
//
// Async delivery has no sequential model to compare against: which worker runs what, and
// whether a delivery is made, dropped or skipped, depends on timing. So a `program` (a pool
// and signal configuration, listeners added up front, and one list of steps per thread)
// runs on real threads and is checked for what holds under *every* interleaving
// (docs/guarantees.md and docs/async.md). `run` returns every violation of:
//
//  1. accounting: once drained, delivered + dropped + skipped == Σ over accepted emissions
//     of the listener count at emit time. Each emission knows its count from its
//     completion handle (emit_tracked), or the emitting thread bounds it from what it
//     knows of the listener set (the `mode` of the program, async_program.hpp); a
//     try_emit that returned an error is not accepted and is counted in stats().rejected
//     instead. delivered equals the listener invocations observed, emits the accepted
//     emissions; when every emission is tracked, each of delivered / dropped / skipped
//     equals the sum over the handles;
//  2. per emission: each listener is invoked at most once; a tracked handle reports as
//     delivered exactly the invocations of that emission, as failures() exactly the ones
//     that returned an error or threw (listener, key and error each right), and error()
//     is the first failure, else a drop reason, else empty; emit_and_wait returns only
//     when every invocation of its emission has finished, with a listener error if one
//     failed and an empty code only if none did; without a context, on a running pool,
//     under the block or caller_runs policy nothing is ever dropped;
//  3. errors and exceptions are caught on the worker: stats().errors / exceptions and each
//     listener's metadata error_count equal what the listeners returned / threw, the error
//     handler sees each failure once (a throwing handler is swallowed and counted in
//     handler_failures), and no exception reaches the pool;
//  4. a once-listener is invoked at most once, exactly once if it fired (its removal found
//     nothing) or stayed registered until a final emission, and never if its removal
//     succeeded;
//  5. no emission accepted after a remove_listener (or reset) returned — happens-before
//     through a flag the remover sets after the call and the emitter reads before
//     emitting — invokes that listener; after remove_listener_and_wait returns, no
//     invocation of it is running and none starts;
//  6. drain() on a worker returns errc::would_deadlock, remove_listener_and_wait of a
//     listener from inside its own invocation returns would_deadlock (or not_found once it
//     is gone) and never waits; drain()/shutdown() from a program thread return success;
//     a try_emit error is one of backpressure / pool_stopped / canceled /
//     deadline_exceeded;
//  7. at the end size() equals the listeners known alive, and destroying the signal
//     releases every listener callable (alive_token).
//
// Never hangs on a library bug that loses an emission: the program threads and the final
// drain are waited for with a time limit, after which the run is reported as hung and its
// state deliberately leaked (detached threads may still touch it).
//
// Where: the listener callables and the error handler (async_listener.hpp) check what a
// call shows as it happens, each program thread (async_runner.hpp) what its own steps
// return, and async_checks.hpp the rest once everything has drained.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "async_checks.hpp"
#include "async_listener.hpp"
#include "async_program.hpp"
#include "async_runner.hpp"
#include "async_state.hpp"
#include "operations.hpp"

namespace sigs_test::async {

namespace detail {

/// Copies `p` into `s`, normalised, with one slot per listener it adds (the setup's, then
/// each thread's adds: the order the runners take them in; at most max_slots) and one
/// record per emission, the final one included.
inline void prepare(shared& s, const program& p) {
  s.p = p;
  for (auto& l : s.p.setup) l = normalised(l);
  for (auto& t : s.p.threads)
    for (auto& st : t) st.listener = normalised(st.listener);
  s.m = mode_of(s.p);
  for (const auto& t : s.p.threads)
    for (const step& st : t)
      s.has_shutdown = s.has_shutdown || st.kind == step_kind::shutdown_drain || st.kind == step_kind::shutdown_discard;

  // Slots, in the order the runners take them: the setup, then each thread's adds.
  std::vector<std::pair<int, const listener_plan*>> plans;
  for (const auto& l : s.p.setup) plans.emplace_back(0, &l);
  for (std::size_t t = 0; t < s.p.threads.size(); ++t)
    for (const step& st : s.p.threads[t])
      if (st.kind == step_kind::add) plans.emplace_back(static_cast<int>(t), &st.listener);
  if (plans.size() > max_slots) plans.resize(max_slots);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    auto l = std::make_unique<slot>();
    l->plan = *plans[i].second;
    l->index = static_cast<int>(i);
    l->owner = plans[i].first;
    l->once = is_once_form(l->plan.form);
    if (l->plan.keyed) l->key = "k" + std::to_string(i);
    s.slots.push_back(std::move(l));
  }
  std::size_t emission_count = 1;  // + the final emission
  for (const auto& t : s.p.threads) emission_count += emissions_in(t);
  for (std::size_t i = 0; i < emission_count; ++i) {
    auto e = std::make_unique<emission_rec>();
    e->gone.resize(s.slots.size());
    s.emissions.push_back(std::move(e));
  }
}

/// Builds the pool and the signal the program's config asks for, and the error handler.
inline void make_signal(shared& s) {
  s.pool = std::make_unique<sigs::worker_pool>(
      sigs::worker_pool_options{.threads = s.p.cfg.pool_threads, .queue_capacity = s.p.cfg.pool_queue});
  sigs::async_options opts;
  opts.pool = s.pool.get();
  opts.overflow = s.p.cfg.policy;
  opts.queue_capacity = s.p.cfg.capacity;
  opts.metrics = s.p.cfg.metrics ? sigs::metrics_on : sigs::metrics_level::off;
  s.sig = std::make_unique<sigs::async_signal<payload>>(opts);
  if (s.p.cfg.handler) install_error_handler(s);
}

}  // namespace detail

/// Runs `p` and checks everything listed at the top of this file. `limit`: how long the
/// program threads, and then the final drain, may take before the run counts as hung.
inline verdict run(const program& p, std::chrono::seconds limit = std::chrono::seconds(120)) {
  using namespace detail;
  const long tokens_before = alive_token::live.load();
  verdict v;
  auto owned = std::make_unique<shared>();
  shared& s = *owned;
  prepare(s, p);
  make_signal(s);

  std::vector<std::unique_ptr<runner>> runners;
  if (!run_threads(s, runners, limit)) {
    {
      std::lock_guard lock(s.mutex);
      v.violations = s.violations;
    }
    v.hung = true;
    (void)owned.release();  // detached threads and workers may still use it: leak on purpose
    for (auto& r : runners) (void)r.release();
    return v;
  }
  if (const std::error_code ec = s.sig->drain()) s.fail("final drain() returned " + fmt::error(ec));

  // Final emission on a running pool: every registered once-listener fires now.
  const bool pool_running = !s.pool->stopped();
  emission_rec& last = *s.emissions.back();
  for (std::size_t i = 0; i < last.gone.size(); ++i)
    last.gone[i] = static_cast<char>(s.slots[i]->removed.load(std::memory_order_acquire));
  last.ran = true;
  last.accepted = true;
  last.what = "final emit_tracked";
  last.handle = s.sig->emit_tracked(static_cast<int>(s.emissions.size() - 1));
  last.tracked = true;
  if (!last.handle.wait_for(limit)) s.fail("the final emission did not complete");
  if (const std::error_code ec = s.sig->drain()) s.fail("final drain() returned " + fmt::error(ec));

  const std::uint64_t epoch = s.epoch.load();
  auto certain = [&](const slot& l) {
    const runner& r = *runners[static_cast<std::size_t>(l.owner)];
    return l.state == known::removed || !r.uncertain(l, epoch);
  };

  const emission_sums sum = check_emissions(s);
  std::uint64_t rejected = 0;
  for (const auto& r : runners) rejected += r->rejected;
  const sigs::signal_stats st = s.sig->stats();
  const std::uint64_t seen = s.invocations.load();
  check_totals(s, sum, rejected, seen, st);
  check_listeners(s, last, pool_running, certain);

  v.accepted = sum.accepted;
  v.invocations = seen;
  v.dropped = st.dropped;
  v.skipped = st.skipped;
  v.rejected = st.rejected;

  check_teardown(s, tokens_before);
  v.violations = std::move(s.violations);
  return v;
}

}  // namespace sigs_test::async
