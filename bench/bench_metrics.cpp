// bench/bench_metrics.cpp — what metrics cost an emit: the same sync_signal as
// emit/sigs/<n> at each metrics level, side by side with it (off) in one run.
//
//   emit/sigs_counters/<n>   metrics_level::counters
//   emit/sigs_sampled/<n>    metrics_level::sampled (one call in 64 timed)
//   emit/sigs_full/<n>       metrics_level::full (every call timed)
//
// summarize.py prints the cost per listener call of each level against emit/sigs/<n>.
#include <sigs/sync_signal.hpp>

#include <cstddef>
#include <memory>
#include <utility>

#include "bench_common.hpp"

namespace sigs_bench {
namespace {

using sigs_signal = sigs::sync_signal<int>;

template <sigs::metrics_level Level, std::size_t N>
void emit_level(benchmark::State& state) {
  sigs_signal& sig = shared_instance<sigs_signal, N>([](std::size_t n) {
    auto s = std::make_unique<sigs_signal>(sigs::sync_options{.metrics = Level});
    add_listeners(n, [&](auto f) { s->add_listener(std::move(f)); });
    return s;
  });
  run_emit(state, N, [&](const int& v) { sig.emit(v); });
}

template <sigs::metrics_level Level>
void register_level(const char* impl) {
  register_emit(impl, 1, emit_level<Level, 1>);
  register_emit(impl, 10, emit_level<Level, 10>);
  register_emit(impl, 100, emit_level<Level, 100>);
}

[[maybe_unused]] const bool registered = [] {
  register_level<sigs::metrics_level::counters>("sigs_counters");
  register_level<sigs::metrics_level::sampled>("sigs_sampled");
  register_level<sigs::metrics_level::full>("sigs_full");
  return true;
}();

}  // namespace
}  // namespace sigs_bench
