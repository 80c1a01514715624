// sigs/metrics.hpp — what a signal and a pool measure, and how to read it: the metrics
// levels, latency histograms, the per-signal and per-pool snapshots, the process-wide
// registry of named signals and pools, and the collector interface exporters implement.
//
//   sigs::sync_signal<int> orders(sigs::sync_options{.metrics = sigs::metrics_level::sampled,
//                                                    .name = "orders"});
//   ...
//   sigs::metrics_snapshot all = sigs::collect_metrics();   // every named signal and pool
//   for (const sigs::signal_metrics& s : all.by_signal)
//     std::cout << s.name << " p99 " << s.latency.p99().count() << " ns\n";
//
// Metrics are off by default; off, an emission pays one relaxed load and a branch. See
// docs/observability.md for every metric, its cost at each level, and the exporters.
#pragma once

#pragma push_macro("emit")
#undef emit

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sigs/signal_metrics.hpp>
#include <sigs/worker_pool.hpp>

namespace sigs {

/// What a named worker pool measured.
struct pool_metrics {
  std::string name;           ///< its name
  worker_pool_stats stats;    ///< as stats() returns them (summed over the instances)
  std::size_t instances = 1;  ///< pools folded into this series
};

/// Every named signal and pool at one collect_metrics() call, grouped by name.
struct metrics_snapshot {
  std::vector<signal_metrics> by_signal;  ///< one per name, sorted by name
  std::vector<pool_metrics> by_pool;      ///< one per name, sorted by name
  /// Registrations whose name came past the name limit: they are folded into the series
  /// named overflow_name.
  std::uint64_t folded = 0;
  std::size_t name_limit = 0;  ///< the limit in force
};

/// The series name of what came past the name limit.
inline constexpr const char* overflow_name = "_overflow";
/// Distinct names the registry lists by default (set_metrics_name_limit).
inline constexpr std::size_t default_name_limit = 256;

/// Receives snapshots: implement it to plug in any backend.
class metrics_collector {
 public:
  virtual ~metrics_collector() = default;
  /// Called by collect_metrics(collector) with every named signal and pool; no lock of
  /// sigs is held, so it may do anything, including creating and destroying signals.
  virtual void collect(const metrics_snapshot& snapshot) = 0;
};

/// Reads every named signal and pool. Safe while signals are created, destroyed, emitted
/// on and switched on other threads. Allocates (throws std::bad_alloc).
[[nodiscard]] metrics_snapshot collect_metrics();
/// collect_metrics(), handed to `collector`.
void collect_metrics(metrics_collector& collector);

/// The process-wide switch, on by default: off, no signal records anything beyond what
/// metrics_level::off records, whatever its own level.
void set_metrics_enabled(bool on) noexcept;
[[nodiscard]] bool metrics_enabled() noexcept;

/// How many distinct names the registry lists; names beyond it are folded into one
/// overflow series. Takes effect for later registrations.
void set_metrics_name_limit(std::size_t limit) noexcept;

}  // namespace sigs

#pragma pop_macro("emit")
