// healthy(): the checks over what successive calls counted (sigs/health.hpp).
#include <sigs/detail/health_state.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace sigs::detail {

namespace {

std::uint64_t ns(std::chrono::milliseconds d) { return static_cast<std::uint64_t>(d.count()) * 1'000'000; }

std::string ms_text(std::uint64_t ns_) { return std::to_string(ns_ / 1'000'000) + " ms"; }

}  // namespace

health_report health_state::check(const health_options& o, const health_input& in) {
  std::lock_guard<std::mutex> lock(mutex_);
  health_report r;
  const std::uint64_t window = ns(o.window);

  // The baseline: the latest earlier call at least a window ago, so that the counts cover
  // the whole window (and at most one interval between calls more); before there is one,
  // the object's whole life. Older samples are of no more use.
  while (samples_.size() >= 2 && samples_[1].at + window <= in.now) samples_.pop_front();
  const bool have_base = !samples_.empty() && samples_.front().at + window <= in.now;
  const sample base = have_base ? samples_.front() : sample{in.now, 0, 0, 0};
  const std::uint64_t calls = in.calls - std::min(in.calls, base.calls);
  const std::uint64_t failures = in.failures - std::min(in.failures, base.failures);
  const std::uint64_t dropped = in.dropped - std::min(in.dropped, base.dropped);
  // A bound, for callers in a tight loop (the window then starts a little later).
  if (samples_.size() >= 4096) samples_.pop_front();
  samples_.push_back({in.now, in.calls, in.failures, in.dropped});

  if (in.calls_known && calls >= std::max<std::size_t>(o.min_calls, 1) &&
      static_cast<double>(failures) > o.error_rate * static_cast<double>(calls)) {
    r.problems.push_back({health_issue::error_rate, std::to_string(failures) + " failures in " + std::to_string(calls) +
                                                        " listener calls within " + ms_text(window) + " (threshold " +
                                                        std::to_string(o.error_rate) + ")"});
  }
  if (o.drops_are_unhealthy && dropped > 0) {
    r.problems.push_back({health_issue::drops, std::to_string(dropped) + " dropped within " + ms_text(window)});
  }

  if (in.capacity > 0 && static_cast<double>(in.queued) > o.queue_fraction * static_cast<double>(in.capacity)) {
    if (!above_) {
      above_ = true;
      above_since_ = in.now;
    }
    if (in.now - above_since_ >= ns(o.queue_for)) {
      r.problems.push_back({health_issue::backlog, std::to_string(in.queued) + " of " + std::to_string(in.capacity) +
                                                       " queued, above the threshold for " +
                                                       ms_text(in.now - above_since_)});
    }
  } else {
    above_ = false;
  }

  workers_.resize(in.workers.size());
  for (std::size_t i = 0; i < in.workers.size(); ++i) {
    watch& w = workers_[i];
    const health_input::worker& now = in.workers[i];
    if (!now.busy) {
      w.busy = false;
      continue;
    }
    if (!w.busy || w.completed != now.completed) {  // a task seen for the first time
      w.busy = true;
      w.completed = now.completed;
      w.since = in.now;
      continue;
    }
    if (in.now - w.since > ns(o.stuck_after)) {
      r.problems.push_back({health_issue::worker_stuck,
                            "worker " + std::to_string(i) + " in one task for " + ms_text(in.now - w.since)});
    }
  }
  return r;
}

}  // namespace sigs::detail
