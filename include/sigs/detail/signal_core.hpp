// sigs/detail/signal_core.hpp — the copy-on-write listener list every signal is built on.
//
// State:
//   head_      atomic pointer to the current immutable snapshot (snapshot.hpp): an array
//              of entry pointers plus the error handler. Emit reads it under a hazard
//              pointer.
//   entries    one heap object per listener, shared by successive snapshots, holding the
//              type-erased callable and an atomic state (listener_entry.hpp).
//              A state change is the logical removal: it is immediate for every emission,
//              including those already walking an older snapshot. The next write builds a
//              snapshot without dead entries (physical removal).
//   mutex_     serialises writers. Emit never takes it.
//   retired_   snapshots replaced but maybe still read; freed by scan() once no hazard
//              slot holds them. Entries are reference-counted by the snapshots that hold
//              them (a plain count, touched only under mutex_) and destroyed, outside the
//              lock, with the last snapshot.
//
// Memory orders, labelled as in hazard.hpp and call_tracking.hpp:
//   (CORE-P1) head_.store(seq_cst) publishes a snapshot: release for its contents and the
//             entries' construction (read by HP-H2's acquire), seq_cst for the scan argument.
//   (CORE-K1) the removal's state CAS (seq_cst): the WAIT-1 of call_tracking.hpp's call protocol
//             (seq_cst for the deep calls' Dekker there).
//   (CORE-K2) a once-listener's claim CAS (acq_rel): orders the claimer's CALL-1 before a
//             waiter that reads `fired` (kill()'s failed CAS, or CORE-K5's acquire load).
//   (CORE-K3) release(): a held snapshot's unpin (release), after a worker's last use.
//   (CORE-K4) scan(): the unpin count's acquire load, before the snapshot is freed.
//   (CORE-K5) remove_and_wait(): an acquire load of the state, for a `fired` that
//             find_alive() read relaxed (pairs with CORE-K2).
//   (CORE-E1) / (CORE-E2) the acquire / release of an entry's error lock
//             (listener_entry.hpp).
//   (HP-H2)   is the guard's validating load in hazard.hpp.
//
// This header is written only against the atomics policy A, so models/ instantiates it
// with Relacy. The public sync_signal / async_signal wrap it.
//
// Why over 400 lines: the writers, the emission loop, the removal wait and the
// reclamation all work on the same private state (head_, retired_, the writer mutex and
// the counters) under the one protocol argued above. What stands alone is in headers of
// its own: the entry (listener_entry.hpp), the listener traits (listener_traits.hpp)
// and the snapshot (snapshot.hpp).
#pragma once

// `emit` is a member function name here; Qt defines it as a macro.
#pragma push_macro("emit")
#undef emit

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sigs/context.hpp>
#include <sigs/detail/atomics.hpp>
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/listener_entry.hpp>
#include <sigs/detail/listener_traits.hpp>
#include <sigs/detail/modes.hpp>
#include <sigs/detail/snapshot.hpp>
#include <sigs/detail/port.hpp>
#include <sigs/detail/trace_hooks.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>

namespace sigs::detail {

/// The copy-on-write listener list. `Domain` is a signal_domain (call_tracking.hpp) over
/// the same policy. `Pins`: whether snapshots can be held past their hazard (hold(),
/// async signals only).
template <class A, class T, class Domain, snapshot_pins Pins = snapshot_pins::none>
class signal_core {
 public:
  using policy = A;
  using entry_t = entry<A, T>;
  using details_t = entry_details<A>;
  using record = typename Domain::record;
  using frame = typename Domain::frame;

  using snapshot = detail::snapshot<A, T, Pins>;
  using error_handler = typename snapshot::error_handler;
  static_assert(alignof(snapshot) == cache_line && sizeof(snapshot) % cache_line == 0);
  static_assert(alignof(snapshot) >= alignof(entry_t*));

  explicit signal_core(Domain& domain) : domain_(domain) {
    head_.store(snapshot::make(0, 0, nullptr), std::memory_order_relaxed);  // not yet shared
    active_.store(0, std::memory_order_relaxed);                            // not yet shared
    level_.store(0, std::memory_order_relaxed);                             // not yet shared
    for (auto* c : {&emits_, &errors_, &exceptions_, &canceled_, &handler_failures_, &unrecorded_failures_})
      c->store(0, std::memory_order_relaxed);  // not yet shared
  }

  signal_core(const signal_core&) = delete;
  signal_core& operator=(const signal_core&) = delete;

  /// Destroying a signal while another thread uses it is undefined, as for any object;
  /// so nothing protects these snapshots any more.
  ~signal_core() {
    garbage g;
    free_snapshot(head_.load(std::memory_order_relaxed), g);  // relaxed: no concurrent access
    for (snapshot* s : retired_) free_snapshot(s, g);
  }

  // ---- writers --------------------------------------------------------------------

  template <class F>
  listener_id add(F&& f, std::string_view key, bool once) {
    using fn_t = std::decay_t<F>;
    if (is_empty_callable(f)) return listener_id::refused(errc::invalid_listener);
    garbage g;
    std::lock_guard<typename A::mutex> lock(mutex_);
    snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
    // A fire or removal racing with this check linearises either way.
    if (!key.empty() && find_key_alive(cur, key)) return listener_id::refused(errc::duplicate_key);
    const std::uint64_t id = domain_.new_listener_id();
    // The details now, when the entry will need them (entry_details); else an exception
    // makes them on the emit path, or set_metrics() under this mutex.
    std::unique_ptr<details_t> details;
    const bool metered = level() != metrics_level::off;
    if (!key.empty() || is_error_aware<fn_t, T> || metered)
      details = std::make_unique<details_t>(std::string(key), metered ? make_listener_meter(!key.empty()) : nullptr);
    std::unique_ptr<entry_t, entry_deleter> e(new entry_impl<A, T, fn_t>(std::forward<F>(f), id, once, details.get()));
    (void)details.release();  // the entry owns them now
    const counts c = alive_counts(cur);
    snapshot* next = make_successor(c.alive + 1, c.keyed + (key.empty() ? 0 : 1), cur->handler);
    active_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; see size()
    republish(cur, next, e.release(), g);
    return listener_id_access::make(id);
  }

