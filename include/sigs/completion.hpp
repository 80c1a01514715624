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

#include <sigs/listener.hpp>

namespace sigs {

/// One listener invocation of an emission that returned an error or threw.
struct delivery_failure {
  listener_id listener;
  std::string key;
  std::error_code error;         ///< the listener's error, or errc::listener_exception
  std::exception_ptr exception;  ///< set when it threw
};

namespace detail {

/// Shared by a completion handle and the workers of its emission.
struct completion_state {
  mutable std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::vector<delivery_failure> failures;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t skipped = 0;
  std::error_code drop_reason;  // why the first dropped delivery was dropped

  void add_failure(delivery_failure f) {
    std::lock_guard<std::mutex> lock(mutex);
    failures.push_back(std::move(f));
  }

  void finish(std::uint64_t d, std::uint64_t dr, std::uint64_t s, std::error_code reason) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      delivered = d;
      dropped = dr;
      skipped = s;
      drop_reason = reason;
      done = true;
    }
    cv.notify_all();
  }
};

}  // namespace detail

/// A handle on one async emission. Copyable; all copies observe the same emission.
/// A default-constructed handle is not valid() and counts as done.
class completion {
 public:
  completion() = default;
  explicit completion(std::shared_ptr<detail::completion_state> s) noexcept : state_(std::move(s)) {}

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  /// True once every listener of the emission has finished, been dropped or been skipped.
  [[nodiscard]] bool done() const {
    if (!state_) return true;
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->done;
  }

  /// Blocks until done(). Memory ordering: everything the listeners did happens-before
  /// wait() returns.
  void wait() const {
    if (!state_) return;
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->cv.wait(lock, [&] { return state_->done; });
  }

  /// Waits at most `timeout`; returns done().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    if (!state_) return true;
    std::unique_lock<std::mutex> lock(state_->mutex);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->done; });
  }

  /// Waits until `deadline` at the latest; returns done().
  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
    if (!state_) return true;
    std::unique_lock<std::mutex> lock(state_->mutex);
    return state_->cv.wait_until(lock, deadline, [&] { return state_->done; });
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

  /// Listener invocations that ran, deliveries dropped, deliveries skipped (listener
  /// removed before its turn). Final once done().
  [[nodiscard]] std::uint64_t delivered() const { return read(&detail::completion_state::delivered); }
  [[nodiscard]] std::uint64_t dropped() const { return read(&detail::completion_state::dropped); }
  [[nodiscard]] std::uint64_t skipped() const { return read(&detail::completion_state::skipped); }

 private:
  std::uint64_t read(std::uint64_t detail::completion_state::*field) const {
    if (!state_) return 0;
    std::lock_guard<std::mutex> lock(state_->mutex);
    return (*state_).*field;
  }

  std::shared_ptr<detail::completion_state> state_;
};

}  // namespace sigs

#pragma pop_macro("emit")
