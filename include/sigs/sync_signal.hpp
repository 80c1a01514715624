// sigs/sync_signal.hpp — a signal whose listeners run in order on the emitting thread.
//
//   sigs::sync_signal<Order> placed;
//   placed.add_listener([](const Order& o) { book(o); }, "book");
//   placed.emit(order);                                  // calls "book", then returns
//
// Guarantees (docs/guarantees.md has the full list and the tests behind each):
//  - emit() calls every active listener exactly once, in registration order, on the
//    calling thread. It never takes a lock and never allocates.
//  - An emission walks the snapshot of listeners taken when it began. A listener added
//    meanwhile is not called by it; one removed (or a once-listener fired elsewhere)
//    meanwhile is skipped if it has not started yet.
//  - Memory ordering: for threads X and Y, if X's remove_listener(id) returns before Y's
//    emit() begins (X's return happens-before Y's call), Y does not call that listener.
//    Everything X did before add_listener() returned is visible to the listener when any
//    emission calls it.
//  - Listeners may add, remove, reset and emit (this or another signal) from inside a
//    listener. Nesting is unlimited; past 8 levels per thread a slower fallback protects
//    the snapshot.
//  - A listener that throws does not stop emit(): the exception is counted, kept in its
//    metadata and passed to the error handler. try_emit() stops at it instead.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <sigs/context.hpp>
#include <sigs/detail/signal_core.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>
#include <sigs/options.hpp>

namespace sigs {

/// A synchronous signal carrying payloads of type T (passed to listeners as const T&).
///
/// Listeners are callables invocable as `f(const T&)` or `f(const sigs::context&, const T&)`.
/// One that returns std::error_code is *error-aware*: a non-empty code is its failure.
/// Keys are arbitrary byte strings; the empty key means "no key". All member functions are
/// thread-safe. Destroying the signal while another thread uses it is undefined.
template <class T>
class sync_signal {
  static_assert(std::is_object_v<T>, "sync_signal<T>: T must be an object type");
  using core_type = detail::signal_core<detail::std_atomics, T, detail::default_domain>;

 public:
  using payload_type = T;
  /// Receives every error and exception a listener produces during emit().
  using error_handler = typename core_type::error_handler;

  sync_signal() : sync_signal(signal_options{}) {}
  explicit sync_signal(const signal_options& options) : core_(detail::global_domain()) {
    core_.set_metrics(options.metrics);
  }
  sync_signal(const sync_signal&) = delete;
  sync_signal& operator=(const sync_signal&) = delete;

  // ---- registration -----------------------------------------------------------------
  // Each add_* returns the new listener's id, or an invalid id whose error() is
  // errc::invalid_listener (empty callable) or errc::duplicate_key (key already active).

  /// Adds a listener, optionally under a key. Error-aware callables are accepted too.
  template <class F>
  listener_id add_listener(F&& f, std::string_view key = {}) {
    check_listener<F>();
    return core_.add(std::forward<F>(f), key, false);
  }

  /// Adds an error-aware listener (one that returns std::error_code).
  template <class F>
  listener_id add_listener_with_err(F&& f, std::string_view key = {}) {
    check_error_aware<F>();
    return core_.add(std::forward<F>(f), key, false);
  }

  /// Adds a listener that fires exactly once, then is removed.
  template <class F>
  listener_id add_once(F&& f) {
    check_listener<F>();
    return core_.add(std::forward<F>(f), {}, true);
  }

  /// add_once() under a key.
  template <class F>
  listener_id add_once_with_key(F&& f, std::string_view key) {
    check_listener<F>();
    return core_.add(std::forward<F>(f), key, true);
  }

  /// add_once() for an error-aware listener.
  template <class F>
  listener_id add_once_with_err(F&& f) {
    check_error_aware<F>();
    return core_.add(std::forward<F>(f), {}, true);
  }

  /// add_once_with_err() under a key.
  template <class F>
  listener_id add_once_with_err_and_key(F&& f, std::string_view key) {
    check_error_aware<F>();
    return core_.add(std::forward<F>(f), key, true);
  }

  // ---- removal ----------------------------------------------------------------------

  /// Removes the listener. Returns errc::not_found if no active listener has this id/key
  /// (including a once-listener that already fired). Emissions already running skip it
  /// if they have not started it; emissions that begin after this returns never see it.
  std::error_code remove_listener(listener_id id) {
    return core_.remove([id](const auto& e) { return e.id == id.value(); });
  }
  std::error_code remove_listener(std::string_view key) {
    if (key.empty()) return errc::not_found;
    return core_.remove([key](const auto& e) { return e.key == key; });
  }