  /// Logically removes the first live listener matching `pred` and republishes.
  template <class Pred>
  std::error_code remove(Pred pred) {
    return remove_found([&](snapshot* cur) { return find_alive(cur, pred); });
  }

  /// remove() of the live listener with this (non-empty) key, found through the key index.
  std::error_code remove_key(std::string_view key) {
    return remove_found([&](snapshot* cur) { return find_key_alive(cur, key); });
  }

  /// Logically removes the live listener `find(current snapshot)` returns, if any, and
  /// republishes.
  template <class Find>
  std::error_code remove_found(Find find) {
    garbage g;
    {
      std::lock_guard<typename A::mutex> lock(mutex_);
      snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
      entry_t* e = find(cur);
      if (!e) return errc::not_found;
      const counts c = alive_counts(cur);
      snapshot* next = make_successor(c.alive, c.keyed, cur->handler);
      if (!kill(e)) {
        snapshot::destroy(next);
        return errc::not_found;
      }
      republish(cur, next, nullptr, g);
    }
    return {};
  }

  /// remove(), then waits until no other thread is calling the listener: every entry
  /// `pred` matches, alive or not (removed, fired or reset before), in any snapshot an
  /// emission may still be walking. `self` is the calling thread's record: its own calls
  /// are not waited for. Returns
  ///   {}              removed, and no other thread is calling it any more;
  ///   not_found       nothing alive matched; no other thread is calling a dead match;
  ///   would_deadlock  the calling thread is itself calling the (alive) listener: nothing
  ///                   done. Or: the wait is part of a cycle (a thread calling it waits,
  ///                   directly or through others, for a listener this thread is calling);
  ///                   the removal is done, but a call may still be running.
  /// `M == matches::at_most_one`: `pred` matches one entry ever (an id), so the search for entries to
  /// wait for stops at the first: it does not walk every retired snapshot, which matters
  /// while a reader nested past its slots keeps them all.
  template <matches M = matches::any_number, class Pred>
  std::error_code remove_and_wait(record& self, Pred pred) {
    garbage g;
    std::vector<entry_t*> targets;  // kept alive by a reference each (refs) while we wait
    std::error_code result;
    {
      std::lock_guard<typename A::mutex> lock(mutex_);
      snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
      entry_t* e = find_alive(cur, pred);
      if (e && Domain::calling(self, e->id)) return errc::would_deadlock;
      const counts c = e ? alive_counts(cur) : counts{};
      snapshot* next = e ? make_successor(c.alive, c.keyed, cur->handler) : nullptr;
      try {
        // Every snapshot an emission may walk is the current one or a retired one (a freed
        // snapshot is protected by nobody): so are the entries any call can be running.
        if constexpr (M == matches::at_most_one) {
          if (e) {
            targets.push_back(e);
          } else {
            gather(cur, pred, targets);
            // newest first: a dead id is most likely in the last ones; the first match is all
            for (auto s = retired_.rbegin(); s != retired_.rend() && targets.empty(); ++s) gather(*s, pred, targets);
          }
        } else {
          gather(cur, pred, targets);
          for (snapshot* s : retired_) gather(s, pred, targets);
        }
      } catch (...) {
        if (next) snapshot::destroy(next);
        throw;
      }
      for (entry_t* t : targets) ++t->refs;
      if (e && kill(e)) {
        republish(cur, next, nullptr, g);
      } else {
        if (next) snapshot::destroy(next);
        result = errc::not_found;
      }
    }
    g.release();
    struct unref {
      signal_core& core;
      std::vector<entry_t*>& targets;
      ~unref() {
        garbage dead;
        {
          std::lock_guard<typename A::mutex> lock(core.mutex_);
          for (entry_t* t : targets) core.drop_ref(t, dead);
        }
      }
    } drop_on_exit{*this, targets};
    for (entry_t* t : targets) {
      // (CORE-K5) acquire: pairs with a once-listener's claim (CORE-K2, release), which
      // find_alive() may have seen as `fired` with a relaxed load: the claimer's CALL-1 is
      // then ordered before our look at the call words.
      (void)t->state.load(std::memory_order_acquire);
      std::uint32_t own_deep = 0;
      Domain::calling(self, t->id, &own_deep);
      if (!domain_.wait_for_calls(self, t->id, t->deep_calls, own_deep)) return errc::would_deadlock;
    }
    return result;
  }

  void reset() {
    garbage g;
    std::lock_guard<typename A::mutex> lock(mutex_);
    snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
    snapshot* next = make_successor(0, 0, cur->handler);
    for (entry_t* e : *cur) kill(e);
    republish(cur, next, nullptr, g);
  }

  void set_error_handler(error_handler h) {
    garbage g;
    std::lock_guard<typename A::mutex> lock(mutex_);
    snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
    auto handler = h ? std::make_shared<const error_handler>(std::move(h)) : nullptr;
    const counts c = alive_counts(cur);
    republish(cur, make_successor(c.alive, c.keyed, handler), nullptr, g);
  }

  /// Sets the metrics level. Any level but off first gives the signal its meter and every
  /// alive entry its details and meter (the counters live there); throws std::bad_alloc,
  /// with the level left as it was, if their memory runs out.
  void set_metrics(metrics_level lvl) {
    if (lvl == metrics_level::off) {
      set_level_bits(level_metrics_mask, 0);
      return;
    }
    std::lock_guard<typename A::mutex> lock(mutex_);        // no entry is added meanwhile without its meter
    snapshot* cur = head_.load(std::memory_order_relaxed);  // relaxed: writers hold mutex_
    std::unique_ptr<signal_meter> sm;
    if (meter_owner_ == nullptr) sm = std::make_unique<signal_meter>(sample_every_);
    // Everything that can fail first, so that a failure changes nothing.
    std::vector<std::unique_ptr<details_t>> made;
    std::vector<std::unique_ptr<listener_meter>> meters;
    for (entry_t* e : *cur) {
      details_t* d = e->details_if_any();
      if (d == nullptr) {
        made.push_back(std::make_unique<details_t>(std::string(), make_listener_meter(false)));
        // A spare, for when an emitter's first exception installs meter-less details first.
        meters.push_back(make_listener_meter(false));
      } else if (d->meter.load(std::memory_order_relaxed) == nullptr) {  // relaxed: set under mutex_
        meters.push_back(make_listener_meter(!d->key.empty()));
      }
    }
    auto next_details = made.begin();
    auto next_meter = meters.begin();
    for (entry_t* e : *cur) {
      details_t* d = e->details_if_any();
      if (d == nullptr) {
        details_t* fresh = (next_details++)->release();
        d = e->adopt_details(fresh);  // deletes `fresh` if an emitter installed details first
        if (d == fresh) {
          ++next_meter;  // its spare is not needed
          continue;
        }
      }
      if (d->meter.load(std::memory_order_relaxed) == nullptr)                 // relaxed: set under mutex_
        d->meter.store((next_meter++)->release(), std::memory_order_release);  // (MTR-1) pairs with count_call()
    }
    if (sm) {
      meter_owner_ = std::move(sm);
      // (MTR-2) release: the meter's construction, to the acquire in metering_for().
      meter_.store(meter_owner_.get(), std::memory_order_release);
    }
    set_level_bits(level_metrics_mask, static_cast<std::uint8_t>(lvl));
  }

