// sigs/detail/async_emission.hpp — how an async_signal emits: the definitions of its
// private members, apart from the class declaration in sigs/async_signal.hpp (which
// includes this file at its end; include that one).
//
//   submit()        reserves a place in flight (queue_capacity, the overflow policy), pins
//                   the snapshot (signal_core::hold), and queues the emission: as a `solo`
//                   task carrying the snapshot and a small trivially copyable payload inline
//                   (no envelope), or as an `envelope` shared by one `deliver` task per
//                   worker that helps (add_helpers), or runs it here (caller_runs);
//   run(), run_solo() run listeners on a worker (detail::async_delivery);
//   release_ref(),  finalise: the last copy of an envelope, or the solo task, counts the
//   settle()        outcome in stats(), unpins the snapshot and counts the emission out
//                   (unreserve), after which drain() may return and the signal go;
//   reserve() ...   the in-flight count (detail::in_flight_count) with the idle mutex and
//                   condition variable: wait_reserve (block), wait_idle (drain),
//                   help_until_idle (~async_signal on a worker).
// The orders of the lock-free parts carry their labels where they are defined:
// ENV-R1 (async_delivery.hpp, envelope.hpp), FLIGHT-I1..I5 (in_flight.hpp).
#pragma once

#pragma push_macro("emit")
#undef emit

#include <sigs/async_signal.hpp>

