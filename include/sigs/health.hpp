// sigs/health.hpp — healthy(): whether a signal or a pool is doing its job, with the
// reasons when it is not.
//
//   sigs::health_report h = pool.healthy();
//   if (!h) for (const sigs::health_problem& p : h.problems) log(p.what);
//
// A check compares what the object counts now with what it had counted at earlier
// healthy() calls: "in the window" means since the latest call at least a window ago (or
// since the object was made, before there is one), so a window's counts may include up to
// one interval between calls more. A queue "for a time" and a stuck worker are what
// successive calls saw. So call healthy() periodically, e.g. from a readiness probe.
// Times are read from the metrics clock (set_metrics_clock).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sigs {

/// The thresholds of healthy(). The defaults suit a service checked every few seconds.
struct health_options {
  /// Backlog: the queue (a pool's queue; an async signal's emissions in flight against its
  /// queue_capacity) above this fraction of its capacity ...
  double queue_fraction = 0.8;
  /// ... at every healthy() call for at least this long.
  std::chrono::milliseconds queue_for{5000};
  /// Errors: listener failures (error codes and exceptions) above this fraction of the
  /// listener calls over the window ...
  double error_rate = 0.05;
  /// ... once the window holds at least this many calls.
  std::size_t min_calls = 20;
  /// The window errors and drops are counted over.
  std::chrono::milliseconds window{60'000};
  /// A pool worker seen in the same task for longer than this is stuck.
  std::chrono::milliseconds stuck_after{10'000};
  /// Drops: any delivery dropped (async signal), or any task dropped or rejected (pool),
  /// within the window.
  bool drops_are_unhealthy = true;
};

/// Why healthy() said no.
enum class health_issue : unsigned char {
  backlog,       ///< the queue stayed above queue_fraction of its capacity for queue_for
  error_rate,    ///< failures above error_rate of the calls in the window
  worker_stuck,  ///< a pool worker in one task longer than stuck_after
  drops,         ///< deliveries or tasks dropped in the window
};

/// One reason, with a sentence for a log or a probe's body.
struct health_problem {
  health_issue issue;  ///< which threshold was crossed
  std::string what;    ///< what was seen, with the figures, e.g. "12 dropped within 60000 ms"
};

/// The answer of healthy(): healthy when there is no problem.
struct health_report {
  std::vector<health_problem> problems;  ///< empty when healthy
  /// Healthy: no problem.
  [[nodiscard]] bool ok() const noexcept { return problems.empty(); }
  /// ok().
  explicit operator bool() const noexcept { return ok(); }
};

}  // namespace sigs
