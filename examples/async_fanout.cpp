// Fire-and-forget fan-out with async_signal: emit returns at once and the listeners run on
// a worker pool. Then backpressure: what each overflow policy does when the pool's queue is
// full (a one-thread pool held on a latch, so the queue fills for sure), and a graceful
// shutdown (drain the signal, then stop the pool). See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct notice {
  int id;
};

// One overflow policy against a full queue. The pool has one worker and 4 queue cells.
void overflow(sigs::worker_pool& pool, sigs::overflow_policy policy, const char* name) {
  sigs::async_options opts;
  opts.pool = &pool;
  opts.overflow = policy;
  sigs::async_signal<int> jobs(opts);
  const auto main_thread = std::this_thread::get_id();
  std::mutex m;
  std::vector<std::string> ran;  // printed after drain(): the order the jobs ran in
  jobs.add_listener([&](const int& v) {
    std::lock_guard<std::mutex> lock(m);
    ran.push_back(std::to_string(v) + (std::this_thread::get_id() == main_thread ? "(caller)" : ""));
  });

  // Occupy the only worker with a task of our own, and wait until it has started, so the
  // queue is empty and nothing leaves it until we release the latch.
  std::latch started(1), release(1);
  sigs::worker_pool::task hold = [&] {
    started.count_down();
    release.wait();
  };
  if (pool.try_submit(hold)) return;
  started.wait();

  for (int i = 1; i <= 4; ++i) jobs.emit(i);  // fills the 4 cells
  std::cout << name << ": queue " << pool.stats().queue_depth << "/" << pool.queue_capacity() << ", ";
  // try_emit never waits and never runs a listener, whatever the policy.
  std::cout << "try_emit(5): " << jobs.try_emit(5).error.message() << "\n";

  std::jthread opener;
  if (policy == sigs::overflow_policy::block) {
    // block waits for room, honouring the context: with a deadline it gives up, dropped.
    jobs.emit(sigs::context().with_timeout(20ms), 6);
    // Without one it waits as long as it takes; another thread releases the worker.
    opener = std::jthread([&] {
      std::this_thread::sleep_for(20ms);
      release.count_down();
    });
    jobs.emit(7);  // returns once the worker has taken job 1, freeing a cell
  } else {
    jobs.emit(6);  // reject: dropped at once; caller_runs: runs here, now
    release.count_down();
  }
  jobs.drain();  // everything queued so far has run (or been dropped)
  const sigs::signal_stats s = jobs.stats();
  std::cout << "  ran:";
  for (const auto& r : ran) std::cout << " " << r;
  std::cout << "\n  delivered " << s.delivered << ", dropped " << s.dropped << ", rejected " << s.rejected << "\n";
}

int main() {
  // ---- fan-out: three notifiers hear every order, on a pool of two threads.
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 64});
  sigs::async_options opts;
  opts.pool = &pool;
  sigs::async_signal<notice> shipped(opts);  // destroyed before the pool it uses
  std::atomic<int> mails{0}, texts{0}, pushes{0};
  // Listeners run concurrently with each other and with themselves: keep them thread-safe.
  shipped.add_listener([&](const notice&) { mails++; }, "mail");
  shipped.add_listener([&](const notice&) { texts++; }, "sms");
  shipped.add_listener([&](const notice&) { pushes++; }, "push");
  for (int i = 0; i < 10; ++i) shipped.emit({i});  // returns at once; nothing waited for
  shipped.drain();                                 // every listener call happens-before drain() returns
  std::cout << "fan-out: mail " << mails << ", sms " << texts << ", push " << pushes << "; delivered "
            << shipped.stats().delivered << "\n";

  // ---- backpressure, one policy at a time.
  sigs::worker_pool one({.threads = 1, .queue_capacity = 4});
  overflow(one, sigs::overflow_policy::reject, "reject");
  overflow(one, sigs::overflow_policy::caller_runs, "caller_runs");
  overflow(one, sigs::overflow_policy::block, "block");

  // ---- graceful shutdown: stop producing, drain the signals, then stop the pool.
  shipped.emit({10});
  if (std::error_code ec = shipped.drain()) std::cout << "drain: " << ec.message() << "\n";
  std::error_code ec = pool.shutdown(sigs::shutdown_mode::drain);
  std::cout << "shutdown: " << (ec ? ec.message() : "ok") << "; mail " << mails << "\n";
  // A stopped pool takes nothing: try_emit says so, emit drops and counts.
  std::cout << "try_emit after shutdown: " << shipped.try_emit({11}).error.message() << "\n";
  shipped.emit({12});
  const sigs::signal_stats s = shipped.stats();
  std::cout << "final: delivered " << s.delivered << ", dropped " << s.dropped << ", rejected " << s.rejected
            << ", in flight " << s.in_flight << "\n";
  const sigs::worker_pool_stats ps = one.stats();
  std::cout << "one-thread pool: rejected " << ps.rejected << ", exceptions " << ps.exceptions << "\n";
  return 0;
}
