// sigs/async_signal.hpp — a signal whose emit returns at once; listeners run on a pool.
//
//   sigs::async_signal<Tick> ticks;                       // runs on worker_pool::global()
//   ticks.add_listener([](const Tick& t) { store(t); });
//   ticks.emit(tick);                                      // queued; returns immediately
//   ticks.drain();                                         // waits for what was queued
//
// Guarantees (docs/async.md has the full list and the tests behind each):
//  - emit() never runs or waits for a listener (unless the overflow policy is
//    caller_runs, or block while the queue is full, which waits for room only).
//  - The payload is copied (or moved) once: into the one queued task, for a plain emit of a
//    small trivially copyable payload that runs on one worker (no allocation ever), else
//    into a pooled envelope shared by the tasks of that emission (no allocation once the
//    envelope cache covers the emissions in flight). If that copy, or the envelope's
//    allocation, throws, emit passes the exception on and nothing is queued or counted.
//  - The listeners of one emission run concurrently on the pool, in no particular order.
//    One listener may run concurrently with itself, for two different emissions.
//  - Accounting: each listener of each accepted emission is delivered, dropped or skipped
//    (removed before its turn), and counted in stats(). A rejected try_emit returns its
//    error and is counted in stats().rejected. Nothing disappears silently.
//  - A once-listener fires exactly once, however many emissions are queued: the first
//    emission to *start* it claims it.
//  - Exceptions and errors from listeners are caught on the worker, recorded in the
//    listener's metadata, passed to the error handler (on the worker thread) and to the
//    emission's completion, if any. They never reach other listeners, never kill a worker.
//  - A cancelled or expired context skips the listeners of that emission not yet started
//    (counted as dropped).
//  - Memory ordering: everything before emit() happens-before each listener call of that
//    emission; every listener call happens-before drain(), emit_and_wait() and
//    completion::wait() return.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include <sigs/completion.hpp>
#include <sigs/context.hpp>
#include <sigs/detail/async_delivery.hpp>
#include <sigs/detail/in_flight.hpp>
#include <sigs/detail/mpmc_queue.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>
#include <sigs/options.hpp>
#include <sigs/signal_base.hpp>
#include <sigs/worker_pool.hpp>

namespace sigs {

/// An asynchronous signal carrying payloads of type T (copied or moved into the emission).
/// T must be copy- or move-constructible. Listeners, keys and removal work exactly as for
/// sync_signal. All member functions are thread-safe. The destructor waits for every
/// emission (on a worker of its own pool it helps run them); the pool must outlive the
/// signal.
template <class T>
class async_signal : public signal_base<T, detail::snapshot_pins::counted> {
  using base = signal_base<T, detail::snapshot_pins::counted>;
  using core_type = typename base::core_type;
  using snapshot = typename core_type::snapshot;
  using base::core_;

 public:
  ///@{
  /// A signal with the given options (default: the global pool, no queue_capacity, the
  /// block policy). The pool must outlive the signal.
  async_signal() : async_signal(async_options{}) {}
  explicit async_signal(const async_options& options)
      : base(options.metrics, options.sample_every), pool_(options.pool ? *options.pool : worker_pool::global()),
        capacity_(options.queue_capacity), policy_(options.overflow),
        cache_(std::max<std::size_t>(options.envelope_cache, 2)) {
    this->trace_as(options.name, options.tracer);
    this->list_as(options.name, this);
  }
  ///@}

  /// Waits until no emission of this signal is in flight, then frees everything.
  ///
  /// Called on a thread that is not one of the pool's workers, it waits as drain() does.
  /// Called on one of the pool's own workers (a task, or a listener of another signal,
  /// destroys this one), waiting could wait for itself: the emissions may be queued
  /// behind the very task that destroys the signal. So it helps instead: it takes tasks
  /// from the pool's queue and runs them on the calling thread (any queued task, of any
  /// signal: the queue is one FIFO; each is counted in the pool's `completed` as if a
  /// worker had run it) until none of this signal's emissions is left. Emissions running on
  /// other workers end by themselves; while nothing can be taken it sleeps on the signal's
  /// idle condition variable, woken by the last finish, and looks at the queue again after
  /// at most a millisecond. If the pool is discarding (shutdown(shutdown_mode::discard)),
  /// it discards the tasks it takes instead of running them, counted in `dropped`, as the
  /// pool would: it ends either way. The tasks it runs run inside the destroying task, so
  /// one that needs what that task holds (a lock) waits for ever, as it would inline.
  /// Destroying a signal from inside one of its own listeners is undefined, as for any
  /// object still in use.
  ~async_signal() {
    this->delist();  // a collection reads the counters below
    if (pool_.on_worker_thread()) {
      help_until_idle();
    } else {
      wait_idle();
    }
    envelope* env = nullptr;
    while (cache_.try_pop(env)) delete env;
  }

