// sigs/detail/async_delivery.hpp — what runs an async emission's listeners and ends it.
//
// An async_signal emission (sigs/async_signal.hpp) holds a snapshot of the listeners
// (signal_core::hold) and reaches the pool either as one "solo" task that runs every
// listener in order, or as an envelope shared by the emitter and by one or more copies of
// a pool task. This header holds the parts of that path that run on the pool's threads:
//
//   run_listeners()   the loop that runs a held snapshot's listeners, each call announced
//                     in a frame of the thread's record (what remove_listener_and_wait
//                     waits for, and what drain() asks: call_tracking.hpp), each failure
//                     reported;
//   envelope          the emission's shared state: the lock-free tally (envelope.hpp), the
//                     payload, the context, the completion, the first drop reason;
//   run_copy()        one task copy's work: claim listeners until none is left, add its
//                     counts;
//   close()           the finaliser's part, after the last reference: exact totals, the
//                     completion finished, the payload and context dropped.
//
// Written over the core's atomics policy (Core::policy) so that models/ runs these very
// functions under Relacy: held_models.cpp runs run_listeners() on a held snapshot against a
// removal wait; envelope_models.cpp runs two copies and a finaliser of one envelope against
// the emitter's write and its completion wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <sigs/completion.hpp>
#include <sigs/context.hpp>
#include <sigs/detail/envelope.hpp>
#include <sigs/detail/signal_core.hpp>
#include <sigs/errors.hpp>
#include <sigs/listener.hpp>

namespace sigs::detail {

/// What one run of listeners did.
struct delivery_outcome {
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t skipped = 0;
  std::size_t claimed = 0;  // listener indices this outcome covers (the rest: dropped)
};

/// The pool side of async emission for listeners of `Core` (a signal_core) taking `T`.
template <class Core, class T>
struct async_delivery {
  using A = typename Core::policy;
  using snapshot = typename Core::snapshot;
  using record = typename Core::record;
  using entry_t = typename Core::entry_t;
  using run_status = typename Core::run_status;
  using completion_type = basic_completion_state<A>;

  /// One emission shared by its emitter and its task copies. Recycled by async_signal:
  /// prepare() makes a used one new.
  struct envelope : envelope_tally<A> {
    snapshot* snap = nullptr;
    std::optional<T> payload;
    context ctx;
    std::shared_ptr<completion_type> done;
    bool rejected = false;         // a try_emit that failed: nothing is counted as dropped
    std::uint64_t emitted_at = 0;  // meter_now() at the emit when its queue wait is timed, else 0
    bool on_caller = false;        // counted in by reserve_on_caller() (runs on the emitter)

    /// Readies the envelope for an emission of `snap` whose payload is already in place.
    /// Everything here is published to the copies by the pool's push.
    void prepare(snapshot* s, const context& c, std::shared_ptr<completion_type> d, bool caller) noexcept {
      snap = s;
      ctx = c;
      done = std::move(d);
      // relaxed, all: published by the pool's push, or read by the emitter alone.
      this->next.store(0, std::memory_order_relaxed);
      this->refs.store(1, std::memory_order_relaxed);  // the emitter's own reference
      this->delivered.store(0, std::memory_order_relaxed);
      this->dropped.store(0, std::memory_order_relaxed);
      this->skipped.store(0, std::memory_order_relaxed);
      reason_taken_.store(false, std::memory_order_relaxed);
      reason_.store(std::error_code{});
      rejected = false;
      on_caller = caller;
    }

    /// Records why a delivery was dropped, if no reason is recorded yet (the first wins).
    /// Called by any copy, or by the emitter before it drops its reference.
    void note_drop(std::error_code why) noexcept {
      // relaxed: only the RMW's atomicity matters (one writer of reason_); the write is
      // published to the finaliser by the reference drop (ENV-R1), release_ref().
      if (!reason_taken_.exchange(true, std::memory_order_relaxed)) reason_.store(why);
    }

    /// The first drop reason. Only for the finaliser (ordered by (ENV-R1)), or the emitter
    /// before any copy exists.
    [[nodiscard]] std::error_code drop_reason() const noexcept {
      return reason_taken_.load(std::memory_order_relaxed) ? reason_.load() : std::error_code{};  // relaxed: as above
    }

   private:
    typename A::template atomic<bool> reason_taken_{false};
    typename A::template var<std::error_code> reason_;
  };

