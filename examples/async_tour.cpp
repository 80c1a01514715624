// Async signals: emit returns at once, listeners run on a worker pool; emit_and_wait,
// completion handles, and what each overflow policy does when the queue is full.
// Run it with ci/demo.sh.
#include <sigs/sigs.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

using namespace std::chrono_literals;

int main() {
  sigs::worker_pool pool({.threads = 2, .queue_capacity = 4});
  sigs::async_options opts;
  opts.pool = &pool;
  sigs::async_signal<int> readings(opts);

  std::atomic<int> stored{0};
  readings.add_listener(
      [&](const int&) {
        std::this_thread::sleep_for(2ms);  // a slow sink
        stored++;
      },
      "store");
  readings.add_listener(
      [](const int& v) {
        if (v < 0) throw std::invalid_argument("negative reading");
      },
      "validate");

  auto t0 = std::chrono::steady_clock::now();
  readings.emit(1);
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "emit returned after " << took.count() << " us; stored so far: " << stored << "\n";
  readings.drain();
  std::cout << "after drain: stored " << stored << "\n";

  std::error_code ec = readings.emit_and_wait(-5);
  std::cout << "emit_and_wait(-5): " << ec.message() << " (the throw stayed on the worker)\n";

  sigs::completion c = readings.emit_tracked(7);
  c.wait();
  std::cout << "tracked emission: delivered " << c.delivered() << ", failures " << c.failures().size() << "\n";

  // Overflow policies: flood a 4-cell queue behind 2 busy workers.
  for (auto policy :
       {sigs::overflow_policy::reject, sigs::overflow_policy::caller_runs, sigs::overflow_policy::block}) {
    sigs::async_options o = opts;
    o.overflow = policy;
    sigs::async_signal<int> flood(o);
    std::atomic<int> on_caller{0};
    const auto me = std::this_thread::get_id();
    flood.add_listener([&](const int&) {
      if (std::this_thread::get_id() == me) on_caller++;
      std::this_thread::sleep_for(1ms);
    });
    int try_refused = 0;
    for (int i = 0; i < 20; ++i) {
      if (i % 4 == 0) {
        if (flood.try_emit(i) == sigs::errc::backpressure) ++try_refused;
      } else {
        flood.emit(i);
      }
    }
    flood.drain();
    auto s = flood.stats();
    const char* name = policy == sigs::overflow_policy::reject        ? "reject"
                       : policy == sigs::overflow_policy::caller_runs ? "caller_runs"
                                                                      : "block";
    std::cout << "policy " << name << ": delivered " << s.delivered << ", dropped " << s.dropped << ", ran on caller "
              << on_caller << ", try_emit refused " << try_refused << " (counted as rejected: " << s.rejected << ")\n";
  }
  return 0;
}
