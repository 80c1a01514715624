// bench/bench_async.cpp — asynchronous emission: sigs::async_signal on a 2-thread
// sigs::worker_pool, beside a hand-rolled mutex + condition_variable pool and a plain loop.
//
//   async_emit/<impl>/<n>                what one emit() costs the *calling* thread, with n
//                                        listeners (1, 10, 100); items/s = emits/s
//   async_throughput/<impl>/real_time    listener calls per second through the pool, 10
//                                        listeners; items/s = listener calls/s
//
// Counters: allocs_per_emit (the emitting thread), worker_allocs_per_emit (the workers),
// worker_cpu_ns_per_call (the workers' CPU time per listener call: on this shared 2-CPU
// machine the wall-clock rate mostly says how much CPU the scheduler gave the workers, while
// their CPU time per call is what delivering a call costs them).
//
// Implementations:
//   sigs          sigs::async_signal<int> on its own sigs::worker_pool({.threads = 2}),
//                 overflow_policy::block, envelope_cache above the most emissions a case
//                 keeps in flight (see envelope_cache below).
//   sigs_cache64  the same with the default envelope_cache (64), async_emit only: what the
//                 default costs when more emissions than that are in flight at once.
//   mutex_cv      the obvious hand-rolled design: 2 std::threads fed by a std::deque of
//                 std::function<void()> under one std::mutex + std::condition_variable, one
//                 task per listener per emission, each task holding its own copy of the payload.
//   loop          a plain loop over std::vector<std::function<void(const int&)>>, calling
//                 every listener synchronously on the calling thread: the floor.
//
// Listeners: the suite's five types (listeners.hpp), so nothing devirtualises. They add to
// *thread-local* tallies, and here they run on worker threads, whose tallies the caller
// cannot read directly. probe_workers() therefore runs one task on every worker (a
// rendezvous forces them onto distinct workers) that reads that worker's own tally,
// allocation count and thread CPU time; the rendezvous publishes them to the caller. Every
// case checks, after draining, that the caller's and the workers' tallies together grew by
// exactly emits × expected_per_emit() (each listener ran exactly once per emission, wherever
// it ran) and that the signal counted nothing dropped or skipped.
#include <sigs/async_signal.hpp>
#include <sigs/options.hpp>
#include <sigs/worker_pool.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_common.hpp"

namespace sigs_bench {
namespace {

constexpr unsigned pool_threads = 2;

// async_emit: emits per timed batch; the batch is drained with the timer paused.
//
// Why batches: emit() only queues, so a loop of nothing but emits fills any bounded queue
// within microseconds and then measures backpressure (the caller waiting for the workers),
// not emit. Draining after every emit would measure the round trip instead, and pausing the
// timer around every emit costs more than the emit (two clock reads each way). So the
// caller emits `emit_batch` times with the timer running, then drains with it paused; the
// pool's queue (pool_queue cells) holds a whole batch (sigs: at most 2 cells per emission,
// the task and one helper copy), so the block policy never waits, and the signal's
// envelope_cache covers the emissions in flight, so steady state reuses envelopes.
// Cost of the pause: a PauseTiming/ResumeTiming pair reads both clocks twice (the thread
// CPU clock is a system call on this VM) and part of that lands inside the timed region. With
// batches of 256 it added about 6 ns per emit (async_emit/loop/1 at 7.4 ns against 1.5 ns for
// emit/floor/1); batches of 1024 cut that to a quarter. async_emit/loop runs the same
// structure around a synchronous loop, so the leak stays visible there.
// At the start of each batch the workers are asleep (the pool was drained), so the first
// emits of a batch also pay for waking them, as a bursty producer would.
//
// Which time: Google Benchmark's default, the CPU time of the emitting thread, is the
// headline here. The caller shares the 2 CPUs with the 2 workers that run the listeners
// meanwhile, so its wall time also includes being preempted by them (and by whatever else
// the shared machine runs); CPU time is what emit itself costs. Both are in the JSON and
// summarize.py prints both. A caller that blocked (for room, or for mutex_cv's lock, which
// its workers take once per task) shows as wall >> CPU: that wait is part of what emit
// costs the caller too, so read both columns.
constexpr std::size_t emit_batch = 1024;

// async_throughput: emits per timed iteration, then drain() inside the timed region, so
// the figure is end-to-end: from the first emit to the last listener call being known done.
constexpr std::size_t burst = 1024;
constexpr std::size_t throughput_listeners = 10;

constexpr std::size_t pool_queue = 4096;  // >= 2 cells × max(emit_batch, burst): block never waits
// Above the most emissions in flight (max(emit_batch, burst) = 1024), not equal to it: with
// envelope_cache == 1024 the throughput case still allocated about once per 1100 emits
// (0.0009 per emit), probably because the cache ring reports "empty" or "full" while a thread it
// depends on is pre-empted mid-operation (the caveat in detail/mpmc_queue.hpp), and that
// matters exactly when the cache is run down to its last envelopes. With 2048: 0.
constexpr std::size_t envelope_cache = 2048;
static_assert(pool_queue >= 2 * emit_batch && pool_queue >= 2 * burst);
static_assert(envelope_cache > emit_batch && envelope_cache > burst);

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "bench_async: %s\n", what);
  std::abort();
}