  /// Runs listeners of `snap` on the calling thread (whose record is `rec`), taking indices
  /// from `claim()` until it gives one past the end; `on_drop(why)` hears of each one the
  /// context stopped. Failures go to the snapshot's error handler and, if `done`, to the
  /// emission's completion. The caller holds `snap` (signal_core::hold).
  template <class Claim, class OnDrop>
  static delivery_outcome run_listeners(Core& core, record& rec, snapshot* snap, const context& ctx, const T& payload,
                                        completion_type* done, std::uint64_t emitted_at, Claim claim, OnDrop on_drop) {
    // The hold keeps the snapshot alive; run_entry announces each call in this thread's
    // record, which is what remove_listener_and_wait waits on. The frame also marks this
    // thread as running core's listeners, for async_signal::drain() (emitting()).
    typename Core::frame_scope fs(core.domain(), rec, &core);
    const auto metering = core.metering_for();
    const bool checked = ctx.can_be_canceled();
    const std::size_t n = snap->size();
    delivery_outcome o;
    for (;;) {
      const std::size_t i = claim();  // each index claimed once (envelope_tally::claim)
      if (i >= n) break;
      entry_t& e = *snap->items()[i];
      // The queue wait: from the emit to this listener's start (a timed emission only).
      if (SIGS_UNLIKELY(emitted_at != 0) && metering.meter != nullptr)
        metering.meter->queue_wait.record(meter_now() - emitted_at);
      std::optional<failure> fail;
      const run_status st =
          checked ? core.template run_entry_any<ctx_check::each_listener>(fs.f, e, ctx, payload, metering, fail)
                  : core.template run_entry_any<ctx_check::off>(fs.f, e, ctx, payload, metering, fail);
      switch (st) {
        case run_status::ok: ++o.delivered; break;
        case run_status::skipped: ++o.skipped; break;
        case run_status::stopped:
          ++o.dropped;
          on_drop(fail->error);
          break;
        case run_status::failed:
          ++o.delivered;
          core.report(snap, e, fail->error, fail->exception);
          if (done) record_failure(*done, e, fail->error, fail->exception);
          break;
      }
    }
    return o;
  }

  /// One task copy's work: runs listeners of the envelope until none is left to claim and
  /// adds what it did to the envelope's counts. The caller then drops its reference.
  static void run_copy(Core& core, record& rec, envelope& env) {
    const delivery_outcome o = run_listeners(
        core, rec, env.snap, env.ctx, *env.payload, env.done.get(), env.emitted_at, [&env] { return env.claim(); },
        [&env](std::error_code why) { env.note_drop(why); });
    env.add_counts(o.delivered, o.dropped, o.skipped);  // published by (ENV-R1), release_ref()
  }

  /// The finaliser's part, for the caller of the release_ref() that returned true: every
  /// listener of the emission ran, was skipped, or was never claimed (the queue refused
  /// it, the pool discarded it: dropped, errc::pool_stopped unless a reason is known).
  /// `count(n, outcome, rejected)` counts the outcome in the signal's statistics and
  /// returns the dropped total. Finishes the completion, drops the payload, the context
  /// and the completion, and returns the snapshot, still pinned: the caller recycles the
  /// envelope, then releases the snapshot (signal_core::release).
  template <class Count>
  static snapshot* close(envelope& env, Count count) noexcept {
    snapshot* snap = env.snap;
    const std::size_t n = snap->size();
    const auto t = env.totals(n);  // relaxed loads, ordered by (ENV-R1)
    const delivery_outcome o{t.delivered, t.dropped, t.skipped, t.claimed};
    if (!env.rejected && o.claimed < n) env.note_drop(errc::pool_stopped);       // discarded
    const std::uint64_t dropped = count(n, o, env.rejected, env.drop_reason());  // before the completion
    if (env.done) {
      env.done->finish(o.delivered, dropped, o.skipped, env.drop_reason());
      env.done.reset();
    }
    env.snap = nullptr;
    env.payload.reset();
    env.ctx = context{};
    return snap;
  }

 private:
  static void record_failure(completion_type& done, entry_t& e, std::error_code ec, std::exception_ptr ex) noexcept {
    try {
      done.add_failure(delivery_failure{listener_id_access::make(e.id), std::string(e.key()), ec, std::move(ex)});
    } catch (...) {
      // Out of memory while recording: the failure is still counted in the listener's
      // metadata and stats(); only this detail of the completion is lost.
    }
  }
};

}  // namespace sigs::detail
