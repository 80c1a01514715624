// sigs/signal_base.hpp — registration, removal and introspection, shared by every signal.
//
//   sigs::listener_id id = sig.add_listener([](const int& v) { use(v); }, "audit");
//   sig.remove_listener_and_wait(id);   // returns once no other thread is calling it
//   for (const std::string& k : sig.keys()) std::cout << k << '\n';
//
// sync_signal and async_signal differ only in how they emit; everything else (the add_*
// forms, removal, reset, keys, metadata, the error handler) is declared here, once, over
// the copy-on-write core (detail/signal_core.hpp). Users do not name signal_base: they
// call these members on a sync_signal or an async_signal.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <sigs/context.hpp>
#include <sigs/detail/health_state.hpp>
#include <sigs/detail/registry.hpp>
#include <sigs/detail/signal_core.hpp>
#include <sigs/detail/thread_record.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/health.hpp>
#include <sigs/listener.hpp>
#include <sigs/options.hpp>
#include <sigs/tracer.hpp>

namespace sigs {

/// The listener list of a signal carrying T, and every operation on it but emission: the
/// members sync_signal and async_signal share. `Pins` is internal: async_signal's
/// snapshots carry pin counts that a sync signal's do not.
template <class T, detail::snapshot_pins Pins = detail::snapshot_pins::none>
class signal_base {
  static_assert(std::is_object_v<T>, "a signal's payload type must be an object type");

 protected:
  /// @cond INTERNAL
  using core_type = detail::signal_core<detail::std_atomics, T, detail::default_domain, Pins>;
  /// @endcond

 public:
  /// The payload type listeners receive (as `const T&`).
  using payload_type = T;
  /// Receives every error and exception a listener produces during emit().
  using error_handler = typename core_type::error_handler;

  signal_base(const signal_base&) = delete;
  signal_base& operator=(const signal_base&) = delete;

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

  ///@{
  /// Removes the listener. Returns errc::not_found if no active listener has this id/key
  /// (including a once-listener that already fired). Emissions already running skip it
  /// if they have not started it; emissions that begin after this returns never see it.
  std::error_code remove_listener(listener_id id) {
    return core_.remove([id](const auto& e) { return e.id == id.value(); });
  }
  std::error_code remove_listener(std::string_view key) {
    if (key.empty()) return errc::not_found;
    return core_.remove_key(key);
  }
  ///@}

  ///@{
  /// remove_listener(), then waits until no call of the listener is running on any other
  /// thread. It waits for the calls of this listener only: not for other listeners, nor
  /// for emissions that merely hold it in their snapshot. It also waits when the listener
  /// was already removed, reset or (once-listener) fired: then it returns errc::not_found,
  /// but only once no call of it is running on another thread. Any number of threads may
  /// wait at once, from inside listeners too. It spins briefly, then sleeps in the kernel
  /// until the last such call returns. Returns errc::would_deadlock
  ///  - without doing anything, when called from inside that listener's own call on this
  ///    thread (it would wait for itself);
  ///  - after the removal, when the wait could never end: a thread calling the listener
  ///    waits (itself or through others) for a listener this thread is calling. At least
  ///    one of the threads of such a cycle gets this error; none hangs, however many
  ///    threads the cycle goes through.
  /// Listener ids are unique across the signals of the process.
  std::error_code remove_listener_and_wait(listener_id id) {
    return core_.template remove_and_wait<detail::matches::at_most_one>(
        detail::local_record(), [id](const auto& e) { return e.id == id.value(); });
  }
  std::error_code remove_listener_and_wait(std::string_view key) {
    if (key.empty()) return errc::not_found;
    return core_.remove_and_wait(detail::local_record(), [key](const auto& e) { return e.key() == key; });
  }
  ///@}

  /// Removes every listener.
  void reset() { core_.reset(); }

  // ---- introspection ----------------------------------------------------------------

  /// Active listeners: added, not removed, and (for once-listeners) not yet fired.
  [[nodiscard]] std::size_t size() const noexcept { return core_.size(); }
  /// True when size() is 0.
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  /// Keys of the active keyed listeners, in registration order.
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    core().for_each_alive(detail::local_record(), [&](auto& e) {
      if (!e.key().empty()) out.emplace_back(e.key());
    });
    return out;
  }

  /// True when an active listener has this (non-empty) key.
  [[nodiscard]] bool has_key(std::string_view key) const {
    if (key.empty()) return false;
    return core().with_key(detail::local_record(), key, [](auto&) {});
  }

  ///@{
  /// Metadata of an active listener, or nullopt.
  [[nodiscard]] std::optional<listener_metadata> metadata(std::string_view key) const {
    if (key.empty()) return std::nullopt;
    std::optional<listener_metadata> out;
    core().with_key(detail::local_record(), key, [&](auto& e) { out = core_type::metadata_of(e); });
    return out;
  }
  [[nodiscard]] std::optional<listener_metadata> metadata(listener_id id) const {
    return find_metadata([id](const auto& e) { return e.id == id.value(); });
  }
  ///@}

  /// The signal's counters (see signal_stats).
  [[nodiscard]] signal_stats stats() const noexcept { return core_.stats(); }