// ---- sigs ----------------------------------------------------------------------------

/// sigs::async_signal<int> on its own 2-thread pool. Cache == 0: default async_options.
template <std::size_t Cache>
class sigs_impl {
 public:
  explicit sigs_impl(std::size_t n)
      : pool_(sigs::worker_pool_options{.threads = pool_threads, .queue_capacity = pool_queue}), sig_(options(pool_)) {
    add_listeners(n, [&](auto f) { sig_.add_listener(std::move(f)); });
  }

  void emit(const int& v) { sig_.emit(v); }
  void drain() {
    if (sig_.drain()) fail("drain failed");
  }
  [[nodiscard]] unsigned workers() const noexcept { return pool_.threads(); }

  template <class F>
  void post(F f) {
    sigs::worker_pool::task t = std::move(f);
    if (pool_.submit(t)) fail("probe task refused");
  }

  /// Deliveries that did not happen: dropped (queue refused, pool stopped), skipped, rejected.
  [[nodiscard]] std::uint64_t lost() const noexcept {
    const sigs::signal_stats s = sig_.stats();
    return s.dropped + s.skipped + s.rejected;
  }

 private:
  static sigs::async_options options(sigs::worker_pool& pool) {
    sigs::async_options o;
    o.pool = &pool;
    o.overflow = sigs::overflow_policy::block;
    if (Cache != 0) o.envelope_cache = Cache;
    return o;
  }

  sigs::worker_pool pool_;  // declared first: destroyed after the signal, which drains
  sigs::async_signal<int> sig_;
};

// ---- mutex + condition_variable baseline ----------------------------------------------

/// A fixed set of threads taking std::function<void()> tasks from an unbounded deque under
/// one mutex. drain() waits until every posted task has finished.
class mutex_cv_pool {
 public:
  explicit mutex_cv_pool(unsigned threads) {
    workers_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  mutex_cv_pool(const mutex_cv_pool&) = delete;
  mutex_cv_pool& operator=(const mutex_cv_pool&) = delete;
  ~mutex_cv_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  /// Queues make(0) ... make(count - 1) under one lock, then wakes workers.
  template <class Make>
  void post_n(std::size_t count, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::size_t i = 0; i < count; ++i) queue_.emplace_back(make(i));
      pending_ += count;
    }
    if (count == 1) {
      work_cv_.notify_one();
    } else {
      work_cv_.notify_all();
    }
  }

  void drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_cv_.wait(lock, [&] { return pending_ == 0; });
  }

  [[nodiscard]] unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()); }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // destroyed outside the lock
      lock.lock();
      if (--pending_ == 0) idle_cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::size_t pending_ = 0;  // posted and not yet finished
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

/// One task per listener per emission, each with its own copy of the payload. The task
/// refers to the listener (the list is fixed after setup, as for the floors) rather than
/// copying its std::function, which would allocate: {pointer, int} fits std::function's
/// local buffer, so a task allocates nothing itself; the deque allocates a 512-byte block
/// every 16 tasks.
class mutex_cv_impl {
 public:
  explicit mutex_cv_impl(std::size_t n) : pool_(pool_threads) {
    listeners_.reserve(n);
    add_listeners(n, [&](auto f) { listeners_.emplace_back(std::move(f)); });
  }

  void emit(const int& v) {
    pool_.post_n(listeners_.size(), [&](std::size_t i) {
      const listener* l = &listeners_[i];
      return [l, v] { (*l)(v); };
    });
  }
  void drain() { pool_.drain(); }
  [[nodiscard]] unsigned workers() const noexcept { return pool_.threads(); }

