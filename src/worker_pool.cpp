// src/worker_pool.cpp — the threads, counters and global pool of sigs::worker_pool.
//
// The pool's protocol — the queue, when a thread sleeps and who wakes it ((POOL-F1)-(POOL-F4)), the
// run state and shutdown ((POOL-S1)/(POOL-S2)), the discard of leftovers, helping — is
// sigs/detail/pool_core.hpp, written over the atomics policy so that
// models/pool_models.cpp model-checks that very code (docs/models.md). This file
// instantiates it with std_atomics and adds what a model has no use for: the threads and
// which thread is a worker (thread ids, thread_local), the per-worker statistics ((POOL-C1)/(POOL-C2),
// idle time from the steady clock), the rejected count and the global pool.
#include <sigs/worker_pool.hpp>
#include <sigs/detail/meter.hpp>
#include <sigs/metrics.hpp>

#include <sigs/detail/thread_record.hpp>

#include <cassert>
#include <mutex>
#include <new>
#include <optional>

namespace sigs {
namespace {

// The pool whose worker the calling thread is, if any, and that worker's index (its slot).
thread_local const worker_pool* current_pool = nullptr;
thread_local unsigned current_worker = 0;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Single-writer counters: the owning worker is the only writer, so a load and a store
// suffice (no locked RMW); readers only need the atomicity.
void bump(std::atomic<std::uint64_t>& c, std::memory_order order) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, order);
}

constexpr detail::pool_state stop_target(shutdown_mode mode) noexcept {
  return mode == shutdown_mode::drain ? detail::pool_state::draining : detail::pool_state::discarding;
}

// Global pool configuration. All constant-initialised, so set_global_options() works even
// from another translation unit's static initialisers.
std::mutex global_mutex;
bool global_created = false;                        // guarded by global_mutex
std::optional<worker_pool_options> global_options;  // guarded by global_mutex

worker_pool_options claim_global_options() {
  // Construct the error category first so that it is destroyed after the global pool: tasks
  // that run during the exit-time drain may still make sigs error codes.
  (void)sigs::error_category();
  std::lock_guard<std::mutex> lock(global_mutex);
  global_created = true;
  return global_options.value_or(worker_pool_options{});
}

}  // namespace

// One per worker, on its own cache line: only that worker writes it, stats() reads it.
// All relaxed except `completed` (see (POOL-C1)/(POOL-C2)): these are statistics, nothing else is
// published through them.
struct alignas(detail::cache_line) worker_pool::worker_slot {
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> exceptions{0};
  // Idle time, packed so that a reader gets a consistent value from one load:
  //   even v: not idle, v / 2 ns idle in total;
  //   odd v:  idle since t0, (v - 1) / 2 == total - t0 (so total now is that + now).
  std::atomic<std::int64_t> idle{0};
  std::atomic<bool> busy{false};
  // When the worker's thread began and ended its loop (ns, now_ns()); -1 before.
  std::atomic<std::int64_t> born{-1};
  std::atomic<std::int64_t> died{-1};

  void idle_begin() noexcept {
    const std::int64_t v = idle.load(std::memory_order_relaxed);
    idle.store((v / 2 - now_ns()) * 2 + 1, std::memory_order_relaxed);
  }
  void idle_end() noexcept {
    const std::int64_t v = idle.load(std::memory_order_relaxed);
    idle.store(((v - 1) / 2 + now_ns()) * 2, std::memory_order_relaxed);
  }
  std::int64_t idle_ns() const noexcept {
    const std::int64_t v = idle.load(std::memory_order_relaxed);
    if ((v & 1) == 0) return v / 2;
    const std::int64_t total = (v - 1) / 2 + now_ns();
    return total < 0 ? 0 : total;
  }
  // Its lifetime so far less its idle time; the fields are read one by one, so clamped.
  std::int64_t busy_ns() const noexcept {
    const std::int64_t from = born.load(std::memory_order_relaxed);  // relaxed: statistics
    if (from < 0) return 0;
    const std::int64_t to = died.load(std::memory_order_relaxed);  // relaxed: statistics
    const std::int64_t busy = (to < 0 ? now_ns() : to) - from - idle_ns();
    return busy < 0 ? 0 : busy;
  }

  // pool_core's worker hooks: idle_begin() / idle_end() above, and run().
  void run(task& t) noexcept {
    busy.store(true, std::memory_order_relaxed);  // relaxed: statistics
    run_counted(t);
    busy.store(false, std::memory_order_relaxed);  // relaxed: statistics
  }

  // Runs `t` and counts it. Also run_one_queued()'s: the task that called it keeps this
  // worker busy, only the counts move.
  void run_counted(task& t) noexcept {
    try {
      t.run();
    } catch (...) {
      bump(exceptions, std::memory_order_relaxed);  // relaxed: statistics
    }
    // (POOL-C1) release, pairs with acquire (POOL-C2) in stats(): whoever counts this task as
    //      completed also sees everything it did.
    bump(completed, std::memory_order_release);
  }
};

// A named pool's entry in the metrics registry.
struct worker_pool::pool_listing final : detail::listed {
  pool_listing(const std::string& name, const worker_pool& p) : listed(name, kind::pool), pool(p) { enlist(); }
  ~pool_listing() override { delist(); }
  pool_listing(const pool_listing&) = delete;
  pool_listing& operator=(const pool_listing&) = delete;
  void read_pool(pool_metrics& m) const override { m.stats = pool.stats(); }
  const worker_pool& pool;
};

