// models/relacy_atomics.hpp — the Relacy backend of the atomics policy (detail/atomics.hpp).
//
// The protocol headers name atomics, plain shared variables, the writer mutex and spin
// waits only through a policy `A`. This header gives `A` the shape of
// sigs::detail::std_atomics over Relacy's rl::atomic / rl::var / rl::mutex /
// rl::condition_variable, so the model checker runs the *production* hazard.hpp,
// call_tracking.hpp, signal_core.hpp, mpmc_queue.hpp, envelope.hpp, in_flight.hpp, completion.hpp, wake.hpp and
// pool_core.hpp, not a copy:
//
//   using core = sigs::detail::signal_core<relacy_atomics, int,
//                                          sigs::detail::signal_domain<relacy_atomics, 2>>;
//
// (models/mutants/common.hpp wraps the domain to pick the fence mode and the scan batch.)
//
// Every member takes a defaulted rl::debug_info built from __builtin_FUNCTION/FILE/LINE, so
// an execution history names the protocol's own line (hazard.hpp:123), and the protocol
// never writes Relacy's `$`.
//
// Mutants. relacy_atomics_t<Mutation> lets a mutant (models/mutants/) weaken one order or
// skip one step of the production protocol without touching its text: before each
// operation the policy asks the Mutation's hooks (models/mutation.hpp: the operation, its
// order, its value type and the production function calling it), and does what they say.
// `relacy_atomics` is the unmutated policy; with it every operation goes to Relacy exactly
// as written.
//
// The asymmetric fence. The policy offers the hooks hazard.hpp looks for, so a domain built
// with allow_asymmetric = true runs the membarrier read path (HP-H1a relaxed store, HP-H2a
// acquire load, HP-W1 writer barrier). Relacy has no membarrier, but it models Windows'
// FlushProcessWriteBuffers, the same primitive, as rl::systemwide_fence: at that point
// every thread's view of memory is synchronised with every other's, which is what
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) guarantees (a full barrier on each running
// thread during the call). writer_barrier() is a scheduling point followed by that fence;
// reader_barrier() is a compiler barrier, which has nothing to model here (Relacy runs
// each thread in program order).
//
// Known gaps of this backend (what a passing model does NOT show):
//   - membarrier is modelled by Relacy's system-wide fence, not by the kernel's code; a
//     kernel that does not honour the expedited command is outside the model. That fence
//     synchronises every thread with every other at once, which is stronger than a barrier
//     run on each CPU: a release that only matters when the barrier came *before* the
//     releasing thread's accesses (the CALL-3 store of call_tracking.hpp in asymmetric mode)
//     cannot be shown necessary here; it is argued in call_tracking.hpp instead.
//   - std::shared_ptr's reference counts (the snapshot's error handler) are real atomics
//     Relacy does not see; races on them are invisible. The handler is shared by value
//     between snapshots and only dropped under the writer mutex or after it.
//   - A snapshot's header (size, handler) and entry array are plain memory: Relacy sees an
//     access to a freed or unpublished snapshot only through an rl object (its hold count,
//     an entry's atomic state, a listener's rl::var canary). The scenarios are built so
//     that a snapshot freed too early takes a listener with it; a race on the plain header
//     alone (e.g. the hold count dropped with relaxed, CORE-K3) is invisible.
//   - Relacy's atomic cannot hold `const U*` (its history stores void*): pointers are kept
//     with const removed and handed back as T.
//   - Objects with alignas(64) (hazard records, signal_core) are allocated by the aligned
//     operator new, which Relacy does not intercept: their leaks are not reported, their
//     rl::atomic members still are ("atomic leak").
//   - std::chrono clocks, std::stop_token and std::string are real, not modelled.
//   - Relacy threads are fibers of one OS thread: thread_local does not separate them, so a
//     model passes each thread's hazard record explicitly (acquire_record()).
//   - Plain memory is no scheduling point: Relacy switches threads only at rl operations,
//     so a plain write right after an unlock happens "at once" with it. A protocol flag
//     whose timing matters must be an A::var (completion_state::done is one).
//   - rl::condition_variable allows spurious wake-ups (at most 10 per wait) and reports a
//     thread blocked for ever as DEADLOCK. Timed waits have no clock: condition_variable_any
//     below offers wait_timed(), which Relacy may end at any moment, as if the deadline
//     passed then (completion::wait_for/wait_until are not modelled at all).
//   - std::condition_variable_any's stop-token waits (the pool's wait for room) are not
//     offered: a model's wait type (models/pool_models.cpp) reads a cancellation flag in the
//     wait's predicate, and the canceller wakes the waiters with pool_core's
//     wake_space_waiters() (lock, notify_all), where production's stop_callback notifies
//     under condition_variable_any's internal mutex. Both make the notify lossless; the
//     models do not check libstdc++'s implementation of it.
//   - Threads, thread ids, thread_local and std::thread::join are not the pool's: pool_core
//     takes `from_worker` and a join callable; the models pass a flag and a wait on a
//     Relacy condition variable for the worker threads' ends. std::chrono::steady_clock
//     (the idle-time statistics) stays in src/worker_pool.cpp, outside the model.
//   - pool_core's std_pool_traits are replaced: the models' traits give the build's wake
//     count and the condition_variable_any below.
//   - mpmc_queue's cell storage is raw bytes: Relacy sees the payload through the element
//     type's own rl::var and the cell's A::var shadow `turn` (read in an assert(): the
//     queue family is built without NDEBUG).
//   - Bounded search: random schedules and context bounds 1-2, not every interleaving.
#pragma once

// Every standard, system and project header first: relacy.hpp #defines new, delete,
// malloc, free, assert, memory_order_* and pthread names, which must not reach them.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <sigs/context.hpp>
#include <sigs/completion.hpp>
#include <sigs/detail/async_delivery.hpp>
#include <sigs/detail/atomics.hpp>
#include <sigs/detail/call_tracking.hpp>
#include <sigs/detail/envelope.hpp>
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/in_flight.hpp>
#include <sigs/detail/mpmc_queue.hpp>
#include <sigs/detail/pool_core.hpp>
#include <sigs/detail/signal_core.hpp>
#include <sigs/detail/wake.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>

#include "mutation.hpp"  // the mutation hooks (no Relacy in it)

// Relacy last.
#include <relacy/relacy.hpp>

// The policy and the models use std::memory_order and ordinary new/delete (which Relacy
// still intercepts through its replacement of the global operator new/delete).
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst

/// Where the policy was called from: the production line, for Relacy's history.
#define SIGS_RL_HERE rl::debug_info(__builtin_FUNCTION(), __builtin_FILE(), __builtin_LINE())

namespace sigs::detail {
/// Relacy prints every atomic value in its histories; the pool's run state is an enum.
inline std::ostream& operator<<(std::ostream& os, pool_state s) { return os << static_cast<unsigned>(s); }
}  // namespace sigs::detail

namespace sigs::models {

/// std::memory_order (the protocol's and the mutation hooks') to Relacy's.
inline rl::memory_order to_rl(std::memory_order mo) noexcept {
  switch (mo) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    case std::memory_order_seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

/// The Relacy policy; `Mutation` (models/mutation.hpp) may weaken one operation of it.
template <class Mutation = no_mutation>
struct relacy_atomics_t {
  /// std::atomic-shaped, over rl::atomic<T>. Only the members the protocol uses.
  template <class T>
  class atomic {
    // Relacy records pointer values as void* and cannot hold `const U*`: keep pointers
    // with the const removed and give them back as T.
    using stored = std::conditional_t<std::is_pointer_v<T>, std::remove_cv_t<std::remove_pointer_t<T>>*, T>;
    static stored in(T v) noexcept {
      if constexpr (std::is_pointer_v<T>)
        return const_cast<stored>(v);
      else
        return v;
    }

   public:
    atomic() = default;
    explicit atomic(T v, rl::debug_info info = SIGS_RL_HERE) { a_.store(in(v), rl::mo_relaxed, info); }
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) const {
      const std::memory_order m = Mutation::template order<T>(op::load, mo, info.func_);
      T v = a_.load(to_rl(m), info);
      if constexpr (!std::is_same_v<Mutation, no_mutation>) {
        const unsigned t = rl::thread_index();
        if (t < max_threads) {
          if (m == std::memory_order_relaxed) {
            guess_[t] = v;
            has_guess_[t] = true;
          } else {
            if (has_guess_[t] && Mutation::template reuse_guess<T>(mo, info.func_)) v = guess_[t];
            has_guess_[t] = false;
          }
        }
        v = Mutation::template loaded<T>(v, mo, info.func_);
      }
      return v;
    }

    void store(T v, std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) {
      a_.store(in(v), to_rl(Mutation::template order<T>(op::store, mo, info.func_)), info);
    }

    T exchange(T v, std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) {
      if constexpr (!std::is_same_v<Mutation, no_mutation>) {
        if (Mutation::template split_cas<T>(op::exchange, info.func_)) {
          // Not atomic: another thread may act between the load and the store.
          const stored cur = a_.load(rl::mo_relaxed, info);
          a_.store(in(v), rl::mo_relaxed, info);
          return cur;
        }
      }
      return a_.exchange(in(v), to_rl(Mutation::template order<T>(op::exchange, mo, info.func_)), info);
    }

    bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure,
                                 rl::debug_info info = SIGS_RL_HERE) {
      return cas(op::cas_strong, expected, desired, success, failure, info);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst,
                                 rl::debug_info info = SIGS_RL_HERE) {
      return cas(op::cas_strong, expected, desired, mo, cas_failure_order(mo), info);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure,
                               rl::debug_info info = SIGS_RL_HERE) {
      return cas(op::cas_weak, expected, desired, success, failure, info);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst,
                               rl::debug_info info = SIGS_RL_HERE) {
      return cas(op::cas_weak, expected, desired, mo, cas_failure_order(mo), info);
    }

    template <class D>
    T fetch_add(D d, std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) {
      if constexpr (!std::is_same_v<Mutation, no_mutation>) {
        if (Mutation::template split_cas<T>(op::fetch_add, info.func_)) {
          // Not atomic: another thread may act between the load and the store.
          const stored cur = a_.load(rl::mo_relaxed, info);
          a_.store(static_cast<stored>(cur + d), rl::mo_relaxed, info);
          return cur;
        }
      }
      return a_.fetch_add(d, to_rl(Mutation::template order<T>(op::fetch_add, mo, info.func_)), info);
    }
    template <class D>
    T fetch_sub(D d, std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) {
      return a_.fetch_sub(d, to_rl(Mutation::template order<T>(op::fetch_sub, mo, info.func_)), info);
    }
    T fetch_or(T v, std::memory_order mo = std::memory_order_seq_cst, rl::debug_info info = SIGS_RL_HERE) {
      if constexpr (!std::is_same_v<Mutation, no_mutation>) {
        if (Mutation::template split_cas<T>(op::fetch_or, info.func_)) {
          // Not atomic: another thread may act between the load and the store.
          const stored cur = a_.load(rl::mo_relaxed, info);
          a_.store(cur | v, rl::mo_relaxed, info);
          return cur;
        }
      }
      return a_.fetch_or(v, to_rl(Mutation::template order<T>(op::fetch_or, mo, info.func_)), info);
    }

   private:
    static constexpr unsigned max_threads = 8;

    bool cas(op k, T& expected, T desired, std::memory_order success, std::memory_order failure,
             const rl::debug_info& info) {
      stored e = in(expected);
      bool ok;
      if constexpr (!std::is_same_v<Mutation, no_mutation>) {
        if (Mutation::template split_cas<T>(k, info.func_)) {
          // Not atomic: another thread may act between the load and the store.
          const stored cur = a_.load(rl::mo_relaxed, info);
          ok = cur == e;
          if (ok)
            a_.store(in(desired), rl::mo_relaxed, info);
          else
            expected = cur;
          return ok;
        }
      }
      const std::memory_order s = Mutation::template order<T>(k, success, info.func_);
      const std::memory_order f = Mutation::template order<T>(op::load, failure, info.func_);
      if (k == op::cas_weak)
        ok = a_.compare_exchange_weak(e, in(desired), to_rl(s), info, to_rl(f), info);
      else
        ok = a_.compare_exchange_strong(e, in(desired), to_rl(s), info, to_rl(f), info);
      expected = e;
      return ok;
    }

    rl::atomic<stored> a_;
    // Mutants only (reuse_guess): each thread's last relaxed load of this atomic.
    mutable T guess_[max_threads] = {};
    mutable bool has_guess_[max_threads] = {};
  };

  /// A plain shared variable: Relacy reports a data race on any unordered conflicting
  /// access. rl::var holds scalars only; a class type (std::error_code) is kept beside an
  /// rl::var<int> that each access loads or stores first, so Relacy sees the same races.
  template <class T>
  class var {
   public:
    var() = default;
    explicit var(T v, rl::debug_info info = SIGS_RL_HERE) { store(v, info); }
    T load(rl::debug_info info = SIGS_RL_HERE) const {
      if constexpr (std::is_scalar_v<T>) {
        return v_(info).load();
      } else {
        (void)v_(info).load();
        return value_;
      }
    }
    void store(T v, rl::debug_info info = SIGS_RL_HERE) {
      if constexpr (std::is_scalar_v<T>) {
        v_(info).store(v);
      } else {
        v_(info).store(0);
        value_ = std::move(v);
      }
    }

   private:
    rl::var<std::conditional_t<std::is_scalar_v<T>, T, int>> v_;
    [[no_unique_address]] std::conditional_t<std::is_scalar_v<T>, std::monostate, T> value_{};
  };

  /// Lockable for std::lock_guard. Relacy checks ownership, recursion and deadlock.
  class mutex {
   public:
    mutex() = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;
    void lock(rl::debug_info info = SIGS_RL_HERE) { m_.lock(info); }
    void unlock(rl::debug_info info = SIGS_RL_HERE) { m_.unlock(info); }
    bool try_lock(rl::debug_info info = SIGS_RL_HERE) { return m_.try_lock(info); }

   private:
    rl::mutex m_;
  };

  /// std::condition_variable-shaped, over rl::condition_variable (which allows spurious
  /// wake-ups and reports a thread blocked forever as DEADLOCK). Only what in_flight.hpp,
  /// completion.hpp and wake.hpp (and its models) use: wait with a predicate under
  /// std::unique_lock<mutex>, notify_all, notify_one.
  class condition_variable {
   public:
    condition_variable() = default;
    condition_variable(const condition_variable&) = delete;
    condition_variable& operator=(const condition_variable&) = delete;

    template <class Pred>
    void wait(std::unique_lock<mutex>& lock, Pred pred, rl::debug_info info = SIGS_RL_HERE) {
      // rl::condition_variable's own predicate overload does not compile; this is its loop.
      while (!pred()) cv_.wait(*lock.mutex(), info);
    }
    void notify_all(rl::debug_info info = SIGS_RL_HERE) {
      if (!Mutation::skip_notify(info.func_)) cv_.notify_all(info);
    }
    void notify_one(rl::debug_info info = SIGS_RL_HERE) {
      if (!Mutation::skip_notify(info.func_)) cv_.notify_one(info);
    }

   protected:
    rl::condition_variable cv_;
  };

  /// std::condition_variable_any's place (pool_core's space_cv_, through the models'
  /// pool traits): the waits above, and a timed one with no clock. A type of its own, so
  /// that a mutant can tell the pool's two handshakes apart by their condition variable.
  class condition_variable_any : public condition_variable {
   public:
    /// wait(lock, pred) that Relacy may end at any moment, as if its deadline passed then;
    /// returns pred() at the end, as std's wait_until with a predicate does.
    template <class Pred>
    bool wait_timed(std::unique_lock<mutex>& lock, Pred pred, rl::debug_info info = SIGS_RL_HERE) {
      while (!pred()) {
        // wait_for is true only when notified; false on a time-out (or a spurious wake-up,
        // which a deadline could equally have ended).
        if (!this->cv_.wait_for(*lock.mutex(), 0, info)) return pred();
      }
      return true;
    }
  };

  /// Every spin or wait loop calls this; Relacy then schedules another thread instead of
  /// reporting a livelock under the context-bound scheduler.
  static void yield(rl::debug_info info = SIGS_RL_HERE) {
    Mutation::yielded(info.func_);
    rl::yield(1, info);
  }

  /// A futex wait (std::atomic::wait): returns once `a` no longer holds `old`. Modelled as
  /// a spin with a scheduling point per look, so a wake-up that never comes (the value
  /// never changes) is reported as LIVELOCK, as a thread asleep for ever would be a hang.
  template <class T>
  static void wait(const atomic<T>& a, T old, rl::debug_info info = SIGS_RL_HERE) {
    while (a.load(std::memory_order_acquire, info) == old) yield(info);
  }
  /// The futex wake. Nothing to model: wait() above looks at the value itself.
  template <class T>
  static void notify_all(atomic<T>&) noexcept {}

  /// std::atomic_thread_fence (wake.hpp). A relaxed fence does nothing (Relacy refuses it).
  static void fence(std::memory_order mo, rl::debug_info info = SIGS_RL_HERE) {
    const std::memory_order m = Mutation::fence_order(mo, info.func_);
    if (m != std::memory_order_relaxed) rl::atomic_thread_fence(to_rl(m), info);
  }

  /// The asymmetric-fence hooks (see the top of this file). Whether a domain uses them is
  /// its constructor's allow_asymmetric argument.
  static bool asymmetric_fence_available() noexcept { return true; }
  static void reader_barrier() noexcept {}
  static void writer_barrier(rl::debug_info info = SIGS_RL_HERE) {
    // membarrier is a syscall: other threads run between the writer's last access and the
    // barrier. Without this scheduling point Relacy would run the fence in the same step
    // as the writer's previous atomic operation (CORE-P1).
    rl::ctx().sched();
    if (!Mutation::skip_writer_barrier) rl::systemwide_fence(info);
  }
};

/// The unmutated Relacy policy.
using relacy_atomics = relacy_atomics_t<no_mutation>;

}  // namespace sigs::models
