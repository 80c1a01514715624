// sigs/detail/trace_hooks.hpp — a signal's tracing state, and the calls into its tracer
// (sigs/tracer.hpp), each of which may throw and is made not to.
//
// Off or on is a bit of the byte that holds the signal's metrics level (signal_core's
// level_): an emission loads that byte once, relaxed, and pays nothing more when it is
// zero. With the bit set, the emission loads the tracer:
//   (TRC-1) set_tracer() stores the tracer (release) before it sets the bit; an emitter
//           that saw the bit loads the tracer with acquire, so the tracer object is
//           constructed for it. A null tracer (being switched off) means untraced.
// The bit and the pointer are two words: an emission that sees one change and not the
// other is traced, or not, as if it had started a moment earlier or later.
//
// Everything here is std::atomic, never the core's atomics policy: the models never
// install a tracer, and nothing here orders anything but the tracer's own construction.
#pragma once

// Qt defines `emit` as a macro; these headers use the word.
#pragma push_macro("emit")
#undef emit

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <sigs/context.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>
#include <sigs/tracer.hpp>

namespace sigs::detail {

/// The level byte's bit for "a tracer is installed"; the rest holds the metrics_level.
inline constexpr std::uint8_t level_traced = 0x80;
inline constexpr std::uint8_t level_metrics_mask = 0x7f;

/// One signal's tracing state.
class trace_state {
 public:
  trace_state() = default;
  trace_state(const trace_state&) = delete;
  trace_state& operator=(const trace_state&) = delete;

  /// The signal's name, told to the tracer. Set before the signal is shared.
  void set_name(std::string name) { name_ = std::move(name); }

  /// Installs `t` (null: none). The caller then sets the level byte's bit (TRC-1).
  void install(tracer* t) noexcept {
    installed_.store(t, std::memory_order_release);  // (TRC-1) pairs with installed()
  }
  /// The tracer, for an emission that saw the bit. Null: untraced after all.
  [[nodiscard]] tracer* installed() const noexcept {
    return installed_.load(std::memory_order_acquire);  // (TRC-1) pairs with install()
  }

  /// Exceptions tracers threw at this signal (swallowed).
  [[nodiscard]] std::uint64_t failures() const noexcept {
    return failures_.load(std::memory_order_relaxed);  // relaxed: a statistic
  }

  /// begin_emit(), or nothing when it throws.
  std::optional<trace_span> begin_emit(tracer& t, bool is_async, const trace_context& parent) noexcept {
    try {
      return t.begin_emit(emit_info{name_, is_async, parent});
    } catch (...) {
      failed();
      return std::nullopt;
    }
  }

  /// end_emit(), its exception swallowed.
  void end_emit(tracer& t, const trace_span& span, std::error_code ec, const std::exception_ptr& ex) noexcept {
    try {
      t.end_emit(span, ec, ex);
    } catch (...) {
      failed();
    }
  }

  /// begin_call(), or nothing when it throws.
  std::optional<trace_span> begin_call(tracer& t, bool is_async, std::uint64_t id, std::string_view key,
                                       const trace_context& parent) noexcept {
    try {
      return t.begin_call(call_info{name_, is_async, listener_id_access::make(id), key, parent});
    } catch (...) {
      failed();
      return std::nullopt;
    }
  }

  /// end_call(), its exception swallowed.
  void end_call(tracer& t, const trace_span& span, std::error_code ec, const std::exception_ptr& ex) noexcept {
    try {
      t.end_call(span, ec, ex);
    } catch (...) {
      failed();
    }
  }

 private:
  void failed() noexcept {
    failures_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }

  std::atomic<tracer*> installed_{nullptr};
  std::atomic<std::uint64_t> failures_{0};
  std::string name_;
};

/// The context the children of `span` run under: `ctx` with the span's trace, or `ctx`
/// as it is when the tracer started no span (none, or an invalid one).
inline context child_context(const context& ctx, const std::optional<trace_span>& span) noexcept {
  return span && span->context.valid() ? ctx.with_trace(span->context) : ctx;
}

}  // namespace sigs::detail

#pragma pop_macro("emit")