worker_pool::worker_pool(const worker_pool_options& options)
    : core_(options.queue_capacity), thread_count_(std::max(1u, options.threads)),
      slots_(std::make_unique<worker_slot[]>(thread_count_)) {
  if (!options.name.empty()) listing_ = std::make_unique<pool_listing>(options.name, *this);
  workers_.reserve(thread_count_);
  try {
    for (unsigned i = 0; i < thread_count_; ++i) {
      workers_.emplace_back([this, i] {
        current_worker = i;
        worker_main(slots_[i]);
      });
    }
  } catch (...) {
    core_.request_stop(detail::pool_state::discarding);
    for (std::thread& w : workers_) w.join();
    throw;
  }
}

worker_pool::~worker_pool() {
  listing_.reset();  // waits for a collection reading this pool
  if (!on_worker_thread()) {
    shutdown(shutdown_mode::drain);
    return;
  }
  // Destroyed by one of our own tasks: only sane when that task is calling exit() (the
  // global pool's static destructor). Join the others, let this thread go.
  core_.request_stop(detail::pool_state::draining);
  const std::thread::id self = std::this_thread::get_id();
  for (std::thread& w : workers_) {
    if (w.get_id() == self) {
      w.detach();
    } else if (w.joinable()) {
      w.join();
    }
  }
}

std::error_code worker_pool::try_submit(task& t) {
  if (!t) return reject(errc::invalid_listener);
  switch (core_.push_and_wake(t)) {
    case detail::push_result::ok: return {};
    case detail::push_result::full: return reject(errc::backpressure);
    case detail::push_result::closed: break;
  }
  return reject(errc::pool_stopped);
}

std::error_code worker_pool::submit(task& t, const context& ctx) {
  if (!t) return reject(errc::invalid_listener);
  const std::error_code ec = core_.submit(t, detail::context_wait{ctx}, [this] { return on_worker_thread(); });
  return ec ? reject(ec) : ec;
}

void worker_pool::worker_main(worker_slot& me) {
  // Takes this thread's hazard record before any task runs, so that an async delivery never
  // meets its first allocation (past the preallocated records) half-way through an emission.
  // Out of memory here, the first delivery tries again.
  try {
    (void)detail::local_record();
  } catch (const std::bad_alloc&) {}
  current_pool = this;
  me.born.store(now_ns(), std::memory_order_relaxed);  // relaxed: statistics
  core_.worker_loop(me);
  me.died.store(now_ns(), std::memory_order_relaxed);  // relaxed: statistics
  current_pool = nullptr;
}

bool worker_pool::run_one_queued() noexcept {
  assert(on_worker_thread());
  worker_slot& me = slots_[current_worker];
  return core_.run_one_queued([&me](task& t) noexcept { me.run_counted(t); });
}

std::error_code worker_pool::reject(std::error_code ec) noexcept {
  rejected_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  return ec;
}

std::error_code worker_pool::shutdown(shutdown_mode mode) {
  return core_.shutdown(stop_target(mode), on_worker_thread(), [this] {
    for (std::thread& w : workers_) {
      if (w.joinable()) w.join();
    }
  });
}

bool worker_pool::stopped() const noexcept { return core_.stopped(); }

bool worker_pool::on_worker_thread() const noexcept { return current_pool == this; }

worker_pool_stats worker_pool::stats() const noexcept {
  worker_pool_stats s;
  s.threads = thread_count_;
  s.queue_capacity = core_.capacity();
  std::int64_t idle = 0;
  std::int64_t busy = 0;
  for (unsigned i = 0; i < thread_count_; ++i) {
    const worker_slot& w = slots_[i];
    // (POOL-C2) acquire, pairs with release (POOL-C1).
    s.completed += w.completed.load(std::memory_order_acquire);
    s.exceptions += w.exceptions.load(std::memory_order_relaxed);    // relaxed: statistics
    if (w.busy.load(std::memory_order_relaxed)) ++s.active_workers;  // relaxed: statistics
    idle += w.idle_ns();
    busy += w.busy_ns();
  }
  // Read after `completed`: (POOL-C2) makes every counted task's push visible, so in this
  // snapshot submitted >= completed.
  s.submitted = core_.pushed();
  s.queue_depth = core_.size_approx();
  s.dropped = core_.dropped();
  s.rejected = rejected_.load(std::memory_order_relaxed);  // relaxed: statistics
  s.idle_time = std::chrono::nanoseconds(idle);
  s.busy_time = std::chrono::nanoseconds(busy);
  return s;
}

health_report worker_pool::healthy(const health_options& o) const {
  detail::health_input in;
  in.workers.resize(thread_count_);
  for (unsigned i = 0; i < thread_count_; ++i) {
    const worker_slot& w = slots_[i];
    in.workers[i].busy = w.busy.load(std::memory_order_relaxed);            // relaxed: statistics
    in.workers[i].completed = w.completed.load(std::memory_order_relaxed);  // relaxed: statistics
  }
  const worker_pool_stats s = stats();
  in.now = detail::meter_now();
  in.calls = s.completed;
  in.failures = s.exceptions;
  in.dropped = s.dropped + s.rejected;
  in.queued = s.queue_depth;
  in.capacity = s.queue_capacity;
  return health_.get().check(o, in);
}

worker_pool& worker_pool::global() {
  // A function-local static: created on first use, drained and joined by static
  // destruction at exit (LeakSanitizer sees nothing leaked).
  static worker_pool pool(claim_global_options());
  return pool;
}

bool worker_pool::set_global_options(const worker_pool_options& options) {
  std::lock_guard<std::mutex> lock(global_mutex);
  if (global_created) return false;
  global_options = options;
  return true;
}

bool worker_pool::set_global_threads(unsigned n) {
  std::lock_guard<std::mutex> lock(global_mutex);
  if (global_created) return false;
  worker_pool_options options = global_options.value_or(worker_pool_options{});
  options.threads = n;
  global_options = options;
  return true;
}

}  // namespace sigs
