// bench/bench_sigs.cpp — sigs::sync_signal, side by side with the floors and the peers.
#include <sigs/sync_signal.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "bench_common.hpp"
#include "tail_latency.hpp"

namespace sigs_bench {
namespace {

using sigs_signal = sigs::sync_signal<int>;

template <std::size_t N>
void emit_sigs(benchmark::State& state) {
  sigs_signal& sig = shared_instance<sigs_signal, N>([](std::size_t n) {
    auto s = std::make_unique<sigs_signal>();
    add_listeners(n, [&](auto f) { s->add_listener(std::move(f)); });
    return s;
  });
  run_emit(state, N, [&](const int& v) { sig.emit(v); });
}

void distinct_sigs(benchmark::State& state) {
  sigs_signal& sig = shared_instance<sigs_signal, distinct_count>([](std::size_t) {
    auto s = std::make_unique<sigs_signal>();
    add_distinct([&](auto f) { s->add_listener(std::move(f)); });
    return s;
  });
  run_emit(state, distinct_count, [&](const int& v) { sig.emit(v); });
}

void writer_sigs(benchmark::State& state) {
  sigs_signal sig;
  add_listeners(10, [&](auto f) { sig.add_listener(std::move(f)); });
  run_writer(state, [&] {
    const sigs::listener_id id = sig.add_listener(writer_listener());
    const std::error_code ec = sig.remove_listener(id);
    return !ec;
  });
}

void memory_sigs(benchmark::State& state) {
  run_memory(state, 1000, [](std::size_t n) {
    auto s = std::make_unique<sigs_signal>();
    for (std::size_t i = 0; i < n; ++i) s->add_listener([](const int&) {});
    return s;
  });
}

/// Keyed lookups on a signal with n keyed listeners: has_key and metadata(key) of the
/// listener in the middle, through the snapshot's key index (flat in n when O(1)).
template <std::size_t N, bool Metadata>
void keyed_sigs(benchmark::State& state) {
  sigs_signal sig;
  for (std::size_t i = 0; i < N; ++i) sig.add_listener([](const int&) {}, "key-" + std::to_string(i));
  const std::string key = "key-" + std::to_string(N / 2);
  for (auto _ : state) {
    if constexpr (Metadata) {
      auto md = sig.metadata(key);
      benchmark::DoNotOptimize(md);
    } else {
      bool found = sig.has_key(key);
      benchmark::DoNotOptimize(found);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

template <writer_pace Pace>
void tail_sigs(benchmark::State& state) {
  sigs_signal sig;
  add_listeners(10, [&](auto f) { sig.add_listener(std::move(f)); });
  run_tail(
      state, Pace, [&](const int& v) { sig.emit(v); },
      [&] { (void)sig.remove_listener(sig.add_listener(writer_listener())); });
}

[[maybe_unused]] const bool registered = [] {
  register_emit("sigs", 1, emit_sigs<1>);
  register_emit("sigs", 10, emit_sigs<10>);
  register_emit("sigs", 100, emit_sigs<100>);
  register_emit("sigs", 1000, emit_sigs<1000>);
  register_distinct("sigs", distinct_sigs);
  register_writer("sigs", writer_sigs);
  register_memory("sigs", 1000, memory_sigs);
  benchmark::RegisterBenchmark("keyed/sigs/has_key/10", keyed_sigs<10, false>);
  benchmark::RegisterBenchmark("keyed/sigs/has_key/100", keyed_sigs<100, false>);
  benchmark::RegisterBenchmark("keyed/sigs/has_key/1000", keyed_sigs<1000, false>);
  benchmark::RegisterBenchmark("keyed/sigs/metadata/10", keyed_sigs<10, true>);
  benchmark::RegisterBenchmark("keyed/sigs/metadata/100", keyed_sigs<100, true>);
  benchmark::RegisterBenchmark("keyed/sigs/metadata/1000", keyed_sigs<1000, true>);
  register_tail("sigs", writer_pace::none, tail_sigs<writer_pace::none>);
  register_tail("sigs", writer_pace::paced, tail_sigs<writer_pace::paced>);
  register_tail("sigs", writer_pace::flat_out, tail_sigs<writer_pace::flat_out>);
  return true;
}();

}  // namespace
}  // namespace sigs_bench
