// bench/bench_wait.cpp — remove_listener_and_wait of an idle listener, alone and while
// another thread is nested past the hazard slot stack (9 emissions deep, blocked there).
//
//   wait/idle/alone          no other thread emits
//   wait/idle/deep_other     another thread is 9 deep in an unrelated signal
//   wait/idle/deep_same      another thread is 9 deep in this very signal, inside a listener
//
// Each iteration adds one listener and removes it with remove_listener_and_wait. The wait
// concerns only that (idle) listener, so the three should cost the same: the deep thread
// is not running it. (An earlier design waited for every reader of the snapshot, or for
// every overflow reader of the process: the last two cases then never ended while the deep
// thread stayed blocked.)
#include <sigs/sync_signal.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <latch>
#include <optional>
#include <thread>

namespace sigs_bench {
namespace {

/// A thread nested `depth` emissions deep in `sig`, blocked there until destroyed.
class deep_thread {
 public:
  deep_thread(sigs::sync_signal<int>& sig, int depth) {
    id_ = sig.add_listener([this, &sig, depth](const int& level) {
      if (level + 1 < depth) {
        sig.emit(level + 1);
        return;
      }
      inside_.count_down();
      // acquire: pairs with the destructor's release; nothing else is shared.
      while (!release_.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
    thread_ = std::thread([&sig] { sig.emit(0); });
    inside_.wait();
    sig_ = &sig;
  }
  ~deep_thread() {
    release_.store(true, std::memory_order_release);  // pairs with the listener's acquire
    thread_.join();
    sig_->remove_listener(id_);
  }
  deep_thread(const deep_thread&) = delete;
  deep_thread& operator=(const deep_thread&) = delete;

 private:
  std::latch inside_{1};
  std::atomic<bool> release_{false};
  sigs::sync_signal<int>* sig_ = nullptr;
  sigs::listener_id id_;
  std::thread thread_;
};

enum class other { none, deep_other, deep_same };

void wait_idle(benchmark::State& state, other who) {
  sigs::sync_signal<int> sig, unrelated;
  for (int i = 0; i < 10; ++i) sig.add_listener([](const int&) {});
  std::optional<deep_thread> deep;
  if (who == other::deep_other) deep.emplace(unrelated, 9);
  if (who == other::deep_same) deep.emplace(sig, 9);
  for (auto _ : state) {
    const sigs::listener_id id = sig.add_listener([](const int&) {});
    const std::error_code ec = sig.remove_listener_and_wait(id);
    benchmark::DoNotOptimize(ec);
  }
}

BENCHMARK_CAPTURE(wait_idle, alone, other::none)->Name("wait/idle/alone");
BENCHMARK_CAPTURE(wait_idle, deep_other, other::deep_other)->Name("wait/idle/deep_other");
BENCHMARK_CAPTURE(wait_idle, deep_same, other::deep_same)->Name("wait/idle/deep_same");

}  // namespace
}  // namespace sigs_bench