  template <class F>
  void post(F f) {
    pool_.post_n(1, [&](std::size_t) { return std::move(f); });
  }

  [[nodiscard]] std::uint64_t lost() const noexcept { return 0; }

 private:
  using listener = std::function<void(const int&)>;
  std::vector<listener> listeners_;  // declared first: outlives the pool's threads
  mutex_cv_pool pool_;
};

// ---- synchronous loop (floor) -----------------------------------------------------------

class loop_impl {
 public:
  explicit loop_impl(std::size_t n) {
    listeners_.reserve(n);
    add_listeners(n, [&](auto f) { listeners_.emplace_back(std::move(f)); });
  }

  void emit(const int& v) {
    for (const auto& f : listeners_) f(v);
  }
  void drain() {}
  [[nodiscard]] unsigned workers() const noexcept { return 0; }

  template <class F>
  void post(F) {
    fail("loop has no workers");
  }

  [[nodiscard]] std::uint64_t lost() const noexcept { return 0; }

 private:
  std::vector<std::function<void(const int&)>> listeners_;
};

// ---- the harness ------------------------------------------------------------------------

/// What the workers' own thread-local counters say, summed over the workers.
struct worker_counts {
  std::uint64_t calls = 0;   // tally_total(): weighted listener calls
  std::uint64_t allocs = 0;  // thread_allocations()
  std::uint64_t cpu_ns = 0;  // the worker thread's CPU time
};

/// The calling thread's CPU time. Unlike wall time it does not count the time the thread
/// was preempted, so it stays meaningful when other processes hold the CPUs.
std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// The state one probe shares between the caller and the workers: a rendezvous and the
/// workers' readings. Shared ownership, because a woken waiter still touches the mutex on
/// its way out of wait() after the caller may have returned: a probe state on the caller's
/// stack (or a std::latch there) was destroyed under a worker, which then hung.
struct probe_state {
  explicit probe_state(unsigned workers) : seen(workers), left(workers + 1) {}

  /// Blocks until every worker and the caller have arrived.
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex);
    if (--left == 0) {
      cv.notify_all();
      return;
    }
    cv.wait(lock, [&] { return left == 0; });
  }

  std::vector<worker_counts> seen;
  std::atomic<unsigned> next{0};
  std::mutex mutex;
  std::condition_variable cv;
  unsigned left;  // guarded by mutex
};

/// Runs one task on each of impl's workers, reading that worker's counters. Each task waits
/// at a rendezvous until all of them (and the caller) have arrived, so no worker can run two
/// of them: they run on distinct workers, one each. Call only with the pool idle (drained).
/// The rendezvous orders each worker's reads before the caller's use of them, and every
/// listener call the caller drained before the probe before those reads. The probe's own
/// allocations are made by the caller, outside any counted window.
template <class Impl>
worker_counts probe_workers(Impl& impl) {
  const unsigned n = impl.workers();
  if (n == 0) return {};
  auto state = std::make_shared<probe_state>(n);
  for (unsigned i = 0; i < n; ++i) {
    impl.post([state] {
      const unsigned k = state->next.fetch_add(1, std::memory_order_relaxed);  // relaxed: a slot index
      state->seen[k] = {tally_total(), thread_allocations(), thread_cpu_ns()};
      state->arrive_and_wait();
    });
  }
  state->arrive_and_wait();
  worker_counts sum;
  for (const worker_counts& w : state->seen) {
    sum.calls += w.calls;
    sum.allocs += w.allocs;
    sum.cpu_ns += w.cpu_ns;
  }
  return sum;
}

/// Counters and the exactly-once check shared by both case kinds. Returns false (and marks
/// the case failed) when the listener tallies or the signal's accounting do not add up.
template <class Impl>
class accounting {
 public:
  explicit accounting(Impl& impl)
      : impl_(impl), workers_(probe_workers(impl)), lost_(impl.lost()), tally_(tally_total()),
        allocs_(thread_allocations()) {}

