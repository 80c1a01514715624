// testing/async_runner.hpp — runs the threads of an async program.
//
// `runner` runs one thread's steps (emissions with or without a context, drain, a pool
// shutdown, add / remove / remove_and_wait / reset of its own listeners) and checks every
// result the thread can tell from what it knows of its own listeners (the `known` state of
// each, async_state.hpp): a try_emit error is a drop reason, emit_and_wait returns only
// when its calls have finished and with the right error, a removal finds a listener
// certainly registered and not one certainly gone, drain() leaves nothing in flight.
// run_threads starts one runner per program thread and waits for them, with a time limit.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <sigs/sigs.hpp>

#include "async_listener.hpp"
#include "async_program.hpp"
#include "async_state.hpp"
#include "operations.hpp"

namespace sigs_test::async::detail {

/// Runs one thread's steps (thread -1: the setup, on the main thread).
class runner {
 public:
  runner(shared& s, int me, std::size_t first_slot, std::size_t first_emission)
      : s_(s), me_(me), next_slot_(first_slot), next_emission_(first_emission) {}

  void add_setup(const listener_plan&) { add(); }

  void run(const std::vector<step>& steps) {
    for (const step& st : steps) {
      ++step_no_;
      do_step(st);
    }
  }

  std::vector<int> mine;         // own slots, in order of their adds
  std::uint64_t rejected = 0;    // try_emit errors
  std::uint64_t own_resets = 0;  // this thread's increments of the epoch

  /// Whether another thread's reset may have run since slot `l` was added.
  bool uncertain(const slot& l, std::uint64_t epoch_now) const {
    return epoch_now - l.epoch_at_add != own_resets - l.own_resets_at_add;
  }

 private:
  std::string where() const {
    return (me_ < 0 ? std::string("setup") : "thread " + std::to_string(me_)) + " step " + std::to_string(step_no_) +
           ": ";
  }
  void fail(const std::string& what) { s_.fail(where() + what); }

  /// Once-listeners in single mode: a write that republishes leaves claimed ones out.
  void republished() {
    for (int i : mine) {
      slot& l = *s_.slots[static_cast<std::size_t>(i)];
      if (l.state == known::fired_pending) l.state = known::fired_gone;
    }
  }

  /// The bounds on the listener count of an emission starting now.
  std::pair<std::uint64_t, std::uint64_t> bounds() const {
    std::uint64_t lo = 0, hi = 0;
    if (s_.m == mode::stable) {
      for (const listener_plan& l : s_.p.setup) {
        hi += 1;
        lo += is_once_form(l.form) ? 0 : 1;
      }
      return {lo, hi};
    }
    for (int i : mine) {
      switch (s_.slots[static_cast<std::size_t>(i)]->state) {
        case known::live:
        case known::armed: ++lo, ++hi; break;
        case known::maybe:
        case known::fired_pending: ++hi; break;
        default: break;
      }
    }
    return {lo, hi};
  }

  sigs::context make_ctx(ctx_kind k) {
    using namespace std::chrono_literals;
    switch (k) {
      case ctx_kind::none: return {};
      case ctx_kind::token: return sigs::context(s_.stop.get_token());
      case ctx_kind::expired: return sigs::context().with_deadline(clock::now() - 1s);
      case ctx_kind::soon: return sigs::context().with_timeout(200us);
      case ctx_kind::token_soon: return sigs::context(s_.stop.get_token()).with_timeout(200us);
    }
    return {};
  }