  /// remove_listener(), then waits until no invocation of the listener is running on any
  /// other thread. It waits for every emission of this signal that other threads began
  /// before the removal, so a listener running on another thread must not wait for the
  /// caller. Called from inside that listener's own invocation (on this thread), it does
  /// nothing and returns errc::would_deadlock.
  std::error_code remove_listener_and_wait(listener_id id) {
    return core_.remove_and_wait(detail::local_record(), [id](const auto& e) { return e.id == id.value(); });
  }
  std::error_code remove_listener_and_wait(std::string_view key) {
    if (key.empty()) return errc::not_found;
    return core_.remove_and_wait(detail::local_record(), [key](const auto& e) { return e.key == key; });
  }

  /// Removes every listener.
  void reset() { core_.reset(); }

  // ---- introspection ----------------------------------------------------------------

  /// Active listeners: added, not removed, and (for once-listeners) not yet fired.
  [[nodiscard]] std::size_t size() const noexcept { return core_.size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  /// Keys of the active keyed listeners, in registration order.
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    core().for_each_alive(detail::local_record(), [&](auto& e) {
      if (!e.key.empty()) out.push_back(e.key);
    });
    return out;
  }

  [[nodiscard]] bool has_key(std::string_view key) const {
    if (key.empty()) return false;
    bool found = false;
    core().for_each_alive(detail::local_record(), [&](auto& e) { found = found || e.key == key; });
    return found;
  }

  /// Metadata of an active listener, or nullopt.
  [[nodiscard]] std::optional<listener_metadata> metadata(std::string_view key) const {
    if (key.empty()) return std::nullopt;
    return find_metadata([key](const auto& e) { return e.key == key; });
  }
  [[nodiscard]] std::optional<listener_metadata> metadata(listener_id id) const {
    return find_metadata([id](const auto& e) { return e.id == id.value(); });
  }

  [[nodiscard]] signal_stats stats() const noexcept { return core_.stats(); }

  /// Installs (or, with an empty function, removes) the handler called on the emitting
  /// thread for each listener error or exception during emit(). If the handler throws,
  /// the exception is swallowed and counted in stats().handler_failures.
  void set_error_handler(error_handler handler) { core_.set_error_handler(std::move(handler)); }

  /// Turns the per-call counters on or off (see signal_options::metrics).
  void set_metrics(bool on) noexcept { core_.set_metrics(on); }

  // ---- emission ---------------------------------------------------------------------

  /// Calls every active listener once, in registration order. Errors and exceptions are
  /// recorded and passed to the error handler; they do not stop the emission.
  void emit(const T& payload) { core_.template emit<false, false>(detail::local_record(), no_context(), payload); }

  /// emit() that checks `ctx` before each listener and stops (counted in
  /// stats().canceled) once it is cancelled or past its deadline.
  void emit(const context& ctx, const T& payload) {
    if (ctx.can_be_canceled()) {
      core_.template emit<false, true>(detail::local_record(), ctx, payload);
    } else {
      core_.template emit<false, false>(detail::local_record(), ctx, payload);
    }
  }

  /// Same as emit().
  void operator()(const T& payload) { emit(payload); }
  void operator()(const context& ctx, const T& payload) { emit(ctx, payload); }

  /// Calls listeners in order and stops at the first one that returns an error or throws,
  /// or before the first one reached after `ctx` is cancelled or expired. See emit_result.
  emit_result try_emit(const T& payload) {
    return core_.template emit<true, false>(detail::local_record(), no_context(), payload);
  }
  emit_result try_emit(const context& ctx, const T& payload) {
    if (ctx.can_be_canceled()) return core_.template emit<true, true>(detail::local_record(), ctx, payload);
    return core_.template emit<true, false>(detail::local_record(), ctx, payload);
  }

 private:
  template <class F>
  static constexpr void check_listener() {
    static_assert(detail::is_listener<std::decay_t<F>, T>,
                  "a listener must be invocable as f(const T&) or f(const sigs::context&, const T&)");
  }
  template <class F>
  static constexpr void check_error_aware() {
    check_listener<F>();
    if constexpr (detail::is_listener<std::decay_t<F>, T>) {
      static_assert(detail::is_error_aware<std::decay_t<F>, T>,
                    "an error-aware listener must return std::error_code");
    }
  }

  static const context& no_context() noexcept {
    static const context none;
    return none;
  }

  // Reading the snapshot is logically const; the hazard record is the thread's, not ours.
  core_type& core() const noexcept { return const_cast<core_type&>(core_); }

  template <class Pred>
  std::optional<listener_metadata> find_metadata(Pred pred) const {
    std::optional<listener_metadata> out;
    core().for_each_alive(detail::local_record(), [&](auto& e) {
      if (!out && pred(e)) out = core_type::metadata_of(e);
    });
    return out;
  }

  core_type core_;
};

}  // namespace sigs

#pragma pop_macro("emit")
