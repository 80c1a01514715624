// testing/async_checks.hpp — the checks of an async program once it has run.
//
// After the program threads have joined, everything has drained and a final emission has
// reached every listener still registered (async_run.hpp), these compare what the signal
// and the completion handles report with what the listeners, the emitters and the owners
// of the listeners recorded (async_state.hpp): per emission (invariant 2 of async_run.hpp),
// the totals (1 and 3), per listener (4, 5 and 7), and, as the signal and the pool are
// destroyed, 3 and 7 again. Each check adds what it finds to the run's violations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "async_program.hpp"
#include "async_state.hpp"
#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::async::detail {

inline std::string num(std::uint64_t x) { return std::to_string(x); }

/// What the accepted emissions account for: check_emissions' sums, check_totals' input.
struct emission_sums {
  bool all_tracked = true;
  std::uint64_t lo = 0, hi = 0, accepted = 0;
  std::uint64_t delivered = 0, dropped = 0, skipped = 0, started = 0, failed = 0;
};

/// Each emission that ran: its calls all finished; a tracked one's completion reports
/// exactly its calls and failures (listener, key, error), an error() that is the first
/// failure or else a drop reason, an account within the emitter's bounds, no drop where
/// none may happen. Returns what the accepted emissions add up to.
inline emission_sums check_emissions(shared& s) {
  emission_sums sum;
  for (std::size_t k = 0; k < s.emissions.size(); ++k) {
    emission_rec& e = *s.emissions[k];
    if (!e.ran) continue;
    const int started = e.started.load(), finished = e.finished.load(), failed = e.failed.load();
    sum.started += static_cast<std::uint64_t>(started);
    sum.failed += static_cast<std::uint64_t>(failed);
    const std::string at = "emission " + std::to_string(k) + " (" + e.what + "): ";
    if (started != finished) s.fail(at + std::to_string(started - finished) + " invocation(s) never finished");
    if (!e.accepted) continue;
    ++sum.accepted;
    if (!e.tracked) {
      sum.all_tracked = false;
      sum.lo += e.lo;
      sum.hi += e.hi;
      continue;
    }
    const sigs::completion& c = e.handle;
    if (!c.done()) {
      s.fail(at + "completion not done after drain()");
      continue;
    }
    const std::uint64_t d = c.delivered(), dr = c.dropped(), sk = c.skipped(), total = d + dr + sk;
    sum.delivered += d;
    sum.dropped += dr;
    sum.skipped += sk;
    sum.lo += total;
    sum.hi += total;
    if (d != static_cast<std::uint64_t>(started))
      s.fail(at + "completion reports delivered=" + std::to_string(d) + ", " + std::to_string(started) +
             " invocation(s) seen");
    if (e.bounded && (total < e.lo || total > e.hi))
      s.fail(at + "completion accounts for " + std::to_string(total) + " listeners, expected " + std::to_string(e.lo) +
             (e.lo == e.hi ? "" : ".." + std::to_string(e.hi)));
    if (e.no_drop && dr != 0)
      s.fail(at + std::to_string(dr) + " deliveries dropped without a context, pool running, policy " +
             name(s.p.cfg.policy));
    const std::vector<sigs::delivery_failure> fs = c.failures();
    if (fs.size() != static_cast<std::size_t>(failed))
      s.fail(at + "completion reports " + std::to_string(fs.size()) + " failure(s), " + std::to_string(failed) +
             " seen");
    for (const auto& f : fs) {
      const int i = slot_of(s, f.error, f.exception);
      if (i < 0) {
        s.fail(at + "completion reports an unknown failure " + fmt::error(f.error));
        continue;
      }
      const slot& l = *s.slots[static_cast<std::size_t>(i)];
      if (f.error != expected_error(l.plan.result, l.index) || f.key != l.key || !(f.listener == l.lid) ||
          (l.plan.result == outcome::throws) != bool(f.exception))
        s.fail(at + "failure " + fmt::error(f.error) + " key " + fmt::key(f.key) + " does not describe listener " +
               std::to_string(i));
      if (!((e.called.load() >> i) & 1))
        s.fail(at + "failure of listener " + std::to_string(i) + ", which it did not call");
    }
    const std::error_code err = c.error();
    if (!fs.empty()) {
      if (err != fs.front().error) s.fail(at + "error() " + fmt::error(err) + " is not the first failure");
    } else if (dr != 0) {
      if (!drop_reason(err)) s.fail(at + "error() " + fmt::error(err) + " for dropped deliveries");
    } else if (err) {
      s.fail(at + "error() " + fmt::error(err) + " with no failure and no drop");
    }
  }
  return sum;
}