  void emit(const step& st) {
    const std::size_t index = next_emission_++;
    emission_rec& rec = *s_.emissions[index];
    rec.ran = true;
    step_kind kind = st.kind;
    if (s_.m == mode::tracked && kind != step_kind::emit_tracked) kind = step_kind::emit_tracked;
    rec.what = where() + describe(st) + (kind != st.kind ? " (run as emit_tracked)" : "");
    // Which listeners were certainly removed before this emission: pairs with the
    // removers' release stores.
    for (std::size_t i = 0; i < rec.gone.size(); ++i)
      rec.gone[i] = static_cast<char>(s_.slots[i]->removed.load(std::memory_order_acquire));
    if (s_.m != mode::tracked) {
      const auto [lo, hi] = bounds();
      rec.lo = lo;
      rec.hi = hi;
      rec.bounded = true;
    }
    rec.no_drop = st.ctx == ctx_kind::none && !s_.has_shutdown && s_.p.cfg.policy != sigs::overflow_policy::reject;
    const sigs::context ctx = make_ctx(st.ctx);
    const bool with_ctx = st.ctx != ctx_kind::none;
    const int v = static_cast<int>(index);
    auto& sig = *s_.sig;
    rec.accepted = true;
    switch (kind) {
      case step_kind::emit: with_ctx ? sig.emit(ctx, v) : sig.emit(v); break;
      case step_kind::try_emit: {
        const std::error_code ec = (with_ctx ? sig.try_emit(ctx, v) : sig.try_emit(v)).error;
        if (ec) {
          rec.accepted = false;
          ++rejected;
          if (!drop_reason(ec)) fail("try_emit returned " + fmt::error(ec));
          if (!with_ctx && (ec == sigs::errc::canceled || ec == sigs::errc::deadline_exceeded))
            fail("try_emit without a context returned " + fmt::error(ec));
          if (st.ctx == ctx_kind::expired && ec != sigs::errc::deadline_exceeded && ec != sigs::errc::canceled)
            fail("try_emit with an expired context returned " + fmt::error(ec));
          if (s_.m == mode::single && ec == sigs::errc::pool_stopped && !s_.shutdown_begun.load())
            fail("try_emit returned pool_stopped before any shutdown");
          if (rec.started.load() != 0) fail("a rejected try_emit invoked listeners");
        }
        break;
      }
      case step_kind::emit_tracked:
        rec.handle = with_ctx ? sig.emit_tracked(ctx, v) : sig.emit_tracked(v);
        rec.tracked = true;
        if (st.kind == step_kind::emit_and_wait) {
          if (!rec.handle.wait_for(std::chrono::seconds(60))) {
            fail("emit_and_wait (as emit_tracked + wait) did not complete in 60 s");
          } else if (rec.started.load(std::memory_order_relaxed) != rec.finished.load(std::memory_order_acquire)) {
            fail("completion::wait() returned with invocations still running");
          }
        }
        break;
      case step_kind::emit_and_wait: {
        const std::error_code ec = with_ctx ? sig.emit_and_wait(ctx, v) : sig.emit_and_wait(v);
        const int started = rec.started.load(std::memory_order_relaxed);
        const int finished = rec.finished.load(std::memory_order_acquire);
        if (started != finished)
          fail("emit_and_wait returned with " + std::to_string(started - finished) + " invocation(s) still running");
        const int failed = rec.failed.load(std::memory_order_relaxed);
        if (failed > 0 && (!ec || drop_reason(ec)))
          fail("emit_and_wait returned " + fmt::error(ec) + " though " + std::to_string(failed) +
               " listener(s) failed");
        if (!ec && failed != 0) fail("emit_and_wait returned ok though a listener failed");
        if (ec && !drop_reason(ec) && failed == 0)
          fail("emit_and_wait returned listener error " + fmt::error(ec) + " but no listener failed");
        if (rec.no_drop && drop_reason(ec)) fail("emit_and_wait dropped deliveries: " + fmt::error(ec));
        break;
      }
      default: break;
    }
    if (s_.m == mode::single && rec.accepted) {
      // Any once-listener this emission may reach may now be claimed.
      for (int i : mine) {
        slot& l = *s_.slots[static_cast<std::size_t>(i)];
        if (l.state == known::armed) l.state = known::maybe;
        if (kind == step_kind::emit_and_wait && l.state == known::maybe && l.calls.load(std::memory_order_acquire) == 1)
          l.state = known::fired_pending;
      }
    }
  }

  void add() {
    if (next_slot_ >= s_.slots.size()) return;  // past max_slots: the step does nothing
    slot& l = *s_.slots[next_slot_++];
    mine.push_back(l.index);
    l.epoch_at_add = s_.epoch.load(std::memory_order_acquire);
    l.own_resets_at_add = own_resets;
    const sigs::listener_id id = register_slot(s_, l);
    if (!id) {
      fail("add of listener " + std::to_string(l.index) + " refused: " + fmt::error(id.error()));
      return;
    }
    l.lid = id;
    l.id.store(id.value(), std::memory_order_release);  // pairs with the probe's acquire
    l.added.store(true, std::memory_order_release);     // pairs with a resetter's acquire
    l.state = !l.once ? known::live : (s_.m == mode::single ? known::armed : known::maybe);
    if (s_.m == mode::single) republished();
  }

