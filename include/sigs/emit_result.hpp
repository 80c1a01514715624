// sigs/emit_result.hpp — what try_emit reports, and a signal's counters.
//
//   sigs::emit_result r = sig.try_emit(order);
//   if (!r.ok()) log("listener", r.key, "at", r.index, "failed:", r.error.message());
#pragma once

#pragma push_macro("emit")
#undef emit

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>

#include <sigs/errors.hpp>
#include <sigs/listener.hpp>

namespace sigs {

/// The outcome of one try_emit. On success `error` is empty and `calls` says how many
/// listeners ran. On failure it names where emission stopped:
///  - a listener returned an error or threw: `listener`/`key` are that listener, `index`
///    its position among the listeners this emission called (0-based), and for a throw
///    `error == errc::listener_exception` with the exception in `exception`;
///  - the context was cancelled or expired: `error` is errc::canceled or
///    errc::deadline_exceeded, `listener`/`key`/`index` describe the first listener that
///    was *not* started.
struct emit_result {
  std::error_code error;         ///< empty on success; else why emission stopped
  listener_id listener;          ///< the failing listener, or the first one not started
  std::string key;               ///< that listener's key (empty: none)
  std::size_t index = 0;         ///< that listener's position among those this emission called
  std::size_t calls = 0;         ///< listeners invoked, including a failing one
  std::exception_ptr exception;  ///< the exception, when a listener threw

  /// True when every listener ran without error and the context stayed live.
  [[nodiscard]] bool ok() const noexcept { return !error; }
  /// Same as ok(): `if (sig.try_emit(x))` reads "if it succeeded".
  explicit operator bool() const noexcept { return ok(); }
};

/// The outcome of an async signal's try_emit: whether the emission was queued. It reads
/// like a sync signal's emit_result: `if (sig.try_emit(x))` means "it was accepted", for
/// both kinds of signal.
struct submit_result {
  std::error_code error;  ///< empty when the emission was queued; else why it was not

  /// True when the emission was queued (it then proceeds as emit() does).
  [[nodiscard]] bool ok() const noexcept { return !error; }
  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }
  /// True when the emission was refused for this reason.
  friend bool operator==(const submit_result& r, errc why) noexcept { return r.error == why; }
};

/// A snapshot of one signal's counters. For sync signals `emits` and `listener_calls` are
/// counted only while metrics are enabled (one relaxed load and a branch per emit when
/// they are not); async signals always count `emits` (accepted emissions). The error
/// counters are always kept, since errors are off the fast path.
struct signal_stats {
  std::uint64_t emits = 0;             ///< emit / try_emit calls (metrics on)
  std::uint64_t listener_calls = 0;    ///< listener invocations (metrics on)
  std::uint64_t errors = 0;            ///< error codes returned by listeners
  std::uint64_t exceptions = 0;        ///< exceptions thrown by listeners
  std::uint64_t canceled = 0;          ///< emissions stopped by their context
  std::uint64_t handler_failures = 0;  ///< exceptions thrown by the error handler itself (swallowed)
  /// Listener failures the listener's own record (metadata's error_count, last_error) could
  /// not keep: a listener's first exception needs memory for that record, and there was
  /// none. They are counted in errors / exceptions and reach the error handler all the same.
  std::uint64_t unrecorded_failures = 0;
  /// Exceptions the signal's tracer threw (swallowed; the emission went on: sigs/tracer.hpp).
  std::uint64_t tracer_failures = 0;

  // Async signals only. Each listener of each accepted emission ends in exactly one of
  // delivered, dropped or skipped, so once drain() returns:
  //   delivered + dropped + skipped == the sum over emissions of their listener count.
  std::uint64_t delivered = 0;  ///< listener invocations that ran (successful or not)
  std::uint64_t dropped = 0;    ///< deliveries not made: queue full (reject), pool stopped or
                                ///< discarding, context cancelled or expired
  std::uint64_t skipped = 0;    ///< deliveries to a listener removed, or a once-listener fired,
                                ///< before its turn
  std::uint64_t rejected = 0;   ///< try_emit calls that returned an error (nothing queued)
  std::uint64_t in_flight = 0;  ///< emissions queued or running now
};

}  // namespace sigs

#pragma pop_macro("emit")
