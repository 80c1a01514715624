// models/pool_models.cpp — the worker pool's protocol, detail::pool_core (pool_core.hpp),
// on the production code over the Relacy policy: worker_loop, wait_for_work and its sleep
// predicate work_or_stop, push_and_wake (try_submit), submit and wait_for_space, after_pop,
// run state and request_stop, shutdown and the discard of leftovers, run_one_queued (a task
// that helps) — with the production
// mpmc_queue, wake_count and sigs::task inside. src/worker_pool.cpp wraps the same
// template with std_atomics; only threads, statistics and the global pool stay outside.
//
// Over 600 lines on purpose: a family is one source (sigs_add_model builds the production
// binary and each mutant binary from <family>_models.cpp). Splitting the twelve scenarios
// would make two families, with new ctest names and a second set of mutant builds; and the
// stand-ins below (model_wait, latch, pool_world: about 250 lines) serve these scenarios
// only, so a header of their own would have this one includer.
//
// Stand-ins for what Relacy lacks (relacy_atomics.hpp, "Known gaps"):
//   join      a latch: each worker thread arrives when it leaves worker_loop(); the joiner
//             waits on a Relacy condition variable until all have (never: DEADLOCK).
//   on_worker passed as known (a job that calls shutdown() runs on the worker).
//   cancel    model_wait reads a flag in the wait's predicate; cancel() sets it and wakes the
//             waiters with pool_core::wake_space_waiters(), as the stop callback would.
//   deadline  model_wait{.timed}: a Relacy timed wait, which may end at any moment.
//   stats     the worker hooks count nothing; the jobs count their own runs.
// Capacity 2, one spin before a worker sleeps or a producer waits (pool_spins{1, 1}).
//
// Each job j has a payload (an rl::var written by its submitter before the push, read when
// the job runs or is discarded: the queue's hand-over, else DATA RACE), and counts of its
// runs and discards. Every scenario then checks the pool's accounting: an accepted job ran
// or was discarded by the pool exactly once; a refused one stayed with its submitter,
// unconsumed (which then drops it itself); pushed() == completed + dropped() once the
// pool is shut down; a submitter that saw stopped() is refused with pool_stopped (POOL-S2').
#undef NDEBUG                // mpmc_queue's assert() reads the cell's shadow `turn` (see queue_models.cpp)
#include "mutants/pool.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

using sigs::task;
using sigs::detail::pool_state;
using sigs::detail::push_result;
using lock_t = std::unique_lock<typename model_policy::mutex>;

/// pool_core's traits in the models: the build's wake count (a mutant's, in mutant builds)
/// and the policy's condition_variable_any (no stop token, no clock).
struct model_pool_traits {
  template <class A>
  using wake_count = model_wake_count<A>;
  using space_condition_variable = typename model_policy::condition_variable_any;
};

using core_t = sigs::detail::pool_core<model_policy, model_pool_traits>;

constexpr int max_jobs = 4;
constexpr int payload_of(int j) noexcept { return 100 + j; }

/// The worker hooks pool_core::worker_loop() calls: no statistics in the model.
struct model_worker {
  void idle_begin() noexcept {}
  void idle_end() noexcept {}
  void run(task& t) noexcept { t.run(); }
};

/// The models' wait for room (pool_core's Wait), in context_wait's shape. `canceled` stands
/// for the stop token (nullptr: none); `timed` for a deadline, which may pass at any moment.
struct model_wait {
  const rl::atomic<bool>* canceled = nullptr;
  bool timed = false;

  [[nodiscard]] bool can_be_canceled() const noexcept { return canceled != nullptr || timed; }
  [[nodiscard]] bool stop_requested() const {
    // acquire: pairs with cancel()'s release, as stop_requested() with request_stop().
    return canceled != nullptr && canceled->load(rl::mo_acquire, RL_INFO);
  }
  [[nodiscard]] std::error_code error() const {
    return stop_requested() ? std::error_code(errc::canceled) : std::error_code();  // no clock: never expired
  }

  /// condition_variable_any's stop-token wait: gives up once cancelled (or timed out), and
  /// then calls pred() once more unless its last look already did.
  template <class CV, class Pred>
  void wait(CV& cv, lock_t& lock, Pred pred) const {
    bool done = false;
    bool tried = false;
    const auto until = [&] {
      tried = !stop_requested();
      return !tried || (done = pred());
    };
    if (timed) {
      cv.wait_timed(lock, until);
    } else {
      cv.wait(lock, until);
    }
    if (!done && !tried) (void)pred();
  }
};