  /// The level set_metrics() last set.
  [[nodiscard]] metrics_level level() const noexcept {
    const std::uint8_t bits = level_.load(std::memory_order_relaxed);  // relaxed: a switch, no data
    return static_cast<metrics_level>(bits & level_metrics_mask);
  }

  /// Installs `t` as the signal's tracer (null: tracing off), for emissions that start
  /// from now on (trace_hooks.hpp, TRC-1).
  void set_tracer(sigs::tracer* t) {
    std::lock_guard<typename A::mutex> lock(mutex_);  // the pointer and the bit change together
    trace_.install(t);                                // (TRC-1) before the bit
    set_level_bits(level_traced, t != nullptr ? level_traced : 0);
  }

  /// The installed tracer (null when none).
  [[nodiscard]] sigs::tracer* get_tracer() const noexcept { return trace_.installed(); }

  /// The name the tracer is told. Set before the signal is shared.
  void set_trace_name(std::string name) { trace_.set_name(std::move(name)); }

  /// The tracer of an emission starting now, or null when tracing is off: one relaxed
  /// load of the level byte and a branch (async emits; sync ones read it in metering_for()).
  SIGS_ALWAYS_INLINE sigs::tracer* tracer_for_emit() const noexcept {
    const std::uint8_t bits = level_.load(std::memory_order_relaxed);  // relaxed: a switch, no data
    if (SIGS_LIKELY((bits & level_traced) == 0)) return nullptr;
    return trace_.installed();  // (TRC-1)
  }

  /// The signal's tracing state: its tracer's calls, made exception-safe.
  [[nodiscard]] trace_state& tracing() noexcept { return trace_; }

  /// The sampling period the signal's meter will use (before metrics are first switched on).
  void set_sample_every(std::uint32_t n) noexcept { sample_every_ = n; }

  // ---- readers --------------------------------------------------------------------

  [[nodiscard]] std::size_t size() const noexcept {
    // relaxed: the count changes at the same linearisation points as the states; any
    // happens-before a caller has with those changes carries over by coherence.
    return active_.load(std::memory_order_relaxed);
  }

  /// Calls fn(entry&) for every alive entry of the current snapshot, under a hazard.
  template <class Fn>
  void for_each_alive(record& rec, Fn&& fn) {
    typename Domain::guard g(domain_, rec);
    snapshot* s = g.template protect<snapshot>(head_, overflow_);
    for (entry_t* e : *s)
      if (is_alive(e->state.load(std::memory_order_relaxed))) fn(*e);  // relaxed: see emit
  }

  /// Calls fn(entry&) for the alive entry with this (non-empty) key in the current
  /// snapshot, under a hazard; returns whether there was one. O(1) expected.
  template <class Fn>
  bool with_key(record& rec, std::string_view key, Fn&& fn) {
    typename Domain::guard g(domain_, rec);
    snapshot* s = g.template protect<snapshot>(head_, overflow_);
    entry_t* e = find_key_alive(s, key);
    if (e != nullptr) fn(*e);
    return e != nullptr;
  }

  static listener_metadata metadata_of(entry_t& e) {
    listener_metadata m;
    m.id = listener_id_access::make(e.id);
    m.key = e.key();
    m.added_at = std::chrono::system_clock::time_point(std::chrono::system_clock::duration(e.added_at));
    if (details_t* d = e.details_if_any()) {
      if (const listener_meter* lm = d->meter.load(std::memory_order_acquire))
        m.call_count = lm->calls.read();  // (MTR-1)
      auto err = d->read_error();         // count and value from one critical section
      m.error_count = err.count;
      m.last_error = err.last;
      m.last_exception = std::move(err.exception);
      m.last_called = std::chrono::system_clock::time_point(
          std::chrono::system_clock::duration(d->last_called.load(std::memory_order_relaxed)));  // relaxed: a statistic
    }
    m.is_once = e.once;
    m.is_error_aware = e.error_aware;
    return m;
  }

  [[nodiscard]] signal_stats stats() const noexcept {
    signal_stats s;  // relaxed everywhere: independent statistics
    s.emits = emits_.load(std::memory_order_relaxed);
    if (const signal_meter* m = meter_.load(std::memory_order_acquire)) {  // (MTR-2)
      s.emits += m->sum(&signal_meter::slot_state::emits);
      s.listener_calls = m->sum(&signal_meter::slot_state::calls);
    }
    s.errors = errors_.load(std::memory_order_relaxed);
    s.exceptions = exceptions_.load(std::memory_order_relaxed);
    s.canceled = canceled_.load(std::memory_order_relaxed);
    s.handler_failures = handler_failures_.load(std::memory_order_relaxed);
    s.unrecorded_failures = unrecorded_failures_.load(std::memory_order_relaxed);
    s.tracer_failures = trace_.failures();
    return s;
  }

  /// Reads the signal's metrics (signal_metrics) except `stats`, `name` and `is_async`,
  /// which the signal fills in: the keyed listeners alive now, the unkeyed fold, and the
  /// histograms. Allocates (throws std::bad_alloc).
  void read_metrics(record& rec, signal_metrics& out) {
    out.level = level();
    out.listeners = size();
    // The entries under a hazard; what each holds is read by functions that do not depend
    // on T (listener_entry.hpp, meter.hpp).
    for_each_alive(rec, [&](entry_t& e) { read_keyed(e.details_if_any(), out); });
    read_fold(meter_.load(std::memory_order_acquire), out);  // (MTR-2)
  }