namespace sigs {

template <class T>
struct async_signal<T>::envelope : delivery::envelope {
  explicit envelope(async_signal* o) : owner(o) {}
  async_signal* owner;
};

template <class T>
struct async_signal<T>::deliver {
  envelope* env;
  void operator()() const { env->owner->run(*env); }
  void discard() noexcept { env->owner->release_ref(*env); }
};

template <class T>
struct async_signal<T>::solo {
  async_signal* owner;
  snapshot* snap;
  T payload;
  bool rejected = false;  // set by a try_emit whose push failed, before it drops the task
  void operator()() { owner->run_solo(*this); }
  void discard() noexcept { owner->settle(snap, {}, rejected, why); }
  errc why = errc::pool_stopped;  // what a discard drops its listeners for
};

template <class T>
constexpr bool async_signal<T>::solo_inline() noexcept {
  return std::is_trivially_copyable_v<T> && worker_pool::task::stored_inline<solo>;
}

template <class T>
struct async_signal<T>::unwind {
  async_signal* self;
  bool on_caller;
  snapshot* snap = nullptr;
  bool armed = true;
  ~unwind() {
    if (!armed) return;
    if (snap) core_type::release(snap);
    self->unreserve(on_caller);
  }
};

template <class T>
template <class P>
std::error_code async_signal<T>::submit(const context& ctx, P&& payload, std::shared_ptr<detail::completion_state> done,
                                        mode m) {
  if (sigs::tracer* t = core_.tracer_for_emit(); SIGS_UNLIKELY(t != nullptr))
    return submit_traced(*t, ctx, std::forward<P>(payload), std::move(done), m);
  return submit_in(ctx, std::forward<P>(payload), std::move(done), m);
}

template <class T>
template <class P>
std::error_code async_signal<T>::submit_traced(sigs::tracer& t, const context& ctx, P&& payload,
                                               std::shared_ptr<detail::completion_state> done, mode m) {
  detail::trace_state& tracing = core_.tracing();
  const std::optional<trace_span> span = tracing.begin_emit(t, true, ctx.trace());
  std::error_code ec;
  try {
    // Not detail::no_context, so never a solo task: the context travels in the envelope.
    ec = submit_in(detail::child_context(ctx, span), std::forward<P>(payload), std::move(done), m);
  } catch (...) {
    if (span) tracing.end_emit(t, *span, {}, std::current_exception());
    throw;
  }
  if (span) tracing.end_emit(t, *span, ec, nullptr);
  return ec;
}

template <class T>
template <class P>
std::error_code async_signal<T>::submit_in(const context& ctx, P&& payload,
                                           std::shared_ptr<detail::completion_state> done, mode m) {
  const bool try_only = m == mode::try_only;
  if (ctx.can_be_canceled()) {
    if (std::error_code ec = ctx.error()) return refuse(ec, try_only, done);
  }
  bool run_here = m == mode::inline_run;
  // Runs here because queue_capacity is reached: in flight, but not against the capacity,
  // which bounds the emissions queued on or running on the pool (docs/decisions.md).
  bool on_caller = false;
  if (!reserve()) {
    if (try_only || policy_ == overflow_policy::reject) return refuse(errc::backpressure, try_only, done);
    if (policy_ == overflow_policy::caller_runs || pool_.on_worker_thread()) {
      // caller_runs; or block on one of our own workers, where waiting for room could
      // wait for itself, and queueing would exceed the capacity.
      in_flight_.reserve_on_caller();
      run_here = on_caller = true;
    } else if (std::error_code ec = wait_reserve(ctx)) {
      return refuse(ec, false, done);
    }
  }
  unwind taken{this, on_caller};
  snapshot* snap = taken.snap = core_.hold(detail::local_record());
  const std::size_t n = snap->size();
  // Read before the push: the worker that takes the first copy still counts as idle.
  const std::size_t idle = n > 1 && !run_here ? pool_.idle_workers() : 0;
  // An emission whose queue wait is timed carries its stamp in an envelope.
  const std::uint64_t stamp = emit_stamp();
  if constexpr (solo_inline()) {
    // Only for an emission bound for the pool: a solo task's end (settle()) counts it out
    // of the pool's share; an envelope remembers which share it came from.
    if (&ctx == &detail::no_context && !done && n != 0 && idle < 2 && !run_here && stamp == 0) {
      worker_pool::task t = solo{this, snap, T(std::forward<P>(payload))};
      taken.armed = false;  // the task owns the pin and the count now
      return submit_solo(t, try_only);
    }
  }
  envelope* env = nullptr;
  if (!cache_.try_pop(env)) env = new envelope(this);
  try {
    env->payload.emplace(std::forward<P>(payload));
  } catch (...) {
    recycle(env);
    throw;
  }
  taken.armed = false;
  env->prepare(snap, ctx, std::move(done), on_caller);
  env->emitted_at = stamp;

  std::error_code result;
  if (n != 0) {
    if (run_here) {
      run(*env, false);
    } else {
      env->add_ref();
      worker_pool::task t = deliver{env};
      std::error_code ec;
      switch (push_first(t, ctx, try_only, ec)) {
        case first_push::queued: add_helpers(*env, idle); break;
        case first_push::ran_here: break;  // ran the envelope here, dropped that copy's reference
        case first_push::refused:
          env->note_drop(ec);  // before any copy exists: the emitter alone
          env->rejected = try_only;
          result = try_only ? ec : std::error_code{};
          t.discard();  // drops that copy's reference; the last drop counts the listeners dropped
          break;
      }
    }
  }
  if (!env->rejected) core_.count_emit();
  release_ref(*env);
  return result;
}

template <class T>
typename async_signal<T>::first_push async_signal<T>::push_first(worker_pool::task& t, const context& ctx,
                                                                 bool try_only, std::error_code& why) {
  why = (try_only || policy_ != overflow_policy::block) ? pool_.try_submit(t) : pool_.submit(t, ctx);
  if (!why) return first_push::queued;
  if ((why == errc::backpressure && !try_only && policy_ == overflow_policy::caller_runs) ||
      why == errc::would_deadlock) {
    t.run();
    return first_push::ran_here;
  }
  return first_push::refused;
}

template <class T>
std::error_code async_signal<T>::submit_solo(worker_pool::task& t, bool try_only) {
  std::error_code ec;
  if (push_first(t, detail::no_context, try_only, ec) == first_push::refused) {
    if (try_only) {
      t.target<solo>()->rejected = true;  // counted in stats().rejected, not as an emission
      t.discard();
      return ec;
    }
    if (ec == errc::backpressure) t.target<solo>()->why = errc::backpressure;
    t.discard();  // counts the listeners dropped
  }
  core_.count_emit();
  return {};
}

template <class T>
std::error_code async_signal<T>::refuse(std::error_code why, bool try_only,
                                        const std::shared_ptr<detail::completion_state>& done) {
  if (try_only) {
    rejected_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    return why;
  }
  core_.count_emit();
  // The listeners of the current snapshot, as a queued emission counts them: a fired
  // once-listener stays in it (as skipped) until the next write. size() would leave it
  // out, and two emissions with the same listeners would account differently.
  snapshot* snap = core_.hold(detail::local_record());
  const std::uint64_t n = snap->size();
  core_type::release(snap);
  count_dropped(n, why);
  if (done) done->finish(0, n, 0, why);
  return {};
}

template <class T>
void async_signal<T>::add_helpers(envelope& env, std::size_t idle_workers) {
  const std::size_t want = std::min<std::size_t>(env.snap->size(), idle_workers);
  for (std::size_t i = 1; i < want; ++i) {
    if (env.next.load(std::memory_order_relaxed) >= env.snap->size()) return;  // relaxed: a hint
    env.add_ref();
    worker_pool::task t = deliver{&env};
    if (pool_.try_submit(t)) return;  // refused: t's destructor drops the reference
  }
}

template <class T>
bool async_signal<T>::delivering_here() const noexcept {
  const detail::default_domain::record* rec = detail::tls_record;
  return rec != nullptr && detail::default_domain::emitting(*rec, &core_);
}

template <class T>
void async_signal<T>::run(envelope& env, bool release) {
  delivery::run_copy(core_, detail::local_record(), env);
  if (release) release_ref(env);
}

template <class T>
void async_signal<T>::count_dropped(std::uint64_t n, std::error_code why) noexcept {
  // A push refused with would_deadlock runs here instead (push_first): never a drop.
  drop_reason r = drop_reason::pool_stopped;  // a discard by the pool, the reason unrecorded
  if (why == errc::backpressure)
    r = drop_reason::backpressure;
  else if (why == errc::canceled)
    r = drop_reason::canceled;
  else if (why == errc::deadline_exceeded)
    r = drop_reason::deadline;
  // relaxed: statistics (a reader may see one before the other).
  dropped_.fetch_add(n, std::memory_order_relaxed);
  dropped_by_[static_cast<std::size_t>(r)].fetch_add(n, std::memory_order_relaxed);
}

template <class T>
std::uint64_t async_signal<T>::emit_stamp() const noexcept {
  const auto m = core_.metering_for();
  if (SIGS_LIKELY(m.meter == nullptr) || m.level == metrics_level::counters) return 0;
  if (m.level == metrics_level::sampled && !m.meter->sample(m.slot)) return 0;
  const std::uint64_t now = detail::meter_now();
  return now == 0 ? 1 : now;  // 0 means "not timed"
}

template <class T>
void async_signal<T>::run_solo(solo& s) {
  std::size_t next = 0;
  outcome o = delivery::run_listeners(
      core_, detail::local_record(), s.snap, detail::no_context, s.payload, nullptr, 0, [&next] { return next++; },
      [](std::error_code) {});
  o.claimed = s.snap->size();  // every index, in order
  settle(s.snap, o, false);
}

template <class T>
void async_signal<T>::release_ref(envelope& env) noexcept {
  if (!env.release_ref()) return;
  const bool on_caller = env.on_caller;
  snapshot* snap =
      delivery::close(env, [this](std::size_t n, const outcome& o, bool rejected, std::error_code why) noexcept {
        return count_outcome(n, o, rejected, why);
      });
  recycle(&env);
  core_type::release(snap);
  unreserve(on_caller);  // last: after it, drain() may return and this signal be destroyed
}

template <class T>
void async_signal<T>::recycle(envelope* env) noexcept {
  if (cache_.try_push(env) != detail::push_result::ok) delete env;
}

template <class T>
std::uint64_t async_signal<T>::count_outcome(std::size_t n, const outcome& o, bool rejected,
                                             std::error_code why) noexcept {
  if (rejected) {
    rejected_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    return 0;
  }
  const std::uint64_t dropped = o.dropped + (n - o.claimed);
  // relaxed: statistics. Zeros are not added: every RMW here takes a line that all
  // workers share, and dropped/skipped are almost always zero.
  if (o.delivered) delivered_.fetch_add(o.delivered, std::memory_order_relaxed);
  if (dropped) count_dropped(dropped, why);
  if (o.skipped) skipped_.fetch_add(o.skipped, std::memory_order_relaxed);
  return dropped;
}

template <class T>
void async_signal<T>::settle(snapshot* snap, const outcome& o, bool rejected, errc why) noexcept {
  count_outcome(snap->size(), o, rejected, why);
  core_type::release(snap);
  unreserve();  // last: after it, drain() may return and this signal be destroyed
}

template <class T>
bool async_signal<T>::reserve() noexcept {
  return in_flight_.reserve(capacity_);
}

template <class T>
std::error_code async_signal<T>::wait_reserve(const context& ctx) {
  const bool cancellable = ctx.can_be_canceled();
  for (unsigned spin = 0; spin < reserve_spins; ++spin) {
    if (cancellable) {
      if (std::error_code ec = ctx.error()) return ec;
    }
    std::this_thread::yield();
    if (reserve()) return {};
  }
  // A stop request must wake us: notify under the mutex, so it cannot fall between our
  // check of the context (under that mutex, in `done` below) and the wait. Registered
  // before the mutex is taken: it runs at once, here, if the stop came already.
  const auto wake = [this] {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    idle_cv_.notify_all();
  };
  std::optional<std::stop_callback<decltype(wake)>> on_stop;
  if (ctx.stop_token().stop_possible()) on_stop.emplace(ctx.stop_token(), wake);
  const auto deadline = ctx.deadline();
  const bool got = in_flight_.wait_reserve(capacity_, idle_mutex_, [&](std::unique_lock<std::mutex>& lock, auto ready) {
    // ready() first: an emission that got room goes ahead even if the context ended
    // meanwhile (its listeners then check the context as usual).
    const auto done = [&] { return ready() || (cancellable && ctx.error()); };
    if (deadline) {
      idle_cv_.wait_until(lock, *deadline, done);
    } else {
      idle_cv_.wait(lock, done);
    }
  });
  if (got) return {};
  const std::error_code ec = ctx.error();
  return ec ? ec : std::error_code(errc::deadline_exceeded);
}

template <class T>
void async_signal<T>::unreserve(bool on_caller) noexcept {
  if (on_caller) {
    in_flight_.unreserve_on_caller(idle_mutex_, idle_cv_);
  } else {
    in_flight_.unreserve(idle_mutex_, idle_cv_);
  }
}

template <class T>
void async_signal<T>::wait_idle() {
  in_flight_.wait_idle(idle_mutex_, idle_cv_);
}

template <class T>
void async_signal<T>::help_until_idle() {
  std::unique_lock<std::mutex> lock(idle_mutex_);
  while (in_flight_.count() != 0) {
    lock.unlock();
    const bool took = pool_.run_one_queued();
    lock.lock();
    // Nothing to take: ours run on other workers (the last finish notifies), or a
    // producer is still publishing a cell; look at the queue again soon either way.
    if (!took) idle_cv_.wait_for(lock, help_poll, [&] { return in_flight_.count() == 0; });
  }
}

}  // namespace sigs

#pragma pop_macro("emit")