/// wait(n) blocks until n arrive() calls were made; notified under its mutex, so no arrival
/// is missed. std::thread::join for the model (a worker thread arrives when it leaves
/// worker_loop()), and a job's wait for another thread.
struct latch {
  typename model_policy::mutex m;
  typename model_policy::condition_variable cv;
  rl::var<int> ended;

  void arrive() {
    std::lock_guard<typename model_policy::mutex> lock(m);
    ended(RL_INFO).store(ended(RL_INFO).load() + 1);
    cv.notify_all();
  }
  void wait(int n) {
    lock_t lock(m);
    cv.wait(lock, [&] { return ended(RL_INFO).load() >= n; });
  }
};

struct pool_world;

/// What a submitted task runs (operator()) or discards (discard()). 16 bytes: the task
/// holds it inline, as it holds the async signals' callables.
struct job {
  pool_world* w;
  int id;
  void operator()();
  void discard() noexcept;
};

struct pool_world {
  core_t* core = nullptr;  // aligned (the queue's hot indices): its own allocation
  rl::var<int> payload[max_jobs];
  rl::var<int> ran[max_jobs];
  rl::var<int> dropped[max_jobs];  // by the pool, or by a submitter it refused
  bool accepted[max_jobs] = {};    // written by the job's submitter, read in after()
  rl::atomic<int> completed;       // jobs run so far; relaxed (a count, no order)
  rl::atomic<bool> canceled;       // model_wait's stop token
  latch exits;                     // the worker threads' ends
  latch gate;                      // a scenario's own hand-over
  // Called by each run, with the number of runs so far (this one included).
  void (*on_run)(pool_world&, int id, int done) = nullptr;
  int jobs = 0;         // for on_run = drain_after_last: the run that makes `jobs` requests a drain
  bool drains = false;  // the scenario drains: the pool discards nothing, every accepted job runs

  explicit pool_world(std::size_t capacity) : core(new core_t(capacity, sigs::detail::pool_spins{1, 1})) {
    for (int j = 0; j < max_jobs; ++j) {
      payload[j](RL_INFO).store(-1);
      ran[j](RL_INFO).store(0);
      dropped[j](RL_INFO).store(0);
    }
    // relaxed: before the threads, which Relacy starts after before().
    completed.store(0, rl::mo_relaxed, RL_INFO);
    canceled.store(false, rl::mo_relaxed, RL_INFO);
    exits.ended(RL_INFO).store(0);
    gate.ended(RL_INFO).store(0);
  }
  ~pool_world() { delete core; }
  pool_world(const pool_world&) = delete;
  pool_world& operator=(const pool_world&) = delete;

  /// try_submit (w == nullptr: push_and_wake) or submit (with the wait `w`) of job j.
  std::error_code submit(int j, const model_wait* w = nullptr) {
    payload[j](RL_INFO).store(payload_of(j));
    task t = job{this, j};
    const bool was_stopped = core->stopped();
    std::error_code ec;
    if (w != nullptr) {
      ec = core->submit(t, *w, [] { return false; });
    } else {
      switch (core->push_and_wake(t)) {
        case push_result::ok: break;
        case push_result::full: ec = errc::backpressure; break;
        case push_result::closed: ec = errc::pool_stopped; break;
      }
    }
    // (POOL-S2') a submitter that saw the pool stopped also sees the close: refused.
    if (was_stopped) RL_ASSERT(ec == errc::pool_stopped || ec == errc::canceled);
    accepted[j] = !ec;
    if (ec) {
      RL_ASSERT(static_cast<bool>(t));  // left with the caller, unconsumed
      t.discard();
    } else {
      RL_ASSERT(!t);
    }
    return ec;
  }

  /// A worker thread: the production loop, then its end for the joiner.
  void work() {
    model_worker w;
    core->worker_loop(w);
    exits.arrive();
  }

  /// shutdown() from inside a job, on the worker: never joins.
  void stop_from_worker(pool_state target) {
    RL_ASSERT(core->shutdown(target, true, [] { RL_ASSERT(false); }) == errc::would_deadlock);
  }

  /// shutdown() from a thread that is not a worker: joins `workers` threads, then the
  /// accounting is final.
  void shutdown_and_join(pool_state target, int workers) {
    RL_ASSERT(!core->shutdown(target, false, [&] { exits.wait(workers); }));
    check_accounting();
  }

