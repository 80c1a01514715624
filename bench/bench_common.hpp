// bench/bench_common.hpp — the harness every case file shares.
//
// A case file defines its emit and writer functions with run_emit / run_writer and registers
// them from a static initialiser with register_emit / register_writer, so that every case
// of every implementation is named, timed and counted the same way:
//
//   emit/<impl>/<listeners>/real_time/threads:<1|2>    items/s = emits/s summed over threads
//   writer/<impl>/real_time                              items/s = add+remove pairs/s
//   memory/<impl>/<listeners>                            bytes_per_listener (heap held)
//   distinct/<impl>/1000/real_time                       1,000 distinct listener functions
//
// Times are wall-clock (UseRealTime): with CPU time, Google Benchmark divides the summed
// items by the *summed* thread CPU time, and items_per_second would not add up over threads.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "distinct_listeners.hpp"
#include "listeners.hpp"

namespace sigs_bench {

/// The one object both threads of a case emit on, built by build(n) on first use and kept
/// for the rest of the run (so the 1- and 2-thread runs and all repetitions share it).
/// A function-local static is initialised exactly once even when both benchmark threads
/// arrive together: the second blocks until the first has finished building. Google
/// Benchmark then holds every thread at a barrier before the timed loop starts, so setup is
/// complete and outside the timing. One instantiation per (type, count, call site).
template <class Signal, std::size_t N, class Build>
Signal& shared_instance(Build&& build) {
  static const std::unique_ptr<Signal> instance = build(N);
  return *instance;
}

/// The timed loop of every emit case: emit(payload) once per iteration, then check that the
/// calling thread's listeners ran exactly as often as they should and report allocations.
template <class Emit>
void run_emit(benchmark::State& state, std::size_t listeners, Emit&& emit) {
  const int value = payload;
  const std::uint64_t tally_before = tally_total();
  const std::uint64_t allocs_before = thread_allocations();
  for (auto _ : state) {
    emit(value);
  }
  const std::uint64_t allocs = thread_allocations() - allocs_before;
  const std::uint64_t calls = tally_total() - tally_before;
  const auto iterations = static_cast<std::uint64_t>(state.iterations());
  if (calls != iterations * expected_per_emit(listeners, value)) {
    state.SkipWithError("listener tallies do not match: some listener was skipped or repeated");
    return;
  }
  state.SetItemsProcessed(state.iterations());
  // Summed over threads, then divided by the summed iterations: allocations per emit.
  state.counters["allocs_per_emit"] =
      benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
}

/// The timed loop of every writer case: op() adds one listener and removes it again, and
/// returns false if the library reported a failure.
template <class Op>
void run_writer(benchmark::State& state, Op&& op) {
  const std::uint64_t allocs_before = thread_allocations();
  for (auto _ : state) {
    if (!op()) {
      state.SkipWithError("add or remove failed");
      return;
    }
  }
  const std::uint64_t allocs = thread_allocations() - allocs_before;
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_op"] = benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
}

/// The memory case: the heap that `listeners` capture-less, unkeyed listeners hold once
/// added to a new container, per listener and all included: the container, each listener's
/// blocks with their allocator headers, and whatever copies the library still keeps (sigs'
/// retired snapshots awaiting a scan). build(n) returns an owner of the container.
template <class Build>
void run_memory(benchmark::State& state, std::size_t listeners, Build&& build) {
  double per_listener = 0;
  for (auto _ : state) {
    count_live_bytes(true);
    {
      auto owner = build(listeners);
      per_listener = static_cast<double>(live_bytes()) / static_cast<double>(listeners);
      benchmark::DoNotOptimize(owner);
    }
    count_live_bytes(false);
  }
  state.counters["bytes_per_listener"] = per_listener;
}

inline void register_memory(const std::string& impl, std::size_t listeners, void (*fn)(benchmark::State&)) {
  const std::string name = "memory/" + impl + "/" + std::to_string(listeners);
  benchmark::RegisterBenchmark(name.c_str(), fn)->Iterations(1);
}

/// The fastest repetition. The machine is shared: interference only ever slows a run, so
/// the minimum is the figure least disturbed by it. Reported beside the median, not instead.
inline double fastest(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

inline void register_emit(const std::string& impl, std::size_t listeners, void (*fn)(benchmark::State&),
                          bool two_threads = true) {
  const std::string name = "emit/" + impl + "/" + std::to_string(listeners);
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  b->UseRealTime()->ComputeStatistics("min", fastest)->Threads(1);
  if (two_threads) b->Threads(2);
}

/// distinct/<impl>/1000: one thread; `fn` emits on 1,000 distinct listeners (add_distinct).
inline void register_distinct(const std::string& impl, void (*fn)(benchmark::State&)) {
  const std::string name = "distinct/" + impl + "/" + std::to_string(distinct_count);
  benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->ComputeStatistics("min", fastest);
}

inline void register_writer(const std::string& impl, void (*fn)(benchmark::State&)) {
  const std::string name = "writer/" + impl;
  benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->ComputeStatistics("min", fastest);
}

}  // namespace sigs_bench
