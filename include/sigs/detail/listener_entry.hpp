// sigs/detail/listener_entry.hpp — one registered listener: the entry every snapshot
// points to, with its state, its counters and its type-erased callable.
//
// An entry is allocated once, by add(), with the callable stored inline after it
// (entry_impl), and shared by every snapshot that lists it. Its state is the listener's
// logical life:
//     live ─────────► removed          (remove, reset)
//     armed ─┬──────► fired            (the one emit that wins the CAS)
//            └──────► removed          (remove, reset)
// The labels (CORE-*) are those of signal_core.hpp, which owns the protocol; CORE-E1/E2
// are this header's error lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <sigs/context.hpp>
#include <sigs/detail/atomics.hpp>
#include <sigs/detail/listener_traits.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// The hash of a listener key, as the snapshots' key index stores it.
inline std::size_t hash_key(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }

enum entry_state : std::uint32_t { state_live = 0, state_armed = 1, state_fired = 2, state_removed = 3 };

inline bool is_alive(std::uint32_t s) noexcept { return s == state_live || s == state_armed; }

/// Why one listener call failed. Built only on failure: the hot path never constructs a
/// std::error_code (its default constructor is an out-of-line call to system_category()).
struct failure {
  std::error_code error;
  std::exception_ptr exception;
};

/// One registered listener. The first three members are all emit touches when nothing
/// goes wrong; they share the entry's first cache line.
template <class A, class T>
struct entry {
  /// Calls the listener; on an error it returned, fills `out` and returns true.
  using invoke_fn = bool (*)(entry*, const context&, const T&, std::optional<failure>& out);
  using destroy_fn = void (*)(entry*) noexcept;

  entry(invoke_fn i, destroy_fn d, std::uint64_t id_, std::string key_, bool once_, bool err_aware)
      : invoke(i), destroy(d), id(id_), once(once_), error_aware(err_aware), key(std::move(key_)),
        key_hash(hash_key(key)), added_at(std::chrono::system_clock::now()) {
    state.store(once_ ? state_armed : state_live, std::memory_order_relaxed);  // published by CORE-P1
    calls.store(0, std::memory_order_relaxed);                                 // published by CORE-P1
    errors.store(0, std::memory_order_relaxed);                                // published by CORE-P1
    last_called.store(0, std::memory_order_relaxed);                           // published by CORE-P1
    error_lock.store(0, std::memory_order_relaxed);                            // published by CORE-P1
    deep_calls.store(0, std::memory_order_relaxed);                            // published by CORE-P1
  }

  typename A::template atomic<std::uint32_t> state;
  invoke_fn invoke;
  destroy_fn destroy;
  std::uint64_t id;
  bool once;
  bool error_aware;
  std::string key;
  std::size_t key_hash;  // hash_key(key), for the snapshots' key index
  std::chrono::system_clock::time_point added_at;
  typename A::template atomic<std::uint64_t> calls;
  typename A::template atomic<std::uint64_t> errors;
  typename A::template atomic<std::int64_t> last_called;  // system_clock ticks, metrics only
  typename A::template atomic<std::uint32_t> error_lock;  // guards the two fields below: 0 free,
                                                          // 1 held, 2 held and someone sleeps
  typename A::template atomic<std::uint32_t> deep_calls;  // calls made past the slot stack (hazard.hpp)
  std::error_code last_error;
  std::exception_ptr last_exception;
  std::size_t refs = 0;           // snapshots holding this entry; only under the writer mutex
  entry* garbage_next = nullptr;  // links unlinked entries awaiting destruction (garbage)

  /// Records an error; emitters on several threads may race here, on the error path only.
  /// The count and the last error change together, under error_lock, so a metadata copy
  /// never shows a count whose error is not there yet.
  void note_error(std::error_code ec, std::exception_ptr ex) {
    lock_errors();
    errors.fetch_add(1, std::memory_order_relaxed);  // relaxed: ordered by the lock (CORE-E1/E2)
    last_error = ec;
    last_exception = std::move(ex);
    unlock_errors();
  }

  struct error_record {
    std::uint64_t count;
    std::error_code last;
    std::exception_ptr exception;
  };

  error_record read_error() {
    lock_errors();
    error_record r{errors.load(std::memory_order_relaxed), last_error, last_exception};  // relaxed: under the lock
    unlock_errors();
    return r;
  }

  /// A futex lock: a few yields, then a sleep in the kernel, so a waiter of higher
  /// priority cannot livelock the holder. Held only to copy two fields.
  void lock_errors() noexcept {
    for (unsigned spin = 0; spin < 16; ++spin) {
      std::uint32_t free = 0;
      // (CORE-E1) acquire: pairs with the previous holder's release (CORE-E2).
      if (error_lock.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
      A::yield();
    }
    // Marked 2 ("someone sleeps") from here on, so the holder's unlock wakes us.
    while (error_lock.exchange(2, std::memory_order_acquire) != 0) A::wait(error_lock, 2u);  // (CORE-E1)
  }
  void unlock_errors() noexcept {
    // (CORE-E2) release: pairs with the next holder's acquire (CORE-E1).
    if (error_lock.exchange(0, std::memory_order_release) == 2) A::notify_all(error_lock);
  }
};

/// An entry with the callable stored inline after it: one allocation, one indirect call.
template <class A, class T, class F>
struct entry_impl final : entry<A, T> {
  template <class G>
  entry_impl(G&& g, std::uint64_t id, std::string key, bool once)
      : entry<A, T>(&call, &destroy_self, id, std::move(key), once, is_error_aware<F, T>), fn(std::forward<G>(g)) {}

  static bool call(entry<A, T>* base, const context& ctx, const T& value, std::optional<failure>& out) {
    F& f = static_cast<entry_impl*>(base)->fn;
    if constexpr (is_error_aware<F, T>) {
      std::error_code ec;
      if constexpr (takes_context<F, T>) {
        ec = std::invoke(f, ctx, value);
      } else {
        ec = std::invoke(f, value);
      }
      if (SIGS_LIKELY(!ec)) return false;
      out.emplace(failure{ec, nullptr});
      return true;
    } else {
      if constexpr (takes_context<F, T>) {
        std::invoke(f, ctx, value);
      } else {
        std::invoke(f, value);
      }
      return false;
    }
  }

  static void destroy_self(entry<A, T>* base) noexcept { delete static_cast<entry_impl*>(base); }

  F fn;
};

}  // namespace sigs::detail
