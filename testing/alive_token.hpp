// testing/alive_token.hpp — counts live listener callables to catch leaks.
//
// A listener callable that holds an alive_token bumps a process-wide count for as long as
// it (or any copy of it) exists. Once every signal that held such listeners is destroyed
// the count must be back where it started: lower means a double destruction, higher a leak
// the library did not free (LeakSanitizer catches the latter too, but only in asan/fuzz).
#pragma once

#include <atomic>

namespace sigs_test {

struct alive_token {
  static inline std::atomic<long> live{0};
  alive_token() noexcept { live.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count, read after join
  alive_token(const alive_token&) noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  alive_token& operator=(const alive_token&) noexcept = default;
  ~alive_token() { live.fetch_sub(1, std::memory_order_relaxed); }
};

}  // namespace sigs_test
