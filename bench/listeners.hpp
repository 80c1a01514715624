// bench/listeners.hpp — the listeners every emit benchmark registers, whatever the library.
//
// Why several types: with one listener type in a translation unit, g++ speculatively
// devirtualises the indirect call (docs/benchmarks.md, "Caveats"), and a library that stores
// identical slots then looks faster than the plain-loop floor. So the listeners cycle through
// five distinct callables: four lambdas with different bodies (different bodies, so identical
// code folding cannot merge them back into one) and a free function.
//
// Why thread-local tallies: each listener must have a side effect the compiler cannot drop,
// and in the 2-thread cases both threads run the *same* listeners on the *same* signal.
//   - One shared counter per listener, bumped with an atomic RMW, would make the floor itself
//     contend: the 2-thread figure would measure cache-line ping-pong, not the library.
//   - Plain increments of one shared counter would be a data race (UB) and still ping-pong.
//   - Padding each listener's counter to its own cache line does not help: both threads still
//     write the same line.
// So each listener adds to its own slot of a thread_local array: the side effect goes to
// memory the compiler must assume is observed (it has external linkage and the call is
// indirect), it is race-free without atomics, and each thread writes only its own lines, so
// the only sharing left between two emitting threads is whatever the library itself shares.
// The cost is a plain add to an fs-relative address, the same for every implementation.
//
// The tallies double as a check: after the timed loop each thread verifies that its tallies
// grew by exactly iterations × expected_per_emit(), so a library that skipped listeners would
// fail the case rather than win it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sigs_bench {

inline constexpr std::size_t max_listeners = 128;
inline constexpr std::size_t free_function_slot = max_listeners;  // shared by free functions
inline constexpr std::size_t writer_slot = max_listeners + 1;     // the writer cases' listener
inline constexpr int payload = 42;

struct alignas(64) tally {
  std::uint64_t count[max_listeners + 2];
};

// constinit: accessed directly through the thread pointer, with no TLS wrapper call.
inline constinit thread_local tally tls_tally{};

inline std::uint64_t tally_total() noexcept {
  std::uint64_t sum = 0;
  for (std::uint64_t c : tls_tally.count) sum += c;
  return sum;
}

/// The free-function listener (kind 4). noinline so it stays a real, distinct function.
[[gnu::noinline]] inline void free_listener(const int& v) noexcept {
  tls_tally.count[free_function_slot] += static_cast<std::uint64_t>(v + 2);
}

inline constexpr std::size_t listener_kinds = 5;

/// What the i-th listener adds to its tally per call with payload v.
constexpr std::uint64_t weight(std::size_t i, int v) noexcept {
  switch (i % listener_kinds) {
    case 0: return static_cast<std::uint64_t>(v);
    case 1: return static_cast<std::uint64_t>(v + 1);
    case 2: return static_cast<std::uint64_t>(2 * v);
    case 3: return static_cast<std::uint64_t>(v - 1);
    default: return static_cast<std::uint64_t>(v + 2);
  }
}

/// What one emit of v adds to the calling thread's tallies with n listeners.
constexpr std::uint64_t expected_per_emit(std::size_t n, int v) noexcept {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += weight(i, v);
  return sum;
}

/// Calls add(callable) n times, cycling through the five listener types. add is generic: it
/// receives a closure object of one of four lambda types, or a plain function pointer.
template <class Add>
void add_listeners(std::size_t n, Add&& add) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t slot = i % max_listeners;
    switch (i % listener_kinds) {
      case 0: add([slot](const int& v) noexcept { tls_tally.count[slot] += static_cast<std::uint64_t>(v); }); break;
      case 1: add([slot](const int& v) noexcept { tls_tally.count[slot] += static_cast<std::uint64_t>(v + 1); }); break;
      case 2: add([slot](const int& v) noexcept { tls_tally.count[slot] += static_cast<std::uint64_t>(2 * v); }); break;
      case 3: add([slot](const int& v) noexcept { tls_tally.count[slot] += static_cast<std::uint64_t>(v - 1); }); break;
      default: add(&free_listener); break;
    }
  }
}

/// The listener the writer cases add and remove.
inline auto writer_listener() noexcept {
  return [](const int& v) noexcept { tls_tally.count[writer_slot] += static_cast<std::uint64_t>(v); };
}

}  // namespace sigs_bench