  /// After a join (or on the worker itself): every run counted is ordered before us.
  void check_accounting() {
    // relaxed: the join (or our own thread) orders the runs; the count needs no more.
    RL_ASSERT(core->pushed() == static_cast<std::uint64_t>(completed.load(rl::mo_relaxed, RL_INFO)) + core->dropped());
  }

  void cancel() {
    // release: pairs with model_wait::stop_requested()'s acquire.
    canceled.store(true, rl::mo_release, RL_INFO);
    core->wake_space_waiters();
  }

  /// after(): a shutdown without workers to join (a no-op after a joined one; discards
  /// what scenarios that never joined left queued), then every job's end.
  void finish(int jobs_submitted) {
    RL_ASSERT(!core->shutdown(pool_state::discarding, false, [] {}));
    check_accounting();
    std::uint64_t pool_dropped = 0;
    for (int j = 0; j < jobs_submitted; ++j) {
      const int r = ran[j](RL_INFO).load();
      const int d = dropped[j](RL_INFO).load();
      if (accepted[j]) {
        RL_ASSERT(r + d == 1);  // run or discarded by the pool, exactly once
        pool_dropped += static_cast<std::uint64_t>(d);
      } else {
        RL_ASSERT(r == 0 && d == 1);  // untouched by the pool; its submitter dropped it
      }
    }
    RL_ASSERT(pool_dropped == core->dropped());
    if (drains) RL_ASSERT(pool_dropped == 0);
  }
};

void job::operator()() {
  RL_ASSERT(w->payload[id](RL_INFO).load() == payload_of(id));
  w->ran[id](RL_INFO).store(w->ran[id](RL_INFO).load() + 1);
  const int done = w->completed.fetch_add(1, rl::mo_relaxed, RL_INFO) + 1;  // relaxed: a count
  if (w->on_run != nullptr) w->on_run(*w, id, done);
}

void job::discard() noexcept {
  RL_ASSERT(w->payload[id](RL_INFO).load() == payload_of(id));
  w->dropped[id](RL_INFO).store(w->dropped[id](RL_INFO).load() + 1);
}

/// on_run: the run that completes the scenario's jobs requests a drain from the worker, so
/// the workers end without an outside notification that could hide a lost wake-up.
void drain_after_last(pool_world& w, int, int done) {
  if (done == w.jobs) w.stop_from_worker(pool_state::draining);
}

/// Common shape: the world is built in before() and checked and freed in after().
template <class Self, unsigned Threads, scenario S>
struct pool_suite : rl::test_suite<Self, Threads, expected_result(S)> {
  pool_world* w = nullptr;
  void after() {
    w->finish(static_cast<Self*>(this)->submitted);
    delete w;
  }
};

const model_wait no_cancel{};  // submit() with a default context: waits for room for ever

/// (a) A producer's pushes against a worker that finds the queue empty and sleeps.
///
///   thread 0 (producer): submit(0), submit(1)
///   thread 1 (worker):   worker_loop; the run of the last job requests a drain
///
/// Proves: no lost wake-up on the production path (push_and_wake's POOL-F1 against
/// wait_for_work's POOL-F2 and re-check under work_mutex_): both jobs run (DEADLOCK otherwise),
/// with their payloads; the worker leaves on the drain.
struct pool_work : pool_suite<pool_work, 2, scenario::pool_work> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = drain_after_last;
    w->jobs = 2;
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j, &no_cancel));
    } else {
      w->work();
    }
  }
};

/// (a2) As (a) with two workers: one count and one notify_one per push for two sleepers.
///
///   thread 0 (producer): submit(0), submit(1)
///   thread 1, 2 (workers): worker_loop; the last run requests a drain, which wakes the other
///
/// Proves: both jobs run once (DEADLOCK if both workers sleep through a push).
struct pool_two_workers : pool_suite<pool_two_workers, 3, scenario::pool_two_workers> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = drain_after_last;
    w->jobs = 2;
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j, &no_cancel));
    } else {
      w->work();
    }
  }
};

/// The producer of (b) and (c): job 0 is accepted before the stop may begin (the gate), so
/// that random search often sees job 1's push race the close (its claim before close(),
/// its publish after) instead of a stop that nearly always comes first.
void submit_racing_the_stop(pool_world& w) {
  RL_ASSERT(!w.submit(0));
  w.gate.arrive();
  const std::error_code ec = w.submit(1);
  RL_ASSERT(!ec || ec == errc::pool_stopped);
}