  // ---- emission -------------------------------------------------------------------

  /// What running one entry did.
  enum class run_status { skipped, ok, failed, stopped };

  /// What an emission records into (metering_for()): no meter when metrics are off.
  struct metering {
    signal_meter* meter = nullptr;
    unsigned slot = 0;
    metrics_level level = metrics_level::off;
    bool traced = false;  // the trace bit was set (trace_hooks.hpp)
    /// At the full level, when the previous call of this emission ended: the next call's
    /// start, so that each call costs one clock read, not two. Its time then includes the
    /// emission's own step between the two calls (a few nanoseconds).
    mutable std::uint64_t last_end = 0;
  };

  /// How one listener call is timed; `sampled` calls also set last_called.
  struct call_timing {
    bool timed = false;
    bool sampled = false;
    std::uint64_t start = 0;
  };

  /// What emit() returns: nothing when it records failures, an emit_result when it stops.
  template <on_failure OnFailure>
  using emit_return = std::conditional_t<OnFailure == on_failure::stop, emit_result, void>;

  /// Runs `e` if it is alive, claiming it first if it is a once-entry, in frame `f`. On
  /// `failed`, `fail` says why (with the exception for a throw); on `stopped`,
  /// `fail->error` is the context's error and the entry was not started (nor claimed).
  /// The call is announced in the thread's record first (call_tracking.hpp, CALL-1), so that
  /// remove_and_wait sees it, and the state is read after that (CALL-2). `Fence` is the
  /// domain's mode (asymmetric()), fixed per emission by the caller.
  /// `Traced`: the call gets a span of tracer `t`, a child of `ctx.trace()`.
  template <ctx_check Check, fence_mode Fence, bool Traced = false>
  SIGS_ALWAYS_INLINE run_status run_entry(frame& f, entry_t& e, const context& ctx, const T& value, const metering& m,
                                          std::optional<failure>& fail, [[maybe_unused]] sigs::tracer* t = nullptr) {
    if constexpr (Check == ctx_check::each_listener) {
      if (stop_requested(ctx, fail)) {
        // relaxed: only tells a dead entry (skipped) from a live one (stopped); no data.
        return is_alive(e.state.load(std::memory_order_relaxed)) ? run_status::stopped : run_status::skipped;
      }
    }
    domain_.template begin_call<Fence>(f, e.id, e.deep_calls);
    // (CALL-2) see call_tracking.hpp: after CALL-1 and CALL-4; the state guards no data (the entry
    // was published with the snapshot, CORE-P1/HP-H2).
    std::uint32_t st = e.state.load(Domain::validate_order(f));
    if (SIGS_UNLIKELY(st != state_live)) {
      // A once-entry's claim is its validation: the RMW reads the latest state.
      if (st != state_armed || !claim_once(e, st)) {
        domain_.template end_call<Fence>(f, e.deep_calls, true);
        return run_status::skipped;
      }
    }
    call_timing timing;
    if (SIGS_UNLIKELY(m.meter != nullptr)) timing = start_call(m);
    bool failed;
    if constexpr (Traced) {
      failed = invoke_traced(e, ctx, value, *t, fail);
    } else {
      try {
        failed = e.invoke(&e, ctx, value, fail);
      } catch (...) {
        fail.emplace(failure{errc::listener_exception, std::current_exception()});
        failed = true;
      }
    }
    if (SIGS_UNLIKELY(m.meter != nullptr)) count_call(e, m, timing);
    if (SIGS_LIKELY(!failed)) {
      domain_.template end_call<Fence>(f, e.deep_calls, false);  // the next call (or the frame's end) clears it
      return run_status::ok;
    }
    domain_.template end_call<Fence>(f, e.deep_calls, true);  // returned: the error handler may wait for it
    m.last_end = 0;                                           // the error handler's time is no listener's
    on_error(e, fail->error, fail->exception);
    return run_status::failed;
  }

  /// run_entry() with the domain's mode chosen here (one branch per call): for the async
  /// workers, whose loop is not instantiated per mode.
  template <ctx_check Check>
  run_status run_entry_any(frame& f, entry_t& e, const context& ctx, const T& value, const metering& m,
                           std::optional<failure>& fail) requires(Pins == snapshot_pins::counted) {
    if (SIGS_UNLIKELY(m.traced)) return run_entry_traced<Check>(f, e, ctx, value, m, fail);
    return domain_.asymmetric() ? run_entry<Check, fence_mode::asymmetric>(f, e, ctx, value, m, fail)
                                : run_entry<Check, fence_mode::symmetric>(f, e, ctx, value, m, fail);
  }

  /// run_entry_any() with a span for the call, when the signal still has a tracer; `ctx`
  /// carries the emit span's context.
  template <ctx_check Check>
  SIGS_COLD run_status run_entry_traced(frame& f, entry_t& e, const context& ctx, const T& value, const metering& m,
                                        std::optional<failure>& fail) requires(Pins == snapshot_pins::counted) {
    sigs::tracer* t = trace_.installed();  // (TRC-1)
    if (t == nullptr) {
      return domain_.asymmetric() ? run_entry<Check, fence_mode::asymmetric>(f, e, ctx, value, m, fail)
                                  : run_entry<Check, fence_mode::symmetric>(f, e, ctx, value, m, fail);
    }
    return domain_.asymmetric() ? run_entry<Check, fence_mode::asymmetric, true>(f, e, ctx, value, m, fail, t)
                                : run_entry<Check, fence_mode::symmetric, true>(f, e, ctx, value, m, fail, t);
  }

  /// Calls `e` in a span of tracer `t`, the child of `ctx.trace()`, and under a context
  /// carrying that span; as run_entry() does otherwise, a throw becomes a failure.
  bool invoke_traced(entry_t& e, const context& ctx, const T& value, sigs::tracer& t, std::optional<failure>& fail) {
    const std::optional<trace_span> span =
        trace_.begin_call(t, Pins == snapshot_pins::counted, e.id, e.key(), ctx.trace());
    bool failed;
    try {
      failed = e.invoke(&e, child_context(ctx, span), value, fail);
    } catch (...) {
      fail.emplace(failure{errc::listener_exception, std::current_exception()});
      failed = true;
    }
    if (span) {
      if (failed) {
        trace_.end_call(t, *span, fail->error, fail->exception);
      } else {
        trace_.end_call(t, *span, {}, nullptr);
      }
    }
    return failed;
  }

