// sigs/signal_metrics.hpp — what one signal measures, as read: the metrics levels, the
// latency histogram and the per-signal and per-listener readings. sigs/metrics.hpp adds
// the pools, the registry of named signals and pools, and the collector interface.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sigs/emit_result.hpp>

namespace sigs {

/// How much a signal measures. Each level includes the ones before it.
enum class metrics_level : unsigned char {
  off,       ///< failures only (stats().errors, exceptions, canceled ...): the default
  counters,  ///< emits and listener calls, per signal and per listener
  sampled,   ///< counters, and one listener call in `sample_every` (per thread) timed
             ///< into the latency histograms; its listener's last_called is set then
  full,      ///< counters, and every listener call timed
};

/// The level set_metrics(true) selects.
inline constexpr metrics_level metrics_on = metrics_level::sampled;

/// A latency histogram as read at one moment: fixed log-linear buckets over nanoseconds.
/// Values below 8 ns have a bucket each; above, each power of two is cut into 8 equal
/// buckets, so a bucket is 1/8 of its lower bound wide and a quantile, reported at the
/// middle of its bucket, is within 1/16 (6.25 %) of the true value. Values of 2^36 ns
/// (about 69 s) and more share the last bucket; `max` is exact all the same.
struct latency_histogram {
  /// Linear sub-buckets per power of two, as a power of two.
  static constexpr unsigned sub_bits = 3;
  /// Linear sub-buckets per power of two.
  static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
  /// The first value of the last bucket.
  static constexpr std::uint64_t top = std::uint64_t{1} << 36;
  /// Buckets: one per value below sub_count, then sub_count per power of two up to `top`,
  /// then the last.
  static constexpr std::size_t bucket_count = sub_count + (36 - sub_bits) * sub_count + 1;

  /// The bucket holding a value of `ns` nanoseconds.
  static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns < sub_count) return static_cast<std::size_t>(ns);
    if (ns >= top) return bucket_count - 1;
    const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - 1;  // sub_bits .. 35
    const std::uint64_t sub = (ns >> (e - sub_bits)) & (sub_count - 1);
    return static_cast<std::size_t>(sub_count + (e - sub_bits) * sub_count + sub);
  }
  /// The smallest value bucket `i` holds.
  static constexpr std::uint64_t bucket_lower(std::size_t i) noexcept {
    if (i < sub_count) return i;
    if (i == bucket_count - 1) return top;
    const std::size_t k = i - sub_count;
    const unsigned e = static_cast<unsigned>(k / sub_count) + sub_bits;
    return (sub_count + k % sub_count) << (e - sub_bits);
  }
  /// One past the largest value bucket `i` holds (the last bucket has no bound: UINT64_MAX).
  static constexpr std::uint64_t bucket_upper(std::size_t i) noexcept {
    return i == bucket_count - 1 ? UINT64_MAX : bucket_lower(i + 1);
  }

  std::uint64_t count = 0;                            ///< values recorded
  std::uint64_t sum_ns = 0;                           ///< their sum, in nanoseconds
  std::uint64_t min_ns = 0;                           ///< the smallest (0 when count is 0)
  std::uint64_t max_ns = 0;                           ///< the largest
  std::array<std::uint64_t, bucket_count> buckets{};  ///< values per bucket

  /// The value below which a fraction `q` (0 to 1) of the values lie: the middle of the
  /// bucket that holds it, clamped to [min, max]. Zero when empty.
  [[nodiscard]] std::chrono::nanoseconds quantile(double q) const noexcept;
  /// quantile(0.50), the median.
  [[nodiscard]] std::chrono::nanoseconds p50() const noexcept { return quantile(0.50); }
  /// quantile(0.90).
  [[nodiscard]] std::chrono::nanoseconds p90() const noexcept { return quantile(0.90); }
  /// quantile(0.99).
  [[nodiscard]] std::chrono::nanoseconds p99() const noexcept { return quantile(0.99); }
  /// quantile(0.999).
  [[nodiscard]] std::chrono::nanoseconds p999() const noexcept { return quantile(0.999); }
  /// sum / count, zero when empty.
  [[nodiscard]] std::chrono::nanoseconds mean() const noexcept {
    return std::chrono::nanoseconds(count ? static_cast<std::int64_t>(sum_ns / count) : 0);
  }
  /// Adds another histogram's values to this one.
  void merge(const latency_histogram& other) noexcept;
};

/// One listener's counters, or those of every unkeyed listener of a signal folded into one
/// (`key` empty). A keyed listener's series starts when it is added and ends when it goes.
struct listener_metrics {
  std::string key;               ///< the listener's key; empty for the unkeyed fold
  std::uint64_t calls = 0;       ///< calls (metrics on)
  std::uint64_t errors = 0;      ///< error codes returned
  std::uint64_t exceptions = 0;  ///< exceptions thrown
  latency_histogram latency;     ///< call latency (level sampled or full)
};

/// Why an async signal's deliveries were dropped (see signal_metrics::dropped_by).
enum class drop_reason : unsigned char {
  backpressure,  ///< no room: the queue was full, or queue_capacity reached, under `reject`
  pool_stopped,  ///< the pool was stopped or discarding
  canceled,      ///< the emission's context was cancelled
  deadline,      ///< the emission's context passed its deadline
};
inline constexpr std::size_t drop_reason_count = 4;

/// What a named signal measured, as read by collect_metrics().
struct signal_metrics {
  std::string name;                          ///< its name (empty for an unnamed signal's metrics())
  bool is_async = false;                     ///< an async_signal
  metrics_level level = metrics_level::off;  ///< the level set last (the highest, when folded)
  signal_stats stats;                        ///< as stats() returns them
  std::size_t listeners = 0;                 ///< listeners registered now
  /// The keyed listeners alive now, each on its own, then the unkeyed fold (always last).
  std::vector<listener_metrics> by_listener;
  latency_histogram latency;     ///< every timed listener call, keyed or not
  latency_histogram queue_wait;  ///< async: from emit to a listener's start (timed calls)
  /// async: dropped deliveries by reason (indexed by drop_reason); they sum to stats.dropped.
  std::array<std::uint64_t, drop_reason_count> dropped_by{};
  /// Signals folded into this series: those sharing its name, or, for the overflow series,
  /// those whose name came past the registry's limit.
  std::size_t instances = 1;
};

/// The clock latencies are timed with: nanoseconds from any fixed origin. nullptr restores
/// std::chrono::steady_clock. For tests, which inject known latencies through it.
using metrics_clock = std::uint64_t (*)() noexcept;
void set_metrics_clock(metrics_clock clock) noexcept;

}  // namespace sigs

#pragma pop_macro("emit")
