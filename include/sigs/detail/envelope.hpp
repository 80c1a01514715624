// sigs/detail/envelope.hpp — the lock-free bookkeeping of one async emission.
//
// An async_signal emission lives in an envelope shared by the emitter and by one or more
// copies of a pool task (async_signal.hpp). This is the part of the envelope that those
// threads share without a lock:
//
//   next                   the next listener index to claim; every copy claims with one
//                          RMW, so each index goes to exactly one copy (claim());
//   delivered/dropped/skipped  each copy adds its outcomes once, when it stops claiming
//                          (add_counts());
//   refs                   the emitter's reference and one per queued copy; the copy that
//                          drops the last one finalises the emission (release_ref(), ENV-R1).
//
// Ordering, all in one place: the emitter fills the envelope and the pool's push publishes
// it to the copies (a release/acquire inside the queue), so claim() and add_counts() need
// only atomicity. The one ordering operation has a label (all labels: docs/verification.md):
//   (ENV-R1) release_ref(): refs.fetch_sub(1, acq_rel), pairs with the other drops' ENV-R1.
// Each copy's drop releases its counts and every access it made to the envelope (payload,
// snapshot), and the last drop acquires all of them, so the finaliser reads exact totals
// (totals()) and may destroy the payload.
//
// Written against an atomics policy `A` (sigs/detail/atomics.hpp) so that models/ runs
// this very code under Relacy (models/envelope_models.cpp). The members keep the names the
// envelope had when they were plain std::atomic members.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <sigs/detail/atomics.hpp>

namespace sigs::detail {

template <class A = std_atomics>
struct envelope_tally {
  template <class U>
  using atomic = typename A::template atomic<U>;

  atomic<std::size_t> next{0};         // next listener index to claim
  atomic<std::uint32_t> refs{0};       // the emitter's + one per queued copy
  atomic<std::uint64_t> delivered{0};  // the three outcomes, summed by copies
  atomic<std::uint64_t> dropped{0};
  atomic<std::uint64_t> skipped{0};

  /// What the finaliser reads: listener indices claimed (at most n) and the copies' sums.
  struct totals_t {
    std::size_t claimed;
    std::uint64_t delivered;
    std::uint64_t dropped;
    std::uint64_t skipped;
  };

  /// Claims the next listener index; indices >= the listener count mean "none left".
  std::size_t claim() noexcept {
    // relaxed: only the RMW's atomicity matters (each index claimed once); the
    // envelope's contents were published by the pool's push.
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  /// One more reference, for a copy about to be pushed.
  void add_ref() noexcept {
    refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: the push publishes it
  }

  /// A copy's outcomes, added once when it stops claiming.
  void add_counts(std::uint64_t d, std::uint64_t dr, std::uint64_t s) noexcept {
    // relaxed: published to the finalizer by the acq_rel reference drop, release_ref()
    // (ENV-R1).
    delivered.fetch_add(d, std::memory_order_relaxed);
    dropped.fetch_add(dr, std::memory_order_relaxed);
    skipped.fetch_add(s, std::memory_order_relaxed);
  }

  /// Drops one reference; true for the last one, whose caller must finalise.
  [[nodiscard]] bool release_ref() noexcept {
    // (ENV-R1) acq_rel: each copy releases its counts; the last one acquires all of them.
    return refs.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

  /// The finaliser's reads, after the last release_ref(): exact totals for n listeners.
  [[nodiscard]] totals_t totals(std::size_t n) const noexcept {
    totals_t t;
    t.claimed = std::min(next.load(std::memory_order_relaxed), n);  // relaxed: ordered by (ENV-R1)
    t.delivered = delivered.load(std::memory_order_relaxed);        // relaxed: ordered by (ENV-R1)
    t.dropped = dropped.load(std::memory_order_relaxed);
    t.skipped = skipped.load(std::memory_order_relaxed);
    return t;
  }
};

}  // namespace sigs::detail
