// bench/bench_boost.cpp — Boost.Signals2, the thread-safe peer (a mutex per signal and a
// reference-counted slot list). Built only when CMake finds Boost.
#include <boost/signals2/signal.hpp>

#include <cstddef>
#include <memory>
#include <utility>

#include "bench_common.hpp"
#include "tail_latency.hpp"

namespace sigs_bench {
namespace {

using boost_signal = boost::signals2::signal<void(const int&)>;

template <std::size_t N>
void emit_boost(benchmark::State& state) {
  boost_signal& sig = shared_instance<boost_signal, N>([](std::size_t n) {
    auto s = std::make_unique<boost_signal>();
    add_listeners(n, [&](auto f) { s->connect(std::move(f)); });
    return s;
  });
  run_emit(state, N, [&](const int& v) { sig(v); });
}

void writer_boost(benchmark::State& state) {
  boost_signal sig;
  add_listeners(10, [&](auto f) { sig.connect(std::move(f)); });
  run_writer(state, [&] {
    boost::signals2::connection c = sig.connect(writer_listener());
    c.disconnect();
    return true;
  });
}

void memory_boost(benchmark::State& state) {
  run_memory(state, 1000, [](std::size_t n) {
    auto s = std::make_unique<boost_signal>();
    for (std::size_t i = 0; i < n; ++i) s->connect([](const int&) {});
    return s;
  });
}

template <writer_pace Pace>
void tail_boost(benchmark::State& state) {
  boost_signal sig;
  add_listeners(10, [&](auto f) { sig.connect(std::move(f)); });
  run_tail(
      state, Pace, [&](const int& v) { sig(v); }, [&] { sig.connect(writer_listener()).disconnect(); });
}

[[maybe_unused]] const bool registered = [] {
  register_emit("boost_signals2", 1, emit_boost<1>);
  register_emit("boost_signals2", 10, emit_boost<10>);
  register_emit("boost_signals2", 100, emit_boost<100>);
  register_emit("boost_signals2", 1000, emit_boost<1000>);
  register_writer("boost_signals2", writer_boost);
  register_memory("boost_signals2", 1000, memory_boost);
  register_tail("boost_signals2", writer_pace::none, tail_boost<writer_pace::none>);
  register_tail("boost_signals2", writer_pace::paced, tail_boost<writer_pace::paced>);
  register_tail("boost_signals2", writer_pace::flat_out, tail_boost<writer_pace::flat_out>);
  return true;
}();

}  // namespace
}  // namespace sigs_bench
