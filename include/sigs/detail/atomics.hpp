// sigs/detail/atomics.hpp — the atomics policy the lock-free protocol is written against.
//
// Every protocol header under sigs/detail/ names atomics, fences, plain shared variables,
// mutexes and spin-waits only through a policy type `A`:
//
//   typename A::template atomic<T>   a std::atomic-shaped object (load/store/exchange/CAS/fetch_*)
//   typename A::template var<T>      a plain shared variable: load()/store(); racing on it is a bug
//   typename A::mutex                lock()/unlock()
//   typename A::condition_variable   wait(std::unique_lock<A::mutex>&, pred), notify_all()
//                                    (in_flight.hpp, completion.hpp)
//   A::yield()                       called in every spin or wait loop
//   A::wait(atomic<uint32_t>&, old)  blocks while the value is `old` (a futex wait; may
//                                    return spuriously), call_tracking.hpp and the entry's
//                                    error lock
//   A::notify_all(atomic<uint32_t>&) wakes every A::wait on that atomic
//   A::fence(std::memory_order)      std::atomic_thread_fence (wake.hpp)
// and, optionally (hazard.hpp checks with `requires`), the asymmetric-fence hooks:
//   A::asymmetric_fence_available()  true when the writer-side barrier below works here
//   A::reader_barrier()              compiler-only barrier on the read path
//   A::writer_barrier()              a barrier executed on every CPU running this process
//
// Production instantiates the protocol with `std_atomics`. models/relacy_atomics.hpp defines
// the same shape over Relacy's rl::atomic / rl::var / rl::mutex / rl::condition_variable,
// so the model checker runs the *same* headers. Known gaps of each backend:
//   - std: none; this is what ships.
//   - relacy: no membarrier(); the Relacy policy's writer_barrier() is Relacy's system-wide
//     fence (its model of FlushProcessWriteBuffers, the same primitive), so both read paths
//     are model-checked (docs/models.md, the `_asym` scenarios).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace sigs::detail {

struct std_atomics {
  template <class T>
  using atomic = std::atomic<T>;

  /// A plain variable. In production it is just a T; Relacy's var<T> flags data races on it.
  template <class T>
  class var {
   public:
    var() = default;
    explicit var(T v) : v_(v) {}
    T load() const noexcept { return v_; }
    void store(T v) noexcept { v_ = v; }

   private:
    T v_{};
  };

  using mutex = std::mutex;
  using condition_variable = std::condition_variable;

  static void yield() noexcept { std::this_thread::yield(); }

  /// Sleeps in the kernel (a futex on Linux) while `a` holds `old`; acquire on return.
  static void wait(const std::atomic<std::uint32_t>& a, std::uint32_t old) noexcept {
    a.wait(old, std::memory_order_acquire);  // acquire: pairs with the release that changed it
  }
  static void notify_all(std::atomic<std::uint32_t>& a) noexcept { a.notify_all(); }

  // g++ warns that ThreadSanitizer does not model fences (-Wtsan). That is harmless for the
  // only user, wake.hpp's handshake: no happens-before relation rests on its fences (data
  // travels through the queue's acquire/release pairs and the mutexes, which TSan sees),
  // and the instrumented fence still executes a real fence. Replacing it under TSan by an
  // RMW on a shared word, as is usual, would instead *add* happens-before edges that could
  // hide real races from TSan. So, unlike what detail/port.hpp anticipates for fences,
  // nothing is strengthened under SIGS_TSAN; only g++'s warning is silenced, here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
  static void fence(std::memory_order mo) noexcept { std::atomic_thread_fence(mo); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  /// True when membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered for this process
  /// and SIGS_ASYMMETRIC_FENCE is not "0" in the environment. Decided once (src/hazard.cpp).
  static bool asymmetric_fence_available() noexcept;

  /// The read side of the asymmetric fence: stops the compiler, not the CPU, from moving
  /// the hazard store after the validating load. writer_barrier() supplies the CPU fence.
  static void reader_barrier() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

  /// The write side: runs a full memory barrier on every CPU currently running a thread of
  /// this process (membarrier(2)). Only called when asymmetric_fence_available().
  static void writer_barrier() noexcept;
};

}  // namespace sigs::detail