  /// Moves an armed once-entry to fired; true for the one caller that does.
  SIGS_COLD bool claim_once(entry_t& e, std::uint32_t st) noexcept {
    // (CORE-K2) acq_rel: exactly-once needs only the RMW's atomicity; the release orders
    // this thread's CALL-1 before a remove_and_wait that reads `fired` (acquire there).
    if (!e.state.compare_exchange_strong(st, state_fired, std::memory_order_acq_rel, std::memory_order_relaxed))
      return false;
    active_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: see size()
    return true;
  }

  SIGS_COLD static bool stop_requested(const context& ctx, std::optional<failure>& fail) {
    std::error_code ec = ctx.error();
    if (!ec) return false;
    fail.emplace(failure{ec, nullptr});
    return true;
  }

  /// Runs the listeners of the current snapshot in order on the calling thread.
  /// `on_failure::stop`: stop at the first error or exception and report it, instead of
  /// recording it and going on. `ctx_check::each_listener`: test the context before each
  /// listener.
  template <on_failure OnFailure, ctx_check Check>
  emit_return<OnFailure> emit(record& rec, const context& ctx, const T& value) {
    // One instantiation of the loop per fence mode: the per-call protocol differs.
    if (domain_.asymmetric()) return emit_in<OnFailure, Check, fence_mode::asymmetric>(rec, ctx, value);
    return emit_in<OnFailure, Check, fence_mode::symmetric>(rec, ctx, value);
  }

 private:
  /// How many listeners ahead emit_in() prefetches an entry.
  static constexpr std::ptrdiff_t prefetch_distance = 4;

  template <on_failure OnFailure, ctx_check Check, fence_mode Fence>
  emit_return<OnFailure> emit_in(record& rec, const context& ctx, const T& value) {
    typename Domain::guard g(domain_, rec);
    snapshot* s = g.template protect<snapshot>(head_, overflow_);
    frame_scope fs(domain_, rec, this);
    // The metering (metering_for()): with metrics and tracing off, one relaxed load and a
    // branch, then the loop with an empty metering; anything else is out of line.
    const std::uint8_t bits = level_.load(std::memory_order_relaxed);  // relaxed: a switch, no data
    if (SIGS_LIKELY(bits == 0)) return walk<OnFailure, Check, Fence>(fs.f, s, ctx, value, metering{});
    return emit_metered<OnFailure, Check, Fence>(fs.f, s, ctx, value, bits);
  }

  /// emit_in() with metrics or tracing on, as the level byte `bits` says.
  template <on_failure OnFailure, ctx_check Check, fence_mode Fence>
  [[gnu::noinline]] emit_return<OnFailure> emit_metered(frame& f, snapshot* s, const context& ctx, const T& value,
                                                        std::uint8_t bits) {
    const metering m = metering_for_emit(bits);
    if (SIGS_UNLIKELY(m.traced)) return emit_traced<OnFailure, Check, Fence>(f, s, ctx, value, m);
    return walk<OnFailure, Check, Fence>(f, s, ctx, value, m);
  }

  /// The first failure of a traced emission that records its failures (the end_emit
  /// status; an emission that stops returns it in its emit_result).
  struct first_failure {
    std::optional<failure> first;
    void note(const failure& f) {
      if (!first) first.emplace(f);
    }
  };

  /// emit_in() with a span for the emission, the child of `ctx.trace()`, and one for each
  /// listener call, the child of the emission's; untraced if the tracer is gone already.
  template <on_failure OnFailure, ctx_check Check, fence_mode Fence>
  SIGS_COLD emit_return<OnFailure> emit_traced(frame& f, snapshot* s, const context& ctx, const T& value,
                                               const metering& m) {
    sigs::tracer* installed = trace_.installed();  // (TRC-1)
    if (installed == nullptr) return walk<OnFailure, Check, Fence>(f, s, ctx, value, m);
    sigs::tracer& t = *installed;
    const std::optional<trace_span> span = trace_.begin_emit(t, false, ctx.trace());
    const context ectx = child_context(ctx, span);
    first_failure failed;
    if constexpr (OnFailure == on_failure::stop) {
      emit_result r;
      try {
        r = walk<OnFailure, Check, Fence, true>(f, s, ectx, value, m, &failed, &t);
      } catch (...) {
        if (span) trace_.end_emit(t, *span, {}, std::current_exception());
        throw;
      }
      if (span) trace_.end_emit(t, *span, r.error, r.exception);
      return r;
    } else {
      try {
        walk<OnFailure, Check, Fence, true>(f, s, ectx, value, m, &failed, &t);
      } catch (...) {
        if (span) trace_.end_emit(t, *span, {}, std::current_exception());
        throw;
      }
      if (span) {
        if (failed.first) {
          trace_.end_emit(t, *span, failed.first->error, failed.first->exception);
        } else {
          trace_.end_emit(t, *span, {}, nullptr);
        }
      }
    }
  }

  /// The emission loop over snapshot `s`, in frame `f`. `Traced`: each call gets a span
  /// of tracer `t` (run_entry), and `failed` hears of each failure the emission records.
  template <on_failure OnFailure, ctx_check Check, fence_mode Fence, bool Traced = false>
  SIGS_ALWAYS_INLINE emit_return<OnFailure> walk(frame& f, snapshot* s, const context& ctx, const T& value,
                                                 const metering& m, [[maybe_unused]] first_failure* failed = nullptr,
                                                 [[maybe_unused]] sigs::tracer* t = nullptr) {
    constexpr bool Try = OnFailure == on_failure::stop;
    std::size_t called = 0;
    std::optional<failure> fail;
    entry_t* const* const end = s->end();
    for (entry_t* const* it = s->begin(); it != end; ++it) {
      entry_t* e = *it;
      // The entries are apart from the array: ask for one a few listeners ahead, so that a
      // long list waits on no entry's first line (measured: distinct/sigs/1000).
      if (end - it > prefetch_distance) SIGS_PREFETCH(it[prefetch_distance]);
      const run_status st = run_entry<Check, Fence, Traced>(f, *e, ctx, value, m, fail, t);
      if (SIGS_LIKELY(st == run_status::ok)) {
        ++called;
        continue;
      }
      if (st == run_status::skipped) continue;
      if (st == run_status::stopped) {
        canceled_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
        if constexpr (Try) {
          return make_result(std::move(*fail), *e, called, called);
        } else {
          if constexpr (Traced) failed->note(*fail);
          return;
        }
      }
      ++called;
      if constexpr (Try) {
        return make_result(std::move(*fail), *e, called - 1, called);
      } else {
        if constexpr (Traced) failed->note(*fail);
        report(s, *e, fail->error, fail->exception);
        fail.reset();
      }
    }
    if constexpr (Try) {
      emit_result result;
      result.calls = called;
      return result;
    }
  }