/// The signal's statistics: delivered equals the calls the listeners saw, delivered +
/// dropped + skipped what the accepted emissions account for (exactly the sums of the
/// completions when every emission was tracked), rejected the try_emit errors, emits the
/// accepted emissions, errors / exceptions / listener_calls / handler_failures what the
/// listeners and the error handler counted. `seen`: the listener calls observed.
inline void check_totals(shared& s, const emission_sums& sum, std::uint64_t rejected, std::uint64_t seen,
                         const sigs::signal_stats& st) {
  const std::uint64_t total = st.delivered + st.dropped + st.skipped;
  if (st.delivered != seen)
    s.fail("stats().delivered " + num(st.delivered) + ", listener invocations seen " + num(seen));
  if (sum.started != seen)
    s.fail("emissions account for " + num(sum.started) + " invocations, listeners saw " + num(seen));
  if (total < sum.lo || total > sum.hi)
    s.fail("delivered + dropped + skipped = " + num(st.delivered) + " + " + num(st.dropped) + " + " + num(st.skipped) +
           " = " + num(total) + ", accepted emissions account for " + num(sum.lo) +
           (sum.lo == sum.hi ? "" : ".." + num(sum.hi)));
  if (sum.all_tracked && (st.delivered != sum.delivered || st.dropped != sum.dropped || st.skipped != sum.skipped))
    s.fail("stats() delivered/dropped/skipped " + num(st.delivered) + "/" + num(st.dropped) + "/" + num(st.skipped) +
           ", the completions sum to " + num(sum.delivered) + "/" + num(sum.dropped) + "/" + num(sum.skipped));
  if (st.rejected != rejected) s.fail("stats().rejected " + num(st.rejected) + ", try_emit errors " + num(rejected));
  if (st.emits != sum.accepted) s.fail("stats().emits " + num(st.emits) + ", accepted emissions " + num(sum.accepted));
  if (st.in_flight != 0) s.fail("stats().in_flight " + num(st.in_flight) + " after drain()");
  if (st.errors != s.errors.load() || st.exceptions != s.exceptions.load())
    s.fail("stats() errors/exceptions " + num(st.errors) + "/" + num(st.exceptions) + ", listeners returned/threw " +
           num(s.errors.load()) + "/" + num(s.exceptions.load()));
  if (sum.failed != s.errors.load() + s.exceptions.load()) s.fail("failures per emission do not add up");
  if (s.p.cfg.metrics && st.listener_calls != seen)
    s.fail("stats().listener_calls " + num(st.listener_calls) + ", invocations " + num(seen));
  const std::uint64_t handled = s.p.cfg.handler ? s.errors.load() + s.exceptions.load() : 0;
  if (s.handler_calls.load() != handled)
    s.fail("error handler called " + num(s.handler_calls.load()) + " times for " + num(handled) + " failures");
  if (st.handler_failures != s.handler_throws.load())
    s.fail("stats().handler_failures " + num(st.handler_failures) + ", handler threw " + num(s.handler_throws.load()));
}

/// Each listener its owner added, by what the owner knows of it: one removed successfully
/// was never called by an emission after (nor, a once-listener, at all); a once-listener
/// fired at most once, exactly once if it fired or stayed registered; one registered was
/// called by the final emission and its metadata counts its calls and failures; size() is
/// the number registered. `certain(l)`: no reset by another thread may have taken `l`
/// without its owner knowing. `last`: the final emission; `pool_running`: it could run.
template <class Certain>
void check_listeners(shared& s, const emission_rec& last, bool pool_running, Certain certain) {
  std::size_t expect_size = 0;
  bool size_known = true;
  for (const auto& lp : s.slots) {
    const slot& l = *lp;
    if (l.state == known::unused) continue;
    const int calls = l.calls.load();
    const std::string who = "end: listener " + std::to_string(l.index) + " (" + describe(l.plan) + ")";
    const bool sure = certain(l);
    const bool final_called = (last.called.load() >> l.index) & 1;
    bool alive = false;
    switch (l.state) {
      case known::removed:
        if (l.once && calls != 0)
          s.fail(who + ": removed successfully, yet called " + std::to_string(calls) + " times");
        if (final_called) s.fail(who + ": called by the final emission after its removal");
        break;
      case known::fired_pending:
      case known::fired_gone:
        if (sure && calls != 1)
          s.fail(who + ": fired (its removal found nothing), called " + std::to_string(calls) + " times");
        break;
      case known::armed:
      case known::maybe:
        if (!sure) {
          size_known = false;
        } else if (pool_running && calls != 1) {
          s.fail(who + ": once-listener never removed, called " + std::to_string(calls) + " times in all");
        }
        break;
      case known::live:
        if (!sure) {
          size_known = false;
        } else {
          alive = true;
          if (pool_running && !final_called) s.fail(who + ": registered, but not called by the final emission");
        }
        break;
      case known::killed:
      case known::dead:
      case known::unused: break;
    }
    if (l.once && calls > 1) s.fail(who + ": once-listener called " + std::to_string(calls) + " times");
    if (!pool_running && (l.state == known::armed || l.state == known::maybe)) size_known = false;
    if (alive) {
      ++expect_size;
      const auto md = s.sig->metadata(l.lid);
      if (!md) {
        s.fail(who + ": no metadata though registered");
      } else {
        if (md->error_count != static_cast<std::uint64_t>(l.failures.load()))
          s.fail(who + ": metadata error_count " + num(md->error_count) + ", failures " +
                 std::to_string(l.failures.load()));
        if (s.p.cfg.metrics && md->call_count != static_cast<std::uint64_t>(calls))
          s.fail(who + ": metadata call_count " + num(md->call_count) + ", calls " + std::to_string(calls));
        if (md->key != l.key || md->is_once != l.once || md->is_error_aware != aware(l.plan))
          s.fail(who + ": metadata does not describe it");
      }
    }
  }
  if (size_known && s.sig->size() != expect_size)
    s.fail("end: size() " + std::to_string(s.sig->size()) + ", expected " + std::to_string(expect_size));
}

/// Destroys the signal, then the pool: no exception reached the pool, and every listener
/// callable is released exactly once (alive_token: the count is back to `tokens_before`).
inline void check_teardown(shared& s, long tokens_before) {
  s.sig.reset();
  const sigs::worker_pool_stats ps = s.pool->stats();
  if (ps.exceptions != 0) s.fail("end: " + num(ps.exceptions) + " exception(s) escaped to the pool");
  s.pool.reset();
  s.slots.clear();
  if (alive_token::live.load() != tokens_before) s.fail("end: listener callables leaked or destroyed twice");
}

}  // namespace sigs_test::async::detail
