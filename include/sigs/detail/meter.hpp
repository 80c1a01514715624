// sigs/detail/meter.hpp — the recording side of metrics (sigs/metrics.hpp): counter
// slots owned by one thread each, lock-free latency histograms, the sampling countdown
// and the clock.
//
// Counters scale with the emitting threads because a thread writes only its own slot. The
// first `exclusive_slots` threads that record anything each lease a slot of their own
// (given back when the thread exits) and add to it with a plain load and store: no
// locked instruction, no line shared with another writer. Later threads share the last
// slot and add with fetch_add. A reader sums the slots; each slot is an atomic, so it sees
// every slot at some value it had.
//
// Histograms are shared by the threads (a timed call is rare when sampled, and costs a
// clock read anyway): a bucket, the sum and the count are fetch_adds; min and max are a
// load and, when beaten, a CAS.
//
// Everything here is std::atomic, never the core's atomics parameter: the models run with
// metrics off, and nothing here orders anything but the statistic itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <sigs/detail/port.hpp>
#include <sigs/signal_metrics.hpp>

namespace sigs::detail {

/// Slots per counter: the first exclusive_slots are leased one thread each, the last is
/// shared.
inline constexpr unsigned meter_slots = 4;
inline constexpr unsigned exclusive_slots = meter_slots - 1;
inline constexpr unsigned no_slot = ~0u;

/// Leases a slot for the calling thread (the shared one when none is free); out of line.
unsigned lease_meter_slot() noexcept;

inline thread_local unsigned tls_meter_slot = no_slot;

/// The calling thread's counter slot.
inline unsigned meter_slot() noexcept {
  const unsigned s = tls_meter_slot;
  return SIGS_LIKELY(s != no_slot) ? s : lease_meter_slot();
}

/// Adds `n` to slot `slot` of a counter. relaxed: a statistic; the owner is the slot's only
/// writer, so its load and store lose nothing; the shared slot adds atomically.
inline void bump(std::atomic<std::uint64_t>& cell, unsigned slot, std::uint64_t n = 1) noexcept {
  if (SIGS_LIKELY(slot < exclusive_slots))
    cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  else
    cell.fetch_add(n, std::memory_order_relaxed);
}

/// A counter with a slot per line.
struct slotted_counter {
  struct alignas(cache_line) line {
    std::atomic<std::uint64_t> value{0};
  };
  line lines[meter_slots];

  void add(unsigned slot, std::uint64_t n = 1) noexcept { bump(lines[slot].value, slot, n); }
  [[nodiscard]] std::uint64_t read() const noexcept {
    std::uint64_t sum = 0;
    for (const line& l : lines) sum += l.value.load(std::memory_order_relaxed);  // relaxed: a statistic
    return sum;
  }
};

/// The process-wide switch (set_metrics_enabled), read only by signals whose own level is
/// not off.
inline std::atomic<bool> metrics_global{true};

/// The latency clock: nanoseconds. Null means steady_clock.
inline std::atomic<metrics_clock> metrics_clock_fn{nullptr};

inline std::uint64_t meter_now() noexcept {
  metrics_clock fn = metrics_clock_fn.load(std::memory_order_relaxed);  // relaxed: a setting
  if (SIGS_UNLIKELY(fn != nullptr)) return fn();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

/// A histogram being recorded (latency_histogram is its reading).
struct histogram_cells {
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum{0};
  std::atomic<std::uint64_t> min{UINT64_MAX};
  std::atomic<std::uint64_t> max{0};
  std::atomic<std::uint64_t> buckets[latency_histogram::bucket_count] = {};

  // relaxed throughout: each cell is a statistic on its own; a reading taken while values
  // arrive may count one in `count` before its bucket (read() takes count from the buckets).
  void record(std::uint64_t ns) noexcept {
    buckets[latency_histogram::bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(ns, std::memory_order_relaxed);
    std::uint64_t m = min.load(std::memory_order_relaxed);
    while (ns < m && !min.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {}
    m = max.load(std::memory_order_relaxed);
    while (ns > m && !max.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {}
  }

  void read_into(latency_histogram& h) const noexcept {
    latency_histogram mine;
    for (std::size_t i = 0; i < latency_histogram::bucket_count; ++i) {
      mine.buckets[i] = buckets[i].load(std::memory_order_relaxed);
      mine.count += mine.buckets[i];
    }
    mine.sum_ns = sum.load(std::memory_order_relaxed);
    const std::uint64_t lo = min.load(std::memory_order_relaxed);
    mine.min_ns = lo == UINT64_MAX ? 0 : lo;  // nothing recorded (yet: a value may be in flight)
    mine.max_ns = max.load(std::memory_order_relaxed);
    h.merge(mine);
  }
};

/// A listener's own counters, made with its details while metrics are on (never freed
/// before the listener). Keyed listeners also get a histogram; unkeyed ones record into
/// their signal's.
struct listener_meter {
  explicit listener_meter(bool keyed) : latency(keyed ? std::make_unique<histogram_cells>() : nullptr) {}
  slotted_counter calls;
  std::unique_ptr<histogram_cells> latency;
};

/// A signal's counters and histograms, made when its metrics are first switched on and
/// kept until the signal goes.
struct signal_meter {
  explicit signal_meter(std::uint32_t every) : sample_every(every == 0 ? 1 : every) {}

  struct alignas(cache_line) slot_state {
    std::atomic<std::uint64_t> emits{0};
    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> unkeyed_calls{0};
    std::atomic<std::uint32_t> countdown{0};  // calls until the next sampled one
  };
  slot_state shards[meter_slots];
  const std::uint32_t sample_every;

  // Failures of unkeyed listeners (the fold's errors and exceptions): error paths only.
  std::atomic<std::uint64_t> unkeyed_errors{0};
  std::atomic<std::uint64_t> unkeyed_exceptions{0};
  histogram_cells unkeyed_latency;
  histogram_cells queue_wait;

  /// Whether the next call on `slot` is sampled: the first of every sample_every. On the
  /// shared slot the countdown is approximate (two threads may both take one value).
  bool sample(unsigned slot) noexcept {
    std::atomic<std::uint32_t>& c = shards[slot].countdown;
    const std::uint32_t left = c.load(std::memory_order_relaxed);  // relaxed: a statistic
    c.store(left == 0 ? sample_every - 1 : left - 1, std::memory_order_relaxed);
    return left == 0;
  }

  [[nodiscard]] std::uint64_t sum(std::atomic<std::uint64_t> slot_state::*field) const noexcept {
    std::uint64_t s = 0;
    for (const slot_state& l : shards) s += (l.*field).load(std::memory_order_relaxed);  // relaxed: a statistic
    return s;
  }
};

/// Adds the unkeyed fold (always last), the queue wait, and the fold's share of the
/// latency to `out`; a signal whose metrics were never on has an empty fold.
inline void read_fold(const signal_meter* sm, signal_metrics& out) {
  listener_metrics& fold = out.by_listener.emplace_back();
  if (sm == nullptr) return;
  fold.calls = sm->sum(&signal_meter::slot_state::unkeyed_calls);
  fold.errors = sm->unkeyed_errors.load(std::memory_order_relaxed);          // relaxed: a statistic
  fold.exceptions = sm->unkeyed_exceptions.load(std::memory_order_relaxed);  // relaxed: a statistic
  sm->unkeyed_latency.read_into(fold.latency);
  out.latency.merge(fold.latency);
  sm->queue_wait.read_into(out.queue_wait);
}

}  // namespace sigs::detail
