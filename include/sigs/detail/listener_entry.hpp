// sigs/detail/listener_entry.hpp — one registered listener: the entry every snapshot
// points to, with its state and its type-erased callable, and the details (key, counters,
// last error) it keeps apart.
//
// An entry is allocated once, by add(), with the callable stored inline after it
// (entry_impl), and shared by every snapshot that lists it. Its state is the listener's
// logical life:
//     live ─────────► removed          (remove, reset)
//     armed ─┬──────► fired            (the one emit that wins the CAS)
//            └──────► removed          (remove, reset)
// The labels (CORE-*) are those of signal_core.hpp, which owns the protocol; CORE-E1/E2
// are this header's error lock, CORE-X1/X2 the publication of details made late, MTR-1 that
// of a listener's meter.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <sigs/context.hpp>
#include <sigs/detail/atomics.hpp>
#include <sigs/detail/listener_traits.hpp>
#include <sigs/detail/meter.hpp>
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

/// What a listener keeps apart from what emit reads: its key, its counters and its last
/// error. An entry gets its details when it is added if it has a key or returns an error
/// code, or if the signal's metrics are on; when metrics are switched on, for every entry
/// then alive; otherwise at its first exception. An unkeyed listener that never fails
/// while metrics are off costs its entry alone (docs/guarantees.md, "Resources").
template <class A>
struct entry_details {
  explicit entry_details(std::string key_, std::unique_ptr<listener_meter> m = nullptr)
      : key(std::move(key_)), key_hash(hash_key(key)), meter(m.release()) {
    errors.store(0, std::memory_order_relaxed);       // published by CORE-P1 or CORE-X2
    exceptions.store(0, std::memory_order_relaxed);   // published by CORE-P1 or CORE-X2
    last_called.store(0, std::memory_order_relaxed);  // published by CORE-P1 or CORE-X2
    error_lock.store(0, std::memory_order_relaxed);   // published by CORE-P1 or CORE-X2
  }
  ~entry_details() { delete meter.load(std::memory_order_relaxed); }  // relaxed: the last user is gone
  entry_details(const entry_details&) = delete;
  entry_details& operator=(const entry_details&) = delete;

  const std::string key;
  const std::size_t key_hash;  // hash_key(key), for the snapshots' key index
  /// The call counters and histogram (meter.hpp), once metrics were on; never replaced.
  /// (MTR-1) set with release under the writer mutex; emitters load it with acquire.
  std::atomic<listener_meter*> meter;
  typename A::template atomic<std::uint64_t> errors;      // error codes and exceptions
  typename A::template atomic<std::uint64_t> exceptions;  // exceptions alone
  typename A::template atomic<std::int64_t> last_called;  // system_clock ticks, metrics only
  typename A::template atomic<std::uint32_t> error_lock;  // guards the two fields below: 0 free,
                                                          // 1 held, 2 held and someone sleeps
  std::error_code last_error;
  std::exception_ptr last_exception;

  /// Records an error; emitters on several threads may race here, on the error path only.
  /// The count and the last error change together, under error_lock, so a metadata copy
  /// never shows a count whose error is not there yet.
  void note_error(std::error_code ec, std::exception_ptr ex) {
    lock_errors();
    errors.fetch_add(1, std::memory_order_relaxed);              // relaxed: ordered by the lock (CORE-E1/E2)
    if (ex) exceptions.fetch_add(1, std::memory_order_relaxed);  // relaxed: as errors
    last_error = ec;
    last_exception = std::move(ex);
    unlock_errors();
  }

  struct error_record {
    std::uint64_t count;       // errors and exceptions
    std::uint64_t exceptions;  // exceptions alone
    std::error_code last;
    std::exception_ptr exception;
  };

