// sigs/worker_pool.hpp — a fixed set of threads running small tasks from a bounded queue.
//
// The engine under async signals, usable on its own: a fixed number of worker threads
// take type-erased tasks (sigs::worker_pool::task, 64 bytes, no allocation for small
// callables) from a bounded lock-free MPMC queue. Submitting to a queue with room takes no
// lock (only waking a sleeping worker does); a full queue is reported (try_submit) or
// waited on (submit, honouring a sigs::context); shutdown either drains or discards what
// is queued and counts each task.
//
//   sigs::worker_pool pool({.threads = 4, .queue_capacity = 256});
//   sigs::worker_pool::task t = [] { do_work(); };
//   if (auto ec = pool.try_submit(t)) t.run();   // full or stopped: run it here instead
//
// Every task ends in exactly one run or one discard (see sigs/task.hpp): a task
// the pool accepted is run by a worker, or discarded by shutdown(discard) and counted in
// `dropped`; a task the pool refused stays with the caller, unconsumed. Nothing is lost
// silently, so after shutdown() `submitted == completed + dropped` holds exactly.
//
// Memory ordering: everything a thread did before a successful try_submit/submit happens
// before the task runs. Everything a task did happens before shutdown() returns, and before
// a stats() call that counts it in `completed` returns.
#pragma once
#pragma push_macro("emit")
#undef emit

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sigs/context.hpp>
#include <sigs/detail/pool_core.hpp>
#include <sigs/detail/port.hpp>
#include <sigs/detail/health_state.hpp>
#include <sigs/detail/registry.hpp>
#include <sigs/task.hpp>
#include <sigs/errors.hpp>

namespace sigs {

/// How a worker_pool is built. Designated initialisers read well:
/// `sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});`
struct worker_pool_options {
  /// Worker threads. Defaults to std::thread::hardware_concurrency() (1 when unknown);
  /// 0 is taken as 1.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  /// Queue cells; rounded up to a power of two, and at least 2 (so 0 and 1 give 2).
  /// Above detail::mpmc_queue<>::max_capacity the constructor throws std::length_error.
  std::size_t queue_capacity = 1024;
  /// A name lists the pool in the metrics registry (sigs/metrics.hpp). Empty: not listed.
  std::string name{};
};

/// What shutdown() does with the tasks still queued.
enum class shutdown_mode : unsigned char {
  drain,    ///< run every queued task, then stop
  discard,  ///< discard every queued task (calling its discard hook) and count it as dropped
};

/// A snapshot of a pool's counters. Each field is exact at some instant of the call, but
/// the fields are read one by one, so under load they need not agree with each other.
/// After shutdown() returns they are final and `submitted == completed + dropped`.
struct worker_pool_stats {
  std::size_t queue_depth = 0;            ///< tasks queued, not yet taken by a worker
  std::size_t queue_capacity = 0;         ///< queue cells
  unsigned active_workers = 0;            ///< workers running a task right now
  unsigned threads = 0;                   ///< worker threads
  std::uint64_t submitted = 0;            ///< tasks the pool accepted
  std::uint64_t completed = 0;            ///< accepted tasks that ran (including those that threw)
  std::uint64_t dropped = 0;              ///< accepted tasks discarded by shutdown(discard)
  std::uint64_t rejected = 0;             ///< try_submit/submit calls that returned an error
  std::uint64_t exceptions = 0;           ///< tasks that threw (each also counted in `completed`)
  std::chrono::nanoseconds idle_time{0};  ///< total time workers spent waiting for work,
                                          ///< including waits still in progress
  std::chrono::nanoseconds busy_time{0};  ///< total time workers spent otherwise: their
                                          ///< lifetimes less idle_time (running tasks,
                                          ///< taking them, starting and stopping)
};

/// A fixed-size thread pool over a bounded lock-free MPMC queue. All member functions are
/// thread-safe. See the top of this header.
class worker_pool {
 public:
  /// The unit of work: a move-only callable with a run and a discard entry point.
  using task = sigs::task;

  /// Starts `options.threads` workers and allocates the queue. Throws std::length_error
  /// (capacity too large), std::bad_alloc, or std::system_error (a thread could not be
  /// started; the workers already started are stopped first).
  explicit worker_pool(const worker_pool_options& options = {});

  /// shutdown(shutdown_mode::drain). Destroying a pool from one of its own tasks is
  /// undefined, except by exit() from a task of the global pool (that worker is detached);
  /// as for any static object, no other thread may be using the global pool at that moment.
  ~worker_pool();

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Enqueues `t` without blocking and without taking a lock, moving from it on success.
  /// On failure `t` is left with the caller, unconsumed (run it, keep it or drop it):
  ///   errc::backpressure      the queue is full;
  ///   errc::pool_stopped      shutdown() has begun;
  ///   errc::invalid_listener  `t` is empty.
  /// Wakes a sleeping worker, if any (taking a lock only then).
  [[nodiscard]] std::error_code try_submit(task& t);