  void remove(const step& st) {
    const bool wait = st.kind == step_kind::remove_and_wait;
    std::vector<int> live;
    for (int i : mine)
      if (s_.slots[static_cast<std::size_t>(i)]->state != known::unused) live.push_back(i);
    if (live.empty()) {
      // Nothing of our own: an id never issued must not be found.
      const sigs::listener_id bogus =
          sigs::detail::listener_id_access::make((std::uint64_t{1} << 62) + static_cast<std::uint64_t>(step_no_));
      const std::error_code ec = wait ? s_.sig->remove_listener_and_wait(bogus) : s_.sig->remove_listener(bogus);
      if (ec != sigs::errc::not_found)
        fail(std::string(name(st.kind)) + " of an unknown id returned " + fmt::error(ec));
      return;
    }
    slot& l = *s_.slots[static_cast<std::size_t>(live[st.slot % live.size()])];
    const bool by_key = st.by_key && !l.key.empty();
    const std::string what =
        std::string(name(st.kind)) + " of listener " + std::to_string(l.index) + (by_key ? " by key" : "");
    std::error_code ec;
    if (by_key) {
      ec = wait ? s_.sig->remove_listener_and_wait(l.key) : s_.sig->remove_listener(l.key);
    } else {
      ec = wait ? s_.sig->remove_listener_and_wait(l.lid) : s_.sig->remove_listener(l.lid);
    }
    if (ec && ec != sigs::errc::not_found) return fail(what + " returned " + fmt::error(ec));
    const bool unsure = uncertain(l, s_.epoch.load(std::memory_order_acquire));
    if (!unsure) {
      switch (l.state) {
        case known::live:
        case known::armed:
          if (ec) fail(what + ": certainly registered, got not_found");
          break;
        case known::fired_pending:
        case known::fired_gone:
        case known::removed:
        case known::killed:
        case known::dead:
          if (!ec) fail(what + ": certainly gone, but the removal succeeded");
          return;
        default: break;
      }
    }
    if (ec) {
      if (l.state == known::removed || l.state == known::killed || l.state == known::dead ||
          l.state == known::fired_gone)
        return;
      // A once-listener that is gone without our removal fired, unless a reset took it.
      l.state = (l.once && !unsure) ? known::fired_pending : known::dead;
      return;
    }
    l.state = known::removed;
    l.removed.store(true, std::memory_order_release);  // pairs with the emitters' acquire
    if (wait) {
      const int running = l.running.load(std::memory_order_acquire);
      if (running != 0) fail(what + " returned with " + std::to_string(running) + " invocation(s) running");
      l.waited.store(true, std::memory_order_release);  // pairs with the listener's acquire
    }
    if (s_.m == mode::single) republished();
  }

  void reset() {
    // Every listener whose add returned before this reset is gone once it returns.
    std::vector<char> before(s_.slots.size());
    for (std::size_t i = 0; i < before.size(); ++i)
      before[i] = static_cast<char>(s_.slots[i]->added.load(std::memory_order_acquire));
    // The epoch moves before *and* after the reset: a removal that finds a listener gone
    // through this reset sees the first increment (the writer mutex orders it), and an add
    // whose epoch read falls between the two (it may be registered just before the reset
    // runs) sees the second one only later, so both know another thread's reset may have
    // taken the listener. One increment before only missed the add (found by fuzz_async).
    // acq_rel: pairs with the acquire loads of the epoch in add() and remove().
    s_.epoch.fetch_add(1, std::memory_order_acq_rel);
    s_.sig->reset();
    s_.epoch.fetch_add(1, std::memory_order_acq_rel);  // acq_rel: as above
    own_resets += 2;
    for (std::size_t i = 0; i < before.size(); ++i)
      if (before[i]) s_.slots[i]->removed.store(true, std::memory_order_release);  // pairs with the emitters
    for (int i : mine) {
      slot& l = *s_.slots[static_cast<std::size_t>(i)];
      if (l.state != known::unused && l.state != known::removed && l.state != known::dead) l.state = known::killed;
    }
    if (s_.m == mode::single && s_.sig->size() != 0)
      fail("size() " + std::to_string(s_.sig->size()) + " after reset()");
  }

  /// After a drain in single mode nothing is in flight: each once-listener is certain.
  void settle() {
    for (int i : mine) {
      slot& l = *s_.slots[static_cast<std::size_t>(i)];
      if (l.state != known::maybe) continue;
      l.state = l.calls.load(std::memory_order_acquire) == 1 ? known::fired_pending : known::armed;
    }
    for (std::size_t k = 0; k < next_emission_; ++k) {
      emission_rec& e = *s_.emissions[k];
      if (!e.ran) continue;
      if (e.started.load() != e.finished.load())
        fail("drain() returned with invocations of emission " + std::to_string(k) + " running");
      if (e.tracked && !e.handle.done())
        fail("drain() returned before the completion of emission " + std::to_string(k));
    }
    const sigs::signal_stats st = s_.sig->stats();
    if (st.in_flight != 0) fail("in_flight " + std::to_string(st.in_flight) + " after drain()");
  }

