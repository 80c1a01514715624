// testing/async_listener.hpp — the listeners and the error handler of an async program.
//
// Every listener of a program is a `listener_fn` over its slot: each call checks, as it
// happens, what a call alone can show (not started after a remove_listener_and_wait of it
// returned, at most once per emission and once ever for a once-listener, no call by an
// emission accepted after its removal returned), counts itself in its slot and its
// emission, and ends as its plan says (ok, an error, a throw; slow; a probe that calls
// drain() and remove_listener_and_wait(itself) from inside). The error handler checks each
// failure it is handed against the listener that failed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "async_program.hpp"
#include "async_state.hpp"
#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::async::detail {

struct listener_fn {
  shared* s;
  int index;
  alive_token token;

  std::error_code body(int v) const {
    slot& me = *s->slots[static_cast<std::size_t>(index)];
    const std::string who = "listener " + std::to_string(index);
    if (me.waited.load(std::memory_order_acquire))  // pairs with the remover's release
      s->fail(who + " started after remove_listener_and_wait returned");
    emission_rec* e = nullptr;
    if (v < 0 || static_cast<std::size_t>(v) >= s->emissions.size()) {
      s->fail(who + " got payload " + std::to_string(v) + ", no such emission");
    } else {
      e = s->emissions[static_cast<std::size_t>(v)].get();
      if (e->gone[static_cast<std::size_t>(index)])
        s->fail(who + " called by emission " + std::to_string(v) + ", accepted after its removal returned");
      const std::uint64_t bit = std::uint64_t{1} << index;
      if (e->called.fetch_or(bit, std::memory_order_relaxed) & bit)  // relaxed: atomicity only
        s->fail(who + " called twice by emission " + std::to_string(v));
      e->started.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after the emission ended
    }
    // acq_rel: a thread that reads the count has the claim that preceded this call.
    const int before = me.calls.fetch_add(1, std::memory_order_acq_rel);
    if (me.once && before != 0) s->fail(who + ": once-listener called " + std::to_string(before + 1) + " times");
    me.running.fetch_add(1, std::memory_order_relaxed);      // relaxed: read after a wait that orders it
    s->invocations.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count
    if (me.plan.slow) std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (me.plan.probe) probe(me, who);
    if (me.waited.load(std::memory_order_acquire))
      s->fail(who + " was still running when remove_listener_and_wait returned");
    me.running.fetch_sub(1, std::memory_order_release);  // pairs with the remover's acquire
    std::error_code result;
    if (me.plan.result != outcome::ok) {
      me.failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after drain
      if (e) e->failed.fetch_add(1, std::memory_order_relaxed);
      (me.plan.result == outcome::throws ? s->exceptions : s->errors).fetch_add(1, std::memory_order_relaxed);
      result = expected_error(me.plan.result, me.index);
    }
    if (e) e->finished.fetch_add(1, std::memory_order_release);  // last: the call is over
    if (me.plan.result == outcome::throws) throw listener_threw{static_cast<std::uint64_t>(index)};
    return result;
  }

  void probe(slot& me, const std::string& who) const {
    // drain() could wait for this very call: on a worker it must refuse. Not called when
    // caller_runs runs this call on the emitting thread: it waits for itself there, forever
    // (docs/regressions.md #3); once fixed, expect would_deadlock there too.
    if (s->pool->on_worker_thread()) {
      const std::error_code ec = s->sig->drain();
      if (ec != sigs::errc::would_deadlock) s->fail(who + ": drain() on a worker returned " + fmt::error(ec));
    }
    const std::uint64_t id = me.id.load(std::memory_order_acquire);
    if (id == 0) return;  // the add has not returned yet
    const std::error_code ec = s->sig->remove_listener_and_wait(sigs::detail::listener_id_access::make(id));
    if (ec != sigs::errc::would_deadlock && ec != sigs::errc::not_found)
      s->fail(who + ": remove_listener_and_wait(itself) from inside returned " + fmt::error(ec));
  }
};

template <bool Ctx>
struct plain_fn : listener_fn {
  void operator()(const int& v) const requires(!Ctx) { (void)body(v); }
  void operator()(const sigs::context&, const int& v) const requires(Ctx) { (void)body(v); }
};

template <bool Ctx>
struct aware_fn : listener_fn {
  std::error_code operator()(const int& v) const requires(!Ctx) { return body(v); }
  std::error_code operator()(const sigs::context&, const int& v) const requires(Ctx) { return body(v); }
};

/// Registers slot `l` (its plan decides the form and the callable's shape).
inline sigs::listener_id register_slot(shared& s, slot& l) {
  const listener_fn base{&s, l.index, {}};
  const bool ctx = l.index % 2 == 1;  // both callable shapes run
  sigs::async_signal<payload>& sig = *s.sig;
  if (aware(l.plan)) {
    return ctx ? add_as<true>(sig, l.plan.form, aware_fn<true>{base}, l.key)
               : add_as<true>(sig, l.plan.form, aware_fn<false>{base}, l.key);
  }
  return ctx ? add_as<false>(sig, l.plan.form, plain_fn<true>{base}, l.key)
             : add_as<false>(sig, l.plan.form, plain_fn<false>{base}, l.key);
}

/// Installs the error handler (config::handler): it checks that each failure it is handed
/// names the listener that failed, with that listener's key and error, and throws when that
/// listener's plan says so (the signal swallows it and counts it in handler_failures).
inline void install_error_handler(shared& s) {
  shared* sp = &s;
  s.sig->set_error_handler([sp](const sigs::listener_error& e) {
    sp->handler_calls.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count
    const int i = handler_slot_of(*sp, e);
    if (i < 0) return sp->fail("error handler got an unknown failure " + fmt::error(e.error));
    const slot& l = *sp->slots[static_cast<std::size_t>(i)];
    if (e.error != expected_error(l.plan.result, l.index) || e.key != l.key ||
        (l.plan.result == outcome::throws) != bool(e.exception))
      sp->fail("error handler got " + fmt::error(e.error) + " key " + fmt::key(e.key) + " for listener " +
               std::to_string(i));
    if (l.plan.handler_throws) {
      sp->handler_throws.fetch_add(1, std::memory_order_relaxed);
      throw std::runtime_error("error handler fails too");
    }
  });
}

}  // namespace sigs_test::async::detail