  /// Call after the timed loop, with everything emitted drained.
  bool finish(benchmark::State& state, std::uint64_t emits, std::size_t listeners) {
    const std::uint64_t caller_allocs = thread_allocations() - allocs_;
    const std::uint64_t caller_calls = tally_total() - tally_;
    const worker_counts w = probe_workers(impl_);
    if (impl_.lost() != lost_) {
      state.SkipWithError("deliveries were dropped or skipped: the queue was not large enough");
      return false;
    }
    if (caller_calls + (w.calls - workers_.calls) != emits * expected_per_emit(listeners, payload)) {
      state.SkipWithError("listener tallies do not match: some listener was skipped or repeated");
      return false;
    }
    const double e = emits == 0 ? 1.0 : static_cast<double>(emits);
    state.counters["allocs_per_emit"] = static_cast<double>(caller_allocs) / e;
    state.counters["worker_allocs_per_emit"] = static_cast<double>(w.allocs - workers_.allocs) / e;
    // What running the listeners cost the workers, per listener call: their CPU time over the
    // whole case (the timed loop, and in async_emit the paused drains too), including the
    // time they spin or yield before sleeping and any time spent waiting for a lock.
    if (impl_.workers() != 0) {
      const double calls = e * static_cast<double>(listeners);
      state.counters["worker_cpu_ns_per_call"] = static_cast<double>(w.cpu_ns - workers_.cpu_ns) / calls;
    }
    return true;
  }

 private:
  Impl& impl_;
  worker_counts workers_;
  std::uint64_t lost_;
  std::uint64_t tally_;
  std::uint64_t allocs_;
};

/// async_emit: see emit_batch for why batches, and which time is reported.
template <class Impl, std::size_t N>
void async_emit(benchmark::State& state) {
  Impl impl(N);
  const int value = payload;
  // Warm-up batch: first-use costs (envelopes, the workers' hazard records, deque blocks)
  // are not the steady state this case measures.
  for (std::size_t i = 0; i < emit_batch; ++i) impl.emit(value);
  impl.drain();
  accounting<Impl> acc(impl);
  std::size_t in_batch = 0;
  for (auto _ : state) {
    impl.emit(value);
    if (++in_batch == emit_batch) {
      in_batch = 0;
      state.PauseTiming();
      impl.drain();
      state.ResumeTiming();
    }
  }
  impl.drain();
  if (!acc.finish(state, static_cast<std::uint64_t>(state.iterations()), N)) return;
  state.SetItemsProcessed(state.iterations());
}

/// async_throughput: `burst` emits and a drain per iteration, all timed (wall clock).
template <class Impl>
void async_throughput(benchmark::State& state) {
  Impl impl(throughput_listeners);
  const int value = payload;
  for (std::size_t i = 0; i < burst; ++i) impl.emit(value);
  impl.drain();
  accounting<Impl> acc(impl);
  for (auto _ : state) {
    for (std::size_t i = 0; i < burst; ++i) impl.emit(value);
    impl.drain();
  }
  const auto emits = static_cast<std::uint64_t>(state.iterations()) * burst;
  if (!acc.finish(state, emits, throughput_listeners)) return;
  state.SetItemsProcessed(static_cast<std::int64_t>(emits * throughput_listeners));
}

template <class Impl>
void register_async_emit(const std::string& impl) {
  const auto add = [&](std::size_t n, void (*fn)(benchmark::State&)) {
    const std::string name = "async_emit/" + impl + "/" + std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(), fn)->ComputeStatistics("min", fastest);
  };
  add(1, async_emit<Impl, 1>);
  add(10, async_emit<Impl, 10>);
  add(100, async_emit<Impl, 100>);
}

template <class Impl>
void register_async_throughput(const std::string& impl) {
  const std::string name = "async_throughput/" + impl;
  benchmark::RegisterBenchmark(name.c_str(), async_throughput<Impl>)->UseRealTime()->ComputeStatistics("min", fastest);
}

using sigs_big_cache = sigs_impl<envelope_cache>;
using sigs_default_cache = sigs_impl<0>;

[[maybe_unused]] const bool registered = [] {
  register_async_emit<sigs_big_cache>("sigs");
  register_async_emit<sigs_default_cache>("sigs_cache64");
  register_async_emit<mutex_cv_impl>("mutex_cv");
  register_async_emit<loop_impl>("loop");
  register_async_throughput<sigs_big_cache>("sigs");
  register_async_throughput<mutex_cv_impl>("mutex_cv");
  register_async_throughput<loop_impl>("loop");
  return true;
}();

}  // namespace
}  // namespace sigs_bench
