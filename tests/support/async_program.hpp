// tests/support/async_program.hpp — random programs against one sigs::async_signal<payload>.
//
// The payload: `int` by default, which sends a plain emit to one worker down the solo path
// (no envelope; docs/async.md) and everything else through an envelope. A file that defines
// SIGS_TEST_ASYNC_BOXED before including this header gets `boxed_int` instead, an int in
// a class that is not trivially copyable: every emission then takes the envelope path.
// The listeners take `const int&` either way (boxed_int converts).
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
//     knows of the listener set (below); a try_emit that returned an error is not
//     accepted and is counted in stats().rejected instead. delivered equals the listener
//     invocations observed, emits the accepted emissions; when every emission is tracked,
//     each of delivered / dropped / skipped equals the sum over the handles;
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
//   sigs_test::async::program p;                       // block policy, 1 worker, 2 cells
//   p.setup = {{.form = sigs_test::add_form::once}, {.result = sigs_test::outcome::throws}};
//   p.threads = {{{.kind = step_kind::emit_tracked}, {.kind = step_kind::try_emit}}};
//   assert(sigs_test::async::run(p).ok());
//
// What the emitting thread knows about the listener set (the `mode` of a program):
//  - single: one thread does everything (writes and emissions) after the setup. It knows
//    each listener exactly, except whether a once-listener that an accepted emission may
//    have reached has fired yet; such an emission counts between the listeners certainly
//    there and those maybe there (a fired once-listener still counts, as skipped, in
//    snapshots published before it fired, in queued and refused emissions alike: see
//    regressions.md #2). drain() makes every once-listener certain again;
//  - stable: several threads emit, nobody writes: the setup's plain listeners count
//    exactly, its once-listeners between 0 and 1;
//  - tracked: several threads, some of which add / remove / reset: the count is unknown to
//    the emitter, so every emission runs as emit_tracked (emit_and_wait as emit_tracked +
//    wait) and the handles give the exact sum.
//
// Never hangs on a library bug that loses an emission: the program threads and the final
// drain are waited for with a time limit, after which the run is reported as hung and its
// state deliberately leaked (detached threads may still touch it).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "reference_model.hpp"

