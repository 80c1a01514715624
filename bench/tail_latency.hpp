// bench/tail_latency.hpp — single emits timed one by one while another thread writes.
//
//   tail/<impl>/<writer>   p50_ns, p99_ns, p999_ns, max_ns, writer_pairs_per_s
//
// One thread emits on a signal with 10 listeners, timing each emit alone with
// steady_clock (the timer's own cost, about 20 ns here, is in every sample: the floor's
// case shows it). Meanwhile a second thread adds a listener and removes it again:
//   none      no writer (the only form for implementations that are not thread-safe);
//   paced     100,000 add+remove pairs per second, the same pace for every implementation
//             (the writer spins between pairs, so it keeps one CPU);
//   flat_out  as many pairs as it can.
// A case then reports the percentiles of the emits' times and the pace the writer held.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "listeners.hpp"

namespace sigs_bench {

enum class writer_pace { none, paced, flat_out };

inline const char* pace_name(writer_pace p) {
  switch (p) {
    case writer_pace::none: return "none";
    case writer_pace::paced: return "paced";
    default: return "flat_out";
  }
}

/// The time between two pairs of the paced writer: 100,000 pairs per second.
inline constexpr std::chrono::nanoseconds paced_interval{10'000};

/// Emits timed per call on the calling thread.
inline constexpr std::size_t tail_samples = 200'000;

/// The tail case: emit(payload) tail_samples times, each timed alone, while a writer
/// thread calls write_pair() (one add and one remove) at `pace`. The emits' listeners must
/// be the ten of add_listeners(10, ...): their tallies are checked afterwards, so a library
/// that skipped one fails the case (the writer's own listener counts apart).
template <class Emit, class WritePair>
void run_tail(benchmark::State& state, writer_pace pace, Emit&& emit, WritePair&& write_pair) {
  using clock = std::chrono::steady_clock;
  std::vector<std::int64_t> ns(tail_samples);
  double pairs_per_s = 0;
  for (auto _ : state) {
    const std::uint64_t before = tally_total() - tls_tally.count[writer_slot];
    std::atomic<bool> stop{false};
    std::atomic<bool> started{pace == writer_pace::none};
    std::uint64_t pairs = 0;
    std::thread writer;
    const auto begin = clock::now();
    if (pace != writer_pace::none) {
      writer = std::thread([&] {
        auto next = clock::now();
        started.store(true, std::memory_order_release);  // pairs with the acquire below; carries no data
        while (!stop.load(std::memory_order_relaxed)) {  // relaxed: a flag, no data rides on it
          write_pair();
          ++pairs;
          if (pace == writer_pace::paced) {
            next += paced_interval;
            while (clock::now() < next && !stop.load(std::memory_order_relaxed)) {}
          }
        }
      });
    }
    while (!started.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with the store above
    for (std::size_t i = 0; i < tail_samples; ++i) {
      const auto t0 = clock::now();
      emit(payload);
      const auto t1 = clock::now();
      ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    }
    stop.store(true, std::memory_order_relaxed);  // relaxed: join() orders what follows
    if (writer.joinable()) writer.join();
    const double seconds = std::chrono::duration<double>(clock::now() - begin).count();
    pairs_per_s = seconds > 0 ? static_cast<double>(pairs) / seconds : 0;
    const std::uint64_t calls = tally_total() - tls_tally.count[writer_slot] - before;
    if (calls != tail_samples * expected_per_emit(10, payload)) {
      state.SkipWithError("listener tallies do not match: some listener was skipped or repeated");
      return;
    }
  }
  std::sort(ns.begin(), ns.end());
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1));
    return static_cast<double>(ns[i]);
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p999_ns"] = at(0.999);
  state.counters["max_ns"] = static_cast<double>(ns.back());
  state.counters["writer_pairs_per_s"] = pairs_per_s;
}

/// Registers tail/<impl>/<pace>: one iteration (tail_samples timed emits).
inline void register_tail(const std::string& impl, writer_pace pace, void (*fn)(benchmark::State&)) {
  const std::string name = "tail/" + impl + "/" + pace_name(pace);
  benchmark::RegisterBenchmark(name.c_str(), fn)->Iterations(1)->UseRealTime();
}

}  // namespace sigs_bench
