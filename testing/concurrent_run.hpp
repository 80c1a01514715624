// testing/concurrent_run.hpp — runs a concurrent program and checks it.
//
// A sequential model cannot predict an interleaving, so concurrent runs are checked against
// the invariants that hold under *every* interleaving (docs/verification.md). `run` executes
// a program (concurrent_program.hpp) on real threads against one sigs::sync_signal<int>
// and returns every violation:
//
//  1. no listener is called by an emission that began after its removal returned: the
//     remover sets a flag after remove_* returns; an emitter reads all flags before it
//     emits; a flagged listener must not appear in that emission (cross-thread
//     happens-before through the flag, and per-thread program order as a special case);
//  2. remove_listener_and_wait returns only when no invocation is running anywhere: a
//     listener still running when the flag of its wait is set reports it;
//  3. each emission calls each listener at most once, and all emissions agree on the
//     relative order of any two listeners (registration order); a thread's own listeners
//     are called in the order it added them;
//  4. a once-listener is called at most once ever; exactly once by the end (a final emit
//     runs after the threads join) unless its removal succeeded, then never;
//  5. results a thread can predict: removing an own listener that is certainly alive
//     succeeds, certainly dead fails with not_found; a duplicate key is refused exactly
//     when an own listener with that key is certainly alive; has_key/metadata/keys/size
//     agree with what the thread knows; try_emit reports the first failing listener it
//     called (or where the context stopped it) and `calls` matches the calls seen;
//  6. at the end: size()/keys() equal the listeners added minus removed minus fired, the
//     stats counters equal the calls, errors, exceptions, emissions and cancellations seen,
//     and destroying the signal releases every listener callable (alive_token).
//
// Where: the listener callables (concurrent_runner.hpp) check 2 and "at most once" of 4
// during each call; thread_runner checks 1, "at most once per emission" of 3, and 5 after
// each of its steps; `run` below checks the orders of 3, the rest of 4, and 6 at the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "concurrent_program.hpp"
#include "concurrent_runner.hpp"
#include "operations.hpp"

namespace sigs_test::concurrent {

/// Runs `p`: the setup on this thread, then each thread's steps concurrently on its own
/// std::thread, then a final emit here; checks everything listed at the top of this file.
inline verdict run(const program& p) {
  using namespace detail;
  const long tokens_before = alive_token::live.load();
  verdict v;
  shared s;
  std::size_t total = adds_in(p.setup);
  for (const auto& t : p.threads) total += adds_in(t);
  for (std::size_t i = 0; i < total; ++i) s.slots.push_back(std::make_unique<slot>());

  std::size_t emissions = 0, canceled = 0;
  {
    sigs::sync_options opts;
    opts.metrics = sigs::metrics_on;
    sigs::sync_signal<int> sig(opts);

    const int n = static_cast<int>(p.threads.size());
    std::vector<thread_runner> runners;
    runners.reserve(p.threads.size() + 1);
    std::size_t first = 0;
    runners.emplace_back(s, sig, n, first);  // the main thread is "thread n"
    first += adds_in(p.setup);
    for (int t = 0; t < n; ++t) {
      runners.emplace_back(s, sig, t, first);
      first += adds_in(p.threads[static_cast<std::size_t>(t)]);
    }
    runners[0].run(p.setup);
    {
      std::latch start(n);
      std::vector<std::thread> threads;
      for (int t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
          start.arrive_and_wait();
          runners[static_cast<std::size_t>(t) + 1].run(p.threads[static_cast<std::size_t>(t)]);
        });
      }
      for (auto& th : threads) th.join();
    }

    // Final emit: every listener still alive is called exactly once, nothing else.
    emission last;
    tl_emission = &last;
    sig.emit(-1);
    tl_emission = nullptr;
    ++emissions;
    for (const auto& r : runners) {
      emissions += r.emissions;
      canceled += r.canceled;
    }
    std::vector<int> final_calls(s.slots.size());
    for (int i : last.called) ++final_calls[static_cast<std::size_t>(i)];
    s.orders.push_back(last.called);

    std::size_t expect_size = 0;
    std::uint64_t calls = 0, errors = 0, exceptions = 0;
    std::vector<std::string> expect_keys;
    for (std::size_t i = 0; i < s.slots.size(); ++i) {
      const slot& l = *s.slots[i];
      const int c = l.calls.load();
      const std::string who = "end: listener " + std::to_string(i) + " (" + describe_state(l) + ")";
      calls += static_cast<std::uint64_t>(c);
      if (l.result == outcome::error) errors += static_cast<std::uint64_t>(c);
      if (l.result == outcome::throws) exceptions += static_cast<std::uint64_t>(c);
      switch (l.state) {
        case known::refused:
          if (c) s.fail(who + " was never registered but was called");
          break;
        case known::live:
          ++expect_size;
          if (!l.key.empty()) expect_keys.push_back(l.key);
          if (final_calls[i] != 1)
            s.fail(who + " called " + std::to_string(final_calls[i]) + " times by the final emit");
          break;
        case known::removed:
          if (final_calls[i]) s.fail(who + " called by the final emit after its removal");
          if (l.once && c) s.fail(who + ": once-listener removed successfully yet called");
          break;
        case known::maybe:
        case known::fired:
          if (c != 1) s.fail(who + ": once-listener called " + std::to_string(c) + " times in all");
          break;
      }
    }
    if (sig.size() != expect_size)
      s.fail("end: size() " + std::to_string(sig.size()) + ", expected " + std::to_string(expect_size));
    std::vector<std::string> got_keys = sig.keys();
    std::sort(got_keys.begin(), got_keys.end());
    std::sort(expect_keys.begin(), expect_keys.end());
    if (got_keys != expect_keys) s.fail("end: keys() " + fmt::keys(got_keys) + ", expected " + fmt::keys(expect_keys));
    const sigs::signal_stats st = sig.stats();
    if (st.listener_calls != calls || st.errors != errors || st.exceptions != exceptions || st.emits != emissions ||
        st.canceled != canceled || st.handler_failures != 0) {
      s.fail("end: stats " +
             fmt::report(stats_report{st.emits, st.listener_calls, st.errors, st.exceptions, st.canceled,
                                      st.handler_failures}) +
             ", expected emits=" + std::to_string(emissions) + " calls=" + std::to_string(calls) +
             " errors=" + std::to_string(errors) + " exceptions=" + std::to_string(exceptions) +
             " canceled=" + std::to_string(canceled));
    }
    v.calls = calls;
  }
  v.emissions = emissions;

  // Every emission calls any two listeners in the same relative order, and a thread's own
  // listeners in the order it added them (slot numbers grow with each thread's adds).
  const std::size_t n = s.slots.size();
  std::vector<char> before(n * n);
  for (const auto& order : s.orders) {
    for (std::size_t a = 0; a < order.size(); ++a) {
      for (std::size_t b = a + 1; b < order.size(); ++b) {
        const auto x = static_cast<std::size_t>(order[a]), y = static_cast<std::size_t>(order[b]);
        before[x * n + y] = 1;
        if (before[y * n + x])
          s.fail("listeners " + std::to_string(x) + " and " + std::to_string(y) + " called in both orders");
        if (s.slots[x]->owner == s.slots[y]->owner && x > y)
          s.fail("listener " + std::to_string(x) + " called before " + std::to_string(y) +
                 ", added earlier by the same thread");
      }
    }
  }
  s.slots.clear();
  if (alive_token::live.load() != tokens_before) s.fail("end: listener callables leaked or destroyed twice");
  v.violations = std::move(s.violations);
  return v;
}

}  // namespace sigs_test::concurrent
