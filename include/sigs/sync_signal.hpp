// sigs/sync_signal.hpp — a signal whose listeners run in order on the emitting thread.
//
//   sigs::sync_signal<Order> placed;
//   placed.add_listener([](const Order& o) { book(o); }, "book");
//   placed.emit(order);                                  // calls "book", then returns
//
// Guarantees (docs/guarantees.md has the full list and the tests behind each):
//  - emit() calls every active listener exactly once, in registration order, on the
//    calling thread. It never takes a lock and never allocates (but for a thread's first
//    emission while more than 64 threads hold hazard records: docs/guarantees.md).
//  - An emission walks the snapshot of listeners taken when it began. A listener added
//    meanwhile is not called by it; one removed (or a once-listener fired elsewhere)
//    meanwhile is skipped if it has not started yet.
//  - Memory ordering: for threads X and Y, if X's remove_listener(id) returns before Y's
//    emit() begins (X's return happens-before Y's call), Y does not call that listener.
//    Everything X did before add_listener() returned is visible to the listener when any
//    emission calls it.
//  - Listeners may add, remove, reset and emit (this or another signal) from inside a
//    listener. Nesting is unlimited; past 8 levels per thread a slower fallback protects
//    the snapshot, delaying only this signal's reclamation.
//  - remove_listener_and_wait(id) returns once no other thread is calling that listener;
//    it waits for nothing else, sleeps in the kernel, and refuses a true cycle of waits
//    with errc::would_deadlock.
//  - A listener that throws does not stop emit(): the exception is counted, kept in its
//    metadata and passed to the error handler. try_emit() stops at it instead.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <sigs/context.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>
#include <sigs/options.hpp>
#include <sigs/signal_base.hpp>

namespace sigs {

/// A synchronous signal carrying payloads of type T (passed to listeners as const T&).
///
/// Listeners are callables invocable as `f(const T&)` or `f(const sigs::context&, const T&)`.
/// One that returns std::error_code is *error-aware*: a non-empty code is its failure.
/// Keys are arbitrary byte strings; the empty key means "no key". All member functions are
/// thread-safe. Destroying the signal while another thread uses it is undefined.
template <class T>
class sync_signal : public signal_base<T> {
  using base = signal_base<T>;
  using base::core_;

 public:
  ///@{
  /// A signal with the given options. A sync signal takes sync_options, which have only
  /// what it reads: the async settings (pool, queue, overflow) do not compile here.
  sync_signal() : sync_signal(sync_options{}) {}
  explicit sync_signal(const sync_options& options) : base(options.metrics, options.sample_every) {
    this->trace_as(options.name, options.tracer);
    this->list_as(options.name, this);
  }
  ///@}

  // ---- registration, removal, introspection ------------------------------------------
  // Shared with async_signal and documented in sigs/signal_base.hpp; listed here so that
  // this class shows every member a user calls.
  /// @cond INTERNAL
  using base::add_listener;               // (f, key = {}): plain or error-aware
  using base::add_listener_with_err;      // (f, key = {}): error-aware only
  using base::add_once;                   // (f): fires exactly once
  using base::add_once_with_err;          // (f)
  using base::add_once_with_err_and_key;  // (f, key)
  using base::add_once_with_key;          // (f, key)
  using base::empty;
  using base::has_key;                   // (key)
  using base::healthy;                   // (health_options = {}): health_report
  using base::keys;                      // keys of the active keyed listeners
  using base::metadata;                  // (id) or (key): optional<listener_metadata>
  using base::metrics;                   // signal_metrics: counters and histograms, read now
  using base::remove_listener;           // (id) or (key)
  using base::remove_listener_and_wait;  // (id) or (key): also waits for running calls
  using base::reset;                     // removes every listener
  using base::set_error_handler;         // called for each failure emit() records
  using base::set_metrics;               // (metrics_level) or (bool): what is measured
  using base::set_tracer;                // (tracer*): spans for emissions and calls, or off
  using base::size;                      // active listeners
  using base::stats;                     // signal_stats
  using base::tracer;                    // the tracer installed, or nullptr
  /// @endcond

  // ---- emission ---------------------------------------------------------------------

  /// Calls every active listener once, in registration order. Errors and exceptions are
  /// recorded and passed to the error handler; they do not stop the emission.
  void emit(const T& payload) {
    core_.template emit<detail::on_failure::record, detail::ctx_check::off>(detail::local_record(), detail::no_context,
                                                                            payload);
  }

  /// emit() that checks `ctx` before each listener and stops (counted in
  /// stats().canceled) once it is cancelled or past its deadline.
  void emit(const context& ctx, const T& payload) { emit_with<detail::on_failure::record>(ctx, payload); }

  ///@{
  /// Same as emit().
  void operator()(const T& payload) { emit(payload); }
  void operator()(const context& ctx, const T& payload) { emit(ctx, payload); }
  ///@}

  ///@{
  /// Calls listeners in order and stops at the first one that returns an error or throws,
  /// or before the first one reached after `ctx` is cancelled or expired. See emit_result:
  /// `if (sig.try_emit(x))` means every listener succeeded.
  emit_result try_emit(const T& payload) {
    return core_.template emit<detail::on_failure::stop, detail::ctx_check::off>(detail::local_record(),
                                                                                 detail::no_context, payload);
  }
  emit_result try_emit(const context& ctx, const T& payload) {
    return emit_with<detail::on_failure::stop>(ctx, payload);
  }
  ///@}

 private:
  /// An emission under `ctx`: the per-listener context check only when it can end.
  template <detail::on_failure OnFailure>
  auto emit_with(const context& ctx, const T& payload) {
    if (ctx.can_be_canceled())
      return core_.template emit<OnFailure, detail::ctx_check::each_listener>(detail::local_record(), ctx, payload);
    return core_.template emit<OnFailure, detail::ctx_check::off>(detail::local_record(), ctx, payload);
  }
};

}  // namespace sigs

#pragma pop_macro("emit")