namespace sigs_test::async {

/// An int that is not trivially copyable (its copy constructor is user-provided).
struct boxed_int {
  int v;
  boxed_int(int x) noexcept : v(x) {}  // NOLINT(google-explicit-constructor): emit(int)
  boxed_int(const boxed_int& o) noexcept : v(o.v) {}
  boxed_int& operator=(const boxed_int&) = default;
  operator int() const noexcept { return v; }  // NOLINT(google-explicit-constructor)
};

#ifdef SIGS_TEST_ASYNC_BOXED
using payload = boxed_int;
#else
using payload = int;
#endif

// ======================================================================================
// Programs
// ======================================================================================

enum class step_kind : std::uint8_t {
  emit,              // emit([ctx,] v)
  try_emit,          // try_emit([ctx,] v)
  emit_tracked,      // emit_tracked([ctx,] v), waited for at the end
  emit_and_wait,     // emit_and_wait([ctx,] v)
  cancel,            // request_stop() on the program's stop_source (contexts `token`)
  drain,             // drain()
  shutdown_drain,    // pool.shutdown(drain)
  shutdown_discard,  // pool.shutdown(discard)
  add,               // add a new own listener (`listener`)
  remove,            // remove_listener(own listener `slot`, by id or key)
  remove_and_wait,   // remove_listener_and_wait(own listener `slot`, by id or key)
  reset,             // reset()
};
inline constexpr int step_kinds = 12;

inline bool is_emission(step_kind k) { return k <= step_kind::emit_and_wait; }
inline bool is_write(step_kind k) { return k >= step_kind::add; }

/// The context an emission carries.
enum class ctx_kind : std::uint8_t {
  none,        // no context
  token,       // the program's stop token (a `cancel` step may stop it, before or during)
  expired,     // a deadline already past
  soon,        // a deadline 200 us away: may expire while queued
  token_soon,  // both
};
inline constexpr int ctx_kinds = 5;

/// One listener: how it is added and what its call does.
struct listener_plan {
  add_form form = add_form::listener;  // the six add_* forms of reference_model.hpp
  bool keyed = false;                  // forms with a key: registered under "k<slot>"
  outcome result = outcome::ok;        // error needs an error-aware form (else: throws)
  bool slow = false;                   // sleeps 50 us mid-call
  bool probe = false;                  // calls drain() (on a worker) and
                                       // remove_listener_and_wait(itself) from inside
  bool handler_throws = false;         // the error handler throws on its failures
};

struct step {
  step_kind kind = step_kind::emit;
  ctx_kind ctx = ctx_kind::none;  // emissions
  listener_plan listener;         // add
  std::uint8_t slot = 0;          // remove*: own listener slot % count
  bool by_key = false;            // remove*: by key when it has one
};

struct config {
  unsigned pool_threads = 1;   // 1-2
  std::size_t pool_queue = 2;  // pool queue cells (2-4: tiny, so overflow happens)
  sigs::overflow_policy policy = sigs::overflow_policy::block;
  std::size_t capacity = 0;    // signal_options::queue_capacity (0: none of its own)
  bool metrics = true;
  bool handler = true;         // install an error handler
};

struct program {
  config cfg;
  std::vector<listener_plan> setup;        // added on the main thread first, owned by thread 0
  std::vector<std::vector<step>> threads;  // one list per thread, run concurrently
};

/// Listener slots a program may use (one bit each in a 64-bit mask per emission).
inline constexpr std::size_t max_slots = 64;

/// Makes a plan well formed: forms without a key get none. (Any form may end in
/// outcome::error: the callable is then registered error-aware, see aware().)
inline listener_plan normalised(listener_plan l) {
  if (!takes_key(l.form)) l.keyed = false;
  return l;
}

/// Whether a listener is registered error-aware (returns std::error_code).
inline bool aware(const listener_plan& l) { return requires_error_aware(l.form) || l.result == outcome::error; }

enum class mode { single, stable, tracked };

inline mode mode_of(const program& p) {
  if (p.threads.size() <= 1) return mode::single;
  for (const auto& t : p.threads)
    for (const step& s : t)
      if (is_write(s.kind)) return mode::tracked;
  return mode::stable;
}

// ---- printing (RapidCheck counterexamples, fuzzer crash reports) -----------------------

inline const char* name(step_kind k) {
  switch (k) {
    case step_kind::emit: return "emit";
    case step_kind::try_emit: return "try_emit";
    case step_kind::emit_tracked: return "emit_tracked";
    case step_kind::emit_and_wait: return "emit_and_wait";
    case step_kind::cancel: return "cancel";
    case step_kind::drain: return "drain";
    case step_kind::shutdown_drain: return "shutdown(drain)";
    case step_kind::shutdown_discard: return "shutdown(discard)";
    case step_kind::add: return "add";
    case step_kind::remove: return "remove";
    case step_kind::remove_and_wait: return "remove_and_wait";
    case step_kind::reset: return "reset";
  }
  return "?";
}

inline const char* name(ctx_kind c) {
  switch (c) {
    case ctx_kind::none: return "";
    case ctx_kind::token: return "ctx=token";
    case ctx_kind::expired: return "ctx=expired";
    case ctx_kind::soon: return "ctx=200us";
    case ctx_kind::token_soon: return "ctx=token+200us";
  }
  return "?";
}

inline const char* name(sigs::overflow_policy p) {
  switch (p) {
    case sigs::overflow_policy::block: return "block";
    case sigs::overflow_policy::reject: return "reject";
    case sigs::overflow_policy::caller_runs: return "caller_runs";
  }
  return "?";
}

inline std::string describe(const listener_plan& l) {
  std::string out = fmt::form(l.form);
  out += l.keyed ? "[keyed]" : "";
  out += l.result == outcome::ok ? " ok" : l.result == outcome::error ? " error" : " throws";
  out += l.slow ? " slow" : "";
  out += l.probe ? " probe" : "";
  out += l.handler_throws ? " handler-throws" : "";
  return out;
}

inline std::string describe(const step& s) {
  switch (s.kind) {
    case step_kind::add: return "add " + describe(s.listener);
    case step_kind::remove:
    case step_kind::remove_and_wait:
      return std::string(name(s.kind)) + "(own " + std::to_string(s.slot) + (s.by_key ? ", by key)" : ")");
    default: break;
  }
  std::string out = name(s.kind);
  if (is_emission(s.kind) && s.ctx != ctx_kind::none) out += std::string("(") + name(s.ctx) + ")";
  return out;
}

inline std::ostream& operator<<(std::ostream& os, const program& p) {
  os << "pool{threads=" << p.cfg.pool_threads << " queue=" << p.cfg.pool_queue << "} signal{policy="
     << name(p.cfg.policy) << " capacity=" << p.cfg.capacity << " metrics=" << p.cfg.metrics
     << " handler=" << p.cfg.handler << "}\n  setup: ";
  for (std::size_t i = 0; i < p.setup.size(); ++i) os << (i ? ", " : "") << describe(p.setup[i]);
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    os << "\n  thread " << t << ": ";
    for (std::size_t i = 0; i < p.threads[t].size(); ++i) os << (i ? ", " : "") << describe(p.threads[t][i]);
  }
  return os;
}