/// (b) shutdown(drain) racing try_submit.
///
///   thread 0 (producer): try_submit(0), opens the gate, try_submit(1)
///   thread 1:            waits for the gate; shutdown(drain): request_stop, join the
///                        worker, discard leftovers
///   thread 2 (worker):   worker_loop
///
/// Proves: every accepted job runs exactly once and none is dropped; a refused one gets
/// pool_stopped and stays with its submitter; the worker leaves once drained (else the
/// join waits: DEADLOCK); when shutdown() returns, pushed == completed + dropped.
struct pool_drain : pool_suite<pool_drain, 3, scenario::pool_drain> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
  }
  void thread(unsigned index) {
    if (index == 0) {
      submit_racing_the_stop(*w);
    } else if (index == 1) {
      w->gate.wait(1);
      w->shutdown_and_join(pool_state::draining, 1);
      RL_ASSERT(w->core->dropped() == 0);
    } else {
      w->work();
    }
  }
};

/// (b2) shutdown(drain) with two workers, one of which may re-check with an older view.
///
///   thread 0:       try_submit(0), try_submit(1), then shutdown(drain) and join both
///   thread 1, 2 (workers): worker_loop
///
/// Proves: both jobs run once and both workers leave: the worker that sees the queue
/// drained wakes its peers (work_or_stop's notify_all), so a peer that re-checked before
/// the last pop does not sleep for ever.
struct pool_drain_two_workers : pool_suite<pool_drain_two_workers, 3, scenario::pool_drain_two_workers> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
      w->shutdown_and_join(pool_state::draining, 2);
      RL_ASSERT(w->completed.load(rl::mo_relaxed, RL_INFO) == 2);  // relaxed: after the join
    } else {
      w->work();
    }
  }
};

/// on_run of (b3): job 0 requests a drain from its worker.
void drain_from_job0(pool_world& w, int id, int) {
  if (id == 0) w.stop_from_worker(pool_state::draining);
}

/// (b3) A drain requested from inside a task on one of two workers, racing the producer's
/// second push.
///
///   thread 0 (producer): try_submit(0), try_submit(1)
///   thread 1, 2 (workers): worker_loop; job 0 calls shutdown(drain) from inside
///
/// Proves: every accepted job runs once and both workers leave. Both may go to sleep in the
/// drain while job 1's cell is claimed but not yet published (not drained); its publish
/// wakes one of them (notify_one), which pops it, finds the queue drained and must wake
/// the other (work_or_stop's notify_all): pops wake producers, not workers.
struct pool_drain_from_task : pool_suite<pool_drain_from_task, 3, scenario::pool_drain_from_task> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = drain_from_job0;
  }
  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(!w->submit(0));
      const std::error_code ec = w->submit(1);
      RL_ASSERT(!ec || ec == errc::pool_stopped);
    } else {
      w->work();
    }
  }
};

/// (c) shutdown(discard) racing try_submit and a worker.
///
///   thread 0 (producer): try_submit(0), opens the gate, try_submit(1)
///   thread 1:            waits for the gate; shutdown(discard): request_stop, join the
///                        worker, discard leftovers
///   thread 2 (worker):   worker_loop (stops after its current job)
///
/// Proves: every accepted job is run or discarded exactly once, including one whose
/// producer claimed its cell before close() and publishes it after the worker left (the
/// discard loop waits for it); when shutdown() returns, pushed == completed + dropped.
struct pool_discard : pool_suite<pool_discard, 3, scenario::pool_discard> {
  int submitted = 2;
  void before() { w = new pool_world(2); }
  void thread(unsigned index) {
    if (index == 0) {
      submit_racing_the_stop(*w);
    } else if (index == 1) {
      w->gate.wait(1);
      w->shutdown_and_join(pool_state::discarding, 1);
    } else {
      w->work();
    }
  }
};

/// on_run of (d): job 0 calls shutdown(discard) on its own worker, then checks that the
/// queued jobs were discarded before the call returned.
void discard_from_job(pool_world& w, int id, int done) {
  if (id != 0) return;
  w.stop_from_worker(pool_state::discarding);
  RL_ASSERT(w.core->pushed() == static_cast<std::uint64_t>(done) + w.core->dropped());
}

