// sigs/options.hpp — construction options of the signal types: sync_options for a
// sync_signal, async_options for an async_signal. Each holds only what its signal reads,
// so an async setting given to a sync signal does not compile.
//
//   sigs::sync_signal<int> counted(sigs::sync_options{.metrics = sigs::metrics_level::counters});
//   sigs::async_options opts;
//   opts.metrics = sigs::metrics_level::sampled;          // count, and time one call in 64
//   opts.name = "orders";                                 // listed by sigs::collect_metrics()
//   opts.overflow = sigs::overflow_policy::reject;        // never wait for room
//   sigs::async_signal<int> sig(opts);
#pragma once

#pragma push_macro("emit")
#undef emit

#include <cstddef>
#include <cstdint>
#include <string>

#include <sigs/fwd.hpp>
#include <sigs/signal_metrics.hpp>

namespace sigs {

/// What an async emit does when it cannot be queued at once: the pool's queue is full,
/// or the signal already has `queue_capacity` emissions in flight.
enum class overflow_policy : unsigned char {
  block,        ///< wait for room, honouring the emission's context; on one of the pool's
                ///< own workers, where waiting could wait for itself, run it there instead
  reject,       ///< drop the emission: counted in stats().dropped (try_emit returns backpressure)
  caller_runs,  ///< run the listeners on the emitting thread instead
};

/// Options of a sync_signal. Defaults are the fast path.
struct sync_options {
  /// What the signal measures (metrics_level): counts of emits and listener calls, and
  /// listener latency histograms, per signal and per keyed listener. Off by default; can
  /// be switched later with set_metrics(). docs/observability.md gives each level's cost.
  metrics_level metrics = metrics_level::off;
  /// At metrics_level::sampled, one listener call in this many (per thread) is timed;
  /// 0 is taken as 1.
  std::uint32_t sample_every = 64;
  /// A name lists the signal in the metrics registry (collect_metrics(), the exporters).
  /// Empty: not listed, and it costs nothing. A tracer is told it too.
  std::string name{};
  /// The tracer that hears of each emission and listener call (sigs/tracer.hpp,
  /// docs/tracing.md); it must outlive the signal's use of it. Null (the default):
  /// untraced, at no cost. Can be changed later with set_tracer().
  sigs::tracer* tracer = nullptr;
};

/// Options of an async_signal. Defaults are the fast path.
struct async_options {
  /// As sync_options::metrics. Async signals count emissions and deliveries always; this
  /// adds listener calls, latency histograms and the queue wait (emit to listener start).
  metrics_level metrics = metrics_level::off;
  /// As sync_options::sample_every.
  std::uint32_t sample_every = 64;
  /// As sync_options::name.
  std::string name{};
  /// As sync_options::tracer. An async emission's span ends once it is queued; its
  /// listener calls' spans, on the workers, are its children (docs/tracing.md).
  sigs::tracer* tracer = nullptr;

  /// The pool that runs listeners; nullptr means worker_pool::global().
  /// The pool must outlive the signal.
  worker_pool* pool = nullptr;

  /// The most emissions of this signal queued on or running on the pool at
  /// once; 0 means no limit of its own (the pool's queue still bounds it). Beyond it,
  /// `overflow` applies. Never exceeded; an emit racing the end of another emission may
  /// still find it reached. An emission that caller_runs runs on the emitting thread
  /// because the limit is reached (or block on one of the pool's own workers) is counted
  /// in stats().in_flight and waited for by drain(). It is not queued, so it does not
  /// count against this limit: stats().in_flight may exceed queue_capacity by the
  /// emissions running on emitting threads (docs/decisions.md).
  std::size_t queue_capacity = 0;

  /// What emit() does when an emission cannot be queued at once.
  overflow_policy overflow = overflow_policy::block;

  /// Finished emission envelopes kept for reuse, so that a steady stream of
  /// emits allocates nothing. Plain emits of a trivially copyable payload of up to 31 bytes
  /// that run on one worker need no envelope (docs/async.md).
  std::size_t envelope_cache = 64;
};

}  // namespace sigs

#pragma pop_macro("emit")
