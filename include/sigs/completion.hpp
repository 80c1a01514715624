// sigs/completion.hpp — the outcome of one async emission, for those who ask for it.
//
//   sigs::completion c = sig.emit_tracked(payload);     // returns at once
//   if (!c.wait_for(std::chrono::seconds(1))) log("slow listeners");
//   for (const auto& f : c.failures()) log(f.key, f.error.message());
//
// Plain emit() does not create one and pays nothing for it.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sigs/detail/atomics.hpp>
#include <sigs/listener.hpp>

namespace sigs {

/// One listener invocation of an emission that returned an error or threw.
struct delivery_failure {
  listener_id listener;          ///< the listener that failed
  std::string key;               ///< its key (empty: none)
  std::error_code error;         ///< the listener's error, or errc::listener_exception
  std::exception_ptr exception;  ///< set when it threw
};

namespace detail {

/// Shared by a completion handle and the workers of its emission. Always held through a
/// std::shared_ptr: the finaliser's reference keeps it alive until finish() has returned,
/// so a waiter may drop its handle as soon as wait() returns.
///
/// Written against an atomics policy `A` (sigs/detail/atomics.hpp: mutex,
/// condition_variable) so that models/ runs this very code under Relacy
/// (models/completion_models.cpp); production uses `completion_state`.
template <class A = std_atomics>
struct basic_completion_state {
  using mutex_type = typename A::mutex;

  mutable mutex_type mutex;
  typename A::condition_variable cv;
  // Guarded by `mutex`. A policy var (a plain bool in production) so that the model
  // checker sees every access to it.
  typename A::template var<bool> done{false};
  std::vector<delivery_failure> failures;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t skipped = 0;
  std::error_code drop_reason;  // why the first dropped delivery was dropped

  void add_failure(delivery_failure f) {
    std::lock_guard<mutex_type> lock(mutex);
    failures.push_back(std::move(f));
  }

  /// The finaliser's last word. `done` is set under the mutex, with the totals: a waiter
  /// checks it under the same mutex, so it either sees it or is already waiting when the
  /// notify comes (no lost wake-up), and everything before finish() happens-before the
  /// waiter's return (the mutex).
  void finish(std::uint64_t d, std::uint64_t dr, std::uint64_t s, std::error_code reason) {
    {
      std::lock_guard<mutex_type> lock(mutex);
      delivered = d;
      dropped = dr;
      skipped = s;
      drop_reason = reason;
      done.store(true);
    }
    cv.notify_all();
  }

  [[nodiscard]] bool is_done() const {
    std::lock_guard<mutex_type> lock(mutex);
    return done.load();
  }

  /// Blocks until finish() has run.
  void wait() {
    std::unique_lock<mutex_type> lock(mutex);
    cv.wait(lock, [&] { return done.load(); });
  }

  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<mutex_type> lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return done.load(); });
  }

  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock<mutex_type> lock(mutex);
    return cv.wait_until(lock, deadline, [&] { return done.load(); });
  }
};

using completion_state = basic_completion_state<>;

}  // namespace detail

/// A handle on one async emission. Copyable; all copies observe the same emission.
/// A default-constructed handle is not valid() and counts as done.
class completion {
 public:
  /// A handle on no emission: not valid(), done().
  completion() = default;

  /// True when the handle tracks an emission.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  /// True once every listener of the emission has finished, been dropped or been skipped.
  [[nodiscard]] bool done() const {
    if (!state_) return true;
    return state_->is_done();
  }

  /// Blocks until done(). Memory ordering: everything the listeners did happens-before
  /// wait() returns.
  void wait() const {
    if (!state_) return;
    state_->wait();
  }

  /// Waits at most `timeout`; returns done().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    if (!state_) return true;
    return state_->wait_for(timeout);
  }

  /// Waits until `deadline` at the latest; returns done().
  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
    if (!state_) return true;
    return state_->wait_until(deadline);
  }

  /// The first listener failure; else, if deliveries were dropped, why (backpressure,
  /// pool_stopped, canceled, deadline_exceeded); else empty. Meaningful once done().
  [[nodiscard]] std::error_code error() const {
    if (!state_) return {};
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->failures.empty()) return state_->failures.front().error;
    return state_->dropped ? state_->drop_reason : std::error_code{};
  }

  /// Every listener failure so far, in the order they were recorded.
  [[nodiscard]] std::vector<delivery_failure> failures() const {
    if (!state_) return {};
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->failures;
  }

  ///@{
  /// Listener invocations that ran, deliveries dropped, deliveries skipped (listener
  /// removed before its turn). Final once done().
  [[nodiscard]] std::uint64_t delivered() const { return read(&detail::completion_state::delivered); }
  [[nodiscard]] std::uint64_t dropped() const { return read(&detail::completion_state::dropped); }
  [[nodiscard]] std::uint64_t skipped() const { return read(&detail::completion_state::skipped); }
  ///@}

 private:
  template <class T>
  friend class async_signal;
  // Only an async signal makes a handle on an emission (emit_tracked, emit_and_wait).
  explicit completion(std::shared_ptr<detail::completion_state> s) noexcept : state_(std::move(s)) {}

  std::uint64_t read(std::uint64_t detail::completion_state::*field) const {
    if (!state_) return 0;
    std::lock_guard<std::mutex> lock(state_->mutex);
    return (*state_).*field;
  }

  std::shared_ptr<detail::completion_state> state_;
};

}  // namespace sigs

#pragma pop_macro("emit")
