// sigs/recording_tracer.hpp — a tracer that keeps every span it is told of, for tests.
//
//   sigs::recording_tracer rec;
//   sigs::sync_signal<int> sig(sigs::sync_options{.name = "ticks", .tracer = &rec});
//   sig.add_listener([](const int&) {});
//   sig.emit(1);
//   auto spans = rec.spans();          // the emit span, then the call span
//   assert(spans[1].parent_span_id == spans[0].context.span_id);
//
// Ids come from trace_context::child(): a child of the parent's trace, or a new root. Every
// member is thread-safe (one mutex); it is meant for tests, not for production load.
#pragma once

// `emit` names a span kind here; Qt defines it as a macro.
#pragma push_macro("emit")
#undef emit

#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sigs/trace_context.hpp>
#include <sigs/tracer.hpp>

namespace sigs {

/// What a recording_tracer keeps of one span.
struct recorded_span {
  /// Which hook started it.
  enum class kind : unsigned char {
    emit,  ///< begin_emit(): an emission
    call,  ///< begin_call(): a listener call
  };

  kind what = kind::emit;                        ///< emission or listener call
  std::string signal;                            ///< the signal's name (empty if none)
  bool is_async = false;                         ///< an async_signal's
  std::uint64_t listener = 0;                    ///< the listener's id (calls only; 0 for an emission)
  std::string key;                               ///< the listener's key (calls only)
  trace_context context;                         ///< the span's own: trace id, span id, flags
  trace_context parent;                          ///< the parent the hook was given (invalid: a root)
  trace_context::span_id_type parent_span_id{};  ///< parent.span_id, zero for a root
  std::thread::id begin_thread;                  ///< the thread that called begin_*
  std::thread::id end_thread;                    ///< the thread that called end_* (once ended)
  bool ended = false;                            ///< end_* was called
  std::error_code error;                         ///< as end_* gave it
  std::exception_ptr exception;                  ///< as end_* gave it
};

/// A tracer that records every span, in the order they began, with their ends.
class recording_tracer final : public tracer {
 public:
  recording_tracer() = default;
  recording_tracer(const recording_tracer&) = delete;
  recording_tracer& operator=(const recording_tracer&) = delete;
  recording_tracer(recording_tracer&&) = delete;
  recording_tracer& operator=(recording_tracer&&) = delete;
  ~recording_tracer() override = default;

  /// Records an emission span, a child of info.parent (or a new trace's root).
  trace_span begin_emit(const emit_info& info) override {
    recorded_span s;
    s.what = recorded_span::kind::emit;
    s.signal = std::string(info.signal);
    s.is_async = info.is_async;
    return begin(std::move(s), info.parent);
  }

  /// Records the end of an emission span.
  void end_emit(const trace_span& span, std::error_code error, const std::exception_ptr& exception) override {
    end(span, error, exception);
  }

  /// Records a listener call span, a child of info.parent.
  trace_span begin_call(const call_info& info) override {
    recorded_span s;
    s.what = recorded_span::kind::call;
    s.signal = std::string(info.signal);
    s.is_async = info.is_async;
    s.listener = info.listener.value();
    s.key = std::string(info.key);
    return begin(std::move(s), info.parent);
  }

  /// Records the end of a listener call span.
  void end_call(const trace_span& span, std::error_code error, const std::exception_ptr& exception) override {
    end(span, error, exception);
  }

  /// A copy of every span recorded since the last clear(), in the order they began.
  [[nodiscard]] std::vector<recorded_span> spans() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_;
  }

  /// The span with this span id, if recorded (and not cleared).
  [[nodiscard]] std::optional<recorded_span> find(const trace_context::span_id_type& span_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const recorded_span& s : spans_)
      if (s.context.span_id == span_id) return s;
    return std::nullopt;
  }

  /// How many spans were recorded since the last clear().
  [[nodiscard]] std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_.size();
  }

  /// How many of them have ended.
  [[nodiscard]] std::size_t ended() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const recorded_span& s : spans_) n += s.ended ? 1 : 0;
    return n;
  }

  /// Forgets every span. Spans begun before and ended after are not recorded.
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    first_ += spans_.size();
    spans_.clear();
  }

 private:
  trace_span begin(recorded_span s, const trace_context& parent) {
    s.context = parent.child();
    s.parent = parent;
    if (parent.valid()) s.parent_span_id = parent.span_id;
    s.begin_thread = std::this_thread::get_id();
    trace_span out{s.context, 0};
    std::lock_guard<std::mutex> lock(mutex_);
    out.handle = first_ + spans_.size();
    spans_.push_back(std::move(s));
    return out;
  }

  void end(const trace_span& span, std::error_code error, const std::exception_ptr& exception) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (span.handle < first_ || span.handle - first_ >= spans_.size()) return;  // cleared since
    recorded_span& s = spans_[static_cast<std::size_t>(span.handle - first_)];
    s.end_thread = std::this_thread::get_id();
    s.ended = true;
    s.error = error;
    s.exception = exception;
  }

  mutable std::mutex mutex_;
  std::vector<recorded_span> spans_;
  std::uint64_t first_ = 0;  // the handle of spans_[0]
};

}  // namespace sigs

#pragma pop_macro("emit")
