// The out-of-line half of metrics: the counter slot leases, histogram reading, and the
// process-wide switches (sigs/metrics.hpp, sigs/detail/meter.hpp).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sigs/detail/meter.hpp>
#include <sigs/detail/registry.hpp>
#include <sigs/metrics.hpp>

namespace sigs {

namespace detail {
namespace {

// Which exclusive slots are leased, a bit each. A slot goes back when its thread exits;
// the next thread to lease it continues its counts (they are sums). Lock-free: a thread's
// first metered emission takes its slot here.
std::atomic<unsigned> slots_taken{0};

struct slot_lease {
  unsigned slot = no_slot;
  ~slot_lease() {
    // Whatever this thread still records (another thread-local's destructor may emit)
    // goes to the shared slot from now on.
    tls_meter_slot = exclusive_slots;
    if (slot >= exclusive_slots) return;
    // (MTR-3) release: this owner's last stores to the slot, to the next owner's MTR-4.
    slots_taken.fetch_and(~(1u << slot), std::memory_order_release);
  }
};

thread_local slot_lease lease;

}  // namespace

unsigned lease_meter_slot() noexcept {
  unsigned s = exclusive_slots;  // the shared slot, unless one is free
  for (unsigned i = 0; i < exclusive_slots; ++i) {
    // (MTR-4) acquire: pairs with the previous owner's release (MTR-3), so its last
    // plain stores come before this thread's first load of the slot.
    if ((slots_taken.fetch_or(1u << i, std::memory_order_acquire) & (1u << i)) == 0) {
      s = i;
      break;
    }
  }
  lease.slot = s;
  tls_meter_slot = s;
  return s;
}

// ---- the registry ---------------------------------------------------------------

namespace {

struct registry {
  std::mutex mutex;
  std::vector<listed*> entries;
  std::unordered_map<std::string, std::size_t> names;  // listed name -> entries under it
  std::uint64_t folded = 0;                            // registrations put in the overflow series
  std::size_t limit = default_name_limit;
};

// Never destroyed: static signals and pools may unregister after main() returns.
registry& the_registry() {
  static auto* r = new registry;
  return *r;
}

}  // namespace

void listed::enlist() {
  registry& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.entries.reserve(r.entries.size() + 1);  // what can throw, first
  auto it = r.names.find(name_);
  if (it != r.names.end()) {
    ++it->second;
    series_ = name_;
  } else if (r.names.size() < r.limit) {
    r.names.emplace(name_, 1);
    series_ = name_;
  } else {
    series_ = overflow_name;
    ++r.folded;
  }
  r.entries.push_back(this);
  enlisted_ = true;
}

void listed::delist() noexcept {
  if (!enlisted_) return;
  registry& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.entries.erase(std::find(r.entries.begin(), r.entries.end(), this));
  if (series_ != overflow_name) {
    auto it = r.names.find(name_);
    if (--it->second == 0) r.names.erase(it);
  }
  enlisted_ = false;
}

}  // namespace detail

namespace {

void add_stats(signal_stats& to, const signal_stats& s) {
  to.emits += s.emits;
  to.listener_calls += s.listener_calls;
  to.errors += s.errors;
  to.exceptions += s.exceptions;
  to.canceled += s.canceled;
  to.handler_failures += s.handler_failures;
  to.unrecorded_failures += s.unrecorded_failures;
  to.delivered += s.delivered;
  to.dropped += s.dropped;
  to.skipped += s.skipped;
  to.rejected += s.rejected;
  to.in_flight += s.in_flight;
}

// Folds `s` into `to`, a series of the same name.
void fold(signal_metrics& to, signal_metrics&& s) {
  to.is_async = to.is_async || s.is_async;
  to.level = std::max(to.level, s.level);
  add_stats(to.stats, s.stats);
  to.listeners += s.listeners;
  for (listener_metrics& l : s.by_listener) {
    auto same = std::find_if(to.by_listener.begin(), to.by_listener.end(),
                             [&](const listener_metrics& x) { return x.key == l.key; });
    if (same == to.by_listener.end()) {
      to.by_listener.push_back(std::move(l));
      continue;
    }
    same->calls += l.calls;
    same->errors += l.errors;
    same->exceptions += l.exceptions;
    same->latency.merge(l.latency);
  }
  to.latency.merge(s.latency);
  to.queue_wait.merge(s.queue_wait);
  for (std::size_t i = 0; i < drop_reason_count; ++i) to.dropped_by[i] += s.dropped_by[i];
  to.instances += s.instances;
}

void fold(pool_metrics& to, pool_metrics&& p) {
  worker_pool_stats& a = to.stats;
  const worker_pool_stats& b = p.stats;
  a.queue_depth += b.queue_depth;
  a.queue_capacity += b.queue_capacity;
  a.active_workers += b.active_workers;
  a.threads += b.threads;
  a.submitted += b.submitted;
  a.completed += b.completed;
  a.dropped += b.dropped;
  a.rejected += b.rejected;
  a.exceptions += b.exceptions;
  a.idle_time += b.idle_time;
  a.busy_time += b.busy_time;
  to.instances += p.instances;
}

// Reads `l` into the series of its name in `series`: a new one, or folded into the one
// there.
template <class Metrics, class Read>
void add_series(std::map<std::string, Metrics>& series, const detail::listed& l, Read read) {
  Metrics m;
  read(m);
  m.name = l.series();
  auto [it, fresh] = series.try_emplace(m.name);
  if (fresh)
    it->second = std::move(m);
  else
    fold(it->second, std::move(m));
}

// The unkeyed fold last in each series, as signal_metrics says.
void unkeyed_last(signal_metrics& s) {
  std::stable_partition(s.by_listener.begin(), s.by_listener.end(),
                        [](const listener_metrics& l) { return !l.key.empty(); });
}

}  // namespace

metrics_snapshot collect_metrics() {
  detail::registry& r = detail::the_registry();
  std::map<std::string, signal_metrics> signals;
  std::map<std::string, pool_metrics> pools;
  metrics_snapshot out;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    for (detail::listed* l : r.entries) {
      if (l->what() == detail::listed::kind::signal) {
        add_series(signals, *l, [l](signal_metrics& m) { l->read_signal(m); });
      } else {
        add_series(pools, *l, [l](pool_metrics& m) { l->read_pool(m); });
      }
    }
    out.folded = r.folded;
    out.name_limit = r.limit;
  }
  out.by_signal.reserve(signals.size());
  for (auto& [name, m] : signals) {
    unkeyed_last(m);
    out.by_signal.push_back(std::move(m));
  }
  out.by_pool.reserve(pools.size());
  for (auto& [name, m] : pools) out.by_pool.push_back(std::move(m));
  return out;
}