  /// Enqueues `t`, waiting while the queue is full: a short spin, then a sleep on a
  /// condition variable, woken when a worker frees a cell or the context ends. On success
  /// moves from `t`; on failure leaves it with the caller, unconsumed:
  ///   errc::canceled / errc::deadline_exceeded  `ctx` ended first (checked before the
  ///                                             first attempt too);
  ///   errc::pool_stopped      shutdown() began (also while waiting);
  ///   errc::would_deadlock    called on one of this pool's workers while the queue is
  ///                           full: waiting could wait for itself, so it does not wait;
  ///   errc::invalid_listener  `t` is empty.
  [[nodiscard]] std::error_code submit(task& t, const context& ctx = {});

  /// Stops the pool: closes the queue (later submissions fail with errc::pool_stopped and
  /// blocked submit() calls return it), then either runs (drain) or discards (discard) the
  /// queued tasks, and joins the workers. Idempotent and thread-safe; a later or concurrent
  /// call with shutdown_mode::discard turns a drain in progress into a discard. Returns
  /// an empty code once the workers are joined, or errc::would_deadlock when called from
  /// one of this pool's own tasks: the pool still stops, and another thread, or the
  /// destructor, joins it. A discard called from a task discards the queued tasks before it
  /// returns (each discard hook called once, on the calling thread, and counted in
  /// `dropped`), so whatever waits for them (an async_signal's drain() or destructor) need
  /// not wait for the join; the other workers stop after their current task. A drain
  /// called from a task leaves the queued tasks to the workers, which run them.
  std::error_code shutdown(shutdown_mode mode = shutdown_mode::drain);

  /// True once shutdown() has begun.
  [[nodiscard]] bool stopped() const noexcept;

  /// True when the calling thread is one of this pool's workers, i.e. the caller is
  /// running inside one of its tasks. Waiting for this pool from there can deadlock.
  [[nodiscard]] bool on_worker_thread() const noexcept;

  /// The number of worker threads.
  [[nodiscard]] unsigned threads() const noexcept { return thread_count_; }

  /// Workers waiting for work at this moment (spinning before sleep, or asleep). A hint,
  /// possibly stale by the time it is used: async_signal reads it to decide whether the
  /// listeners of one emission are worth spreading over several workers.
  [[nodiscard]] unsigned idle_workers() const noexcept { return core_.idle_workers(); }

  /// The queue capacity (after rounding).
  [[nodiscard]] std::size_t queue_capacity() const noexcept { return core_.capacity(); }

  /// Reads the counters; lock-free, callable any time, from any thread, also from a task.
  [[nodiscard]] worker_pool_stats stats() const noexcept;

  /// Whether the pool is doing its job (sigs/health.hpp): its queue above
  /// `o.queue_fraction` of its capacity for `o.queue_for`; a worker seen in the same task
  /// for longer than `o.stuck_after` (as seen by successive calls); tasks dropped or
  /// rejected in the window; tasks that threw above `o.error_rate` of those completed.
  /// Thread-safe; allocates.
  [[nodiscard]] health_report healthy(const health_options& o = {}) const;

  /// The process-wide default pool, created on first use with the options given to
  /// set_global_options / set_global_threads (default options otherwise), and shut down
  /// (drained) by static destruction at exit.
  static worker_pool& global();

  /// Sets the options of the global pool. Works only before its first use: returns false,
  /// changing nothing, once global() has been called.
  static bool set_global_options(const worker_pool_options& options);

  /// Like set_global_options, changing only `threads` (0 is taken as 1). Returns false,
  /// changing nothing, once global() has been called.
  static bool set_global_threads(unsigned n);

 private:
  // ~async_signal on one of our workers helps with run_one_queued() rather than wait for
  // tasks queued behind its own.
  template <class T>
  friend class async_signal;

  struct worker_slot;
  struct pool_listing;

  /// Called only on one of this pool's workers, from inside a task: takes one queued task,
  /// if any, and runs it here (counted in this worker's `completed`), or discards it
  /// (counted in `dropped`) if the pool is discarding. Returns false when nothing could be
  /// taken (empty, or the next cell is still being published).
  bool run_one_queued() noexcept;

  void worker_main(worker_slot& me);
  std::error_code reject(std::error_code ec) noexcept;

  // The queue, the sleep/wake handshakes and the shutdown protocol (detail/pool_core.hpp).
  detail::pool_core<> core_;

  // Rare-path counter, off the hot lines.
  alignas(detail::cache_line) std::atomic<std::uint64_t> rejected_{0};

  unsigned thread_count_;
  std::unique_ptr<worker_slot[]> slots_;
  std::unique_ptr<detail::listed> listing_;  // in the metrics registry, when named
  mutable detail::health_slot health_;       // made by the first healthy()
  std::vector<std::thread> workers_;
};

}  // namespace sigs

#pragma pop_macro("emit")
