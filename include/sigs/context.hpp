// sigs/context.hpp — cancellation and deadline for one emission.
//
// A context is what Go's context.Context is to the Go library: a stop token plus an
// optional deadline, and the trace it belongs to (sigs/trace_context.hpp), if any. It is
// cheap to copy (a std::stop_token, a time point and 25 bytes of trace ids) and is passed
// by const reference through emission.
//
//   std::stop_source stop;
//   auto ctx = sigs::context(stop.get_token()).with_timeout(std::chrono::milliseconds(5));
//   auto r = sig.try_emit(ctx, payload);   // r.error == sigs::errc::canceled after stop.request_stop()
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <system_error>

#include <sigs/errors.hpp>
#include <sigs/trace_context.hpp>

namespace sigs {

/// Cancellation (std::stop_token), an optional deadline (steady clock) and an optional
/// trace context. A default-constructed context can never be cancelled, costs nothing to
/// check, and belongs to no trace.
class context {
 public:
  /// The clock deadlines are measured on.
  using clock = std::chrono::steady_clock;

  /// Never cancelled, no deadline.
  context() noexcept = default;
  /// Cancelled when `token`'s stop is requested; no deadline.
  explicit context(std::stop_token token) noexcept : token_(std::move(token)) {}

  /// Returns a copy whose deadline is `deadline` (or the earlier of the two if one is set).
  [[nodiscard]] context with_deadline(clock::time_point deadline) const noexcept {
    context c = *this;
    if (!c.has_deadline_ || deadline < c.deadline_) c.deadline_ = deadline;
    c.has_deadline_ = true;
    return c;
  }

  /// Returns a copy whose deadline is now + `timeout` (or the existing one if earlier).
  template <class Rep, class Period>
  [[nodiscard]] context with_timeout(std::chrono::duration<Rep, Period> timeout) const noexcept {
    return with_deadline(clock::now() + std::chrono::duration_cast<clock::duration>(timeout));
  }

  /// Returns a copy that is cancelled by `token` instead of this context's token.
  [[nodiscard]] context with_stop_token(std::stop_token token) const noexcept {
    context c = *this;
    c.token_ = std::move(token);
    return c;
  }

  /// Returns a copy that belongs to the trace `trace`: a traced emission under it starts
  /// its span as a child of `trace` (docs/tracing.md). An invalid `trace` means none.
  [[nodiscard]] context with_trace(const trace_context& trace) const noexcept {
    context c = *this;
    c.trace_ = trace;
    return c;
  }

  /// The trace this context belongs to: invalid (trace_context::valid() is false) when
  /// none. Inside a listener of a traced emission, it is the listener call's own span.
  [[nodiscard]] const trace_context& trace() const noexcept { return trace_; }

  /// The stop token that cancels this context (one that can never stop, if none).
  [[nodiscard]] const std::stop_token& stop_token() const noexcept { return token_; }
  /// The deadline, if any.
  [[nodiscard]] std::optional<clock::time_point> deadline() const noexcept {
    return has_deadline_ ? std::optional<clock::time_point>(deadline_) : std::nullopt;
  }

  /// True when this context can ever report an error; emission skips all checks otherwise.
  [[nodiscard]] bool can_be_canceled() const noexcept { return has_deadline_ || token_.stop_possible(); }

  /// The reason this context is done, or an empty error_code while it is live.
  /// Cancellation wins over an expired deadline when both hold.
  [[nodiscard]] std::error_code error() const noexcept {
    if (token_.stop_requested()) return errc::canceled;
    if (has_deadline_ && clock::now() >= deadline_) return errc::deadline_exceeded;
    return {};
  }

 private:
  std::stop_token token_;
  clock::time_point deadline_{};
  bool has_deadline_ = false;
  trace_context trace_{};
};

namespace detail {
/// The context of emissions that were given none: never cancelled, never checked.
/// Constant-initialised, so reading it costs no initialisation guard.
constinit inline const context no_context{};
}  // namespace detail

}  // namespace sigs
