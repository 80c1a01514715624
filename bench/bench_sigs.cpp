// bench/bench_sigs.cpp — sigs::sync_signal, side by side with the floors and the peers.
#include <sigs/sync_signal.hpp>

#include <cstddef>
#include <memory>
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
  register_writer("sigs", writer_sigs);
  register_memory("sigs", 1000, memory_sigs);
  register_tail("sigs", writer_pace::none, tail_sigs<writer_pace::none>);
  register_tail("sigs", writer_pace::paced, tail_sigs<writer_pace::paced>);
  register_tail("sigs", writer_pace::flat_out, tail_sigs<writer_pace::flat_out>);
  return true;
}();

}  // namespace
}  // namespace sigs_bench