/// The outcome of one run: empty `violations` means every invariant held.
struct verdict {
  std::vector<std::string> violations;
  std::uint64_t accepted = 0;     // emissions accepted (including the final one)
  std::uint64_t invocations = 0;  // listener calls observed
  std::uint64_t dropped = 0, skipped = 0, rejected = 0;
  bool hung = false;
  [[nodiscard]] bool ok() const { return violations.empty(); }
};

namespace detail {

using clock = std::chrono::steady_clock;

/// What the owning thread knows about one of its listeners.
enum class known : std::uint8_t {
  unused,         // slot never added (its add step did not run)
  live,           // plain, added, not removed: certainly registered
  armed,          // once, certainly not claimed by any emission yet (single mode)
  maybe,          // once, maybe claimed
  fired_pending,  // once, certainly claimed; maybe still in the current snapshot
  fired_gone,     // once, claimed before the last republishing write
  removed,        // the owner's removal succeeded
  killed,         // removed by a reset of the owner (plain: certainly; once: or fired)
  dead,           // removal found nothing, but whether it fired or was reset is unknown
};

struct slot {
  listener_plan plan;
  int index = 0;
  int owner = 0;
  std::string key;
  bool once = false;
  std::atomic<std::uint64_t> id{0};   // set by the owner after its add returned (release)
  std::atomic<bool> added{false};     // set by the owner after its add returned (release)
  std::atomic<bool> removed{false};   // a removal / reset that took it out has returned
  std::atomic<bool> waited{false};    // remove_listener_and_wait of it has returned
  std::atomic<int> calls{0};
  std::atomic<int> running{0};
  std::atomic<int> failures{0};
  // Owner only (read by the main thread after the join):
  known state = known::unused;
  sigs::listener_id lid;
  std::uint64_t epoch_at_add = 0;
  std::uint64_t own_resets_at_add = 0;
};

/// One emission. `gone` is written by the emitter before it emits (so it happens-before
/// every call of the emission); the counters by the listeners; the rest by the emitter.
struct emission_rec {
  std::vector<char> gone;
  std::atomic<std::uint64_t> called{0};  // one bit per slot
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> failed{0};
  // emitter only
  bool ran = false;       // its step ran
  bool accepted = false;  // counts in the accounting
  bool tracked = false;   // `handle` is valid
  bool bounded = false;   // lo/hi hold (untracked: the emitter's bounds)
  bool no_drop = false;   // nothing of it may be dropped (no ctx, pool running, not reject)
  std::uint64_t lo = 0, hi = 0;
  sigs::completion handle;
  std::string what;
};

struct shared {
  program p;
  mode m = mode::single;
  bool has_shutdown = false;  // the program has a shutdown step
  std::unique_ptr<sigs::worker_pool> pool;
  std::unique_ptr<sigs::async_signal<payload>> sig;
  std::vector<std::unique_ptr<slot>> slots;
  std::vector<std::unique_ptr<emission_rec>> emissions;
  std::stop_source stop;
  std::atomic<std::uint64_t> epoch{0};  // two per reset: when it begins and when it has returned
  std::atomic<bool> shutdown_begun{false};
  std::atomic<std::uint64_t> invocations{0}, errors{0}, exceptions{0};
  std::atomic<std::uint64_t> handler_calls{0}, handler_throws{0};
  std::atomic<int> threads_done{0};
  std::mutex mutex;
  std::vector<std::string> violations;  // under mutex

