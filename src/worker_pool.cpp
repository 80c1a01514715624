// src/worker_pool.cpp — the threads, wakeups, shutdown and counters of sigs::worker_pool.
//
// The queue (sigs/detail/mpmc_queue.hpp) is lock-free and never blocks; this file decides
// when a thread sleeps and who wakes it. Workers sleep on work_cv_, producers that wait for
// room sleep on space_cv_. The fast paths (a push with room, a pop with work) never lock;
// they only check, after one fence, whether someone is asleep, and lock to wake it only
// then. Two handshakes of the same Dekker shape make that check sound:
//
//   producer, after a push            worker, about to sleep (holding work_mutex_)
//     publish the cell  (queue (2))     sleepers_ += 1
//     (F1) seq_cst fence                (F2) seq_cst fence
//     read sleepers_                    try_pop: read the cell  (queue (3))
//
// Both fences are in the single total order S. If (F1) precedes (F2), the worker's read of
// the cell observes the publish and it pops instead of sleeping; otherwise the producer's
// read observes the increment (or a later value, written only by workers that have woken
// and will re-check the queue before they sleep again) and wakes a sleeper. The worker holds
// work_mutex_ from its increment until wait() releases it, so the producer, which notifies
// while holding work_mutex_, does so only once the worker really waits: no wakeup is lost.
// Notifying under the mutex also makes a notifier's last touch of the pool an unlock that
// a later shutdown()'s lock synchronises with.
// (F3)/(F4) are the same handshake between a worker that freed a cell (queue (4)) and a
// producer about to wait for room (space_waiters_, space_mutex_).
// Both are sigs/detail/wake.hpp's wake_count: (F1)/(F3) are its wake_one()'s fence (W1),
// (F2)/(F4) its sleep()'s (W2), the increment, the re-check and the wait (the callable passed
// to sleep(), under the mutex) and the decrement are sleep()'s; models/wake_models.cpp
// model-checks that code under Relacy (docs/models.md). The fences are
// std_atomics::fence(seq_cst) (see there for -Wtsan).
//
// Shutdown. request_stop() closes the queue — after which every push fails, so the set of
// accepted tasks is final — and then publishes the new state with (S1). Workers in drain
// mode stop once the queue is drained(); in discard mode after their current task. The
// joiner then discards what is left, counting each task. Every accepted task is therefore
// run or discarded exactly once, and after the join `submitted == completed + dropped`.
#include <sigs/worker_pool.hpp>

#include <optional>