  /// Installs (or, with an empty function, removes) the handler called on the emitting
  /// thread for each listener error or exception during emit(). If the handler throws,
  /// the exception is swallowed and counted in stats().handler_failures.
  void set_error_handler(error_handler handler) { core_.set_error_handler(std::move(handler)); }

  /// Sets what the signal measures (see sync_options::metrics). Any level but off may
  /// allocate (the signal's and each listener's counters, once); throws std::bad_alloc,
  /// with the level left as it was, when that memory runs out.
  void set_metrics(metrics_level level) { core_.set_metrics(level); }
  /// set_metrics(metrics_on) or set_metrics(metrics_level::off).
  void set_metrics(bool on) { core_.set_metrics(on ? metrics_on : metrics_level::off); }
  /// Whether the signal is doing its job (sigs/health.hpp): listener failures above
  /// `o.error_rate` of the calls in the window (counted only while metrics are on).
  /// Thread-safe; allocates.
  [[nodiscard]] health_report healthy(const health_options& o = {}) const {
    const signal_stats s = stats();
    detail::health_input in;
    in.now = detail::meter_now();
    in.calls_known = core_.level() != metrics_level::off;
    in.calls = s.listener_calls;
    in.failures = s.errors + s.exceptions;
    return health_.get().check(o, in);
  }

  /// What the signal measured, read now (named or not): the level set last, stats(), the
  /// keyed listeners alive now and the unkeyed fold, the latency histograms. Allocates
  /// (throws std::bad_alloc). collect_metrics() reads every named signal this way.
  [[nodiscard]] signal_metrics metrics() const {
    signal_metrics m;
    core().read_metrics(detail::local_record(), m);
    m.stats = stats();
    if (listing_) m.name = listing_->name();
    return m;
  }

  /// Installs the tracer that hears of each emission and listener call from now on, or
  /// with nullptr switches tracing off (sigs/tracer.hpp, docs/tracing.md). Emissions
  /// already running, or queued, keep the tracer they started with: the old one must
  /// outlive them. Off costs an emission nothing.
  void set_tracer(sigs::tracer* t) { core_.set_tracer(t); }
  /// The tracer installed last; nullptr when tracing is off.
  [[nodiscard]] sigs::tracer* tracer() const noexcept { return core_.get_tracer(); }

 protected:
  /// @cond INTERNAL
  signal_base(metrics_level level, std::uint32_t sample_every) : core_(detail::global_domain()) {
    core_.set_sample_every(sample_every);
    core_.set_metrics(level);
  }
  ~signal_base() { delist(); }

  template <class F>
  static constexpr void check_listener() {
    static_assert(detail::is_listener<std::decay_t<F>, T>,
                  "a listener must be invocable as f(const T&) or f(const sigs::context&, const T&)");
  }
  template <class F>
  static constexpr void check_error_aware() {
    check_listener<F>();
    if constexpr (detail::is_listener<std::decay_t<F>, T>) {
      static_assert(detail::is_error_aware<std::decay_t<F>, T>, "an error-aware listener must return std::error_code");
    }
  }

  // Reading the snapshot is logically const; the hazard record is the thread's, not ours.
  core_type& core() const noexcept { return const_cast<core_type&>(core_); }

  /// Gives the tracer the signal's `name`, and installs `t` (null: untraced). Called by
  /// the most derived constructor.
  void trace_as(const std::string& name, sigs::tracer* t) {
    core_.set_trace_name(name);
    if (t != nullptr) core_.set_tracer(t);
  }

  /// Lists the signal in the metrics registry under `name`, unless it is empty. Called at
  /// the end of the most derived constructor, `self` being that object; throws
  /// std::bad_alloc.
  template <class Self>
  void list_as(const std::string& name, const Self* self) {
    if (name.empty()) return;
    listing_ = std::make_unique<listing<Self>>(name, self);
    // Listed only now, so that a collection, which reads listing_ (metrics()), reads it
    // after this thread wrote it: the registry's mutex orders the two.
    listing_->enlist();
  }
  /// Takes the signal off the registry, waiting for a collection that reads it: the first
  /// thing a destructor does when collecting reads members it is about to destroy.
  void delist() noexcept {
    if (!listing_) return;
    listing_->delist();  // before listing_ changes: a collection may be reading it
    listing_.reset();
  }

  template <class Pred>
  std::optional<listener_metadata> find_metadata(Pred pred) const {
    std::optional<listener_metadata> out;
    core().for_each_alive(detail::local_record(), [&](auto& e) {
      if (!out && pred(e)) out = core_type::metadata_of(e);
    });
    return out;
  }

  core_type core_;

 private:
  template <class Self>
  struct listing final : detail::listed {
    listing(const std::string& name, const Self* s) : listed(name, kind::signal), self(s) {}
    ~listing() override { delist(); }
    listing(const listing&) = delete;
    listing& operator=(const listing&) = delete;
    void read_signal(signal_metrics& m) const override { m = self->metrics(); }
    const Self* self;
  };
  std::unique_ptr<detail::listed> listing_;  // null unless named; destroyed before core_

 protected:
  /// @cond INTERNAL
  mutable detail::health_slot health_;  // made by the first healthy()
                                        /// @endcond

 private:
  /// @endcond
};

}  // namespace sigs

#pragma pop_macro("emit")