  // ---- emission ---------------------------------------------------------------------

  ///@{
  /// Queues one delivery per active listener and returns. When the emission cannot be
  /// queued at once, the overflow policy decides (block / reject / caller_runs); deliveries
  /// that are not made are counted in stats().dropped.
  void emit(const T& payload) { submit(detail::no_context, payload, nullptr, mode::plain); }
  void emit(T&& payload) { submit(detail::no_context, std::move(payload), nullptr, mode::plain); }
  void emit(const context& ctx, const T& payload) { submit(ctx, payload, nullptr, mode::plain); }
  void emit(const context& ctx, T&& payload) { submit(ctx, std::move(payload), nullptr, mode::plain); }
  ///@}

  ///@{
  /// Same as emit().
  void operator()(const T& payload) { emit(payload); }
  void operator()(const context& ctx, const T& payload) { emit(ctx, payload); }
  ///@}

  ///@{
  /// Queues the emission without ever waiting or running a listener here. The result is
  /// true when it was queued; the emission then proceeds as emit(). Otherwise its `error`
  /// is errc::backpressure (queue full or queue_capacity reached), errc::pool_stopped, or
  /// the context's error if it is already done; nothing is queued, and the call is counted
  /// in stats().rejected.
  submit_result try_emit(const T& payload) { return {submit(detail::no_context, payload, nullptr, mode::try_only)}; }
  submit_result try_emit(const context& ctx, const T& payload) {
    return {submit(ctx, payload, nullptr, mode::try_only)};
  }
  ///@}

  ///@{
  /// emit(), returning a handle that tells when this emission is done and what failed.
  /// Costs one allocation (the shared completion state) that plain emit() does not pay.
  completion emit_tracked(const T& payload) { return emit_tracked(detail::no_context, payload); }
  completion emit_tracked(const context& ctx, const T& payload) {
    auto state = std::make_shared<detail::completion_state>();
    submit(ctx, payload, state, mode::plain);
    return completion(std::move(state));
  }
  ///@}

  ///@{
  /// Emits and returns when every listener of this emission has finished. Returns the
  /// first listener failure, else the reason deliveries were dropped, else an empty code.
  /// Called on one of the pool's own workers, it runs the listeners on the calling thread
  /// (waiting for the pool from there could wait for itself).
  std::error_code emit_and_wait(const T& payload) { return emit_and_wait(detail::no_context, payload); }
  std::error_code emit_and_wait(const context& ctx, const T& payload) {
    auto state = std::make_shared<detail::completion_state>();
    completion c(state);
    submit(ctx, payload, std::move(state), pool_.on_worker_thread() ? mode::inline_run : mode::plain);
    c.wait();
    return c.error();
  }
  ///@}

  /// Waits until every emission of this signal queued so far (and any queued meanwhile)
  /// has finished. Returns errc::would_deadlock, without waiting, when called on one of
  /// the pool's workers, or from a listener of this signal running on the calling thread
  /// (caller_runs): it could be waiting for itself.
  std::error_code drain() {
    if (pool_.on_worker_thread() || delivering_here()) return errc::would_deadlock;
    wait_idle();
    return {};
  }

  /// The signal's counters, including the async accounting fields of signal_stats.
  [[nodiscard]] signal_stats stats() const noexcept {
    signal_stats s = core_.stats();
    s.delivered = delivered_.load(std::memory_order_relaxed);  // relaxed: statistics
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.skipped = skipped_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    s.in_flight = in_flight_.count();
    return s;
  }