  void fail(std::string what) {
    std::lock_guard lock(mutex);
    if (violations.size() < 24) violations.push_back(std::move(what));
  }
};

/// The reasons a delivery may be dropped (and a try_emit refused).
inline bool drop_reason(std::error_code ec) {
  return ec == sigs::errc::backpressure || ec == sigs::errc::pool_stopped || ec == sigs::errc::canceled ||
         ec == sigs::errc::deadline_exceeded;
}

inline std::error_code expected_error(const slot& l) {
  if (l.plan.result == outcome::throws) return sigs::errc::listener_exception;
  return std::error_code(l.index + 1, std::generic_category());
}

/// The slot a failure came from: the thrown listener_threw carries the slot, an error code
/// is generic_category(slot + 1). -1 if neither.
inline int slot_of(const shared& s, std::error_code ec, const std::exception_ptr& ex) {
  int i = -1;
  if (ex) {
    try {
      std::rethrow_exception(ex);
    } catch (const listener_threw& t) {
      i = static_cast<int>(t.id);
    } catch (...) {
    }
  } else if (ec.category() == std::generic_category()) {
    i = ec.value() - 1;
  }
  return i >= 0 && static_cast<std::size_t>(i) < s.slots.size() ? i : -1;
}

/// The slot of listener `id`, or -1. With `wait`, waits (up to 10 s) for its owner to
/// publish the id: a listener may fail before the add that registered it has returned.
inline int slot_by_id(const shared& s, std::uint64_t id, bool wait) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    for (const auto& l : s.slots)
      if (l->id.load(std::memory_order_acquire) == id) return l->index;
    if (!wait) break;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < end);
  return -1;
}

/// The slot a failure passed to the error handler came from. Unlike slot_of it does not
/// look inside the exception: the handler runs on a worker, and libstdc++'s (uninstrumented)
/// exception_ptr reference counts would make TSan report reading an exception object that
/// another worker frees later as a race.
inline int handler_slot_of(const shared& s, const sigs::listener_error& e) {
  if (!e.exception) return slot_of(s, e.error, nullptr);
  return slot_by_id(s, e.listener.value(), true);
}

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
    me.running.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after a wait that orders it
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
      result = expected_error(me);
    }
    if (e) e->finished.fetch_add(1, std::memory_order_release);  // last: the call is over
    if (me.plan.result == outcome::throws) throw listener_threw{static_cast<std::uint64_t>(index)};
    return result;
  }

  void probe(slot& me, const std::string& who) const {
    // drain() could wait for this very call: on a worker it must refuse. Not called when
    // caller_runs runs this call on the emitting thread: it waits for itself there, forever
    // (regressions.md #3); once fixed, expect would_deadlock there too.
    if (s->pool->on_worker_thread()) {
      const std::error_code ec = s->sig->drain();
      if (ec != sigs::errc::would_deadlock) s->fail(who + ": drain() on a worker returned " + fmt::error(ec));
    }
    const std::uint64_t id = me.id.load(std::memory_order_acquire);
    if (id == 0) return;  // the add has not returned yet
    const std::error_code ec = s->sig->remove_listener_and_wait(sigs::listener_id(id));
    if (ec != sigs::errc::would_deadlock && ec != sigs::errc::not_found)
      s->fail(who + ": remove_listener_and_wait(itself) from inside returned " + fmt::error(ec));
  }
};