namespace sigs {
namespace {

// Yields before a worker sleeps / a producer blocks: covers the common short gaps without
// the cost of a sleep and wake, and without burning a core for long.
constexpr unsigned idle_spins = 16;
constexpr unsigned submit_spins = 16;

// The pool whose worker the calling thread is, if any.
thread_local const worker_pool* current_pool = nullptr;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Single-writer counters: the owning worker is the only writer, so a load and a store
// suffice (no locked RMW); readers only need the atomicity.
void bump(std::atomic<std::uint64_t>& c, std::memory_order order) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, order);
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
// All relaxed except `completed` (see (C1)/(C2)): these are statistics, nothing else is
// published through them.
struct alignas(detail::cache_line) worker_pool::worker_slot {
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> exceptions{0};
  // Idle time, packed so that a reader gets a consistent value from one load:
  //   even v: not idle, v / 2 ns idle in total;
  //   odd v:  idle since t0, (v - 1) / 2 == total - t0 (so total now is that + now).
  std::atomic<std::int64_t> idle{0};
  std::atomic<bool> busy{false};

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
};

worker_pool::worker_pool(worker_pool_options options)
    : queue_(options.queue_capacity),
      thread_count_(std::max(1u, options.threads)),
      slots_(std::make_unique<worker_slot[]>(thread_count_)) {
  workers_.reserve(thread_count_);
  try {
    for (unsigned i = 0; i < thread_count_; ++i) {
      workers_.emplace_back([this, i] { worker_main(slots_[i]); });
    }
  } catch (...) {
    request_stop(shutdown_mode::discard);
    for (std::thread& w : workers_) w.join();
    throw;
  }
}

worker_pool::~worker_pool() {
  if (!on_worker_thread()) {
    shutdown(shutdown_mode::drain);
    return;
  }
  // Destroyed by one of our own tasks: only sane when that task is calling exit() (the
  // global pool's static destructor). Join the others, let this thread go.
  request_stop(shutdown_mode::drain);
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
  switch (push_and_wake(t)) {
    case detail::push_result::ok: return {};
    case detail::push_result::full: return reject(errc::backpressure);
    case detail::push_result::closed: break;
  }
  return reject(errc::pool_stopped);
}

std::error_code worker_pool::submit(task& t, const context& ctx) {
  if (!t) return reject(errc::invalid_listener);
  const bool cancellable = ctx.can_be_canceled();
  for (unsigned attempt = 0;; ++attempt) {
    if (cancellable) {
      if (std::error_code ec = ctx.error()) return reject(ec);
    }
    switch (push_and_wake(t)) {
      case detail::push_result::ok: return {};
      case detail::push_result::closed: return reject(errc::pool_stopped);
      case detail::push_result::full: break;
    }
    if (on_worker_thread()) return reject(errc::would_deadlock);
    if (attempt == submit_spins) break;
    std::this_thread::yield();
  }
  return wait_for_space(t, ctx);
}

std::error_code worker_pool::wait_for_space(task& t, const context& ctx) {
  std::unique_lock<std::mutex> lock(space_mutex_);
  detail::push_result result = detail::push_result::full;
  const auto pushed_or_closed = [&] {
    result = push_and_wake(t);
    return result != detail::push_result::full;
  };
  // space_waiters_ += 1, then (F4) seq_cst fence, pairs with (F3): either our next push
  // (the predicate, before any wait) sees the cell a worker freed, or that worker sees
  // space_waiters_ > 0 and notifies space_cv_. Then -= 1 (wake.hpp).
  space_waiters_.sleep([&] {
    if (const auto deadline = ctx.deadline()) {
      space_cv_.wait_until(lock, ctx.stop_token(), *deadline, pushed_or_closed);
    } else {
      space_cv_.wait(lock, ctx.stop_token(), pushed_or_closed);
    }
  });
  // Cancelled or expired: we may have consumed a notification for a freed cell; pass it on.
  if (result == detail::push_result::full) space_cv_.notify_one();
  lock.unlock();
  if (result == detail::push_result::ok) return {};
  if (result == detail::push_result::closed) return reject(errc::pool_stopped);
  const std::error_code ec = ctx.error();
  return reject(ec ? ec : std::error_code(errc::deadline_exceeded));
}

detail::push_result worker_pool::push_and_wake(task& t) {
  const detail::push_result r = queue_.try_push(t);
  if (r == detail::push_result::ok) {
    // (F1) seq_cst fence, pairs with (F2): either the sleeping-to-be worker's re-check
    //      sees our element, or we see it in sleepers_ and notify work_cv_ under
    //      work_mutex_ (wake.hpp).
    sleepers_.wake_one(work_mutex_, work_cv_);
  }
  return r;
}

void worker_pool::after_pop() {
  // (F3) seq_cst fence, pairs with (F4): either the about-to-wait producer's push sees the
  //      cell we just freed (queue (4)), or we see it in space_waiters_ and notify
  //      space_cv_ under space_mutex_ (wake.hpp).
  space_waiters_.wake_one(space_mutex_, space_cv_);
}

void worker_pool::worker_main(worker_slot& me) {
  current_pool = this;
  task t;
  for (;;) {
    // (S2) acquire, pairs with release (S1): a worker that sees a stop state also sees the
    //      closed queue, which drained() relies on.
    if (state_.load(std::memory_order_acquire) == run_state::discarding) break;
    if (!queue_.try_pop(t) && !wait_for_work(me, t)) break;
    after_pop();
    run_one(me, t);
  }
  current_pool = nullptr;
}

bool worker_pool::wait_for_work(worker_slot& me, task& t) {
  me.idle_begin();
  idle_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint (idle_workers())
  bool got = false;
  for (unsigned i = 0; i < idle_spins && !got; ++i) {
    // (S2) acquire, as above: stopping takes the careful path below.
    if (state_.load(std::memory_order_acquire) != run_state::running) break;
    std::this_thread::yield();
    got = queue_.try_pop(t);
  }
  if (!got) {
    std::unique_lock<std::mutex> lock(work_mutex_);
    // sleepers_ += 1, then (F2) seq_cst fence, pairs with (F1); -= 1 after the wait
    // (wake.hpp).
    sleepers_.sleep([&] {
      // The re-check before each wait, under work_mutex_.
      work_cv_.wait(lock, [&] {
        // (S2) acquire, as above. Under work_mutex_, so request_stop()'s lock-and-notify
        // after (S1) cannot slip between this check and the wait.
        const run_state s = state_.load(std::memory_order_acquire);
        if (s == run_state::discarding) return true;
        if (queue_.try_pop(t)) {
          got = true;
          return true;
        }
        if (s == run_state::draining && queue_.drained()) {
          // Our own view of drained() may be fresher than a sleeping peer's (the loads are
          // relaxed); wake the peers so that each re-checks under the mutex, after us.
          work_cv_.notify_all();
          return true;
        }
        return false;
      });
    });
  }
  idle_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint (idle_workers())
  me.idle_end();
  return got;
}

void worker_pool::run_one(worker_slot& me, task& t) noexcept {
  me.busy.store(true, std::memory_order_relaxed);  // relaxed: statistics
  try {
    t.run();
  } catch (...) {
    bump(me.exceptions, std::memory_order_relaxed);  // relaxed: statistics
  }
  me.busy.store(false, std::memory_order_relaxed);  // relaxed: statistics
  // (C1) release, pairs with acquire (C2) in stats(): whoever counts this task as completed
  //      also sees everything it did.
  bump(me.completed, std::memory_order_release);
}

std::error_code worker_pool::reject(std::error_code ec) noexcept {
  rejected_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  return ec;
}

void worker_pool::request_stop(shutdown_mode mode) noexcept {
  const run_state target = mode == shutdown_mode::drain ? run_state::draining : run_state::discarding;
  // Every caller closes (idempotent), so its own later reads of the queue see it closed.
  queue_.close();
  run_state current = state_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
  // (S1) release, pairs with acquire (S2): the close above is visible with the new state.
  while (current < target &&
         !state_.compare_exchange_weak(current, target, std::memory_order_release, std::memory_order_relaxed)) {
  }
  // Notify under the mutex: a worker or producer that checked the state under it is in
  // wait() once we hold it, so the notification reaches it.
  {
    std::lock_guard<std::mutex> sync(work_mutex_);
    work_cv_.notify_all();
  }
  std::lock_guard<std::mutex> sync(space_mutex_);
  space_cv_.notify_all();
}

void worker_pool::join_and_discard_rest() {
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  // Left over after a discard (or a drain turned into one). A producer that claimed a cell
  // before close() may still be publishing it: wait for it rather than miss it.
  task t;
  while (!queue_.drained()) {
    if (queue_.try_pop(t)) {
      t.discard();
      dropped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    } else {
      std::this_thread::yield();
    }
  }
}

std::error_code worker_pool::shutdown(shutdown_mode mode) {
  request_stop(mode);
  if (on_worker_thread()) return errc::would_deadlock;
  std::lock_guard<std::mutex> lock(join_mutex_);
  if (!joined_) {
    join_and_discard_rest();
    joined_ = true;
  }
  return {};
}

bool worker_pool::stopped() const noexcept {
  // (S2') acquire, pairs with release (S1): a caller that sees true also sees the close.
  return state_.load(std::memory_order_acquire) != run_state::running;
}

bool worker_pool::on_worker_thread() const noexcept { return current_pool == this; }

worker_pool_stats worker_pool::stats() const noexcept {
  worker_pool_stats s;
  s.threads = thread_count_;
  s.queue_capacity = queue_.capacity();
  std::int64_t idle = 0;
  for (unsigned i = 0; i < thread_count_; ++i) {
    const worker_slot& w = slots_[i];
    // (C2) acquire, pairs with release (C1).
    s.completed += w.completed.load(std::memory_order_acquire);
    s.exceptions += w.exceptions.load(std::memory_order_relaxed);  // relaxed: statistics
    if (w.busy.load(std::memory_order_relaxed)) ++s.active_workers;  // relaxed: statistics
    idle += w.idle_ns();
  }
  // Read after `completed`: (C2) makes every counted task's push visible, so in this
  // snapshot submitted >= completed.
  s.submitted = queue_.pushed();
  s.queue_depth = queue_.size_approx();
  s.dropped = dropped_.load(std::memory_order_relaxed);    // relaxed: statistics
  s.rejected = rejected_.load(std::memory_order_relaxed);  // relaxed: statistics
  s.idle_time = std::chrono::nanoseconds(idle);
  return s;
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