  error_record read_error() {
    lock_errors();
    error_record r{errors.load(std::memory_order_relaxed), exceptions.load(std::memory_order_relaxed), last_error,
                   last_exception};  // relaxed: under the lock
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

/// Adds a keyed listener's series to `out` (signal_core::read_metrics()); nothing for an
/// unkeyed one (null details or an empty key), which the fold covers.
template <class A>
void read_keyed(entry_details<A>* d, signal_metrics& out) {
  if (d == nullptr || d->key.empty()) return;
  listener_metrics& l = out.by_listener.emplace_back();
  l.key = d->key;
  const auto err = d->read_error();
  l.exceptions = err.exceptions;
  l.errors = err.count - err.exceptions;
  if (const listener_meter* lm = d->meter.load(std::memory_order_acquire)) {  // (MTR-1)
    l.calls = lm->calls.read();
    lm->latency->read_into(l.latency);  // a keyed listener's meter has one
  }
  out.latency.merge(l.latency);
}

/// One registered listener: what an emission reads, with the callable right after it
/// (entry_impl), and a pointer to the rest (entry_details). 56 bytes on a 64-bit target;
/// tests/memory_budget_test.cpp holds it to that.
template <class A, class T>
struct entry {
  /// Calls the listener; on an error it returned, fills `out` and returns true.
  using invoke_fn = bool (*)(entry*, const context&, const T&, std::optional<failure>& out);
  using destroy_fn = void (*)(entry*) noexcept;
  using details_t = entry_details<A>;

  /// `d`: the details (destroy() deletes them), or null.
  entry(invoke_fn i, destroy_fn del, std::uint64_t id_, bool once_, bool err_aware, details_t* d) noexcept
      : invoke(i), id(id_), destroy(del), once(once_), error_aware(err_aware) {
    state.store(once_ ? state_armed : state_live, std::memory_order_relaxed);  // published by CORE-P1
    deep_calls.store(0, std::memory_order_relaxed);                            // published by CORE-P1
    details.store(d, std::memory_order_relaxed);                               // published by CORE-P1
    added_at = std::chrono::system_clock::now().time_since_epoch().count();
  }
  ~entry() = default;  // the details go with destroy(): see entry_impl::destroy_self
  entry(const entry&) = delete;
  entry& operator=(const entry&) = delete;

  typename A::template atomic<std::uint32_t> state;
  typename A::template atomic<std::uint32_t> deep_calls;  // calls made past the slot stack (call_tracking.hpp)
  invoke_fn invoke;
  std::uint64_t id;
  typename A::template atomic<details_t*> details;  // null until needed (entry_details)
  destroy_fn destroy;
  union {
    std::int64_t added_at;  // system_clock ticks
    entry* garbage_next;    // once unreachable: links entries awaiting destruction (garbage)
  };
  std::uint32_t refs = 0;  // snapshots and waiters holding it (each snapshot takes over 64 bytes:
                           // 2^32 of them do not fit in memory); only under the writer mutex
  bool once;
  bool error_aware;

  /// The details, or null. (CORE-X1) acquire: pairs with CORE-X2, for details installed
  /// after the entry was published; those from the constructor came with CORE-P1.
  [[nodiscard]] details_t* details_if_any() const noexcept { return details.load(std::memory_order_acquire); }

  /// The details, created now if the entry has none. Null only when their memory ran out.
  details_t* details_or_make() noexcept {
    details_t* d = details_if_any();
    if (d != nullptr) return d;
    auto* fresh = new (std::nothrow) details_t(std::string());
    if (fresh == nullptr) return nullptr;
    return adopt_details(fresh);
  }

  /// Installs `fresh` as the details unless another thread installed some first; then
  /// deletes `fresh`. Returns the details in place.
  details_t* adopt_details(details_t* fresh) noexcept {
    details_t* d = nullptr;
    // (CORE-X2) acq_rel: releases the details' construction to CORE-X1; on failure, the
    // acquire reads another thread's.
    if (details.compare_exchange_strong(d, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) return fresh;
    delete fresh;
    return d;
  }

  /// The listener's key; empty when it has none.
  [[nodiscard]] std::string_view key() const noexcept {
    const details_t* d = details_if_any();
    return d != nullptr ? std::string_view(d->key) : std::string_view();
  }
};

/// An entry with the callable stored inline after it: one allocation, one indirect call.
template <class A, class T, class F>
struct entry_impl final : entry<A, T> {
  template <class G>
  entry_impl(G&& g, std::uint64_t id, bool once, entry_details<A>* details)
      : entry<A, T>(&call, &destroy_self, id, once, is_error_aware<F, T>, details), fn(std::forward<G>(g)) {}

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

  /// Destroys the entry and its details. (Not ~entry: while the constructor may still
  /// throw, from F's, add() owns the details.)
  static void destroy_self(entry<A, T>* base) noexcept {
    delete base->details.load(std::memory_order_relaxed);  // relaxed: the last user is gone
    delete static_cast<entry_impl*>(base);
  }

  [[no_unique_address]] F fn;  // a capture-less lambda takes no room
};

}  // namespace sigs::detail