/// (d) shutdown(discard) from inside a task while a producer submits (blocking).
///
///   thread 0 (worker):   worker_loop; job 0 calls shutdown(discard) from inside
///   thread 1 (producer): submit(0) .. submit(3), waiting for room when full
///
/// Proves: the call returns would_deadlock after discarding every job accepted so far
/// (also one still being published), on the worker; a producer waiting for room is woken
/// and refused (pool_stopped, else DEADLOCK); every accepted job ends exactly once.
struct pool_discard_from_task : pool_suite<pool_discard_from_task, 2, scenario::pool_discard_from_task> {
  int submitted = 4;
  void before() {
    w = new pool_world(2);
    w->on_run = discard_from_job;
  }
  void thread(unsigned index) {
    if (index == 0) {
      w->work();
    } else {
      for (int j = 0; j < 4; ++j) {
        const std::error_code ec = w->submit(j, &no_cancel);
        RL_ASSERT(!ec || (j > 0 && ec == errc::pool_stopped));
      }
    }
  }
};

/// on_run of (e): job 0 holds its worker until the producer's submit returned, so that
/// the one cell freed by popping job 0 is all the room the producer gets meanwhile; the
/// third run requests a drain.
void hold_until_submitted(pool_world& w, int id, int done) {
  if (id == 0) w.gate.wait(1);
  drain_after_last(w, id, done);
}

/// (e) A producer waiting for room against a worker that frees one cell.
///
///   before:              jobs 0, 1 queued (capacity 2: full)
///   thread 0 (worker):   worker_loop; job 0 waits until the producer's submit returned
///   thread 1 (producer): submit(2): full, one spin, then wait_for_space; then opens the gate
///
/// Proves: no lost wake-up on the production path (after_pop's POOL-F3 against
/// wait_for_space's POOL-F4 and its re-try under space_mutex_): the single cell freed while
/// job 0 runs lets job 2 in (DEADLOCK otherwise: the producer waits for room, the worker
/// for the producer); all three run.
struct pool_space : pool_suite<pool_space, 2, scenario::pool_space> {
  int submitted = 3;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = hold_until_submitted;
    w->jobs = 3;
    for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
  }
  void thread(unsigned index) {
    if (index == 0) {
      w->work();
    } else {
      RL_ASSERT(!w->submit(2, &no_cancel));
      w->gate.arrive();
    }
  }
};

/// (e2) A producer waiting for room on a full queue that no worker empties, cancelled.
///
///   before:              jobs 0, 1 queued (full), no worker
///   thread 0 (producer): submit(2) with a cancellable wait
///   thread 1:            cancel(): the flag, then wake_space_waiters()
///
/// Proves: the producer ends (DEADLOCK otherwise) with canceled, its job left with it;
/// after(): jobs 0, 1 are discarded by the shutdown, and the accounting holds.
struct pool_space_cancel : pool_suite<pool_space_cancel, 2, scenario::pool_space_cancel> {
  int submitted = 3;
  model_wait wait;
  void before() {
    w = new pool_world(2);
    wait.canceled = &w->canceled;
    for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
  }
  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(w->submit(2, &wait) == errc::canceled);
    } else {
      w->cancel();
    }
  }
};

/// on_run of (e3): job 0 cancels the producer's wait (after its pop freed a cell), and
/// the producer's drain ends the worker.
void cancel_from_job0(pool_world& w, int id, int) {
  if (id == 0) w.cancel();
}

/// (e3) A producer waiting for room that may give up — cancelled, or its deadline passes at
/// any moment — while a worker frees a cell; then the producer drains the pool.
///
///   before:              jobs 0, 1 queued (full)
///   thread 0 (producer): submit(2) with a cancellable, timed wait; then shutdown(drain)
///                        and join the worker
///   thread 1 (worker):   worker_loop; job 0 cancels the producer's wait
///
/// Proves: the producer ends with ok, canceled or deadline_exceeded (the core's answer when
/// the wait has no error of its own), never blocked for ever; an accepted job 2 runs once,
/// a refused one stays with it; the drain then ends the worker.
struct pool_space_give_up : pool_suite<pool_space_give_up, 2, scenario::pool_space_give_up> {
  int submitted = 3;
  model_wait wait;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = cancel_from_job0;
    wait.canceled = &w->canceled;
    wait.timed = true;
    for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
  }
  void thread(unsigned index) {
    if (index == 0) {
      const std::error_code ec = w->submit(2, &wait);
      RL_ASSERT(!ec || ec == errc::canceled || ec == errc::deadline_exceeded);
      w->shutdown_and_join(pool_state::draining, 1);
    } else {
      w->work();
    }
  }
};

