// testing/spin_gate.hpp — a gate a listener blocks on until the test opens it.
//
//   sigs::testing::spin_gate g;
//   sig.add_listener([&](const int&) { g.wait(); });  // holds its emission inside the call
//   ...
//   g.release();  // the call returns
//
// The waiter spins (yielding), so its thread is never seen asleep: a test that waits for
// another thread to sleep (testing/thread_state.hpp) can tell the two apart.
#pragma once

#include <atomic>
#include <thread>

namespace sigs::testing {

struct spin_gate {
  std::atomic<bool> open{false};

  /// Yields until release(). Acquire: the test's writes before opening are visible after.
  void wait() const {
    while (!open.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with release()
  }
  /// Opens the gate for every waiter, now and later.
  void release() { open.store(true, std::memory_order_release); }  // pairs with wait()
};

}  // namespace sigs::testing