  /// The signal's metrics (see signal_base::metrics()), with the async counters: the
  /// accounting fields of stats, the dropped deliveries by reason, the queue wait.
  [[nodiscard]] signal_metrics metrics() const {
    signal_metrics m = base::metrics();
    m.stats = stats();
    m.is_async = true;
    for (std::size_t i = 0; i < drop_reason_count; ++i)
      m.dropped_by[i] = dropped_by_[i].load(std::memory_order_relaxed);  // relaxed: statistics
    return m;
  }

  /// Whether the signal is doing its job (sigs/health.hpp): failures above `o.error_rate`
  /// of the deliveries in the window; any delivery dropped in the window; emissions in
  /// flight above `o.queue_fraction` of queue_capacity (when it has one) for `o.queue_for`.
  [[nodiscard]] health_report healthy(const health_options& o = {}) const {
    const signal_stats s = stats();
    detail::health_input in;
    in.now = detail::meter_now();
    in.calls = s.delivered;
    in.failures = s.errors + s.exceptions;
    in.dropped = s.dropped;
    in.queued = s.in_flight;
    in.capacity = capacity_;
    return this->health_.get().check(o, in);
  }

  /// The pool this signal delivers on.
  [[nodiscard]] worker_pool& pool() const noexcept { return pool_; }

 private:
  enum class mode { plain, try_only, inline_run };

  using delivery = detail::async_delivery<core_type, T>;
  using outcome = detail::delivery_outcome;

  /// One emission (detail::async_delivery::envelope: the lock-free tally, payload,
  /// context, completion, first drop reason) and the signal it belongs to. Recycled
  /// through cache_.
  struct envelope;

  /// The pool task: one copy of an envelope. Several copies let the listeners of one
  /// emission run on several workers; each claims listeners until none is left.
  struct deliver;

  /// The pool task of an emission that has no context, no completion and a single copy
  /// (one listener, or no second idle worker to spread it over). The snapshot and the
  /// payload travel in the task itself, inline in the queue's cell: no envelope, and the
  /// worker claims its listeners without an atomic. Only for a trivially copyable payload
  /// that fits the task's inline buffer (so nothing of it outlives the emission's end,
  /// as with an envelope, whose payload is destroyed before drain() can return); any other
  /// payload takes the envelope path.
  struct solo;

  /// Counts `n` deliveries dropped for `why` (its drop_reason).
  void count_dropped(std::uint64_t n, std::error_code why) noexcept;

  /// When an emission leaves: a meter_now() stamp for its queue wait when metrics time it
  /// (one emission in sample_every at the sampled level, each at full), else 0.
  std::uint64_t emit_stamp() const noexcept;

  /// Whether a plain emission may travel as a solo task.
  static constexpr bool solo_inline() noexcept;

  /// Undoes what submit() took (the in-flight count, then the snapshot pin) when building
  /// the emission throws, so drain() does not wait for an emission that never existed.
  struct unwind;

  /// Every emit of this signal: queues (or, by the overflow policy, runs here or refuses)
  /// one emission of `payload`, as `m` says (submit_in), traced when a tracer is installed.
  template <class P>
  std::error_code submit(const context& ctx, P&& payload, std::shared_ptr<detail::completion_state> done, mode m);

  /// submit() in an emit span: the emission carries the span's context (in its envelope)
  /// to the workers, whose listener calls' spans are its children. The span ends here,
  /// once the emission is queued.
  template <class P>
  std::error_code submit_traced(sigs::tracer& t, const context& ctx, P&& payload,
                                std::shared_ptr<detail::completion_state> done, mode m);

  /// submit(), untraced (or inside submit_traced()'s span).
  template <class P>
  std::error_code submit_in(const context& ctx, P&& payload, std::shared_ptr<detail::completion_state> done, mode m);

  enum class first_push { queued, ran_here, refused };

  /// Queues an emission's first task as the overflow policy says: try_submit, or a submit
  /// that waits for room (block). A full queue under caller_runs, or block on one of our
  /// own workers (would_deadlock), runs it here instead. Refused: `why` says why, and the
  /// task is still the caller's, neither run nor dropped.
  first_push push_first(worker_pool::task& t, const context& ctx, bool try_only, std::error_code& why);