  void do_step(const step& st) {
    if (is_emission(st.kind)) return emit(st);
    switch (st.kind) {
      case step_kind::cancel: s_.stop.request_stop(); return;
      case step_kind::drain: {
        const std::error_code ec = s_.sig->drain();
        if (ec) return fail("drain() from a program thread returned " + fmt::error(ec));
        if (s_.m == mode::single) settle();
        return;
      }
      case step_kind::shutdown_drain:
      case step_kind::shutdown_discard: {
        s_.shutdown_begun.store(true);
        const std::error_code ec = s_.pool->shutdown(
            st.kind == step_kind::shutdown_drain ? sigs::shutdown_mode::drain : sigs::shutdown_mode::discard);
        if (ec) fail("shutdown() from a program thread returned " + fmt::error(ec));
        if (!s_.pool->stopped()) fail("pool not stopped after shutdown()");
        return;
      }
      case step_kind::add: return add();
      case step_kind::remove:
      case step_kind::remove_and_wait: return remove(st);
      case step_kind::reset: return reset();
      default: return;
    }
  }

  shared& s_;
  int me_;
  std::size_t next_slot_;
  std::size_t next_emission_;
  std::size_t step_no_ = 0;
};

inline std::size_t adds_in(const std::vector<step>& steps) {
  return static_cast<std::size_t>(
      std::count_if(steps.begin(), steps.end(), [](const step& s) { return s.kind == step_kind::add; }));
}
inline std::size_t emissions_in(const std::vector<step>& steps) {
  return static_cast<std::size_t>(
      std::count_if(steps.begin(), steps.end(), [](const step& s) { return is_emission(s.kind); }));
}

/// Waits until `done()` or the time limit; true if done.
template <class F>
bool wait_until(F done, std::chrono::seconds limit) {
  const auto end = clock::now() + limit;
  while (!done()) {
    if (clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

/// Adds the setup's listeners on this thread (as thread 0's: it owns them), then runs each
/// program thread on its own std::thread and waits, up to `limit`, for them and then for
/// every emission in flight. True once done, the threads joined; false if either wait ran
/// out, the threads then detached (they, and the workers, may still use `s`).
inline bool run_threads(shared& s, std::vector<std::unique_ptr<runner>>& runners, std::chrono::seconds limit) {
  const std::size_t n = s.p.threads.size();
  std::size_t first_slot = s.p.setup.size(), first_emission = 0;
  for (std::size_t t = 0; t < n; ++t) {
    runners.push_back(std::make_unique<runner>(s, static_cast<int>(t), t == 0 ? 0 : first_slot, first_emission));
    if (t == 0) {
      for (const auto& l : s.p.setup) runners[0]->add_setup(l);
    }
    first_slot += adds_in(s.p.threads[t]);
    first_emission += emissions_in(s.p.threads[t]);
  }
  if (n == 0) {  // no threads: the setup alone
    runners.push_back(std::make_unique<runner>(s, 0, 0, 0));
    for (const auto& l : s.p.setup) runners[0]->add_setup(l);
  }
  if (s.m == mode::stable) {
    for (int i : runners[0]->mine)
      if (s.slots[static_cast<std::size_t>(i)]->once) s.slots[static_cast<std::size_t>(i)]->state = known::maybe;
  }

  shared* sp = &s;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n; ++t) {
    runner* r = runners[t].get();
    threads.emplace_back([sp, r, t] {
      r->run(sp->p.threads[t]);
      sp->threads_done.fetch_add(1, std::memory_order_release);
    });
  }
  const bool joined =
      wait_until([&] { return s.threads_done.load(std::memory_order_acquire) == static_cast<int>(n); }, limit);
  const bool drained = joined && wait_until([&] { return s.sig->stats().in_flight == 0; }, limit);
  if (!joined || !drained) {
    s.fail(!joined ? "hung: the program threads did not finish"
                   : "hung: emissions still in flight, drain() would not return");
    for (auto& th : threads) th.detach();
    return false;
  }
  for (auto& th : threads) th.join();
  return true;
}

}  // namespace sigs_test::async::detail
