// bench/bench_sigcpp.cpp — libsigc++ 3, the single-threaded peer. Its signals are not safe
// to emit from two threads, so it is registered with one thread only. Built only when
// pkg-config finds sigc++-3.0.
#include <sigc++/sigc++.h>

#include <cstddef>
#include <memory>
#include <utility>

#include "bench_common.hpp"
#include "tail_latency.hpp"

namespace sigs_bench {
namespace {

using sigcpp_signal = sigc::signal<void(const int&)>;

template <std::size_t N>
void emit_sigcpp(benchmark::State& state) {
  sigcpp_signal& sig = shared_instance<sigcpp_signal, N>([](std::size_t n) {
    auto s = std::make_unique<sigcpp_signal>();
    add_listeners(n, [&](auto f) { s->connect(std::move(f)); });
    return s;
  });
  run_emit(state, N, [&](const int& v) { sig.emit(v); });
}

void distinct_sigcpp(benchmark::State& state) {
  sigcpp_signal& sig = shared_instance<sigcpp_signal, distinct_count>([](std::size_t) {
    auto s = std::make_unique<sigcpp_signal>();
    add_distinct([&](auto f) { s->connect(std::move(f)); });
    return s;
  });
  run_emit(state, distinct_count, [&](const int& v) { sig.emit(v); });
}

void writer_sigcpp(benchmark::State& state) {
  sigcpp_signal sig;
  add_listeners(10, [&](auto f) { sig.connect(std::move(f)); });
  run_writer(state, [&] {
    sigc::connection c = sig.connect(writer_listener());
    c.disconnect();
    return true;
  });
}

void memory_sigcpp(benchmark::State& state) {
  run_memory(state, 1000, [](std::size_t n) {
    auto s = std::make_unique<sigcpp_signal>();
    for (std::size_t i = 0; i < n; ++i) s->connect([](const int&) {});
    return s;
  });
}

// Not thread-safe: timed without a writer only.
void tail_sigcpp(benchmark::State& state) {
  sigcpp_signal sig;
  add_listeners(10, [&](auto f) { sig.connect(std::move(f)); });
  run_tail(
      state, writer_pace::none, [&](const int& v) { sig.emit(v); }, [] {});
}

[[maybe_unused]] const bool registered = [] {
  register_emit("sigcpp", 1, emit_sigcpp<1>, /*two_threads=*/false);
  register_emit("sigcpp", 10, emit_sigcpp<10>, /*two_threads=*/false);
  register_emit("sigcpp", 100, emit_sigcpp<100>, /*two_threads=*/false);
  register_emit("sigcpp", 1000, emit_sigcpp<1000>, /*two_threads=*/false);
  register_distinct("sigcpp", distinct_sigcpp);
  register_writer("sigcpp", writer_sigcpp);
  register_memory("sigcpp", 1000, memory_sigcpp);
  register_tail("sigcpp", writer_pace::none, tail_sigcpp);
  return true;
}();

}  // namespace
}  // namespace sigs_bench
