// testing/fake_clock.hpp — a metrics clock (sigs::set_metrics_clock) the test moves by hand,
// so latencies, queue waits and health windows take the values the test chooses.
//
//   sigs::testing::fake_clock_scope clock;                        // installed until the scope ends
//   sig.add_listener([](const int&) { sigs::testing::fake_now += 300; });  // a 300 ns call
//   sigs::testing::advance(std::chrono::seconds(6));              // six seconds pass
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <sigs/signal_metrics.hpp>

namespace sigs::testing {

/// The time the fake clock reads, in nanoseconds.
inline std::atomic<std::uint64_t> fake_now{1'000'000'000};

inline std::uint64_t read_fake_clock() noexcept { return fake_now.load(); }

/// Moves the fake clock forward.
inline void advance(std::chrono::nanoseconds d) { fake_now += static_cast<std::uint64_t>(d.count()); }

/// Installs the fake clock for its lifetime, then restores steady_clock.
struct fake_clock_scope {
  fake_clock_scope() { sigs::set_metrics_clock(&read_fake_clock); }
  ~fake_clock_scope() { sigs::set_metrics_clock(nullptr); }
  fake_clock_scope(const fake_clock_scope&) = delete;
  fake_clock_scope& operator=(const fake_clock_scope&) = delete;
};

}  // namespace sigs::testing