  /// Queues a solo task (or runs it here when the policy says so, or drops it) as submit()
  /// does an envelope's first copy. The task holds the emission's snapshot pin and
  /// in-flight count.
  std::error_code submit_solo(worker_pool::task& t, bool try_only);

  /// A refused emission that never got an envelope: count it, finish its completion.
  std::error_code refuse(std::error_code why, bool try_only, const std::shared_ptr<detail::completion_state>& done);

  /// Pushes more copies of the envelope so that its listeners run on several workers: one
  /// per worker that was idle before the first copy was pushed, minus the one that takes
  /// the first copy, and at most one per listener. A busy pool gets none: each worker then
  /// runs whole emissions, and the workers do not contend on one claim counter (measured:
  /// 1.5x the throughput of always spreading, docs/benchmarks.md). A copy the queue
  /// refuses is simply not needed: the others claim its share.
  void add_helpers(envelope& env, std::size_t idle_workers);

  /// True when the calling thread is running listeners of this signal right now: one of
  /// the emission frames in its record is for this signal's core (run_listeners() opens
  /// one around every delivery, on a worker or on the caller). A thread without a record
  /// has run no listener.
  bool delivering_here() const noexcept;

  /// Runs listeners of `env` until none is left to claim, then (unless `release` is false)
  /// drops this copy's reference.
  void run(envelope& env, bool release = true);

  /// A solo task: runs every listener of its snapshot in order, then settles the emission.
  void run_solo(solo& s);

  /// (ENV-R1) acq_rel (envelope_tally::release_ref): each copy releases its counts; the last
  /// one acquires all of them, and ends the emission.
  void release_ref(envelope& env) noexcept;

  /// Returns an envelope to the cache, or frees it when the cache is full.
  void recycle(envelope* env) noexcept;

  /// Counts a finished emission's outcome in stats() (the listeners of the n that `o` does
  /// not cover were never claimed: dropped), or one rejected try_emit. Returns the dropped
  /// total (0 when rejected).
  std::uint64_t count_outcome(std::size_t n, const outcome& o, bool rejected, std::error_code why) noexcept;

  /// Ends a solo emission: counts its outcome, unpins the snapshot and counts the emission
  /// out of the in-flight total.
  void settle(snapshot* snap, const outcome& o, bool rejected, errc why = errc::pool_stopped) noexcept;

  // ---- in-flight accounting (queue_capacity, drain) ------------------------------------

  // The count and its orders (I1-I5) are detail::in_flight_count, model-checked in
  // models/completion_models.cpp; the idle mutex and condition variable stay here.

  /// Counts one more emission in flight on the pool, unless queue_capacity is reached.
  bool reserve() noexcept;

  /// block policy at queue_capacity, not on one of the pool's workers: a few yields (room
  /// is usually made within a task's time), then a sleep on idle_cv_, woken by the finish
  /// that makes room (in_flight_count::wait_reserve: finishers lock and notify only while
  /// someone waits), by a stop request on the context, or at its deadline.
  std::error_code wait_reserve(const context& ctx);

  /// One emission finished: counts it out of the pool's share, or out of the emissions on
  /// the caller. A decrement that may reach zero is made under idle_mutex_, so wait_idle()
  /// can only see zero once this thread no longer touches the signal.
  void unreserve(bool on_caller = false) noexcept;

  void wait_idle();

  /// ~async_signal on one of the pool's workers: runs (or, if the pool is discarding,
  /// discards) queued tasks here until none of our emissions is in flight. Zero is seen
  /// under idle_mutex_, as in wait_idle(): the last finaliser has left the signal.
  void help_until_idle();

  static constexpr unsigned reserve_spins = 16;
  static constexpr std::chrono::milliseconds help_poll{1};

  worker_pool& pool_;
  const std::size_t capacity_;
  const overflow_policy policy_;
  detail::mpmc_queue<envelope*> cache_;

  alignas(detail::cache_line) detail::in_flight_count<> in_flight_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> skipped_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> dropped_by_[drop_reason_count] = {};  // by drop_reason; sum: dropped_
  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
};

}  // namespace sigs

// The definitions of the private members above: how an emission is queued, run and
// finalised.
#include <sigs/detail/async_emission.hpp>

#pragma pop_macro("emit")