template <bool Ctx>
struct plain_fn : listener_fn {
  void operator()(const int& v) const
    requires(!Ctx)
  {
    (void)body(v);
  }
  void operator()(const sigs::context&, const int& v) const
    requires(Ctx)
  {
    (void)body(v);
  }
};

template <bool Ctx>
struct aware_fn : listener_fn {
  std::error_code operator()(const int& v) const
    requires(!Ctx)
  {
    return body(v);
  }
  std::error_code operator()(const sigs::context&, const int& v) const
    requires(Ctx)
  {
    return body(v);
  }
};

template <bool Aware, class F>
sigs::listener_id add_as(sigs::async_signal<payload>& sig, add_form form, F f, const std::string& key) {
  if constexpr (Aware) {
    switch (form) {
      case add_form::listener: return sig.add_listener(std::move(f), key);
      case add_form::listener_with_err: return sig.add_listener_with_err(std::move(f), key);
      case add_form::once: return sig.add_once(std::move(f));
      case add_form::once_with_key: return sig.add_once_with_key(std::move(f), key);
      case add_form::once_with_err: return sig.add_once_with_err(std::move(f));
      case add_form::once_with_err_and_key: return sig.add_once_with_err_and_key(std::move(f), key);
    }
  } else {
    switch (form) {
      case add_form::once:
      case add_form::once_with_err: return sig.add_once(std::move(f));
      case add_form::once_with_key:
      case add_form::once_with_err_and_key: return sig.add_once_with_key(std::move(f), key);
      case add_form::listener:
      case add_form::listener_with_err: return sig.add_listener(std::move(f), key);
    }
  }
  return {};
}

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

  std::vector<int> mine;       // own slots, in order of their adds
  std::uint64_t rejected = 0;  // try_emit errors
  std::uint64_t own_resets = 0;  // this thread's increments of the epoch

  /// Whether another thread's reset may have run since slot `l` was added.
  bool uncertain(const slot& l, std::uint64_t epoch_now) const {
    return epoch_now - l.epoch_at_add != own_resets - l.own_resets_at_add;
  }

 private:
  std::string where() const {
    return (me_ < 0 ? std::string("setup") : "thread " + std::to_string(me_)) + " step " + std::to_string(step_no_) + ": ";
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
    for (std::size_t i = 0; i < rec.gone.size(); ++i) rec.gone[i] = s_.slots[i]->removed.load(std::memory_order_acquire);
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
      case step_kind::emit:
        with_ctx ? sig.emit(ctx, v) : sig.emit(v);
        break;
      case step_kind::try_emit: {
        const std::error_code ec = with_ctx ? sig.try_emit(ctx, v) : sig.try_emit(v);
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
          fail("emit_and_wait returned " + fmt::error(ec) + " though " + std::to_string(failed) + " listener(s) failed");
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
    l.id.store(id.value(), std::memory_order_release);       // pairs with the probe's acquire
    l.added.store(true, std::memory_order_release);          // pairs with a resetter's acquire
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
      const sigs::listener_id bogus((std::uint64_t{1} << 62) + static_cast<std::uint64_t>(step_no_));
      const std::error_code ec = wait ? s_.sig->remove_listener_and_wait(bogus) : s_.sig->remove_listener(bogus);
      if (ec != sigs::errc::not_found) fail(std::string(name(st.kind)) + " of an unknown id returned " + fmt::error(ec));
      return;
    }
    slot& l = *s_.slots[static_cast<std::size_t>(live[st.slot % live.size()])];
    const bool by_key = st.by_key && !l.key.empty();
    const std::string what = std::string(name(st.kind)) + " of listener " + std::to_string(l.index) + (by_key ? " by key" : "");
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
    for (std::size_t i = 0; i < before.size(); ++i) before[i] = s_.slots[i]->added.load(std::memory_order_acquire);
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
    if (s_.m == mode::single && s_.sig->size() != 0) fail("size() " + std::to_string(s_.sig->size()) + " after reset()");
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
      if (e.started.load() != e.finished.load()) fail("drain() returned with invocations of emission " + std::to_string(k) + " running");
      if (e.tracked && !e.handle.done()) fail("drain() returned before the completion of emission " + std::to_string(k));
    }
    const sigs::signal_stats st = s_.sig->stats();
    if (st.in_flight != 0) fail("in_flight " + std::to_string(st.in_flight) + " after drain()");
  }

  void do_step(const step& st) {
    if (is_emission(st.kind)) return emit(st);
    switch (st.kind) {
      case step_kind::cancel:
        s_.stop.request_stop();
        return;
      case step_kind::drain: {
        const std::error_code ec = s_.sig->drain();
        if (ec) return fail("drain() from a program thread returned " + fmt::error(ec));
        if (s_.m == mode::single) settle();
        return;
      }
      case step_kind::shutdown_drain:
      case step_kind::shutdown_discard: {
        s_.shutdown_begun.store(true);
        const std::error_code ec = s_.pool->shutdown(st.kind == step_kind::shutdown_drain ? sigs::shutdown_mode::drain
                                                                                           : sigs::shutdown_mode::discard);
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

}  // namespace detail

/// Runs `p` and checks everything listed at the top of this file. `limit`: how long the
/// program threads, and then the final drain, may take before the run counts as hung.
inline verdict run(const program& p, std::chrono::seconds limit = std::chrono::seconds(120)) {
  using namespace detail;
  const long tokens_before = alive_token::live.load();
  verdict v;
  auto owned = std::make_unique<shared>();
  shared& s = *owned;
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

  s.pool = std::make_unique<sigs::worker_pool>(
      sigs::worker_pool_options{.threads = s.p.cfg.pool_threads, .queue_capacity = s.p.cfg.pool_queue});
  sigs::signal_options opts;
  opts.pool = s.pool.get();
  opts.overflow = s.p.cfg.policy;
  opts.queue_capacity = s.p.cfg.capacity;
  opts.metrics = s.p.cfg.metrics;
  s.sig = std::make_unique<sigs::async_signal<payload>>(opts);
  shared* sp = &s;
  if (s.p.cfg.handler) {
    s.sig->set_error_handler([sp](const sigs::listener_error& e) {
      sp->handler_calls.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count
      const int i = handler_slot_of(*sp, e);
      if (i < 0) return sp->fail("error handler got an unknown failure " + fmt::error(e.error));
      const slot& l = *sp->slots[static_cast<std::size_t>(i)];
      if (e.error != expected_error(l) || e.key != l.key || (l.plan.result == outcome::throws) != bool(e.exception))
        sp->fail("error handler got " + fmt::error(e.error) + " key " + fmt::key(e.key) + " for listener " + std::to_string(i));
      if (l.plan.handler_throws) {
        sp->handler_throws.fetch_add(1, std::memory_order_relaxed);
        throw std::runtime_error("error handler fails too");
      }
    });
  }

  // Setup on this thread, as thread 0's (it owns those listeners), then the threads.
  const std::size_t n = s.p.threads.size();
  std::vector<std::unique_ptr<runner>> runners;
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

  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n; ++t) {
    runner* r = runners[t].get();
    threads.emplace_back([sp, r, t] {
      r->run(sp->p.threads[t]);
      sp->threads_done.fetch_add(1, std::memory_order_release);
    });
  }
  const bool joined = wait_until([&] { return s.threads_done.load(std::memory_order_acquire) == static_cast<int>(n); }, limit);
  const bool drained = joined && wait_until([&] { return s.sig->stats().in_flight == 0; }, limit);
  if (!joined || !drained) {
    s.fail(!joined ? "hung: the program threads did not finish" : "hung: emissions still in flight, drain() would not return");
    for (auto& th : threads) th.detach();
    {
      std::lock_guard lock(s.mutex);
      v.violations = s.violations;
    }
    v.hung = true;
    (void)owned.release();  // detached threads and workers may still use it: leak on purpose
    for (auto& r : runners) (void)r.release();
    return v;
  }
  for (auto& th : threads) th.join();
  if (const std::error_code ec = s.sig->drain()) s.fail("final drain() returned " + fmt::error(ec));

  // Final emission on a running pool: every registered once-listener fires now.
  const bool pool_running = !s.pool->stopped();
  emission_rec& last = *s.emissions.back();
  for (std::size_t i = 0; i < last.gone.size(); ++i) last.gone[i] = s.slots[i]->removed.load(std::memory_order_acquire);
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

  // ---- per emission ---------------------------------------------------------------------
  bool all_tracked = true;
  std::uint64_t lo = 0, hi = 0, accepted = 0, rejected = 0;
  std::uint64_t sum_delivered = 0, sum_dropped = 0, sum_skipped = 0, sum_started = 0, sum_failed = 0;
  for (std::size_t k = 0; k < s.emissions.size(); ++k) {
    emission_rec& e = *s.emissions[k];
    if (!e.ran) continue;
    const int started = e.started.load(), finished = e.finished.load(), failed = e.failed.load();
    sum_started += static_cast<std::uint64_t>(started);
    sum_failed += static_cast<std::uint64_t>(failed);
    const std::string at = "emission " + std::to_string(k) + " (" + e.what + "): ";
    if (started != finished) s.fail(at + std::to_string(started - finished) + " invocation(s) never finished");
    if (!e.accepted) continue;
    ++accepted;
    if (!e.tracked) {
      all_tracked = false;
      lo += e.lo;
      hi += e.hi;
      continue;
    }
    const sigs::completion& c = e.handle;
    if (!c.done()) {
      s.fail(at + "completion not done after drain()");
      continue;
    }
    const std::uint64_t d = c.delivered(), dr = c.dropped(), sk = c.skipped(), total = d + dr + sk;
    sum_delivered += d;
    sum_dropped += dr;
    sum_skipped += sk;
    lo += total;
    hi += total;
    if (d != static_cast<std::uint64_t>(started))
      s.fail(at + "completion reports delivered=" + std::to_string(d) + ", " + std::to_string(started) + " invocation(s) seen");
    if (e.bounded && (total < e.lo || total > e.hi))
      s.fail(at + "completion accounts for " + std::to_string(total) + " listeners, expected " + std::to_string(e.lo) +
             (e.lo == e.hi ? "" : ".." + std::to_string(e.hi)));
    if (e.no_drop && dr != 0) s.fail(at + std::to_string(dr) + " deliveries dropped without a context, pool running, policy " + name(s.p.cfg.policy));
    const std::vector<sigs::delivery_failure> fs = c.failures();
    if (fs.size() != static_cast<std::size_t>(failed))
      s.fail(at + "completion reports " + std::to_string(fs.size()) + " failure(s), " + std::to_string(failed) + " seen");
    for (const auto& f : fs) {
      const int i = slot_of(s, f.error, f.exception);
      if (i < 0) {
        s.fail(at + "completion reports an unknown failure " + fmt::error(f.error));
        continue;
      }
      const slot& l = *s.slots[static_cast<std::size_t>(i)];
      if (f.error != expected_error(l) || f.key != l.key || !(f.listener == l.lid) ||
          (l.plan.result == outcome::throws) != bool(f.exception))
        s.fail(at + "failure " + fmt::error(f.error) + " key " + fmt::key(f.key) + " does not describe listener " + std::to_string(i));
      if (!((e.called.load() >> i) & 1)) s.fail(at + "failure of listener " + std::to_string(i) + ", which it did not call");
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
  for (const auto& r : runners) rejected += r->rejected;

  // ---- totals ------------------------------------------------------------------------------
  const sigs::signal_stats st = s.sig->stats();
  const std::uint64_t total = st.delivered + st.dropped + st.skipped;
  const std::uint64_t seen = s.invocations.load();
  auto num = [](std::uint64_t x) { return std::to_string(x); };
  if (st.delivered != seen) s.fail("stats().delivered " + num(st.delivered) + ", listener invocations seen " + num(seen));
  if (sum_started != seen) s.fail("emissions account for " + num(sum_started) + " invocations, listeners saw " + num(seen));
  if (total < lo || total > hi)
    s.fail("delivered + dropped + skipped = " + num(st.delivered) + " + " + num(st.dropped) + " + " + num(st.skipped) +
           " = " + num(total) + ", accepted emissions account for " + num(lo) + (lo == hi ? "" : ".." + num(hi)));
  if (all_tracked && (st.delivered != sum_delivered || st.dropped != sum_dropped || st.skipped != sum_skipped))
    s.fail("stats() delivered/dropped/skipped " + num(st.delivered) + "/" + num(st.dropped) + "/" + num(st.skipped) +
           ", the completions sum to " + num(sum_delivered) + "/" + num(sum_dropped) + "/" + num(sum_skipped));
  if (st.rejected != rejected) s.fail("stats().rejected " + num(st.rejected) + ", try_emit errors " + num(rejected));
  if (st.emits != accepted) s.fail("stats().emits " + num(st.emits) + ", accepted emissions " + num(accepted));
  if (st.in_flight != 0) s.fail("stats().in_flight " + num(st.in_flight) + " after drain()");
  if (st.errors != s.errors.load() || st.exceptions != s.exceptions.load())
    s.fail("stats() errors/exceptions " + num(st.errors) + "/" + num(st.exceptions) + ", listeners returned/threw " +
           num(s.errors.load()) + "/" + num(s.exceptions.load()));
  if (sum_failed != s.errors.load() + s.exceptions.load()) s.fail("failures per emission do not add up");
  if (s.p.cfg.metrics && st.listener_calls != seen)
    s.fail("stats().listener_calls " + num(st.listener_calls) + ", invocations " + num(seen));
  const std::uint64_t handled = s.p.cfg.handler ? s.errors.load() + s.exceptions.load() : 0;
  if (s.handler_calls.load() != handled) s.fail("error handler called " + num(s.handler_calls.load()) + " times for " + num(handled) + " failures");
  if (st.handler_failures != s.handler_throws.load())
    s.fail("stats().handler_failures " + num(st.handler_failures) + ", handler threw " + num(s.handler_throws.load()));

  // ---- per listener ------------------------------------------------------------------------
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
        if (l.once && calls != 0) s.fail(who + ": removed successfully, yet called " + std::to_string(calls) + " times");
        if (final_called) s.fail(who + ": called by the final emission after its removal");
        break;
      case known::fired_pending:
      case known::fired_gone:
        if (sure && calls != 1) s.fail(who + ": fired (its removal found nothing), called " + std::to_string(calls) + " times");
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
      case known::unused:
        break;
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
          s.fail(who + ": metadata error_count " + num(md->error_count) + ", failures " + std::to_string(l.failures.load()));
        if (s.p.cfg.metrics && md->call_count != static_cast<std::uint64_t>(calls))
          s.fail(who + ": metadata call_count " + num(md->call_count) + ", calls " + std::to_string(calls));
        if (md->key != l.key || md->is_once != l.once || md->is_error_aware != aware(l.plan))
          s.fail(who + ": metadata does not describe it");
      }
    }
  }
  if (size_known && s.sig->size() != expect_size)
    s.fail("end: size() " + std::to_string(s.sig->size()) + ", expected " + std::to_string(expect_size));

  v.accepted = accepted;
  v.invocations = seen;
  v.dropped = st.dropped;
  v.skipped = st.skipped;
  v.rejected = st.rejected;

  s.sig.reset();
  const sigs::worker_pool_stats ps = s.pool->stats();
  if (ps.exceptions != 0) s.fail("end: " + num(ps.exceptions) + " exception(s) escaped to the pool");
  s.pool.reset();
  s.slots.clear();
  if (alive_token::live.load() != tokens_before) s.fail("end: listener callables leaked or destroyed twice");
  v.violations = std::move(s.violations);
  return v;
}

}  // namespace sigs_test::async
