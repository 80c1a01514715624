// bench/distinct_listeners.hpp — 1,000 listeners that are 1,000 distinct functions.
//
// The emit cases cycle through five callables, so their code stays hot in the instruction
// cache and the branch predictor learns the few targets. Real programs connect many
// different functions; with 1,000 distinct ones each call is a cold indirect branch to code
// of its own, and what a library adds around the call (its own call wrapper, the lines of
// its entry it reads first) shows. Each listener<I> is its own type with a noinline call
// operator whose body differs by I (so identical code folding cannot merge them), and adds
// weight(I, v) to a tally slot, so that run_emit's check holds as for the other cases.
//
//   distinct/<impl>/1000/real_time   one thread, ns per emit of 1,000 distinct listeners
#pragma once

#include <cstddef>
#include <utility>

#include "listeners.hpp"

namespace sigs_bench {

inline constexpr std::size_t distinct_count = 1000;

template <std::size_t I>
struct distinct_listener {
  [[gnu::noinline]] void operator()(const int& v) const noexcept { tls_tally.count[I % max_listeners] += weight(I, v); }
};

template <std::size_t I, class Add>
void add_distinct_one(Add& add) {
  add(distinct_listener<I>{});
}

template <class Add, std::size_t... I>
void add_distinct_each(Add& add, std::index_sequence<I...> /*unused*/) {
  using adder = void (*)(Add&);
  // A table rather than a fold over 1,000 calls: a fold that long nests too deep for clang.
  static constexpr adder table[] = {&add_distinct_one<I, Add>...};
  for (adder a : table) a(add);
}

/// Calls add(callable) distinct_count times, each with a listener of a type of its own.
template <class Add>
void add_distinct(Add&& add) {
  add_distinct_each(add, std::make_index_sequence<distinct_count>{});
}

}  // namespace sigs_bench