/// Job 0 as ~async_signal run on its own worker: it runs (or, once the pool discards,
/// discards) queued tasks on its worker (run_one_queued) until job 1 has ended. Job 1 can
/// end no other way: the pool's only worker is the one job 0 occupies.
void help_until_job1_ends(pool_world& w) {
  model_worker hooks;
  while (w.ran[1](RL_INFO).load() + w.dropped[1](RL_INFO).load() == 0) {
    if (!w.core->run_one_queued([&hooks](task& t) { hooks.run(t); })) rl::yield(1, RL_INFO);
  }
}

/// on_run of (f): job 0 helps; the run that completes both jobs requests a drain.
void help_then_drain(pool_world& w, int id, int done) {
  if (id == 0) help_until_job1_ends(w);
  drain_after_last(w, id, done);
}

/// (f) A task that helps: job 0 runs job 1 on its own worker.
///
///   thread 0 (producer): try_submit(0), try_submit(1)
///   thread 1 (worker):   worker_loop; job 0 takes queued tasks with run_one_queued() until
///                        job 1 has ended; job 1's run requests a drain (nested in job 0)
///
/// Proves: the task a helper takes runs once, on the helper, with its payload (the queue's
/// hand-over: DATA RACE otherwise), even when its cell is still being published when the
/// helper first looks; the worker loop does not run it again; the worker leaves on the
/// drain (DEADLOCK otherwise) and pushed == completed + dropped.
struct pool_help : pool_suite<pool_help, 2, scenario::pool_help> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->drains = true;
    w->on_run = help_then_drain;
    w->jobs = 2;
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
    } else {
      w->work();
    }
  }
};

/// on_run of (f2): job 0 waits until the discard was requested, then helps; job 1 must be
/// discarded, not run.
void help_after_discard(pool_world& w, int id, int) {
  if (id != 0) return;
  w.gate.wait(2);
  help_until_job1_ends(w);
  RL_ASSERT(w.ran[1](RL_INFO).load() == 0);  // taken after the discard began: discarded
}

/// (f2) A helper while the pool is shut down with discard (~async_signal on a worker of a
/// pool being discarded).
///
///   thread 0 (producer): try_submit(0), try_submit(1), opens the gate
///   thread 1:            waits for the gate; request_stop(discard); opens the gate again;
///                        shutdown(discard): join the worker, discard leftovers
///   thread 2 (worker):   worker_loop; job 0 (if it ran before the stop) waits for the
///                        stop, then helps until job 1 has ended
///
/// Proves: a helper discards what it takes once the pool discards (run_one_queued's state
/// check: the HELP_IGNORES_DISCARD mutant runs it instead), counted in dropped(); every
/// accepted job ends exactly once; the helper's wait ends (LIVELOCK otherwise) and so does
/// the join.
struct pool_help_discarding : pool_suite<pool_help_discarding, 3, scenario::pool_help_discarding> {
  int submitted = 2;
  void before() {
    w = new pool_world(2);
    w->on_run = help_after_discard;
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int j = 0; j < 2; ++j) RL_ASSERT(!w->submit(j));
      w->gate.arrive();
    } else if (index == 1) {
      w->gate.wait(1);
      w->core->request_stop(pool_state::discarding);
      w->gate.arrive();
      w->shutdown_and_join(pool_state::discarding, 1);
    } else {
      w->work();
    }
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("pool_work", sigs::models::pool_work),
                SIGS_MODEL("pool_two_workers", sigs::models::pool_two_workers),
                SIGS_MODEL("pool_drain", sigs::models::pool_drain),
                SIGS_MODEL("pool_drain_two_workers", sigs::models::pool_drain_two_workers),
                SIGS_MODEL("pool_drain_from_task", sigs::models::pool_drain_from_task),
                SIGS_MODEL("pool_discard", sigs::models::pool_discard),
                SIGS_MODEL("pool_discard_from_task", sigs::models::pool_discard_from_task),
                SIGS_MODEL("pool_space", sigs::models::pool_space),
                SIGS_MODEL("pool_space_cancel", sigs::models::pool_space_cancel),
                SIGS_MODEL("pool_space_give_up", sigs::models::pool_space_give_up),
                SIGS_MODEL("pool_help", sigs::models::pool_help),
                SIGS_MODEL("pool_help_discarding", sigs::models::pool_help_discarding))
