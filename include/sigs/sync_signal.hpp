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
#include <sigs/detail/basic_signal.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>
#include <sigs/options.hpp>

namespace sigs {

/// A synchronous signal carrying payloads of type T (passed to listeners as const T&).
///
/// Listeners are callables invocable as `f(const T&)` or `f(const sigs::context&, const T&)`.
/// One that returns std::error_code is *error-aware*: a non-empty code is its failure.
/// Keys are arbitrary byte strings; the empty key means "no key". All member functions are
/// thread-safe. Destroying the signal while another thread uses it is undefined.
template <class T>
class sync_signal : public detail::basic_signal<T> {
  using base = detail::basic_signal<T>;
  using base::core_;

 public:
  ///@{
  /// A signal with the given options (sync signals read `metrics` only).
  sync_signal() : sync_signal(signal_options{}) {}
  explicit sync_signal(const signal_options& options) : base(options) {}
  ///@}

  // ---- emission ---------------------------------------------------------------------

  /// Calls every active listener once, in registration order. Errors and exceptions are
  /// recorded and passed to the error handler; they do not stop the emission.
  void emit(const T& payload) {
    core_.template emit<false, false>(detail::local_record(), detail::no_context, payload);
  }

  /// emit() that checks `ctx` before each listener and stops (counted in
  /// stats().canceled) once it is cancelled or past its deadline.
  void emit(const context& ctx, const T& payload) {
    if (ctx.can_be_canceled()) {
      core_.template emit<false, true>(detail::local_record(), ctx, payload);
    } else {
      core_.template emit<false, false>(detail::local_record(), ctx, payload);
    }
  }

  ///@{
  /// Same as emit().
  void operator()(const T& payload) { emit(payload); }
  void operator()(const context& ctx, const T& payload) { emit(ctx, payload); }
  ///@}

  ///@{
  /// Calls listeners in order and stops at the first one that returns an error or throws,
  /// or before the first one reached after `ctx` is cancelled or expired. See emit_result.
  emit_result try_emit(const T& payload) {
    return core_.template emit<true, false>(detail::local_record(), detail::no_context, payload);
  }
  emit_result try_emit(const context& ctx, const T& payload) {
    if (ctx.can_be_canceled()) return core_.template emit<true, true>(detail::local_record(), ctx, payload);
    return core_.template emit<true, false>(detail::local_record(), ctx, payload);
  }
  ///@}
};

}  // namespace sigs

#pragma pop_macro("emit")