 public:
  // ---- held snapshots (async delivery) ------------------------------------------------
  //
  // An async emission reads the snapshot on the emitting thread and runs its listeners
  // later on workers. hold() pins the snapshot with a count (scan() frees no snapshot with
  // more pins than unpins) so the emitter can drop its hazard pointer at once. A worker
  // runs a held snapshot's entries with run_entry(), like an emitter: each call is
  // announced in the worker's record (CALL-1) and validated against the removal (CALL-2),
  // so remove_and_wait needs nothing more from a held snapshot.

  /// Protects the current snapshot, pins it and returns it. Pair with release().
  snapshot* hold(record& rec) requires(Pins == snapshot_pins::counted) {
    typename Domain::guard g(domain_, rec);
    snapshot* s = g.template protect<snapshot>(head_, overflow_);
    // relaxed: ordered before scan()'s load of the pins by the guard's release (HP-H3)
    // that scan()'s HP-S1 reads, or by the validation argument when HP-S1 missed HP-H1.
    s->pinned.pins.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  /// Unpins a snapshot from hold(). It is freed by a later write's scan (or the destructor).
  static void release(snapshot* s) noexcept requires(Pins == snapshot_pins::counted) {
    s->pinned.unpins.fetch_add(1, std::memory_order_release);  // (CORE-K3) pairs with (CORE-K4) in scan()
  }

  /// The metering of an emission (or an async delivery) starting now: a null meter when
  /// metrics are off (one relaxed load and a branch) or switched off globally.
  SIGS_ALWAYS_INLINE metering metering_for() const noexcept {
    const std::uint8_t lvl = level_.load(std::memory_order_relaxed);  // relaxed: a switch, no data
    if (SIGS_LIKELY(lvl == 0)) return {};
    return metering_traced(lvl);
  }

  /// metering_on() for a level byte that may have the trace bit (trace_hooks.hpp).
  SIGS_COLD metering metering_traced(std::uint8_t bits) const noexcept {
    const auto lvl = static_cast<std::uint8_t>(bits & level_metrics_mask);
    metering m = lvl != 0 ? metering_on(static_cast<metrics_level>(lvl)) : metering{};
    m.traced = (bits & level_traced) != 0;
    return m;
  }

  /// Counts a delivery-side statistic (async emissions count emits always).
  void count_emit() noexcept requires(Pins == snapshot_pins::counted) {
    emits_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }

  /// Passes a listener failure to the snapshot's error handler (if any).
  SIGS_COLD void report(snapshot* s, entry_t& e, std::error_code ec, const std::exception_ptr& ex) noexcept {
    if (!s->handler) return;
    try {
      (*s->handler)(listener_error{listener_id_access::make(e.id), e.key(), ec, ex});
    } catch (...) {
      handler_failures_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    }
  }

  [[nodiscard]] Domain& domain() const noexcept { return domain_; }

  /// One emission's frame of listener calls on the calling thread (call_tracking.hpp), for
  /// the signal `source` (a signal_core).
  struct frame_scope {
    frame_scope(Domain& d, record& r, const void* source) noexcept : domain(d), rec(r) {
      domain.open_frame(rec, f, source);
    }
    ~frame_scope() { domain.close_frame(rec, f); }
    frame_scope(const frame_scope&) = delete;
    frame_scope& operator=(const frame_scope&) = delete;
    Domain& domain;
    record& rec;
    frame f;
  };

 private:
  /// What a write unlinks, destroyed after the writer mutex is released: user callables
  /// and handlers may run arbitrary code (even call back into this signal) when destroyed.
  /// Intrusive lists, so that unlinking needs no memory: a write that got its memory up
  /// front (make_successor) cannot fail half-way.
  struct garbage {
    entry_t* entries = nullptr;
    snapshot* snapshots = nullptr;
    garbage() = default;
    garbage(const garbage&) = delete;
    garbage& operator=(const garbage&) = delete;
    ~garbage() { release(); }
    void release() noexcept {
      while (snapshot* s = snapshots) {
        snapshots = s->garbage_next;
        snapshot::destroy(s);  // drops its error handler
      }
      while (entry_t* e = entries) {
        entries = e->garbage_next;
        e->destroy(e);
      }
    }
  };

  struct entry_deleter {
    void operator()(entry_t* e) const noexcept { e->destroy(e); }
  };

  SIGS_COLD static emit_result make_result(failure&& f, entry_t& at, std::size_t index, std::size_t calls) {
    emit_result r;
    r.error = f.error;
    r.exception = std::move(f.exception);
    r.listener = listener_id_access::make(at.id);
    r.key = at.key();
    r.index = index;
    r.calls = calls;
    return r;
  }

  /// metering_for() of a level byte emit_in() loaded, not zero, counting the emit.
  SIGS_ALWAYS_INLINE metering metering_for_emit(std::uint8_t bits) const noexcept {
    metering m = metering_traced(bits);
    if (SIGS_UNLIKELY(m.meter != nullptr)) bump(m.meter->shards[m.slot].emits, m.slot);
    return m;
  }

  SIGS_COLD metering metering_on(metrics_level lvl) const noexcept {
    if (!metrics_global.load(std::memory_order_relaxed)) return {};  // relaxed: a switch, no data
    // (MTR-2) acquire: pairs with set_metrics()' release. Null only in the moment the
    // first set_metrics() publishes its meter and level: they are not ordered for us.
    signal_meter* sm = meter_.load(std::memory_order_acquire);
    if (sm == nullptr) return {};
    return {sm, meter_slot(), lvl};
  }

  static call_timing start_call(const metering& m) noexcept {
    call_timing t;
    if (m.level == metrics_level::counters) return t;
    t.sampled = m.meter->sample(m.slot);
    t.timed = t.sampled || m.level == metrics_level::full;
    if (t.timed) t.start = m.last_end != 0 ? m.last_end : meter_now();
    return t;
  }

  static void count_call(entry_t& e, const metering& m, const call_timing& t) noexcept {
    std::uint64_t took = 0;
    if (t.timed) {
      const std::uint64_t end = meter_now();
      took = end - t.start;
      if (m.level == metrics_level::full) m.last_end = end;
    }
    signal_meter::slot_state& own = m.meter->shards[m.slot];
    bump(own.calls, m.slot);
    details_t* d = e.details_if_any();
    listener_meter* lm = d != nullptr ? d->meter.load(std::memory_order_acquire) : nullptr;  // (MTR-1)
    if (SIGS_UNLIKELY(lm == nullptr)) {
      // Only in the moment set_metrics() gives the entries their details and meters (its
      // switch and its calls are not ordered then): counted in the unkeyed fold alone.
      bump(own.unkeyed_calls, m.slot);
      return;
    }
    lm->calls.add(m.slot);
    histogram_cells* own_latency = lm->latency.get();  // a keyed listener's; null if unkeyed
    if (own_latency == nullptr) bump(own.unkeyed_calls, m.slot);
    if (t.timed) (own_latency != nullptr ? *own_latency : m.meter->unkeyed_latency).record(took);
    if (t.sampled)
      d->last_called.store(std::chrono::system_clock::now().time_since_epoch().count(),
                           std::memory_order_relaxed);  // relaxed: a statistic
  }

  /// Sets the bits `mask` of the level byte to `bits`, keeping the others (the metrics
  /// level and the trace bit are switched independently; set_metrics(off) holds no lock).
  void set_level_bits(std::uint8_t mask, std::uint8_t bits) noexcept {
    std::uint8_t cur = level_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
    // relaxed: a switch, no data (the tracer is published by TRC-1, the meters by MTR-1/2)
    while (!level_.compare_exchange_weak(cur, static_cast<std::uint8_t>((cur & ~mask) | bits),
                                         std::memory_order_relaxed, std::memory_order_relaxed)) {}
  }

  static std::unique_ptr<listener_meter> make_listener_meter(bool keyed) {
    return std::make_unique<listener_meter>(keyed);
  }

  SIGS_COLD void on_error(entry_t& e, std::error_code ec, const std::exception_ptr& ex) {
    (ex ? exceptions_ : errors_).fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    if (e.key().empty()) {
      if (signal_meter* sm = meter_.load(std::memory_order_acquire))  // (MTR-2)
        (ex ? sm->unkeyed_exceptions : sm->unkeyed_errors)
            .fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    }
    // A listener that returns errors got its details when added; one that throws gets
    // them at its first exception, which has allocated already (the thrown object).
    details_t* d = e.details_or_make();
    if (SIGS_LIKELY(d != nullptr)) {
      d->note_error(ec, ex);
    } else {
      unrecorded_failures_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    }
  }

  template <class Pred>
  static entry_t* find_alive(snapshot* s, Pred& pred) {
    for (entry_t* e : *s)
      if (pred(*e) && is_alive(e->state.load(std::memory_order_relaxed))) return e;  // relaxed: see emit
    return nullptr;
  }

  /// Appends to `out` every entry of `s` that `pred` matches, in any state, once.
  template <class Pred>
  static void gather(snapshot* s, Pred& pred, std::vector<entry_t*>& out) {
    for (entry_t* e : *s)
      if (pred(*e) && std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }

  /// Drops a reference remove_and_wait took; the entry goes to `g` if it was the last.
  /// Caller holds mutex_.
  static void drop_ref(entry_t* e, garbage& g) noexcept {
    if (--e->refs == 0) {
      e->garbage_next = g.entries;
      g.entries = e;
    }
  }

  /// Moves a live or armed entry to removed. False if it had fired or was removed already.
  bool kill(entry_t* e) noexcept {
    std::uint32_t st = e->state.load(std::memory_order_relaxed);  // relaxed: the CAS decides
    while (is_alive(st)) {
      // (CORE-K1) seq_cst: the WAIT-1 of call_tracking.hpp; against a deep call's seq_cst CALL-2 in
      // the total order. Failure seq_cst too: a CAS that reads `fired` must be ordered after
      // the claimer's CALL-1 (CORE-K2 is its release).
      if (e->state.compare_exchange_weak(st, state_removed, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
        active_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: see size()
        return true;
      }
    }
    return false;
  }

  /// How many entries of a snapshot are alive, and how many of those have a key.
  struct counts {
    std::size_t alive = 0;
    std::size_t keyed = 0;
  };

  static counts alive_counts(snapshot* s) noexcept {
    counts c;
    for (entry_t* e : *s) {
      if (is_alive(e->state.load(std::memory_order_relaxed))) {  // relaxed: see emit
        ++c.alive;
        if (!e->key().empty()) ++c.keyed;
      }
    }
    return c;
  }

  /// The alive entry of `s` with this (non-empty) key, or null: one probe of the key index.
  static entry_t* find_key_alive(snapshot* s, std::string_view key) noexcept {
    entry_t* e = s->find_key(key, hash_key(key));
    // relaxed: see emit; the state only tells alive from dead.
    return e != nullptr && is_alive(e->state.load(std::memory_order_relaxed)) ? e : nullptr;
  }

  /// Allocates everything a write's republish() needs before the write changes anything:
  /// the successor snapshot, with room for `capacity` entries, and a place in retired_ for
  /// the snapshot it replaces, with a key index for up to `keyed` of them. A writer out of
  /// memory throws std::bad_alloc from here and leaves the signal as it was. Caller holds
  /// mutex_.
  snapshot* make_successor(std::size_t capacity, std::size_t keyed,
                           const std::shared_ptr<const error_handler>& handler) {
    snapshot* next = snapshot::make(capacity, keyed, handler);
    if (retired_.size() == retired_.capacity()) {
      try {
        retired_.reserve(std::max<std::size_t>(8, 2 * retired_.capacity()));
      } catch (...) {
        snapshot::destroy(next);
        throw;
      }
    }
    return next;
  }

  /// Unlinks `s` and the entries only it held; garbage::release() frees them after the
  /// writer mutex is released. Caller holds mutex_.
  static void free_snapshot(snapshot* s, garbage& g) noexcept {
    for (entry_t* e : *s) {
      if (--e->refs == 0) {
        e->garbage_next = g.entries;
        g.entries = e;
      }
    }
    s->garbage_next = g.snapshots;
    g.snapshots = s;
  }

  /// Fills `next` (from make_successor) with `cur`'s alive entries (+ `extra`), publishes
  /// it, retires `cur`. Cannot fail. Caller holds mutex_.
  void republish(snapshot* cur, snapshot* next, entry_t* extra, garbage& g) noexcept {
    entry_t** out = next->items();
    std::size_t i = 0;
    for (entry_t* e : *cur) {
      // relaxed: see emit. States only move from alive to dead, so this pass keeps at
      // most the entries make_successor's count saw; one that died since is left out.
      if (is_alive(e->state.load(std::memory_order_relaxed))) {
        out[i++] = e;
        ++e->refs;
        if (!e->key().empty()) next->index_insert(e);  // make_successor counted it (or more)
      }
    }
    if (extra) {
      out[i++] = extra;
      ++extra->refs;
      if (!extra->key().empty()) next->index_insert(extra);
    }
    next->size_.store(i);
    head_.store(next, std::memory_order_seq_cst);  // (CORE-P1) pairs with HP-H2 (hazard.hpp); before HP-S1 in scan()
    retired_.push_back(cur);                       // cannot throw: make_successor reserved the room
    retired_bytes_ += cur->footprint();
    scan(g);
  }

  /// Bytes of retired snapshots a writer lets pile up, whatever the listener count,
  /// before it scans (scan_due()).
  static constexpr std::size_t scan_bytes_floor = std::size_t{16} * 1024;

  /// True when enough has been retired since the last scan to pay for one: scan_batch()
  /// snapshots (with the asymmetric fence, a scan costs a system call), or more bytes than
  /// the larger of scan_bytes_floor and twice the current snapshot. So what waits to be
  /// freed stays within a constant plus twice the live list (at 1000 listeners, one
  /// retired copy at most), and what a scan could not free (still read) does not make
  /// every later write scan again.
  [[nodiscard]] bool scan_due(const snapshot* head) const noexcept {
    return retired_.size() >= kept_count_ + domain_.scan_batch() ||
           retired_bytes_ >= kept_bytes_ + std::max(scan_bytes_floor, 2 * head->footprint());
  }

  /// Frees the retired snapshots no hazard slot holds, when one is due. Caller holds
  /// mutex_, after CORE-P1. Cannot fail: without memory for the hazard list it frees
  /// nothing this time, and a later scan (or the destructor) frees what is retired.
  void scan(garbage& g) noexcept {
    if (!scan_due(head_.load(std::memory_order_relaxed))) return;  // relaxed: writers hold mutex_
    try {
      domain_.collect(hazards_);
    } catch (const std::bad_alloc&) {
      return;
    }
    // (HP-S2) seq_cst: pairs with HP-O1/HP-O2: a reader of this signal nested past its
    // slots may hold any snapshot of it: keep everything.
    if (overflow_.readers.load(std::memory_order_seq_cst) != 0) {
      note_kept();
      return;
    }
    auto keep = retired_.begin();
    for (snapshot* s : retired_) {
      bool held = false;
      if constexpr (Pins == snapshot_pins::counted) {
        // (CORE-K4) acquire, pairs with (CORE-K3): a worker's last use of `s` happens-before we free it.
        // Unpins first: each unpin follows its pin, so pins (read after) >= unpins, and equal
        // means every pin we can see is undone. A pin we cannot see is impossible: hold()
        // pins under a validated hazard, which collect() above saw or ordered before us
        // (hence relaxed; see hold()).
        const std::size_t unpinned = s->pinned.unpins.load(std::memory_order_acquire);
        const std::size_t pinned = s->pinned.pins.load(std::memory_order_relaxed);
        held = pinned != unpinned;
      }
      if (held || std::find(hazards_.begin(), hazards_.end(), s) != hazards_.end()) {
        *keep++ = s;
      } else {
        retired_bytes_ -= s->footprint();
        free_snapshot(s, g);
      }
    }
    retired_.erase(keep, retired_.end());
    note_kept();
  }

  /// What a scan left retired: the next is due only once as much again has piled up.
  void note_kept() noexcept {
    kept_count_ = retired_.size();
    kept_bytes_ = retired_bytes_;
  }

  Domain& domain_;
  alignas(cache_line) typename A::template atomic<snapshot*> head_;
  overflow_count<A> overflow_;  // readers of head_ nested past their slots (hazard.hpp)
  typename A::template atomic<std::size_t> active_;
  typename A::template atomic<std::uint8_t> level_;  // a metrics_level, and level_traced (trace_hooks.hpp)
  // The meter, made by the first set_metrics() to a level but off and kept till the end.
  std::atomic<signal_meter*> meter_{nullptr};

  // Written by emitters only on error paths or with metrics on; kept off head_'s line.
  alignas(cache_line) typename A::template atomic<std::uint64_t> emits_;  // async emits (sync ones count in meter_)
  typename A::template atomic<std::uint64_t> errors_;
  typename A::template atomic<std::uint64_t> exceptions_;
  typename A::template atomic<std::uint64_t> canceled_;
  typename A::template atomic<std::uint64_t> handler_failures_;
  typename A::template atomic<std::uint64_t> unrecorded_failures_;
  trace_state trace_;  // the tracer, its failures, the signal's name (trace_hooks.hpp)

  // Writer-only state, under mutex_.
  alignas(cache_line) typename A::mutex mutex_;
  std::vector<snapshot*> retired_;
  std::size_t retired_bytes_ = 0;  // the footprints of retired_
  std::size_t kept_count_ = 0;     // retired_.size() after the last scan
  std::size_t kept_bytes_ = 0;     // retired_bytes_ after the last scan
  std::vector<const void*> hazards_;
  std::unique_ptr<signal_meter> meter_owner_;  // what meter_ points to
  std::uint32_t sample_every_ = 64;
};

}  // namespace sigs::detail

#pragma pop_macro("emit")