void collect_metrics(metrics_collector& collector) { collector.collect(collect_metrics()); }

void set_metrics_name_limit(std::size_t limit) noexcept {
  detail::registry& r = detail::the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.limit = limit;
}

std::chrono::nanoseconds latency_histogram::quantile(double q) const noexcept {
  if (count == 0) return std::chrono::nanoseconds(0);
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value sought, 1-based: the smallest value with at least q of all at
  // or below it.
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count))));
  // The extremes are known exactly.
  if (rank >= count) return std::chrono::nanoseconds(static_cast<std::int64_t>(max_ns));
  if (rank == 1) return std::chrono::nanoseconds(static_cast<std::int64_t>(min_ns));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets[i];
    if (seen < rank) continue;
    const std::uint64_t lo = bucket_lower(i);
    // The middle of the bucket; the last one has no width, so its lower bound.
    const std::uint64_t mid = i == bucket_count - 1 ? lo : lo + (bucket_upper(i) - lo - 1) / 2;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::clamp(mid, min_ns, max_ns)));
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(max_ns));  // buckets behind count: a reading under load
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  if (other.count == 0) return;
  min_ns = count == 0 ? other.min_ns : std::min(min_ns, other.min_ns);
  max_ns = std::max(max_ns, other.max_ns);
  count += other.count;
  sum_ns += other.sum_ns;
  for (std::size_t i = 0; i < bucket_count; ++i) buckets[i] += other.buckets[i];
}

void set_metrics_enabled(bool on) noexcept {
  detail::metrics_global.store(on, std::memory_order_relaxed);  // relaxed: a switch, no data
}

bool metrics_enabled() noexcept {
  return detail::metrics_global.load(std::memory_order_relaxed);  // relaxed: a switch, no data
}

void set_metrics_clock(metrics_clock clock) noexcept {
  detail::metrics_clock_fn.store(clock, std::memory_order_relaxed);  // relaxed: a setting, set before use
}

}  // namespace sigs
