// sigs/detail/atomics.hpp — the atomics policy the lock-free protocol is written against.
//
// Every protocol header under sigs/detail/ names atomics, fences, plain shared variables,
// mutexes and spin-waits only through a policy type `A`:
//
//   typename A::template atomic<T>   a std::atomic-shaped object (load/store/exchange/CAS/fetch_*)
//   typename A::template var<T>      a plain shared variable: load()/store(); racing on it is a bug
//   typename A::mutex                lock()/unlock()
//   A::yield()                       called in every spin or wait loop
//
// Production instantiates the protocol with `std_atomics`. models/relacy_atomics.hpp defines
// the same shape over Relacy's rl::atomic / rl::var / rl::mutex, so the model checker runs
// the *same* headers. Known gaps of each backend:
//   - std: none; this is what ships.
//   - relacy: no membarrier(), so the asymmetric-fence read path is not modelled; only the
//     seq_cst hazard publish is (docs/verification.md).
#pragma once

#include <atomic>
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

  static void yield() noexcept { std::this_thread::yield(); }
};

}  // namespace sigs::detail
