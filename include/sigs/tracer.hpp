// sigs/tracer.hpp — the tracing hook: a tracer hears the start and the end of each
// emission of a signal and of each listener call in it, and names their spans.
//
//   my_tracer t;                                       // derives from sigs::tracer
//   sigs::sync_signal<Order> placed(sigs::sync_options{.name = "orders.placed", .tracer = &t});
//   placed.emit(sigs::context().with_trace(incoming), order);   // spans: emit, then a call each
//   placed.set_tracer(nullptr);                                 // off again: free
//
// Tracing is per signal and off by default. Off, it costs an emission nothing: its state
// is a bit of the byte the metrics level already lives in, which every emission loads
// once anyway. docs/tracing.md has the whole contract (threads, ids, exceptions, cost),
// how the trace reaches async workers, and how an OpenTelemetry tracer maps onto it.
// sigs/recording_tracer.hpp is a tracer that keeps every span, for tests.
#pragma once

// Qt defines `emit` as a macro; these headers use the word.
#pragma push_macro("emit")
#undef emit

#include <cstdint>
#include <exception>
#include <string_view>
#include <system_error>

#include <sigs/listener.hpp>
#include <sigs/trace_context.hpp>

namespace sigs {

/// A span as its tracer started it.
struct trace_span {
  /// The span's own identity: its trace id, its span id and its flags. The listeners of
  /// an emission span, and the emissions a listener starts under its context, are its
  /// children. Invalid when the tracer started no span: the children then have the
  /// parent's parent.
  trace_context context;
  /// The tracer's own, handed back to end_emit() / end_call(): an index, a pointer to
  /// the span object. sigs never reads it.
  std::uint64_t handle = 0;
};

/// What begin_emit() is told about the emission starting.
struct emit_info {
  /// The signal's name (sync_options::name, async_options::name); empty if it has none.
  std::string_view signal;
  /// True for an async_signal: the listeners run on a pool's workers.
  bool is_async = false;
  /// The trace of the emission's context (context::trace()): the parent of the emit span.
  /// Invalid when the context has none: the emit span is then a new trace's root.
  trace_context parent;
};

/// What begin_call() is told about the listener call starting.
struct call_info {
  /// The signal's name; empty if it has none.
  std::string_view signal;
  /// True for an async_signal (the call runs on a worker, or on the emitting thread when
  /// the overflow policy says so).
  bool is_async = false;
  /// The listener's id.
  listener_id listener;
  /// The listener's key; empty if it has none.
  std::string_view key;
  /// The emit span's context: the parent of the call span.
  trace_context parent;
};

/// The tracing hook. A signal given a tracer (sync_options::tracer,
/// async_options::tracer, set_tracer()) calls, for each emission and each listener call:
///
///   begin_emit(info)      on the emitting thread, when the emission starts, before any
///                         listener; an async emit, before it is queued;
///   begin_call(info)      on the thread that runs the listener, just before the call
///                         (after the listener is known to be alive and, for a
///                         once-listener, claimed): listeners removed or skipped, and those
///                         a cancelled context stops, get no span;
///   end_call(span, error, exception)  on the same thread, right after the call returns
///                         or throws: `error` is the listener's error code, or
///                         errc::listener_exception with `exception` when it threw;
///                         both empty on success;
///   end_emit(span, error, exception)  on the emitting thread: a sync emission once its
///                         last listener returned, with the first failure (or the
///                         context's error when it stopped the emission), empty when all
///                         succeeded; an async emit once the emission is queued (its
///                         listeners may run later), with the error emit or try_emit
///                         returns (a refusal), or the exception emit throws.
///
/// end_* is called exactly once for each begin_* that returned, with the trace_span it
/// returned. The methods may be called concurrently from any number of threads (several
/// emissions, the workers of one async emission): an implementation must be thread-safe.
///
/// A tracer should not throw. If one does, sigs catches the exception and the emission
/// goes on as if untraced from that point: a begin_* that throws starts no span (and gets
/// no end_*; the listener still runs), an end_* that throws is ignored. Each is counted in
/// signal_stats::tracer_failures.
///
/// The tracer must outlive every emission that may use it: set_tracer(nullptr), or another
/// tracer, does not wait for emissions already running (or queued) with this one.
class tracer {
 public:
  virtual ~tracer() = default;

  /// An emission starts: returns its span.
  virtual trace_span begin_emit(const emit_info& info) = 0;
  /// The emission `span` ended; `error` / `exception` say how (see the class comment).
  virtual void end_emit(const trace_span& span, std::error_code error, const std::exception_ptr& exception) = 0;
  /// A listener call starts: returns its span.
  virtual trace_span begin_call(const call_info& info) = 0;
  /// The listener call `span` ended; `error` / `exception` say how (see the class comment).
  virtual void end_call(const trace_span& span, std::error_code error, const std::exception_ptr& exception) = 0;

 protected:
  ///@{
  /// For derived classes only: a tracer is used through a pointer, never sliced.
  tracer() = default;
  tracer(const tracer&) = default;
  tracer& operator=(const tracer&) = default;
  tracer(tracer&&) = default;
  tracer& operator=(tracer&&) = default;
  ///@}
};

}  // namespace sigs

#pragma pop_macro("emit")
