// sigs/listener.hpp — the types that describe a registered listener.
//
//   sigs::listener_id id = sig.add_listener([](const int& v) { use(v); }, "audit");
//   if (!id) std::cerr << id.error().message() << '\n';       // why it was refused
//   sigs::scoped_listener guard(sig, id);                     // removed when guard dies
#pragma once

#pragma push_macro("emit")
#undef emit

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <sigs/errors.hpp>
#include <sigs/fwd.hpp>

namespace sigs {

namespace detail {
/// The one way to turn a number into a listener_id: the library's own, for the ids its
/// registrations issue. Not for users (an id from a number could name anyone's listener).
struct listener_id_access {
  /// The id whose number is `value`.
  static constexpr listener_id make(std::uint64_t value) noexcept;
};
}  // namespace detail

/// Handle returned by every add_* function. A valid id identifies one listener of one
/// signal for the life of that signal (ids are never reused by a signal). A refused
/// registration returns an invalid id that carries the reason in error().
class listener_id {
 public:
  /// An invalid id (no listener), with no error. A valid id comes only from a
  /// registration (add_*): it cannot be built from a number.
  constexpr listener_id() noexcept = default;

  /// An invalid id that records why a registration was refused.
  static listener_id refused(errc why) noexcept {
    listener_id id;
    id.why_ = static_cast<int>(why);
    return id;
  }

  /// The id's number: unique across the signals of the process; 0 for an invalid id.
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return value_; }
  /// True when the id names a registered (or once registered) listener.
  [[nodiscard]] constexpr bool valid() const noexcept { return value_ != 0; }
  /// Same as valid().
  constexpr explicit operator bool() const noexcept { return valid(); }

  /// Why the registration was refused; empty for a valid id or a default-constructed one.
  [[nodiscard]] std::error_code error() const noexcept {
    return why_ ? make_error_code(static_cast<errc>(why_)) : std::error_code{};
  }

  /// Ids are equal when their values are (the refusal reason is not compared).
  friend constexpr bool operator==(listener_id a, listener_id b) noexcept { return a.value_ == b.value_; }

 private:
  friend struct detail::listener_id_access;
  constexpr explicit listener_id(std::uint64_t value) noexcept : value_(value) {}

  std::uint64_t value_ = 0;
  int why_ = 0;
};

constexpr listener_id detail::listener_id_access::make(std::uint64_t value) noexcept { return listener_id(value); }

/// A point-in-time copy of what a signal knows about one listener.
struct listener_metadata {
  listener_id id;                                     ///< the listener's id
  std::string key;                                    ///< empty: no key
  std::chrono::system_clock::time_point added_at;     ///< when add_* registered it
  std::uint64_t call_count = 0;                       ///< invocations; counted only while metrics are on
  std::uint64_t error_count = 0;                      ///< errors returned plus exceptions thrown
  std::error_code last_error;                         ///< most recent error (listener_exception for a throw)
  std::exception_ptr last_exception;                  ///< most recent exception, if any
  std::chrono::system_clock::time_point last_called;  ///< epoch if never called or metrics off
  bool is_once = false;                               ///< registered with add_once (fires at most once)
  bool is_error_aware = false;                        ///< returns a std::error_code (add_listener_with_err)
};

/// Passed to a signal's error handler for every error or exception a listener produces
/// during emit(). The key view is valid only during the handler call.
struct listener_error {
  listener_id listener;          ///< the listener that failed
  std::string_view key;          ///< its key (empty: none); valid during the handler call only
  std::error_code error;         ///< listener's error, or errc::listener_exception
  std::exception_ptr exception;  ///< set when the listener threw
};

/// Removes a listener when it goes out of scope (RAII), like std::lock_guard for a
/// registration. It must not outlive the signal it refers to. Movable, not copyable.
class scoped_listener {
 public:
  scoped_listener() noexcept = default;

  /// Takes ownership of `id` on `signal` (any sigs signal type).
  template <class Signal>
  scoped_listener(Signal& signal, listener_id id) noexcept
      : signal_(&signal), remove_([](void* s, listener_id i) noexcept { static_cast<Signal*>(s)->remove_listener(i); }),
        id_(id) {}

  /// Takes over `o`'s listener; `o` then owns nothing.
  scoped_listener(scoped_listener&& o) noexcept
      : signal_(std::exchange(o.signal_, nullptr)), remove_(o.remove_), id_(std::exchange(o.id_, {})) {}
  /// Removes the listener this one owns, then takes over `o`'s.
  scoped_listener& operator=(scoped_listener&& o) noexcept {
    if (this != &o) {
      reset();
      signal_ = std::exchange(o.signal_, nullptr);
      remove_ = o.remove_;
      id_ = std::exchange(o.id_, {});
    }
    return *this;
  }
  scoped_listener(const scoped_listener&) = delete;
  scoped_listener& operator=(const scoped_listener&) = delete;
  ~scoped_listener() { reset(); }

  /// Removes the listener now (if still owned).
  void reset() noexcept {
    if (signal_ && id_) remove_(signal_, id_);
    signal_ = nullptr;
    id_ = {};
  }

  /// Gives up ownership without removing; returns the id.
  listener_id release() noexcept {
    signal_ = nullptr;
    return std::exchange(id_, {});
  }

  /// The owned listener's id; invalid once reset() or release() ran.
  [[nodiscard]] listener_id id() const noexcept { return id_; }

 private:
  void* signal_ = nullptr;
  void (*remove_)(void*, listener_id) noexcept = nullptr;
  listener_id id_;
};

}  // namespace sigs

#pragma pop_macro("emit")
