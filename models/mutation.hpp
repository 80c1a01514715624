// models/mutation.hpp — the mutation hooks: what relacy_atomics_t<Mutation> asks its
// Mutation about each operation, and `no_mutation`, which answers "as written".
//
// A mutant (models/mutants/) weakens one order or skips one step of the production
// protocol without touching its text: the policy (relacy_atomics.hpp) tells the Mutation
// which operation is asked for (`op`), with which order, on which value type and from which
// production function (the caller's __builtin_FUNCTION, matched with called_from()), and the
// Mutation may change the order, split a CAS (or exchange, fetch_add, fetch_or) into a load
// and a store, replace a loaded value, weaken or drop a fence, skip a notify or the writer
// barrier, or watch the wait loops' yields. A mutant derives from no_mutation (through
// mutants/common.hpp's `production`) and hides the one hook it changes.
//
// No Relacy here: the hooks speak std::memory_order; the policy converts (to_rl).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>

namespace sigs::models {

/// The operation a mutant is asked about.
enum class op { load, store, exchange, cas_strong, cas_weak, fetch_add, fetch_sub, fetch_or };

/// True when `func` (a __builtin_FUNCTION() result) names the function `name`. g++ appends
/// template arguments ("protect<snapshot, ...>"), clang does not.
inline bool called_from(const char* func, const char* name) noexcept {
  const std::size_t n = std::strlen(name);
  return std::strncmp(func, name, n) == 0 && (func[n] == '\0' || func[n] == '<');
}

/// The failure order std::atomic derives for a one-order compare_exchange: the order the
/// policy asks order(op::load, ...) about for that CAS's failure.
constexpr std::memory_order cas_failure_order(std::memory_order mo) noexcept {
  switch (mo) {
    case std::memory_order_acq_rel: return std::memory_order_acquire;
    case std::memory_order_release: return std::memory_order_relaxed;
    default: return mo;
  }
}

/// The unmutated protocol. A mutant derives from it and hides one hook.
struct no_mutation {
  static constexpr const char* name = "none";

  /// True: the writer barrier (HP-W1) of the asymmetric fence does nothing.
  static constexpr bool skip_writer_barrier = false;

  /// The order the operation really uses.
  template <class T>
  static std::memory_order order(op, std::memory_order mo, const char* /*func*/) noexcept {
    return mo;
  }
  /// True: perform this compare_exchange (or exchange, fetch_add, fetch_or) as a separate
  /// load and store (not atomic).
  template <class T>
  static bool split_cas(op, const char* /*func*/) noexcept {
    return false;
  }
  /// True: this load's result is replaced by the value this thread's previous relaxed load
  /// of the same atomic returned (the load itself still happens, with its order).
  template <class T>
  static bool reuse_guess(std::memory_order, const char* /*func*/) noexcept {
    return false;
  }
  /// The order a fence (A::fence) really has; relaxed: the fence is removed.
  static std::memory_order fence_order(std::memory_order mo, const char* /*func*/) noexcept { return mo; }
  /// The value a load returns, given the value it read.
  template <class T>
  static T loaded(T v, std::memory_order, const char* /*func*/) noexcept {
    return v;
  }
  /// True: this notify_one / notify_all of a condition variable is not made.
  static bool skip_notify(const char* /*func*/) noexcept { return false; }
  /// Told of every A::yield() (a wait loop's turn), with the calling function.
  static void yielded(const char* /*func*/) noexcept {}
};

}  // namespace sigs::models
