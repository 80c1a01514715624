// sigs/errors.hpp — the library's error codes.
//
// Every failure sigs reports is a std::error_code in sigs::error_category():
//
//   auto id = sig.add_listener(fn, "audit");
//   if (!id) std::cerr << id.error().message() << '\n';   // "duplicate listener key"
//
// Codes compare equal to the errc enumerators (`ec == sigs::errc::canceled`), and
// canceled / deadline_exceeded also compare equal to std::errc::operation_canceled /
// std::errc::timed_out so generic code can test for them.
#pragma once

#include <string>
#include <system_error>

namespace sigs {

/// The reasons a sigs operation fails. Zero is never used: a value-initialised
/// std::error_code means success.
enum class errc : int {
  canceled = 1,        ///< the context's stop token was triggered
  deadline_exceeded,   ///< the context's deadline passed
  backpressure,        ///< no room: the pool's queue is full or the signal's queue_capacity is
                       ///< reached (try_emit and try_submit under any policy; emit under `reject`)
  pool_stopped,        ///< the worker pool was shut down
  listener_exception,  ///< a listener threw; the exception is kept beside the code
  duplicate_key,       ///< a listener with this key is already registered
  invalid_listener,    ///< the callable is empty (null function pointer, empty std::function)
  not_found,           ///< no active listener has this key or id
  would_deadlock,      ///< a wait that could never end: from inside the listener waited for, a
                       ///< cycle of removal waits, or waiting for a pool from its own worker
  listener_error,      ///< generic failure reported by an error-aware listener
};

/// The category of every sigs::errc. Its name() is "sigs".
const std::error_category& error_category() noexcept;

/// Makes a std::error_code in sigs::error_category().
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace sigs

/// @cond INTERNAL
template <>
struct std::is_error_code_enum<sigs::errc> : std::true_type {};
/// @endcond
